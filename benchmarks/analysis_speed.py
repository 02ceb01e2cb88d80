"""Speed of the whole analysis (``analyze``: structure + measured features + analysis network)
on 4 stems x 3 min, 44.1 kHz stereo, and of the network alone per stem.

Issue 5 asks >= 20x real time for the whole analysis of 4 stems x 3 min and >= 50x real time per
stem for the network on CPU. All figures come from one run, side by side (the machine is shared
and noisy); CPU time is the figure least disturbed by other users. Uses ``--model`` (default the
shipped weights; a freshly initialised network of the default size when there are none — the
cost does not depend on the weights).

    .venv/bin/python benchmarks/analysis_speed.py [--seconds 180] [--threads 1] [--model FILE]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mixassist.analysis.analyze import DEFAULT_MODEL, analyze
from mixassist.analysis.measure import measure_stems
from mixassist.analysis.network import AnalysisNet, load_model, predict_stems


def stems(seconds: float, sr: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    return {
        "drums": (0.2 * rng.standard_normal((2, t.size)) * (t % 0.5 < 0.08)).astype(np.float32),
        "bass": np.tile(0.3 * np.sin(2 * np.pi * 55 * t), (2, 1)).astype(np.float32),
        "other": (0.05 * rng.standard_normal((2, t.size))).astype(np.float32),
        "vocals": np.tile(0.1 * np.sin(2 * np.pi * 330 * t) * (t % 8 < 5), (2, 1)).astype(np.float32),
    }


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = args.model or (DEFAULT_MODEL if DEFAULT_MODEL.is_file() else None)
    net = load_model(path) if path else AnalysisNet().eval()
    sr, d = 44_100, args.seconds
    audio = stems(d, sr)
    rows = {
        "network, 4 stems (resample + mel + net)": timed(lambda: predict_stems(net, audio, sr)),
        "measured features (measure_stems)": timed(lambda: measure_stems(audio, sr)),
        f"whole analyze() {'with' if path else 'without'} the network":
            timed(lambda: analyze(audio, sr, model=path or False)),
    }
    print(f"4 stems x {d:g} s at {sr} Hz, torch threads {args.threads}, model "
          f"{path or 'untrained (default size)'}")
    for name, (wall, cpu) in rows.items():
        print(f"  {name}: {wall:.2f} s wall = {d / wall:.1f}x real time; CPU {cpu:.2f} s = "
              f"{d / cpu:.1f}x")
    wall, cpu = rows["network, 4 stems (resample + mel + net)"]
    print(f"  network per stem: {4 * d / wall:.1f}x real time (wall), {4 * d / cpu:.1f}x (CPU); "
          f"issue target >= 50x; whole analysis target >= 20x")


if __name__ == "__main__":
    main()
