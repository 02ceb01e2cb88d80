"""Instrument, role and reference level of a stem until the analysis network provides them.

Nothing here is a trained model, and the results say so: every label carries a ``source``

* ``"given"`` — the caller said what the stem is (``labels={"vox1": "vocals"}``);
* ``"name-hint"`` — a word of the file name matched :data:`.names.NAME_HINTS` ("Kick In.wav" -> drums);
* ``"unknown"`` — nothing to go on (Demucs' ``other``, "track 7"): a flat distribution over the
  pitched families with a low confidence.

Roles come from the instrument (:data:`DEFAULT_ROLES`) unless a name word says more ("lead",
"pad", "backing"). The reference balance (:func:`reference_levels`) is a documented table, not a
prediction; its source is ``"reference-table"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..vocab import INSTRUMENTS, ROLES
from .names import (HINT_PRIORITY, NAME_HINTS, ROLE_HINTS, name_instrument,  # noqa: F401
                    name_role, name_words)  # (the tables re-exported)

#: Role of each instrument when nothing more is known.
DEFAULT_ROLES: dict[str, str] = {
    "drums": "rhythm", "percussion": "rhythm", "bass": "low_end", "keys": "harmony",
    "guitar": "harmony", "strings": "harmony", "brass": "harmony", "woodwinds": "melody",
    "synth": "harmony", "vocals": "melody", "fx": "texture"}
#: Instruments an unnamed (or Demucs ``other``) stem is spread over.
UNKNOWN_INSTRUMENTS: tuple[str, ...] = ("keys", "guitar", "strings", "brass", "woodwinds",
                                        "synth")
#: Probability given to the hinted class (name hint) — the rest is spread evenly.
NAME_HINT_CONFIDENCE = 0.6
#: Probability of a role read off the instrument (:data:`DEFAULT_ROLES`).
DEFAULT_ROLE_CONFIDENCE = 0.5

#: Reference loudness of each instrument relative to the drums (LU) in the accompaniment.
#: Engineering defaults in line with the practice reported by Pestana (2013, PhD thesis,
#: "Automatic mixing systems using adaptive digital audio effects") and De Man et al. (2014,
#: ISMIR): drums and bass carry most of the accompaniment's loudness, harmonic parts sit a few
#: LU under them, textures and effects well under. They match the means the training-data
#: generator draws its reference balances from (:mod:`mixassist.datasets.balance`). To be
#: replaced by the analysis network.
REFERENCE_LU: dict[str, float] = {
    "drums": 0.0, "percussion": -8.0, "bass": -1.5, "keys": -4.0, "guitar": -4.0,
    "strings": -5.0, "brass": -6.0, "woodwinds": -5.0, "synth": -4.0, "vocals": -6.0,
    "fx": -10.0}
#: Role adjustment (LU) on top of :data:`REFERENCE_LU`: a melodic line sits above its family,
#: a texture below.
ROLE_OFFSET_LU: dict[str, float] = {"rhythm": 0.0, "low_end": 0.0, "harmony": 0.0,
                                    "melody": 2.0, "texture": -3.0}
#: The lead vocal sits this far below the rest of the mix (LU): the figure the project brief
#: cites (Zafrin & Harrison 2016) for professional mixes.
LEAD_BELOW_REST_LU = 3.0


@dataclass(frozen=True)
class StemLabels:
    """What a stem is taken to be, and on what grounds (``source``)."""

    instrument: str
    instrument_probs: dict[str, float]
    role: str
    role_probs: dict[str, float]
    confidence: float
    source: str


def _probs(vocab: tuple[str, ...], top: str | None, confidence: float,
           spread: tuple[str, ...] | None = None) -> dict[str, float]:
    """A distribution over ``vocab``: ``confidence`` on ``top``, the rest evenly on ``spread``."""
    spread = tuple(v for v in (spread or vocab) if v != top)
    rest = (1.0 - confidence) if top else 1.0
    out = {v: 0.0 for v in vocab}
    for v in spread:
        out[v] = rest / len(spread)
    if top:
        out[top] = confidence
    return out


def label_stem(name: str, given: str | None = None) -> StemLabels:
    """Instrument and role of a stem from a given label, else its name (see module docstring).

    Raises :class:`ParameterError` when ``given`` is not an instrument of
    :data:`~mixassist.vocab.INSTRUMENTS`.
    """
    role_hint = name_role(name)
    if given is not None:
        if given not in INSTRUMENTS:
            raise ParameterError(f"stem {name!r}: instrument label {given!r} is not one of "
                                 f"{', '.join(INSTRUMENTS)}")
        instrument, confidence, source = given, 1.0, "given"
        inst_probs = _probs(INSTRUMENTS, instrument, 1.0)
    elif (hinted := name_instrument(name)) is not None:
        instrument, confidence, source = hinted, NAME_HINT_CONFIDENCE, "name-hint"
        inst_probs = _probs(INSTRUMENTS, instrument, confidence)
    else:
        inst_probs = _probs(INSTRUMENTS, None, 0.0, UNKNOWN_INSTRUMENTS)
        instrument = UNKNOWN_INSTRUMENTS[0]
        confidence, source = 1.0 / len(UNKNOWN_INSTRUMENTS), "unknown"
    role = role_hint or DEFAULT_ROLES[instrument]
    role_conf = NAME_HINT_CONFIDENCE if role_hint else DEFAULT_ROLE_CONFIDENCE
    return StemLabels(instrument, inst_probs, role, _probs(ROLES, role, role_conf),
                      confidence, source)


def reference_levels(labels: list[tuple[str, str]]) -> list[float]:
    """Reference level of each stem relative to the mix (LU), for ``[(instrument, role), ...]``.

    The accompaniment stems get :data:`REFERENCE_LU` + :data:`ROLE_OFFSET_LU` relative to each
    other; lead vocals (instrument ``vocals``, role ``melody``) together sit
    :data:`LEAD_BELOW_REST_LU` below the sum of the rest. Levels then add up (as powers) to the
    mix, so for uncorrelated stems ``target_level_db`` and ``level_db`` share one scale and the
    gain that moves a stem to its target is simply their difference.
    """
    if not labels:
        return []
    power = np.array([10.0 ** ((REFERENCE_LU[i] + ROLE_OFFSET_LU[r]) / 10.0) for i, r in labels])
    lead = np.array([i == "vocals" and r == "melody" for i, r in labels])
    if lead.any() and not lead.all():
        rest = power[~lead].sum()
        power[lead] = rest * 10.0 ** (-LEAD_BELOW_REST_LU / 10.0) / lead.sum()
    return (10.0 * np.log10(power / power.sum())).tolist()
