"""Speed of mixassist's synthesis voices (:mod:`mixassist.datasets.synth`): real-time factors.

For each voice, typical parts of ``--seconds`` of audio are rendered with ``--patches`` random
patches (seeded): a line of eighth notes at 120 BPM (bass / lead / pluck / mallet), four-note
chords of 2 s (pads: subtractive, fm, wavetable), one 4 s effect every 8 s (noise_fx). Printed:
audio seconds per wall second and per CPU second of this process (the generator's budget is
>= 4 audio-hours per wall-hour on 2 cores for everything; aim for >= 50x per voice). Imports and
numba's compilation are warmed up first and not timed; the best of ``--rounds`` is kept.

    .venv/bin/python benchmarks/synth_speed.py [--seconds 60] [--patches 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as a data-build worker has

import numpy as np

from mixassist.datasets.song import Note
from mixassist.datasets.synth import SAMPLE_RATE, VOICES, random_patch, render_part


def line(seconds: float, rng: np.random.Generator, low: int, high: int) -> list[Note]:
    """Eighth notes at 120 BPM (0.25 s apart, 0.22 s long)."""
    return [Note(t, t + 0.22, int(rng.integers(low, high)), int(rng.integers(60, 127)))
            for t in np.arange(0.0, seconds, 0.25)]


def chords(seconds: float, rng: np.random.Generator) -> list[Note]:
    """Four-note chords of 2 s."""
    out = []
    for t in np.arange(0.0, seconds, 2.0):
        root = int(rng.integers(48, 60))
        out += [Note(t, t + 2.0, root + k, 90) for k in (0, 4, 7, 12)]
    return out


def effects(seconds: float) -> list[Note]:
    return [Note(t, t + 4.0, 60, 110) for t in np.arange(0.0, seconds, 8.0)]


PARTS = {  # (voice, part name, notes maker)
    "subtractive bass": ("subtractive", lambda s, r: line(s, r, 28, 48)),
    "subtractive lead": ("subtractive", lambda s, r: line(s, r, 60, 88)),
    "subtractive pad": ("subtractive", chords),
    "fm bass": ("fm", lambda s, r: line(s, r, 28, 48)),
    "fm keys": ("fm", chords),
    "wavetable pad": ("wavetable", chords),
    "wavetable lead": ("wavetable", lambda s, r: line(s, r, 60, 88)),
    "pluck bass": ("pluck", lambda s, r: line(s, r, 28, 48)),
    "pluck guitar": ("pluck", lambda s, r: line(s, r, 52, 84)),
    "mallet": ("mallet", lambda s, r: line(s, r, 48, 96)),
    "noise_fx": ("noise_fx", lambda s, r: effects(s)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--patches", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    for name in VOICES:  # warm-up: imports, numba compilation (cached on disk), table caches
        render_part([Note(0.0, 0.3, 45, 100)], name, random_patch(name, np.random.default_rng(0)))
    print(f"{'part':18s} {'x real time (wall)':>19s} {'x real time (CPU)':>18s}")
    for part, (name, make) in PARTS.items():
        best_wall = best_cpu = float("inf")
        for _ in range(args.rounds):
            rng = np.random.default_rng(1)
            jobs = [(make(args.seconds, rng), random_patch(name, rng)) for _ in range(args.patches)]
            wall, cpu = time.perf_counter(), time.process_time()
            for notes, patch in jobs:
                render_part(notes, name, patch, SAMPLE_RATE, duration_s=args.seconds)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        audio = args.seconds * args.patches
        print(f"{part:18s} {audio / best_wall:19.0f} {audio / best_cpu:18.0f}")


if __name__ == "__main__":
    main()
