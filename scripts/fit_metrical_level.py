"""Fit the metrical-level model of :mod:`mixassist.analysis.rhythm` on generated songs.

For every song with drums in the given datasets (``mixassist data build`` folders), runs the
structure analysis up to the metrical-level choice, records the tracked beats' drum and chord
evidence (:func:`mixassist.analysis.rhythm.level_features`) and the factor (1/2, 1 or 2) that
takes the tracked tempo to the annotated one (songs where none does, within 4 %, are left out);
``--synthetic`` rendered drum clips of :data:`GROOVES` join every training fold. Reports the
leave-one-dataset-out tempo accuracy of the fitted model next to that of the analysis that made
the cache ("capture": whatever ``choose_metrical_level`` was when a song was cached: the hand-set
rules for the first 14 development sets, the first fitted model for the five added after it), and
prints the model fitted on all songs as literals for ``rhythm.py``.

Evidence is cached per song in ``--cache`` (the analysis takes ~1 s a song).

    .venv/bin/python scripts/fit_metrical_level.py --cache /tmp/level --data DIR [--data DIR ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax

from mixassist.audio.io import load_audio
from mixassist.analysis import structure as analysis, rhythm
from mixassist.analysis.synthetic import drum_pattern

TOLERANCE = 0.04


def capture(stems: dict, sr: int, ref_tempo: float, dest: Path, drums=None) -> None:
    """Analyse one song (``drums``: its drum stems, None: by name) and save the evidence
    ``choose_metrical_level`` sees to ``dest``."""
    seen: dict[str, np.ndarray] = {}
    choose = rhythm.choose_metrical_level

    def hook(beats_s, tempo_bpm, *, drums_at=None, chord_change=None, **kw):
        beats_s = np.asarray(beats_s, dtype=float)
        seen.update(tempo=np.array(tempo_bpm), n_beats=np.array(len(beats_s)))
        if drums_at is not None and len(beats_s) >= 2:
            seen.update(on=drums_at(beats_s), between=drums_at(0.5 * (beats_s[:-1] + beats_s[1:])))
        if chord_change is not None:
            seen["chord"] = chord_change(beats_s)
        return choose(beats_s, tempo_bpm, drums_at=drums_at, chord_change=chord_change, **kw)

    rhythm.choose_metrical_level = hook
    try:
        result = analysis.analyze_structure(stems, sr, drums=drums)
    finally:
        rhythm.choose_metrical_level = choose
    np.savez(dest, ref_tempo=ref_tempo, final_tempo=result.tempo_bpm, **seen)


#: Grooves of the synthetic drum clips: kick, snare and hat steps of a 16-step bar, tempo range.
GROOVES = {
    "rock": ((0, 8), (4, 12), tuple(range(0, 16, 2)), (80, 160)),
    "rock, sixteenth hats": ((0, 8, 10), (4, 12), tuple(range(16)), (70, 130)),
    "hip-hop": ((0, 7, 10), (4, 12), tuple(range(16)), (65, 100)),
    "fast backbeat": ((0, 8), (4, 12), tuple(range(0, 16, 2)), (150, 180)),
    "metal, kick on sixteenths": (tuple(range(16)), (4, 12), tuple(range(0, 16, 2)), (140, 180)),
    "metal, quarter hats": (tuple(range(16)), (4, 12), tuple(range(0, 16, 4)), (140, 180)),
    "four on the floor": ((0, 4, 8, 12), (4, 12), (2, 6, 10, 14), (115, 135)),
    "breakbeat": ((0, 10), (4, 12), tuple(range(0, 16, 2)), (160, 180)),
}


def groove_clip(i: int, seconds: float = 30.0, sr: int = 22050):
    """The ``i``-th synthetic drum clip: ``(groove name, audio, sr, tempo_bpm)``, seeded by ``i``."""
    rng = np.random.default_rng(i)
    name = list(GROOVES)[i % len(GROOVES)]
    kick, snare, hats, (lo, hi) = GROOVES[name]
    tempo = float(rng.uniform(lo, hi))
    audio, _ = drum_pattern(tempo, sr, seconds, kick=kick, snare=snare, hats=hats, seed=i)
    return name, audio, sr, tempo


def _row(dest: Path, group: int, bpm_range) -> list:
    """The features of one cached song as a one-row list (empty without drums); the levels
    allowed within ``bpm_range``."""
    z = dict(np.load(dest))
    if "on" not in z or int(z["n_beats"]) < 16:
        return []
    tempo = float(z["tempo"])
    feats = rhythm.level_features(z["on"], z["between"], tempo, z.get("chord"))
    allowed = [rhythm.level_allowed(f, tempo, bpm_range) for f in rhythm.LEVEL_FACTORS]
    return [(feats, allowed, tempo, float(z["ref_tempo"]), float(z["final_tempo"]), group,
             dest.stem)]


def load(roots: list[Path], cache: Path, n_synthetic: int, bpm_range=rhythm.BPM_RANGE):
    """Features [shape=(songs, n_features)], allowed-factor masks [shape=(songs, 3)], tracked
    and annotated tempi, the capturing analysis's tempi, dataset index (-1: synthetic) and
    name per song."""
    rows = []
    for d, root in enumerate(roots):
        for meta in sorted(root.glob("songs/*/song.json")):
            dest = cache / f"{root.name}_{meta.parent.name}.npz"
            if not dest.exists():
                ref = json.loads(meta.read_text(encoding="utf-8"))
                stems, sr = {}, None
                for s in ref["stems"]:
                    stems[s["name"]], sr = load_audio(meta.parent / s["file"])
                # the annotated drum stems (a session's "Audio 01" too: analyze finds them by ear)
                drums = [s["name"] for s in ref["stems"]
                         if s.get("instrument") in ("drums", "percussion")]
                capture(stems, sr, ref["tempo_bpm"], dest, drums=drums)
                print(f"{dest.name}", flush=True)
            rows += _row(dest, d, bpm_range)
    for i in range(n_synthetic):
        dest = cache / f"groove_{i:04d}.npz"
        if not dest.exists():
            name, audio, sr, tempo = groove_clip(i)
            capture({"drums": audio}, sr, tempo, dest)
            print(f"{dest.name} {name} {tempo:.1f} BPM", flush=True)
        rows += _row(dest, -1, bpm_range)
    x, mask, tracked, ref, captured, group, names = map(np.array, zip(*rows))
    return x, mask.astype(bool), tracked, ref, captured, group, names


def labels(tracked: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Index into LEVEL_FACTORS of the factor that takes ``tracked`` to ``ref``; -1 if none."""
    out = np.full(len(ref), -1)
    for k, f in enumerate(rhythm.LEVEL_FACTORS):
        out[np.abs(tracked * f / ref - 1) <= TOLERANCE] = k
    return out


def fit(x, mask, y, *, l2: float, prior=None):
    """Multinomial logistic regression on standardised features: ``(mean, std, weights)``,
    weights [shape=(3, n_features + 1)] (last column the bias). With ``prior`` (a fitted
    ``(mean, std, weights)``), its standardisation is kept and the weights are pulled toward its
    weights instead of toward zero (a Gaussian prior centred on the earlier fit: new songs move
    it only as far as their evidence goes)."""
    if prior is None:
        mean, std, w0 = x.mean(axis=0), x.std(axis=0) + 1e-9, None
    else:
        mean, std, w0 = prior
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    k = len(rhythm.LEVEL_FACTORS)
    centre = np.zeros((k, z.shape[1])) if w0 is None else np.asarray(w0)

    def loss(w):
        w = w.reshape(k, -1)
        logits = np.where(mask, z @ w.T, -1e9)
        logp = log_softmax(logits, axis=1)
        p = np.exp(logp)
        onehot = np.eye(k)[y]
        grad = (p - onehot).T @ z / len(y)
        d = w[:, :-1] - centre[:, :-1]
        grad[:, :-1] += l2 * d / len(y)
        return (-logp[np.arange(len(y)), y].mean() + 0.5 * l2 * (d ** 2).sum() / len(y),
                grad.ravel())

    w = minimize(loss, centre.ravel(), jac=True, method="L-BFGS-B").x.reshape(k, -1)
    return mean, std, w


def predict(x, mask, model) -> np.ndarray:
    """Index into LEVEL_FACTORS of the best allowed factor per row, as the analysis scores it."""
    return np.argmax(np.where(mask, rhythm.level_scores(x, model), -np.inf), axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--l2", type=float, default=3.0)
    parser.add_argument("--synthetic", type=int, default=80,
                        help="synthetic drum clips (GROOVES) added to every training fold")
    parser.add_argument("--prior", action="store_true",
                        help="refit around the shipped model (rhythm.LEVEL_*): its standardisation "
                             "kept, its weights the centre of the penalty (for new data without "
                             "the songs it was fitted on). The shipped weights are themselves the "
                             "2026-12 refit, centred on commit 037d2e2's: check that commit out "
                             "to reproduce it")
    parser.add_argument("--max-bpm", type=float, default=rhythm.BPM_RANGE[1],
                        help="fastest tempo a halved or doubled level may land on (BPM; "
                             "rhythm.BPM_RANGE's by default); the shipped model is scored under "
                             "the same range")
    parser.add_argument("--evaluate", type=Path, action="append", default=[],
                        help="datasets not fitted on: scored with the model fitted on every "
                             "--data song, next to the shipped model")
    args = parser.parse_args()
    prior = (rhythm.LEVEL_MEAN, rhythm.LEVEL_STD, rhythm.LEVEL_WEIGHTS) if args.prior else None
    args.cache.mkdir(parents=True, exist_ok=True)
    bpm_range = (rhythm.BPM_RANGE[0], args.max_bpm)
    x, mask, tracked, ref, captured, group, names = load(args.data, args.cache, args.synthetic,
                                                         bpm_range)
    y = labels(tracked, ref)
    known, real = y >= 0, group >= 0
    for what, rows in (("songs with drums", real), ("synthetic drum clips", ~real)):
        print(f"{rows.sum()} {what}; tracked at 1/2, 1 or 2x the annotated tempo: "
              f"{(known & rows).sum()} (factor 1/2: {(y[rows] == 0).sum()}, "
              f"1: {(y[rows] == 1).sum()}, 2: {(y[rows] == 2).sum()})")
    factors = np.array(rhythm.LEVEL_FACTORS)
    chosen, capture_ok = np.zeros(len(y)), np.abs(captured / ref - 1) <= TOLERANCE
    model_ok = np.zeros(len(y), dtype=bool)
    for d, root in enumerate(args.data):
        test = group == d
        if not test.any():
            continue
        train = ~test & known
        model = fit(x[train], mask[train], y[train], l2=args.l2, prior=prior)
        chosen[test] = tracked[test] * factors[predict(x[test], mask[test], model)]
        model_ok = np.abs(chosen / ref - 1) <= TOLERANCE
        shipped_ok = np.abs(tracked[test] * factors[predict(
            x[test], mask[test], (rhythm.LEVEL_MEAN, rhythm.LEVEL_STD, rhythm.LEVEL_WEIGHTS))]
            / ref[test] - 1) <= TOLERANCE
        print(f"  held out {root.name:16s} {test.sum():3d} songs: model {model_ok[test].mean():.3f}, "
              f"shipped model {shipped_ok.mean():.3f}, capture {capture_ok[test].mean():.3f}")
        for i in np.flatnonzero(test & ~(model_ok & capture_ok)):
            print(f"    {names[i]}: annotated {ref[i]:.1f}, tracked {tracked[i]:.1f}, model "
                  f"{chosen[i]:.1f}, capture {captured[i]:.1f}")
    print(f"leave-one-dataset-out tempo Acc1 on {real.sum()} songs with drums: model "
          f"{model_ok[real].mean():.3f}, capture {capture_ok[real].mean():.3f}")
    mean, std, w = fit(x[known], mask[known], y[known], l2=args.l2, prior=prior)
    shipped = (rhythm.LEVEL_MEAN, rhythm.LEVEL_STD, rhythm.LEVEL_WEIGHTS)
    for root in args.evaluate:
        ex, emask, etracked, eref, _, egroup, enames = load([root], args.cache, 0, bpm_range)
        for label, model in (("fitted", (mean, std, w)), ("shipped", shipped)):
            ok = np.abs(etracked * factors[predict(ex, emask, model)] / eref - 1) <= TOLERANCE
            print(f"  evaluated on {root.name:16s} {len(ok):3d} songs with drums: {label} model "
                  f"tempo Acc1 {ok.mean():.3f}")

    def row(v, indent):
        lines = [", ".join(f"{x:.4f}" for x in v[i:i + 7]) for i in range(0, len(v), 7)]
        return (",\n" + indent).join(lines)
    weights = "".join("    [" + row(r, "     ") + "],\n" for r in w)
    print("LEVEL_MEAN = np.array([\n    " + row(mean, "    ") + ",\n])\n"
          "LEVEL_STD = np.array([\n    " + row(std, "    ") + ",\n])\n"
          "LEVEL_WEIGHTS = np.array([\n" + weights + "])")


if __name__ == "__main__":
    main()
