"""Speed of the measured-feature analysis (``measure_stems``) on 4 stems x 3 min, 44.1 kHz stereo.

Prints the real-time factor (song duration / wall time) of the whole call (two threads,
and one thread) and, side by side in
the same run, the wall time of its parts (one STFT, the loudness passes, the mix's true peak), so
the noisy shared machine affects all figures alike; the CPU time of a one-thread run is the
figure least disturbed by other users of the machine. Issue 5 asks >= 20x real time for the whole
analysis (network included), so this layer must stay well above that.

    .venv/bin/python benchmarks/measure_speed.py [--seconds 180]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mixassist.analysis.measure import measure_stems
from mixassist.testing import synthetic_stems
from mixassist.analysis.spectrum import band_spectrogram
from mixassist.loudness import (integrated_loudness, loudness_range, short_term_loudness,
                                true_peak_dbtp)


def stems(seconds: float, sr: int) -> dict[str, np.ndarray]:
    return synthetic_stems(seconds, sr, vocal_amp=0.1)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_timed(fn) -> float:
    """CPU seconds of this process (all threads): less sensitive to other users of the machine."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args()
    sr = 44_100
    audio = stems(args.seconds, sr)
    one = audio["keys"]
    total = timed(lambda: measure_stems(audio, sr, workers=2))
    serial = timed(lambda: measure_stems(audio, sr, workers=1))
    cpu = cpu_timed(lambda: measure_stems(audio, sr, workers=1))
    parts = {
        "STFT + bands (one signal)": timed(lambda: band_spectrogram(one, sr)),
        "integrated + LRA + short-term (one signal)": timed(lambda: (
            integrated_loudness(one, sr), loudness_range(one, sr),
            short_term_loudness(one, sr, hop_s=1.0))),
        "true peak (mix only)": timed(lambda: true_peak_dbtp(one, sr)),
    }
    print(f"measure_stems, 4 stems x {args.seconds:g} s, two threads: {total:.2f} s wall, "
          f"{args.seconds / total:.1f}x real time; one thread: {serial:.2f} s, "
          f"{args.seconds / serial:.1f}x (threads speed-up {serial / total:.2f}x); "
          f"CPU time (one thread) {cpu:.2f} s = {args.seconds / cpu:.1f}x real time per core")
    for name, seconds in parts.items():
        print(f"  {name}: {seconds:.2f} s ({seconds / total:.0%} of the whole)")


if __name__ == "__main__":
    main()
