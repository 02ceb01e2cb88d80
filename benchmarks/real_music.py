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
        [--excerpt-s 45] [--per-package 0] [--trials 2] [--model NET] [--separator MODEL]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from mixassist import MixAssistant, load_audio
from mixassist.datasets.real import corpus_songs
from mixassist.errors import ParameterError
from mixassist.evaluation import score_master, summarise_songs
from mixassist.utils.atomic import write_text_atomic


def excerpt(path: Path, seconds: float) -> tuple[np.ndarray, int]:
    """``seconds`` of the song from 30 % of its length (the whole song when shorter)."""
    audio, sr = load_audio(path)
    n = int(seconds * sr)
    start = max(0, min(int(0.3 * audio.shape[1]), audio.shape[1] - n))
    return np.ascontiguousarray(audio[:, start:start + n]), sr


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
    parser.add_argument("--model", default=None, help="analysis network (default: the bundled one)")
    parser.add_argument("--separator", default=None,
                        help="separation model, name or path (default: the resolved default)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    try:
        songs = corpus_songs(args.corpus, args.split, per_package=args.per_package)
    except ParameterError as exc:
        raise SystemExit(str(exc)) from None
    rng = np.random.default_rng(args.seed)
    rows, start = [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mixassist-real-music-") as tmp:
        # one model load for all songs
        assistant = MixAssistant(device="cpu", cache=Path(tmp) / "cache", analysis_model=args.model,
                                 separation_model=args.separator)
        folder_assistant = MixAssistant(device="cpu", cache=False, analysis_model=args.model)
        for i, song in enumerate(songs):
            work = Path(tmp) / f"{i:04d}"
            work.mkdir()
            audio, sr = excerpt(args.corpus / song["file"], args.excerpt_s)
            row = score_master(audio, sr, work=work, trials=args.trials, rng=rng, assistant=assistant,
                               folder_assistant=folder_assistant)
            rows.append({"song_id": song["song_id"], "package": song["package"], **row})
            shutil.rmtree(work)  # the excerpt, its stems and its cached separation: ~60 MB a song
            shutil.rmtree(Path(tmp) / "cache", ignore_errors=True)
            r = rows[-1]
            print(f"[{i + 1}/{len(songs)} {time.perf_counter() - start:6.0f} s] {song['song_id']}: "
                  f"|gain| {r['median_abs_gain_db']:.2f} dB, tonal {r['tonal_change_db']:.2f} dB, gains "
                  + ", ".join(f"{n} {g:+.1f}" for n, g in r["gains_db"].items())
                  + f"; labels {r['labels']}" + (f"; leakage {r['leakage']}" if r["leakage"] else ""),
                  flush=True)
    groups = {p: summarise_songs([r for r in rows if r["package"] == p])
              for p in dict.fromkeys(r["package"] for r in rows)}
    groups["ALL"] = summarise_songs(rows)
    print_table(groups)
    print(f"\n{len(rows)} songs of split {args.split} in {time.perf_counter() - start:.0f} s")
    if args.json:
        write_text_atomic(args.json, json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                 "summary": groups, "songs": rows}, indent=1))


if __name__ == "__main__":
    main()
