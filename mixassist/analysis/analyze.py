"""``analyze(stems, sr)``: the analysis document of one song (CONTRACT.md ``analysis.json``).

It combines the song structure (:func:`.structure.analyze_structure`) with the measured stem
features (:func:`.measure.measure_stems`) and the trained analysis network's instrument, role and target level of every stem (``source="network"``,
``target_level_source="network"``; the network ships as package data, :data:`DEFAULT_MODEL`).
A missing network file is a :class:`~mixassist.errors.ModelError`, never a silent downgrade; with
``model=False`` instrument, role and target level come from given labels, name hints and the
reference-balance table, each stem's ``source`` saying which. A label the caller gives is always
kept.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..audio.signal import Signal
from ..errors import ModelError
from ..resources import ANALYSIS_MODEL, models_dir
from .measure import measure_stems
from .result import Analysis

#: Half-width (dB) of a stem's target range around its target level: how far a stem may sit from
#: the level the analysis predicts before the balance is called wrong: about a just-noticeable level
#: difference. How far the targets themselves may be off is the network's uncertainty
#: (``target_level_std_db``), weighed by the plan; fitted with the plan's evidence weight on the
#: real-music dev split (scripts/fit_plan_policy.py, docs/evaluation.md).
TARGET_RANGE_DB = 1.5


def target_range(target_db: float | None, half_width_db: float = TARGET_RANGE_DB) -> list[float] | None:
    """``[low, high]`` (dB) around ``target_db``, or None without a target."""
    if target_db is None:
        return None
    return [round(target_db - half_width_db, 2), round(target_db + half_width_db, 2)]

#: The shipped analysis network (package data, ``mixassist/models``).
DEFAULT_MODEL = models_dir() / ANALYSIS_MODEL


@functools.lru_cache(maxsize=4)
def _load(path: str):
    from .network import load_model
    return load_model(path)


def analyze(stems: dict[str, np.ndarray | Signal], sr: int, *, labels: dict[str, str] | None = None,
            model: str | os.PathLike | bool | None = None, separated: bool = False,
            progress: Callable[[int, int], None] | None = None) -> Analysis:
    """Analyse the stems of one song (their sum is the mix).

    Parameters
    ----------
    stems : ``{name: np.ndarray [shape=(channels, samples)]}`` at ``sr``, or
        :class:`~mixassist.audio.signal.Signal` s (e.g. stem files read by seeking): the
        measured features and the network then read them block by block.
    sr : sample rate, Hz.
    labels : optional ``{name: instrument}`` (CONTRACT.md vocabulary) for stems whose
        instrument is known.
    model : analysis network checkpoint; ``None`` -> :data:`DEFAULT_MODEL` (a
        :class:`~mixassist.errors.ModelError` when it is not installed), ``False`` -> no network
        (labels, name hints and the reference table only, reported in ``sources``).
    separated : the stems came from a separator, so a stem of separation leakage plays
        nowhere (:func:`.measure.measure_stems`).
    progress : ``callback(done, total)``: 0 at the start, then one step for the structure and
        one as each signal (every stem, the mix) is measured.
    """
    from .network import predict_stems
    from .structure import analyze_structure

    total = len(stems) + 2  # the structure, every stem and the mix
    if progress is not None:
        progress(0, total)
    if model is None:
        model = default_model()
    preds = None if model in (None, False) else predict_stems(_load(str(model)), stems, sr)
    # a separator names its stems; a session's names may say nothing ("Audio 01")
    heard = None if separated else preds
    structure = analyze_structure(stems, sr, separated=separated,
                                  drums=drum_stems(list(stems), labels or {}, heard),
                                  vocals=vocal_stems(list(stems), labels or {}, heard))
    if progress is not None:
        progress(1, total)
    analysis = measure_stems(stems, sr, labels=labels, structure=structure, separated=separated,
                             progress=None if progress is None
                             else (lambda done, _: progress(1 + done, total)))
    if preds is not None:
        apply_network(analysis, preds, given=set(labels or {}))
    for stem in analysis.stems:
        stem.target_range_db = target_range(stem.target_level_db)
    return analysis


#: A stem whose name says nothing of its instrument is taken for drums (vocals) when the network
#: gives drums and percussion together (vocals) at least this probability.
DRUM_PROBABILITY = 0.5
VOCAL_PROBABILITY = 0.5


def drum_stems(names: list[str], labels: dict[str, str], preds: dict | None) -> list[str]:
    """The drum and percussion stems for the structure analysis: by the given label, else by
    the name (``Kick In``, ``OH``, ``drums``: :func:`.structure.is_drum_stem`), else, for a
    name that says nothing of its instrument (``Audio 01``, ``Track 3``), by the network
    (:data:`DRUM_PROBABILITY`)."""
    from .structure import is_drum_stem

    return _stems_heard_as(("drums", "percussion"), is_drum_stem, DRUM_PROBABILITY, names,
                           labels, preds)


def vocal_stems(names: list[str], labels: dict[str, str], preds: dict | None) -> list[str]:
    """The vocal stems for the structure analysis (their activity makes a section sung, the
    evidence for section names): as :func:`drum_stems`, for vocals (:data:`VOCAL_PROBABILITY`)."""
    from .names import name_instrument

    return _stems_heard_as(("vocals",), lambda n: name_instrument(n) == "vocals",
                           VOCAL_PROBABILITY, names, labels, preds)


def _stems_heard_as(instruments: tuple[str, ...], by_name: Callable[[str], bool],
                    probability: float, names: list[str], labels: dict[str, str],
                    preds: dict | None) -> list[str]:
    """The stems of ``instruments``: by the given label, else by the name (``by_name``), else,
    for a name that says nothing of its instrument, by the network's summed probability."""
    from .names import name_instrument

    def heard(name: str) -> bool:
        if name in labels:
            return labels[name] in instruments
        if by_name(name) or name_instrument(name) is not None or preds is None:
            return by_name(name)
        probs = preds[name].instrument_probs
        return sum(probs.get(i, 0.0) for i in instruments) >= probability

    return [name for name in names if heard(name)]


def default_model() -> Path:
    """:data:`DEFAULT_MODEL`, or a :class:`~mixassist.errors.ModelError` saying how to get it."""
    if not DEFAULT_MODEL.is_file():
        raise ModelError(f"the analysis network {DEFAULT_MODEL} is not installed (a mixassist "
                         "package built without its package data?); reinstall mixassist, pass "
                         "model=PATH to a checkpoint, or model=False to analyse without it")
    return DEFAULT_MODEL


def apply_network(analysis: Analysis, preds: dict, *, given: set[str] = frozenset()) -> None:
    """Fill instrument, role, confidence and target level of ``analysis``' stems from the
    network's predictions ``preds`` (:func:`.network.predict_stems`); stems named in ``given``
    keep their given labels.

    Target levels are shifted together so their powers add up to the mix (0 dB), the scale of
    ``level_db``; ``extra["target_level_std_db"]`` holds the network's level uncertainty.
    """
    total = sum(10.0 ** (p.target_level_db / 10.0) for p in preds.values())
    offset = 10.0 * math.log10(total)
    for stem in analysis.stems:
        p = preds[stem.name]
        if stem.name not in given:
            stem.instrument, stem.instrument_probs = p.instrument, _rounded(p.instrument_probs)
            stem.role, stem.role_probs = p.role, _rounded(p.role_probs)
            stem.confidence = round(p.instrument_probs[p.instrument], 4)
            stem.source = "network"
        stem.target_level_db = round(p.target_level_db - offset, 2)
        stem.target_level_source = "network"
        stem.extra["target_level_std_db"] = round(p.level_std_db, 2)
    analysis.sources["instrument"] = "network" + (" (given labels kept)" if given else "")
    analysis.sources["target_level"] = "network"


def _rounded(probs: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in probs.items()}
