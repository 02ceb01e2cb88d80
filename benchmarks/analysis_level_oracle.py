"""How well can any listener restore the reference balance of generated songs? (issue 5)

The generator (:mod:`mixassist.datasets.balance`) sets every procedural stem's level from its part
slot and the song's genre, plus a random per-song "taste" draw that nothing audible carries. An
oracle that knows each stem's slot and the genre but not the draw predicts the levels the song
would have with no taste (up to the mean of the draws); its error (MAE in dB per stem after
removing the common offset, as in ``benchmarks/analysis_eval.py``) bounds what the analysis network can reach. Corpus songs keep
their authors' balance, so the oracle falls back on the reference table at the true labels. The
bed under a sung lead is the power sum of the other stems' levels, which is approximate.

    .venv/bin/python benchmarks/analysis_level_oracle.py --data DS1 --data DS2 [--splits test valid]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mixassist.analysis.labels import reference_levels
from mixassist.datasets.balance import slot_level_lu, vocal_over_rest_lu


def oracle_levels(song: dict) -> np.ndarray:
    """Untasted reference levels (dB re the mix) of a procedural song's stems.

    Instrumental stems get their slot and genre means, shifted onto the measured levels' scale
    by the mean of the measured levels; the sung lead sits its genre offset below the measured
    instrumental bed (the power sum of the other stems' levels)."""
    bed = [s for s in song["stems"] if s["kind"] != "vocal"]
    means = np.array([slot_level_lu(s["name"], song["genre"]) for s in bed])
    measured = np.array([s["level_db"] for s in bed])
    levels = dict(zip([s["name"] for s in bed], means - means.mean() + measured.mean()))
    bed_db = 10 * np.log10(np.sum(10 ** (measured / 10))) if bed else 0.0
    for s in song["stems"]:
        if s["kind"] == "vocal":
            levels[s["name"]] = bed_db + vocal_over_rest_lu(song["genre"])
    return np.array([levels[s["name"]] for s in song["stems"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True, help="dataset (repeatable)")
    parser.add_argument("--splits", nargs="+", default=["test", "valid"])
    args = parser.parse_args()
    errors: dict[tuple[str, str], list[float]] = {}
    for root in args.data:
        for meta in sorted(Path(root).glob("songs/*/song.json")):
            song = json.loads(meta.read_text(encoding="utf-8"))
            if song["split"] not in args.splits:
                continue
            ref = np.array([s["level_db"] for s in song["stems"]])
            table = np.array(reference_levels([(s["instrument"], s["role"]) for s in song["stems"]]))
            oracle = oracle_levels(song) if song["source"] == "procedural" else table
            for name, est in (("oracle", oracle), ("table", table), ("equal loudness", np.zeros_like(ref))):
                err = np.abs((est - est.mean()) - (ref - ref.mean()))
                errors.setdefault((song["split"], name), []).extend(err.tolist())
    for split in args.splits:
        row = {name: np.mean(errors.get((split, name), [np.nan])) for name in ("oracle", "table", "equal loudness")}
        n = len(errors.get((split, "oracle"), []))
        print(f"{split}: {n} stems, MAE (dB, offset removed): " + ", ".join(f"{k} {v:.2f}" for k, v in row.items())
              + f"; oracle / equal loudness {row['oracle'] / row['equal loudness']:.2f}")


if __name__ == "__main__":
    main()
