"""Gain invariance of the analysis network's level head (issue 5: within 0.5 dB).

Every stem of one generated song, in turn, is played at -12, 0 and +12 dB with the other stems
unchanged; prints the spread (max - min, dB) of its ``target_level_db`` over the three gains.

    .venv/bin/python benchmarks/analysis_gain_invariance.py --data /work/data_gen/v2/ds2 \\
        --song 00008 [--model mixassist/models/mixassist-analysis.safetensors] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from mixassist.analysis.analyze import DEFAULT_MODEL
from mixassist.analysis.network import load_model, predict_stems
from mixassist.audio.io import load_audio

GAINS_DB = (-12.0, 0.0, 12.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset from `mixassist data build`")
    parser.add_argument("--song", required=True, help="song id, e.g. 00008")
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--seconds", type=float, default=None, help="only the first SECONDS (default: whole song)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.data) / "songs" / args.song
    song = json.loads((folder / "song.json").read_text(encoding="utf-8"))
    stems, sr = {}, None
    for stem in song["stems"]:
        audio, sr = load_audio(folder / stem["file"])
        stems[stem["name"]] = audio if args.seconds is None else audio[:, :int(args.seconds * sr)]
    net = load_model(args.model)
    worst = 0.0
    for name, audio in stems.items():
        levels = [predict_stems(net, {**stems, name: audio * np.float32(10 ** (g / 20))}, sr)[name].target_level_db
                  for g in GAINS_DB]
        spread = max(levels) - min(levels)
        worst = max(worst, spread)
        print(f"{name:>12}: target_level_db " + " / ".join(f"{x:+.3f}" for x in levels) + f"  spread {spread:.4f} dB")
    print(f"song {args.song} ({song['split']}), {len(stems)} stems: largest spread {worst:.4f} dB "
          f"({'within' if worst <= 0.5 else 'OUTSIDE'} the 0.5 dB bound)")


if __name__ == "__main__":
    main()
