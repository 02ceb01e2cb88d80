"""``mixassist mix`` on a song vs separation alone, same separation model: time ratio.

A 3-min synthetic stereo song (:func:`mixassist.testing.synthetic_stems`, summed) is separated by a benchmark-sized random HTDemucs (the shape of a
compact separator; speed only) with the streaming engine, then mixed end to end with
``MixAssistant`` (separation + analysis + plan + render + mastering + writing every output), with
the cache off. Runs alternate so machine noise hits both alike; medians are compared
(target: mix <= 1.25x separation alone).

    .venv/bin/python benchmarks/end_to_end.py [--seconds 180] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from mixassist.assistant import MixAssistant
    from mixassist.audio import save_audio
    from mixassist.separation import Separator
    from mixassist.separation.testing import save_th, small_htdemucs
    from mixassist.testing import synthetic_stems

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        song = sum(synthetic_stems(args.seconds, 44100, vocal_amp=0.1).values())
        path = save_audio(tmp / "song.wav", song, 44100)
        model = save_th(small_htdemucs(), tmp / "small.th")
        separator = Separator(str(model), device="cpu")
        assistant = MixAssistant(separation_model=str(model), device="cpu", cache=False)
        times = {"separate": [], "mix": []}
        for k in range(args.repeats):
            start = time.perf_counter()
            separator.separate_file(path, tmp / f"sep{k}")
            times["separate"].append(time.perf_counter() - start)
            start = time.perf_counter()
            assistant.process(path, out_dir=tmp / f"mix{k}")
            times["mix"].append(time.perf_counter() - start)
    sep, mix = statistics.median(times["separate"]), statistics.median(times["mix"])
    print(f"song: {args.seconds:.0f} s stereo 44.1 kHz; separation model: HTDemucs ch16 depth4 "
          "t_layers1 (random weights)")
    print(f"separation alone (separate_file): {sep:7.1f} s  ({args.seconds / sep:.2f}x real time)")
    print(f"mix end to end (cache off):       {mix:7.1f} s  ({args.seconds / mix:.2f}x real time)")
    print(f"time ratio mix/separation: {mix / sep:.3f} (target <= 1.25)")


if __name__ == "__main__":
    main()
