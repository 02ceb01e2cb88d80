"""Render speed: 4 synthetic stems x 3 min, each with a high-pass, 3-band EQ, compressor and a
send to one shared reverb bus, plus the default master chain and the loudness stage.

Prints, for each variant, the render time as a real-time factor twice: audio seconds per wall
second, and audio seconds per CPU second (all threads of the process; "per core"), which the
other work on a shared machine disturbs much less. Each timing runs in a fresh child process
(imports and a 1 s warm-up render are not timed), variants interleaved round by round, best kept.
``--baseline DIR`` adds the same renders with the ``mixassist`` package found in ``DIR`` (e.g. an
older revision: ``git archive HEAD mixassist | tar -x -C DIR``), side by side in the same run.

    .venv/bin/python benchmarks/render_speed.py [--minutes 3] [--rounds 3] [--baseline DIR]
        [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mixassist.rendering.master import master_chain
from mixassist.planning.plan import BusPlan, MasterPlan, Plan, PluginSpec, StemPlan
from mixassist.rendering.render import render
from mixassist.planning.targets import PRESETS

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
                master=MasterPlan(master_chain(target, mix_lufs=-16.0, sample_rate=SR)))


def time_render(minutes: float, kwargs: dict) -> dict:
    """One timed render (after a 1 s warm-up) in this process: wall and CPU seconds, loudness."""
    stems = synthetic_stems(minutes * 60)
    plan = benchmark_plan()
    render(plan, {k: v[:, :SR] for k, v in stems.items()}, SR)  # warm-up: imports, compilation
    wall, cpu = time.perf_counter(), time.process_time()
    result = render(plan, stems, SR, **kwargs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "lufs": result.loudness["integrated_lufs"],
            "dbtp": result.loudness["true_peak_dbtp"],
            "module": sys.modules[render.__module__].__file__}


def _child(package_root: Path, minutes: float, kwargs: dict) -> dict:
    """:func:`time_render` in a fresh interpreter importing ``mixassist`` from ``package_root``."""
    env = os.environ | {"PYTHONPATH": str(package_root)}
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps([minutes, kwargs])],
                         env=env, check=True, capture_output=True, text=True,
                         cwd=package_root).stdout
    run = json.loads(out.splitlines()[-1])
    if not Path(run["module"]).resolve().is_relative_to(package_root.resolve()):
        raise RuntimeError(f"the child imported {run['module']}, not mixassist from {package_root}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best is kept)")
    parser.add_argument("--baseline", type=Path, help="directory holding another mixassist "
                        "package to time side by side")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        minutes, kwargs = json.loads(args.child)
        print(json.dumps(time_render(minutes, kwargs)))
        return
    seconds = args.minutes * 60
    here = Path(__file__).resolve().parents[1]
    variants = {"default (4 s blocks, threads)": (here, {}),
                "one stem thread": (here, {"workers": 1}),
                "16 s blocks": (here, {"block_s": 16.0})}
    if args.baseline:
        variants |= {f"baseline {args.baseline}": (args.baseline.resolve(), {}),
                     "baseline, one stem thread": (args.baseline.resolve(), {"workers": 1})}
    print(f"4 stems x {seconds:g} s at {SR} Hz, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    best: dict[str, dict] = {}
    for _ in range(args.rounds):  # interleaved rounds, best of each: the machine is shared
        for name, (root, kwargs) in variants.items():
            run = _child(root, args.minutes, kwargs)
            if name in best:
                run["wall"] = min(run["wall"], best[name]["wall"])
                run["cpu"] = min(run["cpu"], best[name]["cpu"])
            best[name] = run
    print(f"load average {os.getloadavg()[0]:.1f} at end. CPU time is what the render used on all "
          "threads; it is much less sensitive to other load than wall time")
    base = best["default (4 s blocks, threads)"]
    for name, r in best.items():
        print(f"{name:34s} wall {r['wall']:5.2f} s = {seconds / r['wall']:6.1f}x real time "
              f"({r['wall'] / base['wall']:.2f} x default)   CPU {r['cpu']:5.2f} s = "
              f"{seconds / r['cpu']:6.1f}x per core ({r['cpu'] / base['cpu']:.2f} x default)   "
              f"mix {r['lufs']:.3f} LUFS {r['dbtp']:.3f} dBTP")
    alone = best["one stem thread"]["cpu"]
    print(f"an idle {os.cpu_count()}-CPU machine would render the default at most "
          f"{seconds / (base['cpu'] / (os.cpu_count() or 1)):.0f}x real time (all CPUs busy) and "
          f"at least {seconds / alone:.0f}x (the one-stem-thread variant's CPU time on one CPU)")
    if args.profile:
        stems = synthetic_stems(seconds)
        plan = benchmark_plan()
        render(plan, {k: v[:, :SR] for k, v in stems.items()}, SR)
        profiler = cProfile.Profile()
        profiler.enable()
        render(plan, stems, SR)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
