"""Instrument, role and reference level of a stem until the analysis network provides them.

Nothing here is a trained model, and the results say so: every label carries a ``source``

* ``"given"`` — the caller said what the stem is (``labels={"vox1": "vocals"}``);
* ``"name-hint"`` — a word of the file name matched :data:`NAME_HINTS` ("Kick In.wav" -> drums);
* ``"unknown"`` — nothing to go on (Demucs' ``other``, "track 7"): a flat distribution over the
  pitched families with a low confidence.

Roles come from the instrument (:data:`DEFAULT_ROLES`) unless a name word says more ("lead",
"pad", "backing"). The reference balance (:func:`reference_levels`) is a documented table, not a
prediction; its source is ``"reference-table"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..vocab import INSTRUMENTS, ROLES

#: Name word -> instrument. Words are matched whole after splitting on non-letters and camelCase.
NAME_HINTS: dict[str, str] = {
    **dict.fromkeys(["drum", "drums", "kick", "kik", "bd", "snare", "snr", "sd", "hat", "hats",
                     "hihat", "hh", "tom", "toms", "cymbal", "cymbals", "crash", "ride", "oh",
                     "overhead", "overheads", "kit", "room", "breakbeat", "break"], "drums"),
    **dict.fromkeys(["perc", "percussion", "shaker", "conga", "congas", "bongo", "bongos",
                     "tamb", "tambourine", "clap", "claps", "cowbell", "timbale", "cajon",
                     "triangle", "glock", "glockenspiel", "marimba", "vibes", "xylophone"],
                    "percussion"),
    **dict.fromkeys(["bass", "sub", "subbass", "808", "contrabass", "upright"], "bass"),
    **dict.fromkeys(["keys", "key", "piano", "pno", "rhodes", "wurli", "wurlitzer", "organ",
                     "ep", "epiano", "clav", "harpsichord", "celesta"], "keys"),
    **dict.fromkeys(["gtr", "gtrs", "guitar", "guitars", "acoustic", "electric", "banjo",
                     "mandolin", "ukulele", "uke", "sitar", "harp"], "guitar"),
    **dict.fromkeys(["strings", "string", "str", "violin", "violins", "vln", "viola", "vla",
                     "cello", "cellos", "vc", "orchestra", "ensemble"], "strings"),
    **dict.fromkeys(["brass", "trumpet", "trumpets", "tpt", "trombone", "tbn", "horn", "horns",
                     "tuba", "flugelhorn", "cornet"], "brass"),
    **dict.fromkeys(["woodwinds", "woodwind", "winds", "flute", "flutes", "fl", "clarinet",
                     "cl", "oboe", "bassoon", "sax", "saxophone", "alto", "tenor", "piccolo",
                     "recorder", "whistle"], "woodwinds"),
    **dict.fromkeys(["synth", "synths", "syn", "pad", "pads", "arp", "arps", "pluck", "plucks",
                     "saw", "supersaw", "moog", "lead"], "synth"),
    **dict.fromkeys(["vocal", "vocals", "vox", "voc", "voice", "voices", "vo", "lv", "bv",
                     "bvs", "bgv", "backing", "choir", "singer", "sing", "adlib", "adlibs",
                     "harmonies", "rap", "acapella"], "vocals"),
    **dict.fromkeys(["fx", "sfx", "riser", "risers", "impact", "impacts", "sweep", "sweeps",
                     "noise", "atmos", "ambience", "foley", "downlifter", "uplifter"], "fx"),
}
#: When a name holds words of several instruments, the first in this order wins
#: ("bass drum" -> drums, "synth bass" -> bass, "lead vox" -> vocals).
HINT_PRIORITY: tuple[str, ...] = ("drums", "percussion", "vocals", "bass", "brass", "woodwinds",
                                  "strings", "guitar", "keys", "fx", "synth")
#: Name word -> role, overriding the instrument's default.
ROLE_HINTS: dict[str, str] = {
    **dict.fromkeys(["lead", "lv", "solo", "melody", "mel", "hook", "topline"], "melody"),
    **dict.fromkeys(["bv", "bvs", "bgv", "backing", "choir", "harmonies", "harmony", "chords",
                     "comp", "rhythm"], "harmony"),
    **dict.fromkeys(["pad", "pads", "atmos", "ambience", "drone", "texture"], "texture"),
}
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


def name_words(name: str) -> list[str]:
    """Lower-case words of a stem name: ``"LeadVox_02.wav"`` -> ``["lead", "vox"]``."""
    name = re.sub(r"\.[A-Za-z0-9]{2,5}$", "", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])",
                                name.lower()) if (w and not w.isdigit()) or w == "808"]


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
    words = name_words(name)
    role_hint = next((ROLE_HINTS[w] for w in words if w in ROLE_HINTS), None)
    if given is not None:
        if given not in INSTRUMENTS:
            raise ParameterError(f"stem {name!r}: instrument label {given!r} is not one of "
                                 f"{', '.join(INSTRUMENTS)}")
        instrument, confidence, source = given, 1.0, "given"
        inst_probs = _probs(INSTRUMENTS, instrument, 1.0)
    else:
        hinted = {NAME_HINTS[w] for w in words if w in NAME_HINTS}
        if hinted:
            instrument = next(i for i in HINT_PRIORITY if i in hinted)
            confidence, source = NAME_HINT_CONFIDENCE, "name-hint"
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
