"""Speed of per-stem production (:func:`mixassist.datasets.production.produce`): real-time factors
per variety, and of v3's own stages and :func:`master_mixture` alone.

Each round produces ``--stems`` stems of ``--seconds`` stereo audio (a plucked tone line with a
little noise, peak 0.5), cycling through the instrument families, with one seeded rng per
variety (so both varieties see the same families). Printed: audio seconds per wall second (x real
time) for the whole chain, and the mean/min per stem; then each of v3's own stages on its own at
a typical setting. The generator's budget is >= 4 audio-hours per wall-hour on 2 cores for
everything (rendering, synthesis, production, balance, FLAC); aim for >= 50x per stem.
Best of ``--rounds``.

    .venv/bin/python benchmarks/production_speed.py [--seconds 60] [--stems 22] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as a data-build worker has

import numpy as np

from mixassist.datasets.production import (VARIETIES, gain_rides, lofi, master_mixture, produce, room_reverb,
                                           stereo_width)

SR = 44100
FAMILIES = ("drums", "bass", "keys", "guitar", "synth", "strings", "vocals", "brass", "percussion", "fx",
            "woodwinds")


def test_signal(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    notes = np.sin(2 * np.pi * 220 * t * (1 + (np.floor(t * 4) % 5) / 8)) * np.exp(-6 * (t % 0.25))
    noise = 0.05 * np.random.default_rng(0).standard_normal(t.size)
    x = notes + noise
    return (0.5 * x / np.abs(x).max()).astype(np.float32)[None].repeat(2, 0)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--stems", type=int, default=22)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    x = test_signal(args.seconds)
    produce(x[:, :SR], SR, instrument="keys", role="pad", rng=np.random.default_rng(0), variety="v3")  # warm up
    print(f"{args.stems} stems of {args.seconds:.0f} s stereo, best of {args.rounds} rounds, one thread")
    for variety in VARIETIES:
        best = None
        for _ in range(args.rounds):
            rng = np.random.default_rng(1)
            per_stem = []
            for i in range(args.stems):
                family = FAMILIES[i % len(FAMILIES)]
                role = "low_end" if family == "bass" else "harmony"
                per_stem.append(timed(lambda: produce(x, SR, instrument=family, role=role, rng=rng,
                                                      variety=variety, tempo_bpm=120.0)))
            if best is None or sum(per_stem) < sum(best):
                best = per_stem
        rt = [args.seconds / s for s in best]
        print(f"produce {variety}: {args.stems * args.seconds / sum(best):7.1f}x real time overall, "
              f"per stem mean {np.mean(rt):.1f}x, slowest {min(rt):.1f}x")
    stages = {
        "LoFi 11025 Hz, 10 bits, antialias": lambda: lofi(x, SR, sample_rate_hz=11025, bit_depth=10, antialias=True),
        "RoomReverb 2.0 s (30 m)": lambda: room_reverb(x, SR, wet_level=0.2, dry_level=0.8, seed=0, size_m=30.0,
                                                       decay_s=2.0, hf_damping=0.6, predelay_ms=20.0),
        "RoomReverb 0.5 s (5 m)": lambda: room_reverb(x, SR, wet_level=0.2, dry_level=0.8, seed=0, size_m=5.0,
                                                      decay_s=0.5, hf_damping=0.6, predelay_ms=5.0),
        "StereoWidth": lambda: stereo_width(x, 1.4),
        "GainRides (3 rides)": lambda: gain_rides(x, SR, rides=[{"start_s": 1.0, "end_s": 9.0, "gain_db": -3.0},
                                                                {"start_s": 20.0, "end_s": 30.0, "gain_db": 2.0},
                                                                {"start_s": 40.0, "end_s": 50.0, "gain_db": -1.0}]),
        "master_mixture (mixture)": lambda: master_mixture(x, SR, np.random.default_rng(0), probability=1.0),
    }
    for name, fn in stages.items():
        best = min(timed(fn) for _ in range(args.rounds))
        print(f"  {name:36s} {args.seconds / best:8.1f}x real time")


if __name__ == "__main__":
    main()
