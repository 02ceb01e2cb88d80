"""Mastering speed: the loudness stage searched on the whole mix vs on excerpts, side by side.

A drum-heavy synthetic mix (the tests' noise-snare drum loop over
:func:`mixassist.testing.synthetic_stems`, summed, at -20 LUFS) is mastered to a loud target
that needs peak control and the limiter's true-peak detector, by
:func:`mixassist.rendering.master.reach_target` twice per round: ``search_s=None`` (every pass
on the whole mix: the algorithm as it was, streamed) and the default (a mix longer than
``SEARCH_S`` is searched on excerpts, then measured whole and corrected). Rounds alternate so
machine noise hits both alike; the best time of each is kept. Prints both times, their ratio,
and the final integrated loudness and true peak of both (measured afresh).
``--baseline DIR`` adds the in-memory call of the ``mixassist`` package found in ``DIR`` (e.g.
an older revision: ``git archive HEAD mixassist | tar -x -C DIR``), in a child process.

    .venv/bin/python benchmarks/master_speed.py [--seconds 180] [--rounds 2] [--lufs -11]
        [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SR = 44_100
ROOT = Path(__file__).resolve().parents[1]
# this checkout's package (and its tests' signals); a baseline child keeps its PYTHONPATH first
sys.path.insert(len(sys.path) if "--child" in sys.argv else 0, str(ROOT))


def drum_mix(seconds: float) -> np.ndarray:
    """The benchmark mix: float32 (2, samples) at -20 LUFS."""
    from mixassist.testing import synthetic_stems
    from tests.rendering.signals import at_lufs, drum_loop

    n = int(seconds * SR)
    drums = at_lufs(drum_loop(np.random.default_rng(0), SR, n), SR, -20.0)
    band = sum(synthetic_stems(seconds, SR, vocal_amp=0.1).values())
    return at_lufs(drums + 0.3 * band, SR, -20.0)


def timed(mix: np.ndarray, lufs: float, **options) -> dict:
    """One ``reach_target`` call: seconds, final loudness and true peak, passes."""
    from mixassist.loudness import integrated_loudness, true_peak_dbtp
    from mixassist.planning.targets import Target
    from mixassist.rendering.master import reach_target

    start = time.perf_counter()
    out, result = reach_target(mix, SR, Target("loud", lufs, -1.0), **options)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "lufs": integrated_loudness(out, SR),
            "true_peak": true_peak_dbtp(out, SR), "passes": result.iterations,
            "reached": result.reached}


def _child(args) -> None:
    """``--child``: time the in-memory call of the package on ``sys.path`` (the baseline)."""
    import mixassist

    print(mixassist.__file__, file=sys.stderr)
    mix = drum_mix(args.seconds)
    timed(mix[:, :5 * SR], args.lufs)  # warm-up: imports, compiled kernels
    print(json.dumps(timed(mix, args.lufs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--lufs", type=float, default=-11.0, help="target loudness (LUFS)")
    parser.add_argument("--baseline", type=Path, help="a folder holding another mixassist")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)

    mix = drum_mix(args.seconds)
    timed(mix[:, :5 * SR], args.lufs)  # warm-up: imports, compiled kernels
    variants = {"whole (search_s=None)": {"search_s": None}, "excerpts (default)": {}}
    best: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name, options in variants.items():
            run = timed(mix, args.lufs, **options)
            if name not in best or run["seconds"] < best[name]["seconds"]:
                best[name] = run
        if args.baseline is not None:
            env = os.environ | {"PYTHONPATH": str(args.baseline.resolve())}
            command = [sys.executable, __file__, "--child", "--seconds", str(args.seconds),
                       "--lufs", str(args.lufs)]
            run = json.loads(subprocess.run(command, env=env, check=True, capture_output=True,
                                            text=True).stdout.splitlines()[-1])
            name = f"baseline ({args.baseline})"
            if name not in best or run["seconds"] < best[name]["seconds"]:
                best[name] = run
    print(f"mix: {args.seconds:.0f} s stereo {SR} Hz, drums + synthetic band at -20 LUFS; "
          f"target {args.lufs:g} LUFS, -1 dBTP; best of {args.rounds}")
    for name, run in best.items():
        print(f"{name:28s} {run['seconds']:6.2f} s  {run['lufs']:7.3f} LUFS  "
              f"{run['true_peak']:6.2f} dBTP  {run['passes']:2d} passes  "
              f"reached {run['reached']}")
    whole, excerpts = best["whole (search_s=None)"], best["excerpts (default)"]
    print(f"speed-up whole/excerpts: {whole['seconds'] / excerpts['seconds']:.2f}x; loudness "
          f"difference {excerpts['lufs'] - whole['lufs']:+.3f} LU")
    for name, run in best.items():
        if name.startswith("baseline"):
            print(f"speed-up baseline/excerpts: {run['seconds'] / excerpts['seconds']:.2f}x; "
                  f"loudness difference {excerpts['lufs'] - run['lufs']:+.3f} LU")


if __name__ == "__main__":
    main()
