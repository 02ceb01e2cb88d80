"""Separators on recorded music (no ground truth): they run, the stems sum to the input, and where
the energy goes, per song, several models side by side on the same excerpts.

Input: a split of the real-music corpus (``mixassist data real``; ``--corpus DIR --split test``,
one ``--excerpt-s`` excerpt from the middle of each song, default 60 s; 0 = whole songs) or
files (default: the Battle for Wesnoth soundtrack, Debian ``wesnoth-1.16-music``, whole tracks).
Per song and model: the largest deviation of the stems' sum from the input (dBFS; the contract
asks <= -90), each stem's share of the input's energy (%) and the real-time factor (audio
seconds per wall second, CLI settings: shifts=1). Then per model: the worst sum error, the median
share per stem and the songs that put more than ``--flag-pct`` (5 %) of their energy in ``drums``
or in ``vocals``: leakage where the song has no drums or no voice. The corpus has no drum or voice
tags, so the flags list songs to check; they are not a verdict.

    .venv/bin/python benchmarks/separation_real_music.py --corpus /work/real --split test
        [--model mixassist-compact --model /path/other.safetensors] [--excerpt-s 60] [--json out.json]
    .venv/bin/python benchmarks/separation_real_music.py [FILES...] [--limit 6]
"""

from __future__ import annotations

import argparse
import glob
import json
import time
from pathlib import Path

import numpy as np

from mixassist.audio.io import load_audio
from mixassist.datasets.real import corpus_songs, middle_excerpt
from mixassist.errors import ParameterError
from mixassist.separation import Separator
from mixassist.utils.atomic import write_text_atomic

WESNOTH = "/usr/share/games/wesnoth/1.16/data/core/music/*.ogg"


def measure(separator: Separator, audio: np.ndarray, sr: int, name: str) -> dict:
    """Sum error (dBFS), energy share per stem (%) and real-time factor of one separation."""
    start = time.perf_counter()
    stems = separator.separate(audio, sr, name=name)
    seconds = time.perf_counter() - start
    error = float(np.max(np.abs(sum(stems.values()) - audio)))
    total = max(float(np.sum(audio.astype(np.float64) ** 2)), 1e-20)
    return {"sum_error_dbfs": 20 * np.log10(max(error, 1e-12)),
            "share_pct": {s: 100 * float(np.sum(stems[s].astype(np.float64) ** 2)) / total
                          for s in separator.stem_names},
            "x_realtime": audio.shape[1] / sr / seconds}


def summary(rows: dict[str, dict], flag_pct: float) -> dict:
    """Worst sum error, median share per stem and the flagged songs of one model's rows."""
    stems = next(iter(rows.values()))["share_pct"]
    return {"worst_sum_error_dbfs": max(r["sum_error_dbfs"] for r in rows.values()),
            "median_share_pct": {s: float(np.median([r["share_pct"][s] for r in rows.values()]))
                                 for s in stems},
            "flagged": {s: sorted(n for n, r in rows.items() if r["share_pct"].get(s, 0) > flag_pct)
                        for s in ("drums", "vocals") if s in stems},
            "median_x_realtime": float(np.median([r["x_realtime"] for r in rows.values()]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--corpus", type=Path, default=None, help="a `mixassist data real` folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--excerpt-s", type=float, default=None,
                        help="middle excerpt per song (default 60 with --corpus, else whole; 0 = whole)")
    parser.add_argument("--limit", type=int, default=6, help="tracks taken from the default glob")
    parser.add_argument("--model", action="append", default=[],
                        help="model name or path (repeatable; default: the resolved default)")
    parser.add_argument("--flag-pct", type=float, default=5.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.corpus:
        try:
            songs = [(s["song_id"], args.corpus / s["file"]) for s in corpus_songs(args.corpus, args.split)]
        except ParameterError as exc:
            raise SystemExit(str(exc)) from None
        excerpt_s = 60.0 if args.excerpt_s is None else args.excerpt_s
    else:
        files = args.files or sorted(glob.glob(WESNOTH))[:args.limit]
        songs = [(Path(f).name, Path(f)) for f in files]
        excerpt_s = args.excerpt_s or 0.0
    if not songs:
        raise SystemExit(f"no input: pass --corpus DIR, files, or install wesnoth-1.16-music ({WESNOTH})")
    separators = [Separator(m, device="cpu", shifts=1) for m in (args.model or [None])]
    labels = [f"{s.loaded.name}" for s in separators]
    print(f"{len(songs)} songs, {'whole' if not excerpt_s else f'{excerpt_s:g}-s excerpts'}; models: "
          + ", ".join(f"{s.loaded.name} ({s.loaded.source})" for s in separators))
    stems = separators[0].stem_names
    print(f"{'song':40s} {'model':22s} {'x RT':>5s} {'sum dBFS':>8s}  share %: "
          + " ".join(f"{s:>6s}" for s in stems))
    results: dict[str, dict[str, dict]] = {label: {} for label in labels}
    for song_id, path in songs:
        audio, sr = load_audio(path)
        audio = middle_excerpt(audio, sr, excerpt_s)
        for label, separator in zip(labels, separators):
            row = measure(separator, audio, sr, str(path))
            results[label][song_id] = row
            print(f"{song_id[:40]:40s} {label[:22]:22s} {row['x_realtime']:5.1f} "
                  f"{row['sum_error_dbfs']:8.1f}  "
                  + " ".join(f"{row['share_pct'].get(s, float('nan')):6.1f}" for s in stems), flush=True)
    report = {"songs": len(songs), "excerpt_s": excerpt_s, "flag_pct": args.flag_pct,
              "models": {label: {"summary": summary(rows, args.flag_pct), "songs": rows}
                         for label, rows in results.items()}}
    for label, model in report["models"].items():
        s = model["summary"]
        print(f"\n{label}: worst sum error {s['worst_sum_error_dbfs']:.1f} dBFS (<= -90: "
              f"{'yes' if s['worst_sum_error_dbfs'] <= -90 else 'NO'}); median share % "
              + ", ".join(f"{k} {v:.1f}" for k, v in s["median_share_pct"].items())
              + f"; median {s['median_x_realtime']:.1f}x real time")
        for stem, names in s["flagged"].items():
            print(f"  > {args.flag_pct:g} % in {stem}: {len(names)} of {len(songs)} songs"
                  + (f" ({', '.join(names)})" if names else ""))
    if args.json:
        write_text_atomic(args.json, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
