"""The assistant on real recorded music: do no harm, balance restoration, separation plausibility.

On the songs of one split of the real-music corpus (``mixassist data real --out DIR``), a
``--excerpt-s`` excerpt of each (starting at 30 % of the song):

- **do no harm**: the finished master through ``mix`` (defaults, offline separator): the median
  |stem gain| of its plan and the tonal change of the output (octave bands 63 Hz-8 kHz after
  loudness matching, RMS dB; :mod:`mixassist.evaluation`);
- **balance restoration**: the master's separated stems (they sum to the master, so they carry the
  producer's balance), each moved by U(-6, +6) dB and handed to ``mix`` as a stem folder; MAE of
  (perturbation + plan gain) around its mean, next to "no change" and "equal loudness", per stem;
- **separation plausibility**: energy share per stem (dB of the master's energy), leakage flags.

Figures per package and over all songs, one table; ``--json`` writes every per-song number.

    .venv/bin/python benchmarks/real_music.py --corpus /work/real_corpus [--split test|dev]
        [--excerpt-s 45] [--per-package 0] [--trials 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from mixassist import MixAssistant, load_audio, save_audio
from mixassist.evaluation import (SILENT_LUFS, equal_loudness_gains, restoration_errors,
                                  summarise_errors, tonal_change_db)
from mixassist.utils.atomic import write_text_atomic

PERTURB_DB = 6.0
ESTIMATES = ("plan", "no_change", "equal_loudness")


def corpus_songs(corpus: Path, split: str, per_package: int) -> list[dict]:
    """The manifest's songs of ``split`` (at most ``per_package`` of each package when > 0)."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    songs, count = [], {}
    for song in manifest["songs"]:
        if song["split"] != split:
            continue
        count[song["package"]] = count.get(song["package"], 0) + 1
        if per_package <= 0 or count[song["package"]] <= per_package:
            songs.append(song)
    if not songs:
        raise SystemExit(f"{corpus}: no songs in split {split!r}")
    return songs


def excerpt(path: Path, seconds: float) -> tuple[np.ndarray, int]:
    """``seconds`` of the song from 30 % of its length (the whole song when shorter)."""
    audio, sr = load_audio(path)
    n = int(seconds * sr)
    start = max(0, min(int(0.3 * audio.shape[1]), audio.shape[1] - n))
    return np.ascontiguousarray(audio[:, start:start + n]), sr


def score_song(song: dict, corpus: Path, work: Path, *, excerpt_s: float, trials: int,
               rng: np.random.Generator, assistant: MixAssistant, folder_assistant: MixAssistant) -> dict:
    """Every figure of one song (see the module docstring); ``assistant`` caches its separations
    (the master's stems are read back from it), ``folder_assistant`` caches nothing."""
    audio, sr = excerpt(corpus / song["file"], excerpt_s)
    master = work / "master.wav"
    save_audio(master, audio, sr)
    result = assistant.process(master)  # separates, analyses, plans, renders: the `mix` verb
    gains = {n: s.gain_db for n, s in result.plan.stems.items()}
    _, stems, _, analysis = assistant.analysed(master)  # the same separation, from the cache
    energy = float(np.sum(audio.astype(np.float64) ** 2))
    share = {n: 10 * np.log10(max(float(np.sum(s.astype(np.float64) ** 2)), 1e-20) / energy)
             for n, s in stems.items()}
    leakage = sorted(s.name for s in analysis.stems if s.extra.get("leakage"))
    audible = [s.name for s in analysis.stems
               if s.loudness_lufs is not None and s.loudness_lufs > SILENT_LUFS and s.name not in leakage]
    restoration = {k: [] for k in ESTIMATES}
    for trial in range(trials):
        perturbation = {n: float(rng.uniform(-PERTURB_DB, PERTURB_DB)) for n in audible}
        folder = work / f"stems{trial}"
        folder.mkdir(exist_ok=True)
        for n in audible:
            save_audio(folder / f"{n}.wav", stems[n] * np.float32(10 ** (perturbation[n] / 20)), sr)
        _, _, _, perturbed = folder_assistant.analysed(folder)
        plan = folder_assistant.plan(perturbed, sr)
        levels = {s.name: s.loudness_lufs for s in perturbed.stems}
        estimates = {"plan": {n: plan.stems[n].gain_db for n in audible},
                     "no_change": {n: 0.0 for n in audible},
                     "equal_loudness": equal_loudness_gains({n: levels[n] for n in audible})}
        for k, g in estimates.items():
            restoration[k].append(restoration_errors(perturbation, g))
    return {"song_id": song["song_id"], "package": song["package"], "duration_s": audio.shape[1] / sr,
            "median_abs_gain_db": float(np.median(np.abs(list(gains.values())))),
            "gains_db": gains, "tonal_change_db": tonal_change_db(audio, result.mix, sr),
            "energy_share_db": share, "leakage": leakage, "restoration": restoration,
            "labels": {s.name: f"{s.instrument} ({s.confidence:.2f})" for s in analysis.stems}}


def summary(rows: list[dict]) -> dict:
    """Medians of the do-no-harm figures, restoration MAE per estimate, energy shares."""
    out = {"songs": len(rows),
           "median_abs_gain_db": float(np.median([r["median_abs_gain_db"] for r in rows])),
           "tonal_change_db": float(np.median([r["tonal_change_db"] for r in rows])),
           "restoration": {k: summarise_errors([t for r in rows for t in r["restoration"][k]])
                           for k in ESTIMATES},
           "leakage_stems": sum(len(r["leakage"]) for r in rows)}
    stems = sorted({n for r in rows for n in r["energy_share_db"]})
    out["energy_share_db"] = {n: float(np.median([r["energy_share_db"][n] for r in rows])) for n in stems}
    return out


def print_table(groups: dict[str, dict]) -> None:
    stems = ("drums", "bass", "other", "vocals")
    print(f"\n{'package':22s} {'songs':>5s} {'|gain|':>6s} {'tonal':>6s} | {'plan':>5s} {'no chg':>6s} "
          f"{'eq.loud':>7s} | " + " ".join(f"{s:>11s}" for s in stems)
          + " | " + " ".join(f"{s[:5]:>6s}" for s in stems) + " leak")
    for name, s in groups.items():
        r = s["restoration"]
        per = " ".join(f"{r['plan']['per_stem'].get(n, float('nan')):5.2f}/"
                       f"{r['no_change']['per_stem'].get(n, float('nan')):5.2f}" for n in stems)
        shares = " ".join(f"{s['energy_share_db'].get(n, float('nan')):6.1f}" for n in stems)
        print(f"{name:22s} {s['songs']:5d} {s['median_abs_gain_db']:6.2f} {s['tonal_change_db']:6.2f} | "
              f"{r['plan']['mae_db']:8.2f} {r['no_change']['mae_db']:6.2f} {r['equal_loudness']['mae_db']:7.2f}"
              f" | {per} | {shares} {s['leakage_stems']:4d}")
    print("\n|gain|: median over songs of the median |stem gain| of the plan on the finished master (dB); "
          "tonal: median tonal change (dB);\nplan / no chg / eq.loud: balance-restoration MAE after U(-6, 6) dB "
          "per stem (dB, offset removed); per stem: plan/no change;\nthen the median energy share per stem "
          "(dB of the master's energy); leak: stems flagged as separation leakage.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of `mixassist data real`")
    parser.add_argument("--split", default="test", choices=("train", "dev", "test"))
    parser.add_argument("--excerpt-s", type=float, default=45.0)
    parser.add_argument("--per-package", type=int, default=0, help="at most this many songs a package (0: all)")
    parser.add_argument("--trials", type=int, default=2, help="perturbations per song")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    songs = corpus_songs(args.corpus, args.split, args.per_package)
    rng = np.random.default_rng(args.seed)
    rows, start = [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mixassist-real-music-") as tmp:
        assistant = MixAssistant(device="cpu", cache=Path(tmp) / "cache")  # one model load for all songs
        folder_assistant = MixAssistant(device="cpu", cache=False)
        for i, song in enumerate(songs):
            work = Path(tmp) / f"{i:04d}"
            work.mkdir()
            rows.append(score_song(song, args.corpus, work, excerpt_s=args.excerpt_s, trials=args.trials,
                                   rng=rng, assistant=assistant, folder_assistant=folder_assistant))
            shutil.rmtree(work)  # the excerpt, its stems and its cached separation: ~60 MB a song
            shutil.rmtree(Path(tmp) / "cache", ignore_errors=True)
            r = rows[-1]
            print(f"[{i + 1}/{len(songs)} {time.perf_counter() - start:6.0f} s] {song['song_id']}: "
                  f"|gain| {r['median_abs_gain_db']:.2f} dB, tonal {r['tonal_change_db']:.2f} dB, gains "
                  + ", ".join(f"{n} {g:+.1f}" for n, g in r["gains_db"].items())
                  + f"; labels {r['labels']}" + (f"; leakage {r['leakage']}" if r["leakage"] else ""),
                  flush=True)
    groups = {p: summary([r for r in rows if r["package"] == p]) for p in dict.fromkeys(r["package"] for r in rows)}
    groups["ALL"] = summary(rows)
    print_table(groups)
    print(f"\n{len(rows)} songs of split {args.split} in {time.perf_counter() - start:.0f} s")
    if args.json:
        write_text_atomic(args.json, json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                 "summary": groups, "songs": rows}, indent=1))


if __name__ == "__main__":
    main()
