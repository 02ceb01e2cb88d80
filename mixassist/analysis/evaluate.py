"""Evaluating the analysis network on held-out generated songs, against baselines (issue 5).

Everything runs on whole songs from the feature cache of :mod:`.train` (the network's own front
end, so the figures are those :func:`.network.predict_stems` gives on the same stems):

- **Classification**: instrument top-1 and role accuracy with confusion matrices (rows = truth,
  columns = prediction, CONTRACT.md order), for the network and for a non-neural baseline, a
  logistic regression on the measured features of :func:`.measure.measure_stems`
  (:func:`measured_feature_vector`), fitted on the training songs.
- **Level restoration**: every stem of a held-out reference mix gets a random gain in
  +-``perturb_db``; each estimate of the balance is compared with the reference ``level_db``
  after removing the common offset (the mean over the song's stems), as mean absolute error per
  stem, reported overall and per instrument. Estimates: the network's ``target_level_db``;
  "no change" (the perturbed levels as they are); "equal loudness" (every stem at one level);
  and, for reference, the reference-balance table of :mod:`.labels` given the *true* labels.
- **Calibration** of the class probabilities: a temperature per head fitted on one split by
  minimising the negative log-likelihood (temperature scaling, Guo et al. 2017, "On Calibration
  of Modern Neural Networks"), and NLL / expected calibration error on another split.

Several datasets are evaluated together by passing their cache folders as a list; each keeps its
own splits, and songs are named ``<cache folder>/<song_id>``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ..datasets.torch_datasets import load_manifest
from ..utils.atomic import write_text_atomic
from ..vocab import INSTRUMENTS, ROLES
from .labels import reference_levels
from .measure import measure_stems
from .network import AnalysisNet, predict_song_mels
from .train import load_cache, offset_free_abs_error

#: Excerpt of each song the measured-feature baseline is computed on (start, length; seconds).
FEATURE_EXCERPT_S = (20.0, 60.0)


def _predict_song(model: AnalysisNet, mel: torch.Tensor) -> dict[str, np.ndarray]:
    """Network outputs for every stem of one song from mel power ``[stems, n_mels, frames]``."""
    out = predict_song_mels(model, mel)
    return {"instrument_logits": out.instrument_logits.numpy(), "role_logits": out.role_logits.numpy(),
            "instrument": out.instrument_logits.argmax(-1).numpy(),
            "role": out.role_logits.argmax(-1).numpy(),
            "level_db": out.level_db.numpy().astype(float),
            "level_std_db": torch.exp(out.level_log_std_db).numpy().astype(float)}


def confusion(truth: np.ndarray, pred: np.ndarray, n: int) -> list[list[int]]:
    """Confusion matrix ``[n, n]``: rows truth, columns prediction."""
    m = np.zeros((n, n), dtype=int)
    np.add.at(m, (truth, pred), 1)
    return m.tolist()


def _classification(truth: dict[str, np.ndarray], pred: dict[str, np.ndarray]) -> dict:
    out = {}
    for key, vocab in (("instrument", INSTRUMENTS), ("role", ROLES)):
        known = truth[key] >= 0  # -1: no label (a separated ``other`` stem)
        t, p = truth[key][known], pred[key][known]
        per_class = {v: {"n": int((t == i).sum()),
                         "recall": float((p[t == i] == i).mean()) if (t == i).any() else None}
                     for i, v in enumerate(vocab)}
        out[key] = {"accuracy": float((t == p).mean()), "n": int(t.size), "per_class": per_class,
                    "confusion": confusion(t, p, len(vocab))}
    return out


def evaluate_network(model: AnalysisNet, cache: str | os.PathLike | Sequence[str | os.PathLike],
                     split: str = "test", *, perturb_db: float = 9.0, trials: int = 10,
                     seed: int = 0) -> dict:
    """Classification and level-restoration metrics of ``model`` on the cached ``split`` songs
    of one cache folder or several (one per dataset)."""
    model.eval()
    rng = np.random.default_rng(seed)
    truth = {"instrument": [], "role": []}
    pred = {"instrument": [], "role": []}
    errors = {k: [] for k in ("network", "no_change", "equal_loudness", "reference_table")}
    instruments = []
    songs = load_cache(cache, split)
    for song in songs:
        mel = torch.from_numpy(10.0 ** song["log_mel"].astype(np.float32))
        ref = song["level_db"].astype(float)
        out = _predict_song(model, mel)
        for key in truth:
            truth[key].append(song[key])
            pred[key].append(out[key])
        labelled = bool((song["instrument"] >= 0).all() and (song["role"] >= 0).all())
        table = (np.array(reference_levels([(INSTRUMENTS[i], ROLES[r])
                                            for i, r in zip(song["instrument"], song["role"])]))
                 if labelled else np.full(len(ref), np.nan))  # no table for unlabelled stems
        for _ in range(trials):
            gains = rng.uniform(-perturb_db, perturb_db, len(ref))
            perturbed = mel * torch.from_numpy(10.0 ** (gains / 10.0)).float()[:, None, None]
            net = _predict_song(model, perturbed)["level_db"]
            for name, est in (("network", net), ("no_change", ref + gains),
                              ("equal_loudness", np.zeros_like(ref)), ("reference_table", table)):
                errors[name].append(offset_free_abs_error(est, ref))
            instruments.append(song["instrument"])
    truth = {k: np.concatenate(v) for k, v in truth.items()}
    pred = {k: np.concatenate(v) for k, v in pred.items()}
    inst = np.concatenate(instruments)
    levels = {}
    for name, errs in errors.items():
        e = np.concatenate(errs)
        levels[name] = {"mae_db": float(e.mean()),
                        "per_instrument": {v: float(e[inst == i].mean())
                                           for i, v in enumerate(INSTRUMENTS) if (inst == i).any()}}
    return {"split": split, "songs": [f"{Path(s['cache']).name}/{s['song_id']}" for s in songs], "stems": int(inst.size // trials),
            "perturb_db": perturb_db, "trials": trials, "network": _classification(truth, pred),
            "levels": levels, "level_stems": {v: int((inst == i).sum() // trials)
                                              for i, v in enumerate(INSTRUMENTS) if (inst == i).any()}}


# --- calibration -------------------------------------------------------------------------------
def song_logits(model: AnalysisNet, cache: str | os.PathLike | Sequence[str | os.PathLike],
                split: str | None) -> dict[str, np.ndarray]:
    """Whole-song instrument/role logits ``[stems, classes]`` and true classes ``[stems]`` of the
    cached ``split`` songs."""
    model.eval()
    out = {k: [] for k in ("instrument_logits", "role_logits", "instrument", "role")}
    for song in load_cache(cache, split):
        pred = _predict_song(model, torch.from_numpy(10.0 ** song["log_mel"].astype(np.float32)))
        for key in ("instrument", "role"):
            out[f"{key}_logits"].append(pred[f"{key}_logits"])
            out[key].append(song[key])
    return {k: np.concatenate(v) for k, v in out.items()}


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def fit_temperatures(model: AnalysisNet, cache: str | os.PathLike | Sequence[str | os.PathLike],
                     split: str | None = None) -> dict[str, dict]:
    """Fit the softmax temperature of each class head on the cached ``split`` songs (all when
    None; development songs, never test songs) and return, per head, ``temperature`` and the
    calibration on those songs before (``raw``) and after (``scaled``) it; stems without a label
    are left out. Set ``model.temperature[head]`` to apply one."""
    logits = song_logits(model, cache, split)
    out = {}
    for head in ("instrument", "role"):
        known = logits[head] >= 0
        z, truth = logits[f"{head}_logits"][known], logits[head][known]
        t = fit_temperature(z, truth)
        out[head] = {"temperature": t, "stems": int(known.sum()), "raw": calibration(z, truth),
                     "scaled": calibration(z, truth, t)}
    return out


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """Temperature ``T`` (softmax of ``logits / T``) minimising the mean NLL of ``truth``, by a
    grid search over log T in [0.1, 10]."""
    grid = np.exp(np.linspace(np.log(0.1), np.log(10.0), 201))
    nll = [-_log_softmax(logits / t)[np.arange(truth.size), truth].mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def calibration(logits: np.ndarray, truth: np.ndarray, temperature: float = 1.0, *,
                bins: int = 10) -> dict[str, float]:
    """Mean NLL (nats), expected calibration error (top-1 confidence vs accuracy in ``bins``
    equal-width bins) and mean confidence of ``softmax(logits / temperature)``."""
    logp = _log_softmax(logits / temperature)
    conf, pred = np.exp(logp.max(-1)), logp.argmax(-1)
    hit = pred == truth
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    ece = sum(abs(hit[edges == b].mean() - conf[edges == b].mean()) * (edges == b).mean()
              for b in range(bins) if (edges == b).any())
    return {"temperature": temperature, "nll": float(-logp[np.arange(truth.size), truth].mean()),
            "ece": float(ece), "mean_confidence": float(conf.mean()), "accuracy": float(hit.mean())}


# --- the measured-feature baseline -------------------------------------------------------------
def measured_feature_vector(features) -> np.ndarray:
    """A fixed-length vector of a stem's measured :class:`~.result.Features` (level-free:
    band levels re the stem's own power, shape, dynamics, stereo and pitch descriptors)."""
    def num(v, default=0.0):
        return default if v is None else float(v)
    pitch = [np.log2(num(features.pitch_low_hz, 1.0)), np.log2(num(features.pitch_high_hz, 1.0)),
             num(features.monophony), float(features.pitch_low_hz is None)]
    return np.array([*features.octave_db, *features.bark_db, np.log2(max(features.centroid_hz, 1.0)),
                     features.tilt_db_per_octave, features.crest_db, features.lra_lu, features.width,
                     features.correlation, features.active_fraction, features.voiced_fraction, *pitch],
                    dtype=np.float64)


def measured_features(root: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Measured-feature vectors of every stem of the dataset at ``root`` (on the
    :data:`FEATURE_EXCERPT_S` excerpt of each song), cached in the JSON file ``out``:
    ``{song_id: {"x": [[...], ...], "instrument": [...], "role": [...], "split": s}}``."""

    root, out = Path(root), Path(out)
    done = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    for song in load_manifest(root)["songs"]:
        if song["song_id"] in done:
            continue
        stems = {}
        for stem in song["stems"]:
            with sf.SoundFile(root / song["folder"] / stem["file"]) as f:
                start = min(int(FEATURE_EXCERPT_S[0] * f.samplerate), max(0, f.frames - 1))
                f.seek(start)
                stems[stem["name"]] = f.read(int(FEATURE_EXCERPT_S[1] * f.samplerate), dtype="float32",
                                             always_2d=True).T.copy()
                sr = f.samplerate
        analysis = measure_stems(stems, sr)
        done[song["song_id"]] = {
            "x": [measured_feature_vector(s.features).tolist() for s in analysis.stems],
            "instrument": [INSTRUMENTS.index(s["instrument"]) for s in song["stems"]],
            "role": [ROLES.index(s["role"]) for s in song["stems"]], "split": song["split"]}
        write_text_atomic(out, json.dumps(done))
    return done


def evaluate_feature_baseline(features: dict, split: str = "test") -> dict:
    """Logistic regression (scikit-learn, standardised features) fitted on the ``train`` songs,
    scored on ``split``: the same classification report as the network's."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def stack(s):
        songs = [v for v in features.values() if v["split"] == s]
        return (np.array([x for v in songs for x in v["x"]]),
                {k: np.array([y for v in songs for y in v[k]]) for k in ("instrument", "role")})

    x_train, y_train = stack("train")
    x_test, y_test = stack(split)
    pred = {}
    for key in ("instrument", "role"):
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
        clf.fit(x_train, y_train[key])
        pred[key] = clf.predict(x_test)
    return _classification(y_test, pred)
