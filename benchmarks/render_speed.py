"""Render speed: 4 synthetic stems x 3 min, each with a high-pass, 3-band EQ, compressor and a
send to one shared reverb bus, plus the default master chain and the loudness stage.

Prints the render time and real-time factor (audio seconds per wall second) of each variant,
measured side by side in one run, and where the time goes (cProfile of the default variant).

    .venv/bin/python benchmarks/render_speed.py [--minutes 3] [--rounds 2] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

import numpy as np

from mixassist.mixing.master import master_chain
from mixassist.mixing.plan import BusPlan, MasterPlan, Plan, PluginSpec, StemPlan
from mixassist.mixing.render import render
from mixassist.mixing.targets import PRESETS

SR = 44_100


def synthetic_stems(seconds: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Four stereo stems: kick-like pulses, a bass sine, a noise pad and a vibrato 'voice'."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n, dtype=np.float32) / SR
    beat = (t * 2.0) % 1.0
    drums = np.sin(2 * np.pi * 60 * t) * np.exp(-beat * 12) + 0.2 * rng.standard_normal(n) * np.exp(-beat * 30)
    bass = 0.5 * np.sin(2 * np.pi * 55 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    pad = 0.1 * rng.standard_normal((2, n))
    voice = 0.3 * np.sin(2 * np.pi * (330 + 5 * np.sin(2 * np.pi * 5 * t)) * t)
    return {name: np.asarray(np.broadcast_to(x, (2, n)), dtype=np.float32).copy()
            for name, x in (("drums", drums), ("bass", bass), ("other", pad), ("vocals", voice))}


def benchmark_plan() -> Plan:
    chain = [
        PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 40.0}),
        PluginSpec("LowShelfFilter", {"cutoff_frequency_hz": 200.0, "gain_db": -2.0, "q": 0.7}),
        PluginSpec("PeakFilter", {"cutoff_frequency_hz": 1_000.0, "gain_db": 2.0, "q": 1.0}),
        PluginSpec("HighShelfFilter", {"cutoff_frequency_hz": 8_000.0, "gain_db": 1.5, "q": 0.7}),
        PluginSpec("Compressor", {"threshold_db": -20.0, "ratio": 3.0, "attack_ms": 10.0,
                                  "release_ms": 100.0}),
    ]
    stems = {name: StemPlan(gain_db=-2.0, pan=pan, chain=chain, sends={"reverb": -12.0})
             for name, pan in (("drums", 0.0), ("bass", 0.0), ("other", -0.3), ("vocals", 0.1))}
    reverb = BusPlan([PluginSpec("Reverb", {"room_size": 0.6, "wet_level": 1.0, "dry_level": 0.0})])
    target = PRESETS["spotify"]
    return Plan(sample_rate=SR, target=target, stems=stems, buses={"reverb": reverb},
                master=MasterPlan(master_chain(target, mix_lufs=-16.0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (best is kept)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args()
    seconds = args.minutes * 60
    stems = synthetic_stems(seconds)
    plan = benchmark_plan()
    variants = {
        "default (4 s blocks, threads)": {},
        "one thread": {"workers": 1},
        "0.5 s blocks": {"block_s": 0.5},
        "1 s blocks": {"block_s": 1.0},
        "16 s blocks": {"block_s": 16.0},
    }
    print(f"{len(stems)} stems x {seconds:g} s at {SR} Hz, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    render(plan, {k: v[:, :SR] for k, v in stems.items()}, SR)  # warm-up: imports, filter design
    best = {name: (float("inf"), float("inf")) for name in variants}
    for _ in range(args.rounds):  # interleaved rounds, best of each: the machine is shared
        for name, kwargs in variants.items():
            wall, cpu = time.perf_counter(), time.process_time()
            result = render(plan, stems, SR, **kwargs)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = min(best[name], (wall, cpu))
    base = best["default (4 s blocks, threads)"][0]
    print("(CPU time is what this process used on all cores; it is less sensitive to other load)")
    for name, (wall, cpu) in best.items():
        print(f"{name:32s} wall {wall:6.2f} s = {seconds / wall:6.1f}x real time "
              f"({wall / base:.2f} x default)   CPU {cpu:6.2f} s = {seconds / cpu:6.1f}x per core")
    print(f"mix: {result.loudness['integrated_lufs']:.2f} LUFS, "
          f"{result.loudness['true_peak_dbtp']:.2f} dBTP ({result.plan.target.name})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        render(plan, stems, SR)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
