"""Integrated loudness: mixassist.loudness against pyloudnorm, side by side in one run.

Signal: 10 minutes of stereo 44.1 kHz pink-ish noise (Kellet/Smith pinking filter) in 5 s
sections at levels spread over 30 dB, so both gates do work. Each repetition times both meters
back to back; the figures are medians over the repetitions, and the speed-up is the ratio of
medians. pyloudnorm 0.2's meter loops over 400 ms blocks in Python (pyloudnorm/meter.py); it has
no true-peak meter (pyloudnorm issue 61) and no momentary/short-term measurements (issue 11), so
those are timed for mixassist alone.

    .venv/bin/python benchmarks/loudness_speed.py [--minutes 10] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pyloudnorm
import scipy.signal

from mixassist import loudness


def programme(sr: int, minutes: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    samples = int(minutes * 60 * sr)
    white = rng.standard_normal((2, samples))
    pink = scipy.signal.lfilter([0.049922035, -0.095993537, 0.050612699, -0.004408786],
                                [1, -2.494956002, 2.017265875, -0.522189400], white, axis=1)
    levels_db = np.repeat(rng.uniform(-30, 0, -(-samples // (5 * sr))), 5 * sr)[:samples]
    return (0.1 * pink * 10 ** (levels_db / 20)).astype(np.float32)


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sr", type=int, default=44100)
    args = parser.parse_args()
    sr = args.sr
    audio = programme(sr, args.minutes)
    interleaved = audio.T                                  # pyloudnorm wants (samples, channels)
    meter = pyloudnorm.Meter(sr)
    meter_deman = pyloudnorm.Meter(sr, filter_class="DeMan")
    loudness.integrated_loudness(audio[:, :sr], sr)        # JIT warm-up (cached after first run)
    ours, theirs, ours_tp, ours_all = [], [], [], []
    for _ in range(args.repeats):
        t, value = timed(loudness.integrated_loudness, audio, sr)
        ours.append(t)
        t, reference = timed(meter.integrated_loudness, interleaved)
        theirs.append(t)
    for _ in range(max(1, args.repeats // 2)):
        ours_tp.append(timed(loudness.true_peak_dbtp, audio, sr)[0])
        ours_all.append(timed(loudness.measure_loudness, audio, sr)[0])
    deman = meter_deman.integrated_loudness(interleaved)
    median = statistics.median
    print(f"signal: {args.minutes:g} min stereo {sr} Hz pink-ish noise, "
          f"{args.repeats} repetitions, medians")
    print(f"mixassist integrated_loudness : {median(ours):7.3f} s   {value:.4f} LUFS")
    print(f"pyloudnorm integrated_loudness: {median(theirs):7.3f} s   {reference:.4f} LUFS")
    print(f"speed-up                      : {median(theirs) / median(ours):7.1f} x")
    print(f"difference (mixassist - pyloudnorm default K-filter): {value - reference:+.4f} LU")
    print(f"difference (mixassist - pyloudnorm 'DeMan' filter)  : {value - deman:+.4f} LU")
    print(f"mixassist true_peak_dbtp      : {median(ours_tp):7.3f} s")
    print(f"mixassist measure_loudness    : {median(ours_all):7.3f} s   (all figures)")


if __name__ == "__main__":
    main()
