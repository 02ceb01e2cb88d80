"""Analysis-network accuracy on held-out generated songs, against baselines (issue 5).

Prints, per held-out split: instrument top-1 and role accuracy with per-class recall and
confusion matrices for the network and for a logistic regression on measured features; level
restoration MAE (dB, offset removed) after random +-9 dB gains, overall and per instrument, for
the network, "no change", "equal loudness" and the reference-balance table (given true labels);
and the issue-5 acceptance checks. Writes everything as JSON with ``--json``.

    .venv/bin/python benchmarks/analysis_eval.py --data /work/data_gen/ds1 \\
        --cache /work/data_gen/analysis_cache_ds1 [--data DS2 --cache CACHE2 ...] \\
        --model mixassist/models/mixassist-analysis.safetensors [--splits test valid] [--trials 10] \\
        [--json out.json]

Several datasets (``--data``/``--cache`` repeated, in the same order) are evaluated together,
each keeping its own splits; the logistic regression is fitted on the union of their ``train``
songs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from mixassist.analysis.evaluate import (calibration, evaluate_feature_baseline, evaluate_network,
                                         fit_temperature, measured_features, song_logits)
from mixassist.analysis.network import load_model, read_metadata
from mixassist.analysis.train import cache_mels
from mixassist.utils.atomic import write_text_atomic
from mixassist.vocab import INSTRUMENTS, ROLES


def print_classification(title: str, report: dict) -> None:
    for key, vocab in (("instrument", INSTRUMENTS), ("role", ROLES)):
        r = report[key]
        print(f"  {title} {key}: accuracy {r['accuracy']:.1%} (n={r['n']})")
        recalls = ", ".join(f"{v} {c['recall']:.0%}/{c['n']}" for v, c in r["per_class"].items()
                            if c["n"])
        print(f"    recall/n: {recalls}")
        short = [v[:5] for v in vocab]
        print("    confusion (rows truth, cols prediction): " + " ".join(f"{s:>5}" for s in short))
        for v, row in zip(short, r["confusion"]):
            if sum(row):
                print(f"      {v:>5} " + " ".join(f"{x:5d}" for x in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True, help="dataset (repeatable)")
    parser.add_argument("--cache", action="append", required=True,
                        help="feature cache of each --data, same order (built when missing)")
    parser.add_argument("--model", required=True)
    parser.add_argument("--splits", nargs="+", default=["test", "valid"])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if len(args.data) != len(args.cache):
        parser.error("give one --cache per --data, in the same order")
    torch.set_num_threads(1)
    features = {}
    for data, cache in zip(args.data, args.cache):
        cache_mels(data, cache)
        found = measured_features(data, Path(cache) / "measured_features.json")
        features.update({f"{Path(cache).name}/{song_id}": v for song_id, v in found.items()})
    model = load_model(args.model)
    meta = read_metadata(args.model)
    print(f"model {args.model}: step {meta.get('step')}, {meta.get('train_seconds')} s training, "
          f"data {meta.get('data')} ({meta.get('data_hours')} h)")
    results = {"model": args.model, "metadata": meta, "splits": {}}
    for split in args.splits:
        net = evaluate_network(model, args.cache, split, trials=args.trials)
        lr = evaluate_feature_baseline(features, split)
        results["splits"][split] = {"network": net, "logistic_regression": lr}
        print(f"\n== split {split}: {len(net['songs'])} songs, {net['stems']} stems ==")
        print_classification("network", net["network"])
        print_classification("logreg(measured features)", lr)
        lv = net["levels"]
        print(f"  level restoration after +-{net['perturb_db']:g} dB ({net['trials']} trials), "
              f"MAE dB offset removed:")
        print("    " + f"{'':>16}" + " ".join(f"{v[:6]:>7}" for v in lv["network"]["per_instrument"]))
        for name, r in lv.items():
            print(f"    {name:>16} {r['mae_db']:5.2f} | "
                  + " ".join(f"{x:7.2f}" for x in r["per_instrument"].values()))
        n, eq = lv["network"]["mae_db"], lv["equal_loudness"]["mae_db"]
        checks = {"instrument >= 90%": net["network"]["instrument"]["accuracy"] >= 0.90,
                  "role >= 85%": net["network"]["role"]["accuracy"] >= 0.85,
                  "level MAE <= 2.0 dB": n <= 2.0,
                  "level >= 40% below equal loudness": n <= 0.6 * eq}
        print("  acceptance: " + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in checks.items())
              + f" (network/equal-loudness = {n / eq:.2f})")
        results["splits"][split]["acceptance"] = checks
    if "valid" in args.splits:
        fitted = song_logits(model, args.cache, "valid")
        temps = {k: fit_temperature(fitted[f"{k}_logits"], fitted[k]) for k in ("instrument", "role")}
        results["calibration"] = {"temperature_fitted_on": "valid"}
        print("\n== calibration: temperature fitted on valid (whole songs) ==")
        for split in (s for s in args.splits if s != "valid"):
            logits = song_logits(model, args.cache, split)
            for key, t in temps.items():
                before = calibration(logits[f"{key}_logits"], logits[key])
                after = calibration(logits[f"{key}_logits"], logits[key], t)
                results["calibration"][f"{split}/{key}"] = {"raw": before, "scaled": after}
                print(f"  {split} {key}: T={t:.2f}  NLL {before['nll']:.3f} -> {after['nll']:.3f}, "
                      f"ECE {before['ece']:.3f} -> {after['ece']:.3f}, mean confidence "
                      f"{before['mean_confidence']:.2f} -> {after['mean_confidence']:.2f} "
                      f"(accuracy {before['accuracy']:.2f})")
    if args.json:
        write_text_atomic(args.json, json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
