"""Fit the plan's balance policy (target-range half-width and level-error scale) on real-music runs.

Reads the JSON of ``benchmarks/real_music.py --json`` (run on the **dev** split: it keeps every
analysis), re-plans the balance of every perturbed stem folder and of every finished master for each
pair of a grid of target-range half-widths (``mixassist.analysis.analyze.TARGET_RANGE_DB``, at
least 1 dB: about a just-noticeable level difference) and level-error scales
(``mixassist.planning.predict.LEVEL_ERROR_SCALE``) with the planner's own
:func:`~mixassist.planning.predict.balance_gains`, and prints, per pair, the balance-restoration MAE
against "no change" and the median |stem gain| on the finished masters. The choice: the lowest
restoration MAE whose median master gain stays within ``--max-master-gain`` (do no harm; by default
0: the median finished master is left alone, every stem within the planner's MIN_GAIN_DB).

    .venv/bin/python scripts/fit_plan_policy.py /work/results/real_music_dev_baseline.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mixassist.analysis.analyze import target_range
from mixassist.analysis.result import Analysis
from mixassist.evaluation import restoration_errors, summarise_errors
from mixassist.planning.predict import balance_gains

HALF_WIDTHS_DB = (1.0, 1.5, 2.0, 2.5, 3.0)
SCALES = (0.25, 0.5, 0.75, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


def gains(analysis: Analysis, half_width_db: float, scale: float) -> dict[str, float]:
    """The balance gain of every stem under the policy ``(half_width_db, scale)``."""
    for stem in analysis.stems:
        stem.target_range_db = target_range(stem.target_level_db, half_width_db)
    return {name: gain for name, (gain, _) in balance_gains(analysis, scale=scale).items()}


def score(rows: list[dict], half_width_db: float, scale: float) -> dict:
    """Restoration MAE (and per stem) and median master |gain| of one policy over ``rows``."""
    trials, masters = [], []
    for row in rows:
        master = gains(row["master"], half_width_db, scale)
        masters.append(float(np.median(np.abs(list(master.values())))))
        for perturbation, analysis in zip(row["perturbations_db"], row["trials"]):
            trials.append(restoration_errors(perturbation, gains(analysis, half_width_db, scale)))
    return {"restoration": summarise_errors(trials), "master_abs_gain_db": float(np.median(masters))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="JSON of benchmarks/real_music.py (dev split)")
    parser.add_argument("--max-master-gain", type=float, default=0.0,
                        help="largest median |stem gain| on finished masters a choice may have (dB; default 0: "
                             "finished masters left alone)")
    args = parser.parse_args()
    rows = []
    for path in args.runs:
        run = json.loads(path.read_text(encoding="utf-8"))
        if run["args"].get("split") == "test":
            raise SystemExit(f"{path}: a test-split run; fit on dev runs only")
        for song in run["songs"]:
            rows.append({"master": Analysis.from_dict(song["analysis"]),
                         "trials": [Analysis.from_dict(a) for a in song["trial_analyses"]],
                         "perturbations_db": song["perturbations_db"]})
    no_change = summarise_errors([restoration_errors(p, dict.fromkeys(p, 0.0))
                                  for r in rows for p in r["perturbations_db"]])
    print(f"{len(rows)} songs, {no_change['n']} perturbed stems; no change: MAE {no_change['mae_db']:.3f} dB")
    print(f"{'half-width':>10} {'scale':>6} {'MAE':>6} {'/no chg':>7} {'master |gain|':>13}  per stem"
          "  (* = over --max-master-gain)")
    best = None
    for half_width in HALF_WIDTHS_DB:
        for scale in SCALES:
            r = score(rows, half_width, scale)
            mae = r["restoration"]["mae_db"]
            ok = r["master_abs_gain_db"] <= args.max_master_gain
            per = " ".join(f"{n} {v:.2f}" for n, v in r["restoration"]["per_stem"].items())
            print(f"{half_width:10.1f} {scale:6.2f} {mae:6.3f} {mae / no_change['mae_db']:7.3f} "
                  f"{r['master_abs_gain_db']:13.2f}{'' if ok else ' *'}  {per}")
            if ok and (best is None or mae < best[0]):
                best = (mae, half_width, scale, r)
    if best is None:
        raise SystemExit("no policy keeps the masters within --max-master-gain")
    mae, half_width, scale, r = best
    print(f"\nchoice: TARGET_RANGE_DB = {half_width}, LEVEL_ERROR_SCALE = {scale}: restoration MAE {mae:.3f} dB "
          f"({mae / no_change['mae_db']:.3f} x no change), median master |gain| {r['master_abs_gain_db']:.2f} dB")


if __name__ == "__main__":
    main()
