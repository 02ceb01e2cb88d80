"""Tempo on recorded music, which has no tempo annotations: how the readings agree, and the
onset evidence where they do not (issue "Tempo, beats and meter that hold on music people wrote").

Per song of a corpus split (``mixassist data real``; the middle ``--excerpt-s`` of each song,
default 120 s; 0 = whole songs), three readings of the tempo:

- **stems**: mixassist's structure analysis of the stems the default separator (offline: the
  bundled compact model) makes of the mix, ``separated=True``: what ``mixassist mix SONG`` keeps;
- **mix**: the same analysis of the mix alone;
- **librosa**: librosa's beat tracker (``librosa.beat.beat_track``) on the mix, an independent
  estimator.

Two readings are the *same* when their ratio is within 4 % of 1 (Acc1's tolerance) and *related*
when it is within 4 % of 2, 3, 1/2, 1/3, 3/2 or 2/3 (the metrical levels). The evidence for a
reading is its beat grid's **onset alignment**: the mean onset strength on its beats over the
mean at the midpoints between them (librosa's onset envelope of the mix, the peak within +-50 ms
of each point); above 1 the grid sits on onsets, about 1 when the midpoints are beats too (a
half-tempo reading of even eighths), below 1 when it sits between them. librosa places its beats
on peaks of this same envelope, which favours its grid. Where the tempi are the same, the beat
F-measure between the two grids (70 ms, as mir_eval scores beats) tells a grid on the beats from
one on the off-beats. Every song where the stems and librosa read different tempi is listed with
both alignments, stems' confidence and candidates, and the meter.

    .venv/bin/python benchmarks/structure_real_music.py --corpus /work/real --split dev \
        [--split test] [--excerpt-s 120] [--per-package 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mixassist.analysis.structure import analyze_structure
from mixassist.audio.io import load_audio
from mixassist.datasets.real import corpus_songs, middle_excerpt
from mixassist.errors import ParameterError
from mixassist.utils.atomic import write_text_atomic

TOLERANCE = 0.04
LEVELS = (1.0, 2.0, 3.0, 1 / 2, 1 / 3, 3 / 2, 2 / 3)
HOP = 512
RADIUS_S = 0.05
WINDOW_S = 0.07


def relation(a_bpm: float, b_bpm: float) -> float | None:
    """The metrical level ``a/b`` is at (one of :data:`LEVELS`, within 4 %), or None."""
    if a_bpm <= 0 or b_bpm <= 0:
        return None
    ratio = a_bpm / b_bpm
    for level in LEVELS:
        if abs(ratio / level - 1) <= TOLERANCE:
            return level
    return None


def onset_alignment(env: np.ndarray, frame_rate: float, beats_s) -> float:
    """Mean of ``env`` (onset strength per frame) at the beats over its mean at the midpoints
    between consecutive beats, each the peak within :data:`RADIUS_S`; nan under 4 beats."""
    beats = np.asarray(beats_s, dtype=float) * frame_rate
    beats = beats[(beats >= 0) & (beats < len(env))]
    if len(beats) < 4:
        return float("nan")
    radius = max(1, int(round(RADIUS_S * frame_rate)))

    def peaks(points: np.ndarray) -> np.ndarray:
        idx = np.round(points).astype(int)
        return np.array([env[max(0, i - radius):i + radius + 1].max() for i in idx])

    on = peaks(beats[:-1]).mean()
    between = peaks((beats[:-1] + beats[1:]) / 2).mean()
    return float(on / max(between, 1e-12))


def beat_agreement(a_s, b_s, window_s: float = WINDOW_S) -> float:
    """F-measure of beat grid ``a_s`` against ``b_s`` (s): a beat counts when the other grid has
    one within ``window_s``; nan when either is empty."""
    a, b = np.asarray(a_s, dtype=float), np.asarray(b_s, dtype=float)
    if not len(a) or not len(b):
        return float("nan")

    def hit(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.abs(x[:, None] - y[None, :]).min(axis=1) <= window_s))

    precision, recall = hit(a, b), hit(b, a)
    return 2 * precision * recall / max(precision + recall, 1e-12)


def librosa_reading(mono: np.ndarray, sr: int) -> tuple[float, np.ndarray, np.ndarray]:
    """librosa's tempo (BPM) and beat times (s) of ``mono``, with its onset envelope."""
    import librosa

    env = librosa.onset.onset_strength(y=mono, sr=sr, hop_length=HOP)
    tempo, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=HOP, units="time")
    return float(np.atleast_1d(tempo)[0]), beats, env


def song_row(audio: np.ndarray, sr: int, separate) -> dict:
    """The three readings of one song and the onset alignment of each one's beat grid."""
    mono = audio.mean(axis=0)
    lib_bpm, lib_beats, env = librosa_reading(mono, sr)
    frame_rate = sr / HOP
    readings = {"stems": analyze_structure(separate(audio, sr), sr, separated=True),
                "mix": analyze_structure({"mix": audio}, sr)}
    row = {name: {"bpm": round(s.tempo_bpm, 2), "confidence": s.tempo_confidence,
                  "candidates_bpm": [round(c, 1) for c in s.tempo_candidates_bpm], "meter": s.meter,
                  "alignment": onset_alignment(env, frame_rate, s.beats_s)}
           for name, s in readings.items()}
    row["librosa"] = {"bpm": round(lib_bpm, 2), "alignment": onset_alignment(env, frame_rate, lib_beats)}
    row["stems_vs_mix"] = relation(row["stems"]["bpm"], row["mix"]["bpm"])
    row["stems_vs_librosa"] = relation(row["stems"]["bpm"], lib_bpm)
    row["beat_f_stems_vs_librosa"] = beat_agreement(readings["stems"].beats_s, lib_beats)
    row["mix_vs_librosa"] = relation(row["mix"]["bpm"], lib_bpm)
    return row


def agreement(rows: list[dict], key: str) -> dict:
    """Shares of ``rows`` whose readings are the same, related at another level, or unrelated."""
    levels = [r[key] for r in rows]
    n = max(len(levels), 1)
    return {"same": sum(v == 1.0 for v in levels) / n,
            "related": sum(v is not None and v != 1.0 for v in levels) / n,
            "unrelated": sum(v is None for v in levels) / n}


def summary(rows: dict[str, dict]) -> dict:
    """Agreement shares, median alignments and, where stems and librosa differ, which grid sits
    better on the onsets."""
    values = list(rows.values())
    differ = [r for r in values if r["stems_vs_librosa"] != 1.0]
    stems_better = [r for r in differ if r["stems"]["alignment"] > r["librosa"]["alignment"]]
    return {"songs": len(values),
            **{key: agreement(values, key) for key in ("stems_vs_mix", "stems_vs_librosa", "mix_vs_librosa")},
            "median_alignment": {k: float(np.nanmedian([r[k]["alignment"] for r in values]))
                                 for k in ("stems", "mix", "librosa")},
            "median_beat_f_where_same": _median([r["beat_f_stems_vs_librosa"] for r in values
                                                 if r["stems_vs_librosa"] == 1.0]),
            "disagree": len(differ), "stems_better_aligned": len(stems_better),
            "median_confidence": {"same": _median([r["stems"]["confidence"] for r in values
                                                   if r["stems_vs_librosa"] == 1.0]),
                                  "differ": _median([r["stems"]["confidence"] for r in differ])}}


def _median(x: list[float]) -> float:
    return float(np.median(x)) if x else float("nan")


def _level(v: float | None) -> str:
    if v is None:
        return "-"
    return {1.0: "1", 2.0: "2", 3.0: "3", 0.5: "1/2", 1 / 3: "1/3", 1.5: "3/2", 2 / 3: "2/3"}[v]


def print_split(split: str, rows: dict[str, dict], s: dict) -> None:
    print(f"\n== {split}: {s['songs']} songs ==")
    for key in ("stems_vs_mix", "stems_vs_librosa", "mix_vs_librosa"):
        a = s[key]
        print(f"{key.replace('_', ' '):18s} same {a['same']:.3f}  other level {a['related']:.3f}  "
              f"unrelated {a['unrelated']:.3f}")
    m = s["median_alignment"]
    print(f"median onset alignment: stems {m['stems']:.2f}, mix {m['mix']:.2f}, librosa {m['librosa']:.2f}; "
          f"stems' confidence (median) {s['median_confidence']['same']:.2f} where librosa agrees, "
          f"{s['median_confidence']['differ']:.2f} where it does not; where the tempi are the same, the "
          f"grids agree with beat F {s['median_beat_f_where_same']:.2f} (median)")
    print(f"stems and librosa differ on {s['disagree']} songs; the stems' grid sits better on the onsets "
          f"on {s['stems_better_aligned']} of them")
    print(f"{'song':40s} {'stems':>7s} {'conf':>5s} {'meter':>5s} {'align':>5s} | {'librosa':>7s} {'align':>5s} "
          f"| {'ratio':>5s} | {'mix':>7s} candidates")
    for song_id, r in rows.items():
        if r["stems_vs_librosa"] == 1.0:
            continue
        st, lb = r["stems"], r["librosa"]
        print(f"{song_id[:40]:40s} {st['bpm']:7.1f} {st['confidence']:5.2f} {st['meter']:>5s} "
              f"{st['alignment']:5.2f} | {lb['bpm']:7.1f} {lb['alignment']:5.2f} | "
              f"{_level(r['stems_vs_librosa']):>5s} | {r['mix']['bpm']:7.1f} "
              + ", ".join(f"{c:g}" for c in st["candidates_bpm"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a `mixassist data real` folder")
    parser.add_argument("--split", action="append", default=[], help="dev, test (repeatable; default dev)")
    parser.add_argument("--excerpt-s", type=float, default=120.0, help="middle excerpt per song; 0 = whole")
    parser.add_argument("--per-package", type=int, default=0, help="at most this many songs per package")
    parser.add_argument("--model", default=None, help="separator (default: the resolved default)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from mixassist.separation import Separator

    separator = Separator(args.model, device="cpu", shifts=1)
    print(f"separator {separator.loaded.name} ({separator.loaded.source}); "
          f"{'whole songs' if not args.excerpt_s else f'{args.excerpt_s:g}-s middle excerpts'}")
    report = {"excerpt_s": args.excerpt_s, "separator": separator.loaded.name, "splits": {}}
    start = time.perf_counter()
    for split in args.split or ["dev"]:
        try:
            songs = corpus_songs(args.corpus, split, per_package=args.per_package)
        except ParameterError as exc:
            raise SystemExit(str(exc)) from None
        rows = {}
        for i, song in enumerate(songs):
            audio, sr = load_audio(args.corpus / song["file"])
            rows[song["song_id"]] = row = song_row(middle_excerpt(audio, sr, args.excerpt_s), sr,
                                                   lambda a, r: separator.separate(a, r, name=song["file"]))
            print(f"[{split} {i + 1}/{len(songs)} {time.perf_counter() - start:.0f} s] {song['song_id'][:40]:40s} "
                  f"stems {row['stems']['bpm']:.1f} mix {row['mix']['bpm']:.1f} librosa {row['librosa']['bpm']:.1f}",
                  flush=True)
        report["splits"][split] = {"summary": summary(rows), "songs": rows}
    for split, r in report["splits"].items():
        print_split(split, r["songs"], r["summary"])
    if args.json:
        write_text_atomic(args.json, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
