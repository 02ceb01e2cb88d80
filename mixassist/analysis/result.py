"""The analysis of a song (``analysis.json`` of CONTRACT.md) as dataclasses.

``Analysis.from_json(a.to_json()) == a`` holds exactly. The contract fields come first; mixassist
adds ``features`` (measured, per stem and for the mix), ``masking`` (who masks whom), ``bands``
(the band frequencies the features use) and ``sources`` (where each non-measured field came
from: ``"none"`` until the structure and network engineers fill them). Keys this version does
not know are kept in ``extra`` and written back, so newer files survive a round trip; one not
written by mixassist is announced with a warning (:mod:`mixassist.utils.documents`, the policy of
``plan.json`` too).

Units: seconds, LUFS (ITU-R BS.1770-4), LU, dB, Hz. ``loudness_lufs``/``level_db`` are None for a
stem with no block above the BS.1770 absolute gate (silent), as JSON has no -inf.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ParameterError
from ..utils.documents import merge_extra, split_fields
from .tonality import spell_key

#: Schema version written into ``analysis.json``.
ANALYSIS_VERSION = 1
#: A ``tempo_confidence`` below this marks the tempo unsure: the analysis keeps its two likeliest
#: tempi in ``tempo_candidates_bpm`` and the report shows both (docs/structure.md).
TEMPO_UNSURE = 0.5


@dataclass
class Region:
    """A time span in seconds, ``start_s < end_s``."""

    start_s: float
    end_s: float


@dataclass
class Section:
    """A section of the song (``label`` e.g. ``"verse"``) from the structure analysis.

    ``stems`` are the stems that play in it: those active (``StemAnalysis.activity``, the one
    activity rule, :func:`.activity.playing_stems`) over at least half of it; None in files
    written without them. ``extra`` keeps what the structure analysis adds (``level_db``,
    ``bars``, ``letter``: ``A``, ``B``, ``A'``, ``named``: whether ``label`` is a section name
    the evidence supports, else it is the letter, ``label_reason``: why; docs/structure.md,
    "Section names and letters").
    """

    #: Fields the structure analysis writes into ``extra`` (no warning when they are read).
    EXTENSIONS = ("level_db", "bars", "letter", "named", "label_reason")

    start_s: float
    end_s: float
    label: str
    stems: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Loudness:
    """Loudness of the mix: BS.1770-4 integrated, EBU Tech 3342 range, BS.1770-4 true peak."""

    integrated_lufs: float | None
    lra_lu: float
    true_peak_dbtp: float


@dataclass
class Features:
    """Measured features of one stem or of the mix (no model involved).

    ``short_term_lufs[i]`` is the EBU Tech 3341 short-term loudness of the 3 s window ending at
    ``3.0 + i * short_term_hop_s`` seconds (one value for the whole clip when it is shorter than
    3 s; None for silence); ``octave_db``/``bark_db`` are band levels re the signal's total power
    at ``Analysis.bands``; ``rest_loudness_lufs`` is the loudness of the mix without this stem and
    ``level_vs_rest_db`` the stem's loudness minus it (None for the mix itself);
    ``pitch_low_hz``/``pitch_high_hz``/``monophony`` are the coarse estimates of :mod:`.pitch`
    (None when there is too little pitched material), meaningful for pitched stems only (a kick
    drum reads as a low, "monophonic" pitch).
    """

    lra_lu: float = 0.0
    peak_dbfs: float = -120.0
    rms_dbfs: float = -120.0
    crest_db: float = 0.0
    centroid_hz: float = 0.0
    tilt_db_per_octave: float = 0.0
    octave_db: list[float] = field(default_factory=list)
    bark_db: list[float] = field(default_factory=list)
    width: float = 0.0
    correlation: float = 0.0
    balance_db: float = 0.0
    active_fraction: float = 0.0
    pitch_low_hz: float | None = None
    pitch_high_hz: float | None = None
    monophony: float | None = None
    voiced_fraction: float = 0.0
    short_term_hop_s: float = 1.0
    short_term_lufs: list[float | None] = field(default_factory=list)
    rest_loudness_lufs: float | None = None
    level_vs_rest_db: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class StemAnalysis:
    """One stem: what it is (with ``source``/``confidence``), where it plays, how loud it is.

    ``source`` says where ``instrument``/``role`` come from: ``"given"``, ``"name-hint"``,
    ``"unknown"`` or ``"network"``; ``target_level_source`` likewise for ``target_level_db``
    (``"network"``, or ``"reference-table"`` without it). A stem of separation
    leakage (:func:`.activity.is_leakage`) has ``extra["leakage"] = True``, no ``activity`` and
    an ``active_fraction`` of 0. ``target_range_db`` ``[low, high]`` (LU re the mix, the scale of
    ``level_db``): where the stem may sit without a listener calling the balance wrong
    (:func:`.analyze.target_range`). Stems' gated loudness does not add up to the mix's, so the
    plan first moves every target and range by one offset onto the mix's levels
    (:func:`mixassist.planning.predict.balance_offset`; its reasons quote the moved range).
    """

    #: Fields mixassist writes into ``extra`` (no warning when they are read).
    EXTENSIONS = ("target_level_std_db", "leakage")

    name: str
    instrument: str
    instrument_probs: dict[str, float]
    role: str
    role_probs: dict[str, float]
    activity: list[Region]
    loudness_lufs: float | None
    level_db: float | None
    target_level_db: float | None
    confidence: float
    source: str = "unknown"
    target_level_source: str = "reference-table"
    target_range_db: list[float] | None = None
    features: Features = field(default_factory=Features)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class MaskedBand:
    """A critical band where ``masker`` masks ``target`` (see :mod:`.masking`)."""

    band: int
    low_hz: float
    high_hz: float
    centre_hz: float
    masked_fraction: float
    excess_db: float


@dataclass
class Masking:
    """How much stem ``masker`` masks stem ``target``: overall, per band, and when."""

    masker: str
    target: str
    masked_fraction: float
    mean_excess_db: float
    bands: list[MaskedBand] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)


@dataclass
class Analysis:
    """The analysis of one song: structure, loudness, and every stem (CONTRACT.md).

    ``meter`` is the time signature (``"4/4"``, ``"3/4"``, ``"6/8"``, ``"12/8"``; the counted beat
    of ``tempo_bpm`` and ``beats_s`` is the dotted quarter in 6/8 and 12/8) and
    ``tempo_confidence`` (0..1) how sure the analysis is of the metrical level of ``tempo_bpm``;
    below :data:`TEMPO_UNSURE` ``tempo_candidates_bpm`` holds the two likeliest tempi, best first
    (empty otherwise). All three are None/empty in files written before they existed.
    """

    #: Fields the structure analysis writes into ``extra`` (no warning when they are read).
    EXTENSIONS = ("beats_per_bar", "key_confidence", "beat_division")

    sample_rate: int
    duration_s: float
    loudness: Loudness
    stems: list[StemAnalysis] = field(default_factory=list)
    tempo_bpm: float | None = None
    beats_s: list[float] = field(default_factory=list)
    downbeats_s: list[float] = field(default_factory=list)
    key: str | None = None
    sections: list[Section] = field(default_factory=list)
    meter: str | None = None
    tempo_confidence: float | None = None
    tempo_candidates_bpm: list[float] = field(default_factory=list)
    version: int = ANALYSIS_VERSION
    features: Features = field(default_factory=Features)
    masking: list[Masking] = field(default_factory=list)
    bands: dict[str, list[float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def stem(self, name: str) -> StemAnalysis:
        """The stem called ``name``; :class:`ParameterError` listing the names otherwise."""
        for s in self.stems:
            if s.name == name:
                return s
        raise ParameterError(f"analysis has no stem {name!r}; stems: "
                             f"{', '.join(s.name for s in self.stems)}")

    # --- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-able dict: the CONTRACT.md fields in contract order, then the extensions."""
        data = merge_extra(asdict(self))
        order = ["version", "sample_rate", "duration_s", "tempo_bpm", "beats_s", "downbeats_s",
                 "key", "sections", "loudness", "stems", "meter", "tempo_confidence",
                 "tempo_candidates_bpm"]
        return {**{k: data.pop(k) for k in order}, **data}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict) -> Analysis:
        """Build from :meth:`to_dict` output; :class:`ParameterError` names a missing field."""
        top = _split(data, cls, "top level")
        version = top.get("version", ANALYSIS_VERSION)
        if not isinstance(version, int) or version > ANALYSIS_VERSION:
            raise ParameterError(f"analysis: version {version!r} is newer than this mixassist "
                                 f"reads ({ANALYSIS_VERSION}); upgrade mixassist")
        if isinstance(top.get("key"), str) and top["key"]:
            try:  # files written before keys were spelled with flats ("D# major")
                top["key"] = spell_key(top["key"])
            except ParameterError:
                pass  # a key this version cannot name (a mode) is kept as written
        return cls(**{
            **top,
            "loudness": Loudness(**_split(top["loudness"], Loudness, "loudness")),
            "stems": [_stem(s, f"stems[{i}]") for i, s in enumerate(_list(top, "stems"))],
            "sections": [Section(**_split(s, Section, f"sections[{i}]"))
                         for i, s in enumerate(_list(top, "sections"))],
            "features": _features(top.get("features", {}), "features"),
            "masking": [_masking(m, f"masking[{i}]")
                        for i, m in enumerate(_list(top, "masking"))],
        })

    @classmethod
    def from_json(cls, text: str) -> Analysis:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"analysis is not valid JSON: {exc}") from None
        return cls.from_dict(data)


# --- parsing helpers ---------------------------------------------------------------------------
def _split(data, cls, where: str) -> dict:
    """Known fields of ``cls`` from ``data``; unknown ones kept in ``extra`` (the documents'
    policy, :func:`mixassist.utils.documents.split_fields`)."""
    return split_fields(data, cls, where, document="analysis", error=ParameterError)


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ParameterError(f"analysis: {key} must be a list")
    return value


def _regions(items, where: str) -> list[Region]:
    if not isinstance(items, list):
        raise ParameterError(f"analysis: {where} must be a list of {{start_s, end_s}}")
    return [Region(**_split(r, Region, f"{where}[{i}]"))
            for i, r in enumerate(items)]


def _features(data, where: str) -> Features:
    return Features(**_split(data, Features, where))


def _stem(data, where: str) -> StemAnalysis:
    s = _split(data, StemAnalysis, where)
    s["activity"] = _regions(s.get("activity", []), f"{where}.activity")
    s["features"] = _features(s.get("features", {}), f"{where}.features")
    return StemAnalysis(**s)


def _masking(data, where: str) -> Masking:
    m = _split(data, Masking, where)
    m["bands"] = [MaskedBand(**_split(b, MaskedBand, f"{where}.bands[{i}]"))
                  for i, b in enumerate(m.get("bands", []))]
    m["regions"] = _regions(m.get("regions", []), f"{where}.regions")
    return Masking(**m)
