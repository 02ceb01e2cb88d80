"""The analysis network in three columns: in-distribution, held-out sources, recorded music.

Each ``--set NAME=CACHE`` is a feature cache of songs no compared model trained on (all of its
songs are scored: build it with ``mixassist.analysis.train.cache_mels`` for a generated dataset,
or ``scripts/cache_separated_real.py`` for separated excerpts of the real corpus, whose ``other``
stems carry no label and count for the level only). Every ``--model`` is scored on every set, side
by side in one table: instrument and role accuracy (labelled stems), drums recall, level
restoration after a seeded +-9 dB gain per stem (MAE, dB, each song's offset removed) next to "no
change" and "equal loudness", and the expected calibration error of the probabilities the model
reports (its own temperatures applied); then, per instrument family with at least
:data:`MIN_FAMILY_STEMS` stems, the level MAE beside both baselines and the families where the
network is not below both.

    .venv/bin/python benchmarks/analysis_transfer.py --model mixassist/models/mixassist-analysis.safetensors \\
        --model RUN/best.safetensors --set in-dist=/work/acache/v3_eval_in \\
        --set held-out=/work/acache/v3_eval_heldout --set real-test=/work/real_sep/test [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from mixassist.analysis.evaluate import calibration, evaluate_network, song_logits
from mixassist.analysis.network import load_model
from mixassist.utils.atomic import write_text_atomic


#: Families with at least this many stems in a set are checked one by one (level below both baselines).
MIN_FAMILY_STEMS = 10


def score(model, cache: Path, trials: int) -> dict:
    """One model on one cache: the table's figures."""
    net = evaluate_network(model, cache, None, trials=trials)
    logits = song_logits(model, cache, None)
    row = {"songs": len(net["songs"]), "stems": net["stems"]}
    for head in ("instrument", "role"):
        known = logits[head] >= 0
        row[head] = net["network"][head]["accuracy"]
        row[f"{head}_ece"] = calibration(logits[f"{head}_logits"][known], logits[head][known],
                                         model.temperature[head])["ece"]
    row["drums_recall"] = net["network"]["instrument"]["per_class"]["drums"]["recall"]
    for name in ("network", "no_change", "equal_loudness"):
        row[f"level_{name}"] = net["levels"][name]["mae_db"]
    levels = net["levels"]
    row["per_instrument_level"] = {
        inst: {"stems": n, **{name: levels[name]["per_instrument"][inst]
                              for name in ("network", "no_change", "equal_loudness")}}
        for inst, n in net["level_stems"].items()}
    row["families_not_below_baselines"] = sorted(
        inst for inst, r in row["per_instrument_level"].items()
        if r["stems"] >= MIN_FAMILY_STEMS and r["network"] >= min(r["no_change"], r["equal_loudness"]))
    row["confusion"] = net["network"]["instrument"]["confusion"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, help="analysis network (repeatable)")
    parser.add_argument("--set", action="append", required=True, metavar="NAME=CACHE")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sets = dict(s.split("=", 1) for s in args.set)
    results = {}
    for path in args.model:
        model = load_model(path)
        results[path] = {name: score(model, Path(cache), args.trials) for name, cache in sets.items()}
    cols = ("instrument", "role", "drums_recall", "level_network", "level_no_change",
            "level_equal_loudness", "instrument_ece")
    print(f"{'set':>12} {'model':>40} {'songs':>5} {'stems':>5} " + " ".join(f"{c[:12]:>12}" for c in cols))
    for name in sets:
        for path, rows in results.items():
            r = rows[name]
            cells = [f"{r[c]:12.1%}" if c in ("instrument", "role", "drums_recall") and r[c] is not None
                     else f"{r[c]:12.2f}" if r[c] is not None else f"{'-':>12}" for c in cols]
            print(f"{name:>12} {str(path)[-40:]:>40} {r['songs']:5d} {r['stems']:5d} " + " ".join(cells))
    print(f"\nlevel MAE per instrument family (>= {MIN_FAMILY_STEMS} stems): network / no change / equal loudness")
    for name in sets:
        for path, rows in results.items():
            fam = rows[name]["per_instrument_level"]
            cells = [f"{inst} ({f['stems']}) {f['network']:.2f}/{f['no_change']:.2f}/{f['equal_loudness']:.2f}"
                     for inst, f in fam.items() if f["stems"] >= MIN_FAMILY_STEMS]
            worse = rows[name]["families_not_below_baselines"]
            print(f"{name:>12} {str(path)[-40:]:>40}: " + "; ".join(cells)
                  + f"  | not below both: {', '.join(worse) or 'none'}")
    if args.json:
        write_text_atomic(args.json, json.dumps({"sets": sets, "results": results}, indent=1))


if __name__ == "__main__":
    main()
