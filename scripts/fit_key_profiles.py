"""Fit the key profiles of :mod:`mixassist.analysis.tonality` on generated songs.

Reads the stems of every song of the given splits (default train and valid: never the test split)
of one or more datasets from ``mixassist data build``, computes the views the fitted profiles
score (:func:`mixassist.analysis.structure.key_views`), reports the k-fold cross-validated MIREX
key score of fitted profiles against the Krumhansl-Kessler profile, and prints the profiles fitted
on all songs as a literal for ``FITTED_PROFILES``. Modal keys are scored by their major/minor
reading (``key_major_minor``: the quality of the third above the tonic).

    .venv/bin/python scripts/fit_key_profiles.py --data /work/data_gen/v2/ds1 --data /work/data_gen/v2/ds2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mixassist.audio.io import load_audio
from mixassist.analysis.structure import key_views
from mixassist.analysis.structure_eval import key_weighted_score, parse_key
from mixassist.analysis.tonality import (PITCH_CLASSES, fit_key_profiles, fitted_key_scores,
                                         key_names, key_scores)


def load_views(roots: list[Path], splits: set[str]) -> tuple[np.ndarray, list[str]]:
    """Views [shape=(songs, 2, 12)] and keys (``"<sharp tonic> major|minor"``) of the songs."""
    views, keys = [], []
    for root in roots:
        for meta in sorted(root.glob("songs/*/song.json")):
            ref = json.loads(meta.read_text(encoding="utf-8"))
            parsed = parse_key(ref.get("key_major_minor") or ref.get("key", ""))
            if ref.get("split") not in splits or parsed is None:
                continue
            stems, sr = {}, None
            for s in ref["stems"]:
                stems[s["name"]], sr = load_audio(meta.parent / s["file"])
            views.append(key_views(stems, sr))
            keys.append(f"{PITCH_CLASSES[parsed[0]]} {parsed[1]}")
            print(f"{root.name}/{ref['song_id']}: {keys[-1]}", flush=True)
    return np.stack(views), keys


def cross_validate(views, keys, *, folds: int, l2: float, prior_weight: float, seed: int = 0):
    """Mean MIREX score of the fitted profiles and of Krumhansl-Kessler over k folds."""
    order = np.random.default_rng(seed).permutation(len(keys))
    names = key_names()
    fitted, kk = [], []
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        profiles = fit_key_profiles(views[train], [keys[i] for i in train], l2=l2,
                                    prior_weight=prior_weight)
        for i in test:
            fitted.append(key_weighted_score(keys[i], names[int(np.argmax(
                fitted_key_scores(views[i], profiles)))]))
            kk.append(key_weighted_score(keys[i], names[int(np.argmax(key_scores(views[i][0])))]))
    return float(np.mean(fitted)), float(np.mean(kk))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--split", nargs="+", default=["train", "valid"])
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--prior-weight", type=float, default=0.5)
    args = parser.parse_args()
    views, keys = load_views(args.data, set(args.split))
    fitted, kk = cross_validate(views, keys, folds=args.folds, l2=args.l2,
                                prior_weight=args.prior_weight)
    print(f"\n{len(keys)} songs, {args.folds}-fold MIREX key score: fitted {fitted:.3f}, "
          f"Krumhansl-Kessler (harmonic view) {kk:.3f}")
    profiles = fit_key_profiles(views, keys, l2=args.l2, prior_weight=args.prior_weight)
    rows = ",\n".join("    [" + ",\n     ".join("[" + ", ".join(f"{w:.3f}" for w in view) + "]"
                                             for view in mode) + "]" for mode in profiles)
    print(f"FITTED_PROFILES = np.array([\n{rows},\n])")


if __name__ == "__main__":
    main()
