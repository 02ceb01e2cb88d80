"""The shipped separator on real recorded music (no ground truth): it runs, the stems sum to the
input, and where the energy goes.

Default input: the Battle for Wesnoth soundtrack (Debian package ``wesnoth-1.16-music``,
GPL-2.0+, orchestral/folk game music, fine for smoke tests per DATA.md). For each track: the
largest deviation of the stems' sum from the input (dBFS), each stem's share of the input's energy
(dB) and the real-time factor (audio seconds per wall second, CLI settings: shifts=1).

    .venv/bin/python benchmarks/separation_real_music.py [FILES...] [--limit 6] [--model NAME]
"""

from __future__ import annotations

import argparse
import glob
import time

import numpy as np

from mixassist.audio.io import load_audio
from mixassist.separation import Separator

WESNOTH = "/usr/share/games/wesnoth/1.16/data/core/music/*.ogg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--limit", type=int, default=6, help="tracks taken from the default glob")
    parser.add_argument("--model", default=None, help="model name or path (default: the resolved default)")
    args = parser.parse_args()
    files = args.files or sorted(glob.glob(WESNOTH))[:args.limit]
    if not files:
        raise SystemExit(f"no input: install wesnoth-1.16-music (apt) or pass files ({WESNOTH})")
    separator = Separator(args.model, device="cpu", shifts=1)
    print(f"model: {separator.loaded.name} ({separator.loaded.source})")
    print(f"{'track':34s} {'dur s':>6s} {'x RT':>5s} {'sum err dBFS':>12s}  energy share dB: "
          + " ".join(f"{s:>7s}" for s in separator.stem_names))
    worst = -np.inf
    for path in files:
        audio, sr = load_audio(path)
        start = time.perf_counter()
        stems = separator.separate(audio, sr, name=path)
        seconds = time.perf_counter() - start
        error = np.max(np.abs(sum(stems.values()) - audio))
        err_db = 20 * np.log10(max(float(error), 1e-12))
        worst = max(worst, err_db)
        total = float(np.sum(audio.astype(np.float64) ** 2))
        shares = [10 * np.log10(max(float(np.sum(stems[s].astype(np.float64) ** 2)), 1e-20) / total)
                  for s in separator.stem_names]
        duration = audio.shape[1] / sr
        print(f"{path.rsplit('/', 1)[-1][:34]:34s} {duration:6.1f} {duration / seconds:5.1f} {err_db:12.1f}  "
              + " ".join(f"{v:7.1f}" for v in shares))
    print(f"worst sum error {worst:.1f} dBFS over {len(files)} tracks (stems sum to the input: "
          f"{'yes' if worst < -80 else 'NO'})")


if __name__ == "__main__":
    main()
