"""Scores of a structure analysis against exact annotations (MIREX conventions).

- tempo Acc1: estimate within 4 % of the reference; Acc2: within 4 % of 1/3, 1/2, 1, 2 or 3 times
  it (Gouyon et al. 2006, "An experimental comparison of audio tempo induction algorithms",
  IEEE TASLP 14(5));
- beat and downbeat F-measure: one-to-one matches within +-70 ms, events in the first 5 s ignored
  (the conventions of mir_eval.beat, Davies, Degara & Plumbley 2009);
- meter: 1 when the estimated time signature (``SongStructure.meter``: 4/4, 3/4, 6/8, 12/8)
  is the annotated one (``time_signature`` of song.json), else 0; a reference without one gets
  no meter score;
- key: MIREX weighted score (same key 1, perfect fifth 0.5, relative 0.3, parallel 0.2;
  as mir_eval.key.weighted_score);
- section boundaries: hit-rate F-measure with a +-3 s window (mir_eval.segment.detection), with
  and without the trivial first and last boundaries (``trim``);
- section labels: frame-wise label accuracy, the fraction of the annotated span (sampled every
  0.1 s) where the estimated label names the annotated one (both mapped to
  :data:`.segmentation.SECTION_LABELS`; a lettered section, ``A``, names none and counts as
  wrong); no target in issue 7, reported for information. Next to it, the share of the span
  the analysis names (``named_share``) and the accuracy where it names (``label_acc_named``),
  so that naming less cannot pass for naming better.

Matching is a maximum one-to-one assignment of events within the window (Hungarian algorithm).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..audio.io import load_audio
from ..errors import ParameterError
from .segmentation import SECTION_LABELS
from .tonality import pitch_class

#: Church modes folded onto major/minor for scoring (by the quality of their third).
_MODE_FOLD = {"major": "major", "ionian": "major", "lydian": "major", "mixolydian": "major",
              "minor": "minor", "aeolian": "minor", "dorian": "minor", "phrygian": "minor",
              "locrian": "minor", "harmonic_minor": "minor", "melodic_minor": "minor"}


def match_events(ref: np.ndarray, est: np.ndarray, window: float) -> int:
    """Size of the largest one-to-one matching of events within ``window`` seconds."""
    ref, est = np.asarray(ref, float), np.asarray(est, float)
    if len(ref) == 0 or len(est) == 0:
        return 0
    dist = np.abs(ref[:, None] - est[None, :])
    cost = np.where(dist <= window, 0.0, 1.0)
    rows, cols = linear_sum_assignment(cost)
    return int(np.sum(dist[rows, cols] <= window))


def f_measure(ref, est, *, window: float) -> float:
    """F-measure of event detection with a +-``window`` s tolerance (1.0 when both are empty)."""
    ref, est = np.asarray(ref, float), np.asarray(est, float)
    if len(ref) == 0 and len(est) == 0:
        return 1.0
    if len(ref) == 0 or len(est) == 0:
        return 0.0
    hits = match_events(ref, est, window)
    p, r = hits / len(est), hits / len(ref)
    return 0.0 if hits == 0 else 2 * p * r / (p + r)


def beat_f_measure(ref_beats, est_beats, *, window: float = 0.07, skip_s: float = 5.0) -> float:
    """Beat (or downbeat) F-measure at +-70 ms, ignoring events before ``skip_s`` seconds."""
    ref, est = np.asarray(ref_beats, float), np.asarray(est_beats, float)
    return f_measure(ref[ref >= skip_s], est[est >= skip_s], window=window)


def tempo_acc1(ref_bpm: float, est_bpm: float, *, tolerance: float = 0.04) -> bool:
    """True when the estimate is within ``tolerance`` (relative) of the reference tempo."""
    return bool(abs(est_bpm - ref_bpm) <= tolerance * ref_bpm)


#: The metrical levels :func:`tempo_level` names, as ``(name, estimate over reference)``.
TEMPO_LEVELS = (("1", 1.0), ("1/2", 0.5), ("2", 2.0), ("2/3", 2 / 3), ("3/2", 1.5),
                ("1/3", 1 / 3), ("3", 3.0), ("3/4", 0.75), ("4/3", 4 / 3))


def tempo_level(ref_bpm: float, est_bpm: float, *, tolerance: float = 0.04) -> str:
    """The metrical level at which the estimate reads the reference tempo: ``"1"``, ``"1/2"``,
    ``"2/3"``, ... (:data:`TEMPO_LEVELS`, within ``tolerance``), else ``"other"``."""
    return next((name for name, f in TEMPO_LEVELS
                 if tempo_acc1(ref_bpm * f, est_bpm, tolerance=tolerance)), "other")


def tempo_acc2(ref_bpm: float, est_bpm: float, *, tolerance: float = 0.04) -> bool:
    """True when the estimate is within ``tolerance`` of 1/3, 1/2, 1, 2 or 3 times the reference."""
    return any(tempo_acc1(ref_bpm * f, est_bpm, tolerance=tolerance) for f in (1 / 3, 0.5, 1, 2, 3))


def parse_key(key: str) -> tuple[int, str] | None:
    """``"Eb dorian"`` -> ``(3, "minor")``; None for an empty or unknown key."""
    parts = (key or "").split()
    if len(parts) != 2:
        return None
    tonic, mode = parts
    if mode.lower() not in _MODE_FOLD:
        return None
    try:
        return pitch_class(tonic), _MODE_FOLD[mode.lower()]
    except ParameterError:
        return None


def key_weighted_score(ref_key: str, est_key: str) -> float:
    """MIREX weighted key score of an estimate against the reference."""
    ref, est = parse_key(ref_key), parse_key(est_key)
    if ref is None or est is None:
        return 0.0
    (rt, rm), (et, em) = ref, est
    interval = (et - rt) % 12
    if (rt, rm) == (et, em):
        return 1.0
    if rm == em and interval == 7:
        return 0.5
    if rm == "major" and em == "minor" and interval == 9:
        return 0.3
    if rm == "minor" and em == "major" and interval == 3:
        return 0.3
    if rt == et and rm != em:
        return 0.2
    return 0.0


def boundary_f_measure(ref_sections, est_sections, *, window: float = 3.0,
                       trim: bool = False) -> float:
    """Section-boundary hit-rate F-measure; sections are ``{start_s, end_s}`` dicts or objects.

    Boundaries are every section start plus the last end; ``trim`` drops the first and last.
    """
    def bounds(secs):
        get = (lambda s, k: s[k]) if secs and isinstance(secs[0], dict) else getattr
        b = sorted({round(float(get(s, "start_s")), 4) for s in secs}
                   | {round(float(get(secs[-1], "end_s")), 4)}) if secs else []
        return np.array(b[1:-1] if trim else b)

    return f_measure(bounds(ref_sections), bounds(est_sections), window=window)


def section_label(label: str) -> str | None:
    """``"Pre_Chorus"`` -> ``"pre-chorus"``: a label in :data:`.segmentation.SECTION_LABELS`, or
    None for one outside that vocabulary."""
    name = (label or "").strip().lower().replace("_", "-").replace(" ", "-")
    name = "pre-chorus" if name == "prechorus" else name
    return name if name in SECTION_LABELS else None


def label_accuracy(ref_sections, est_sections, *, step: float = 0.1,
                   named_only: bool = False) -> float | None:
    """Fraction of the annotated span, sampled every ``step`` seconds, where the estimated section
    label equals the annotated one (:func:`section_label` on both; a time outside every estimated
    section, or a label outside the vocabulary, counts as wrong). ``named_only``: the same
    fraction of only the times the estimate names (:func:`named_share`), None where it names
    none. Sections as for :func:`boundary_f_measure`."""
    ref_at, est_at = _labels_at(ref_sections, est_sections, step)
    if ref_at is None:
        return 0.0
    right = np.array([r is not None and r == e for r, e in zip(ref_at, est_at)], dtype=bool)
    if not named_only:
        return float(np.mean(right))
    named = np.array([e is not None for e in est_at], dtype=bool)
    return float(np.mean(right[named])) if named.any() else None


def named_share(ref_sections, est_sections, *, step: float = 0.1) -> float:
    """Fraction of the annotated span, sampled as in :func:`label_accuracy`, that the estimate
    names with a section name (the rest it letters, ``A``, ``B'``, or leaves uncovered)."""
    ref_at, est_at = _labels_at(ref_sections, est_sections, step)
    return 0.0 if ref_at is None else float(np.mean([e is not None for e in est_at]))


def _labels_at(ref_sections, est_sections, step: float):
    """:func:`section_label` of the reference and the estimate every ``step`` s over the
    annotated span, ``(ref, est)`` object arrays (``(None, None)`` without a reference)."""
    def spans(secs):
        get = (lambda s, k: s[k]) if secs and isinstance(secs[0], dict) else getattr
        return [(float(get(s, "start_s")), float(get(s, "end_s")), section_label(get(s, "label")))
                for s in secs]

    ref, est = spans(ref_sections), spans(est_sections)
    if not ref:
        return None, None
    times = np.arange(ref[0][0], ref[-1][1], step)

    def labels_at(secs):
        out = np.full(len(times), None, dtype=object)
        for a, b, lab in secs:
            out[(times >= a) & (times < b)] = lab
        return out

    return labels_at(ref), labels_at(est)


def score_song(reference: dict, estimate) -> dict:
    """All scores of one song. ``reference`` has ``tempo_bpm, beats_s, downbeats_s, key,
    sections`` and, optionally, ``time_signature``; ``estimate`` is a :class:`~.analysis.SongStructure`. A reference without
    sections (songs from MIDI corpora) gets no boundary or label scores; an estimate that names
    no section gets no ``label_acc_named`` (its ``named_share`` is 0)."""
    scores = {
        "tempo_acc1": float(tempo_acc1(reference["tempo_bpm"], estimate.tempo_bpm)),
        "tempo_acc2": float(tempo_acc2(reference["tempo_bpm"], estimate.tempo_bpm)),
        "beat_f": beat_f_measure(reference["beats_s"], estimate.beats_s),
        "downbeat_f": beat_f_measure(reference["downbeats_s"], estimate.downbeats_s),
        "key_score": key_weighted_score(reference["key"], estimate.key),
    }
    if reference.get("time_signature"):
        scores["meter_acc"] = float(reference["time_signature"] == estimate.meter)
    ref_secs = [dict(s) for s in reference["sections"]]
    if not ref_secs:
        return scores
    if "duration_s" in reference:
        ref_secs[-1]["end_s"] = min(ref_secs[-1]["end_s"], reference["duration_s"])
    est_secs = list(estimate.sections)
    scores |= {
        "boundary_f3": boundary_f_measure(ref_secs, est_secs, window=3.0),
        "boundary_f3_trim": boundary_f_measure(ref_secs, est_secs, window=3.0, trim=True),
        "label_acc": label_accuracy(ref_secs, est_secs),
        "named_share": named_share(ref_secs, est_secs),
    }
    named_acc = label_accuracy(ref_secs, est_secs, named_only=True)
    return scores if named_acc is None else scores | {"label_acc_named": named_acc}


#: Acceptance targets of issue 7 (metric -> minimum mean score).
TARGETS = {"tempo_acc1": 0.95, "beat_f": 0.90, "downbeat_f": 0.75, "key_score": 0.80,
           "boundary_f3": 0.70}


def summarize(scores: list[dict]) -> dict:
    """Mean of every metric over the songs that have it."""
    keys = list(dict.fromkeys(k for s in scores for k in s))
    return {k: float(np.mean([s[k] for s in scores if k in s])) for k in keys}


def dataset_songs(root: Path, split: str | None = None):
    """Yield ``(name, reference, stems, sr)`` for the songs of a generated dataset (of ``split``
    only when given); one song's audio in memory at a time."""
    for meta in sorted(Path(root).glob("songs/*/song.json")):
        ref = json.loads(meta.read_text(encoding="utf-8"))
        if split and ref.get("split") != split:
            continue
        ref["key"] = ref.get("key_major_minor") or ref["key"]
        stems, sr = {}, None
        for s in ref["stems"]:
            stems[s["name"]], sr = load_audio(meta.parent / s["file"])
        yield f"data:{ref['song_id']} {ref.get('source', '')}", ref, stems, sr
