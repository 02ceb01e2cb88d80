"""Fit the analysis network's softmax temperatures on development songs and write a calibrated copy.

Temperature scaling (Guo et al. 2017): one temperature per class head (instrument, role) that
minimises the negative log-likelihood on development songs' whole-stem predictions; the copy
carries them in its header, so ``analysis.json``'s ``instrument_probs``, ``role_probs`` and
``confidence`` are the calibrated probabilities. Fit on dev caches only, never on test songs.

    .venv/bin/python scripts/calibrate_analysis.py MODEL --dev CACHE [--dev CACHE ...] --out OUT
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mixassist.analysis.evaluate import fit_temperatures
from mixassist.analysis.network import load_model, read_metadata, save_model


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path, help="analysis network (safetensors)")
    p.add_argument("--dev", type=Path, action="append", required=True,
                   help="feature cache folder of development songs (all its songs are used)")
    p.add_argument("--out", type=Path, required=True, help="calibrated copy (may be MODEL itself)")
    a = p.parse_args(argv)
    model = load_model(a.model)
    model.temperature = {"instrument": 1.0, "role": 1.0}
    fitted = fit_temperatures(model, a.dev)
    for head, fit in fitted.items():
        model.temperature[head] = fit["temperature"]
        print(f"{head}: T={fit['temperature']:.2f} on {fit['stems']} stems; NLL {fit['raw']['nll']:.3f} -> "
              f"{fit['scaled']['nll']:.3f}, ECE {fit['raw']['ece']:.3f} -> {fit['scaled']['ece']:.3f}, "
              f"confidence {fit['raw']['mean_confidence']:.2f} -> {fit['scaled']['mean_confidence']:.2f} "
              f"(accuracy {fit['raw']['accuracy']:.2f})")
    metadata = dict(read_metadata(a.model), calibration={
        "dev": [str(d) for d in a.dev], **{h: {k: v for k, v in f.items()} for h, f in fitted.items()}})
    save_model(a.out, model, metadata=metadata)
    print(json.dumps(model.temperature), "->", a.out)


if __name__ == "__main__":
    main()
