"""Streaming separation engine vs plain ``demucs.apply.apply_model``: time ratio on one input.

Both run the same small HTDemucs (random weights: speed only) on the same 60-s stereo input with
the same settings (shifts=1, overlap=0.25), alternating A/B so machine noise hits both alike; the
median time ratio is printed (target <= 1.10). The engine's time includes its normalisation pass.

Then the shipped offline default (``mixassist/models/mixassist-compact.safetensors``, trained weights, its own
internal rate) separates a ``--shipped-seconds`` (default 180) stereo 44.1 kHz input through the
engine with the CLI's settings (shifts=1); its real-time factor is printed (target >= 2x on the
2-core machine). ``--shipped-seconds 0`` skips it.

    .venv/bin/python benchmarks/separation_speed.py [--seconds 60] [--repeats 3] [--shipped-seconds 180]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shipped-seconds", type=float, default=180.0)
    args = parser.parse_args()

    from demucs.apply import apply_model

    from mixassist.separation import Separator
    from mixassist.separation.testing import small_htdemucs

    sr = 44100
    audio = (0.1 * np.random.default_rng(0).standard_normal((2, int(args.seconds * sr)))
             ).astype(np.float32)
    model = small_htdemucs()
    separator = Separator(model, device="cpu", shifts=1)

    def engine():
        separator.separate(audio, sr)

    def plain():
        x = torch.from_numpy(audio)
        ref = x.mean(0)
        random.seed(0)
        with torch.no_grad():
            out = apply_model(model, ((x - ref.mean()) / ref.std())[None], shifts=1, split=True,
                              overlap=0.25, device="cpu")
        return out * ref.std() + ref.mean()

    times = {"engine": [], "apply_model": []}
    for _ in range(args.repeats):
        for name, fn in (("apply_model", plain), ("engine", engine)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    eng, ref = statistics.median(times["engine"]), statistics.median(times["apply_model"])
    print(f"input: {args.seconds:.0f} s stereo 44.1 kHz; model: HTDemucs channels=16 depth=4 "
          f"t_layers=1 (random weights); torch threads: {torch.get_num_threads()}")
    print(f"apply_model: {ref:.2f} s (median of {args.repeats}), "
          f"{args.seconds / ref:.2f}x real time")
    print(f"engine:      {eng:.2f} s (median of {args.repeats}), "
          f"{args.seconds / eng:.2f}x real time")
    print(f"time ratio engine/apply_model: {eng / ref:.3f} (target <= 1.10)")
    if args.shipped_seconds > 0:
        shipped_speed(args.shipped_seconds)


def shipped_speed(seconds: float) -> None:
    """Real-time factor of the bundled default model on a ``seconds`` stereo 44.1 kHz input."""
    from mixassist.separation import Separator, resolve_model
    from mixassist.separation.models import DEFAULT_BUNDLED, bundled_models

    if DEFAULT_BUNDLED not in bundled_models():
        print(f"shipped model: models/{DEFAULT_BUNDLED}.safetensors not installed; skipped")
        return
    sr = 44100
    audio = (0.1 * np.random.default_rng(1).standard_normal((2, int(seconds * sr)))).astype(np.float32)
    loaded = resolve_model(DEFAULT_BUNDLED)
    separator = Separator(loaded, device="cpu", shifts=1)
    start = time.perf_counter()
    separator.separate(audio, sr)
    elapsed = time.perf_counter() - start
    print(f"shipped {DEFAULT_BUNDLED} (internal {loaded.samplerate} Hz): {seconds:.0f} s stereo 44.1 kHz "
          f"in {elapsed:.1f} s = {seconds / elapsed:.2f}x real time (target >= 2x; torch threads: "
          f"{torch.get_num_threads()})")


if __name__ == "__main__":
    main()
