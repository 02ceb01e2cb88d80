"""Mix toward references: the plan's moves from the measured balance of songs a producer likes.

From the :class:`~mixassist.analysis.reference.BalanceProfile` of the song and of each reference
(their units: stems or stem groups both have, :mod:`mixassist.analysis.reference`):

* **balance** — every unit moves by the references' mean level minus its own (LU re the mix;
  one common offset removed so the moves are as small as they can be): a measured balance, not
  a prediction, so the whole distance, at most +-:data:`MAX_GAIN_DB`; its stems all get the
  unit's gain (their balance inside the unit is kept), less the level its tonal match adds;
* **tonal balance per unit** — a graphic EQ (:func:`~.filters.matching_eq`) by the references'
  octave-band balance minus the unit's, where both have content (bands within
  :data:`CONTENT_DB` of their strongest, above the stem's high-pass), median-centred, at most
  +-:data:`MAX_STEM_EQ_DB` per band;
* **tonal balance of the master** — what the moved units do not reach of the references' mix
  balance (predicted from the units' levels and bands), at most +-:data:`MAX_MASTER_EQ_DB` per
  band, in place of the default chain's air shelf; glue compression only when the song is more
  dynamic than the references (:data:`LRA_MARGIN_LU`).

Given the song's audio, :func:`calibrate` corrects the plan by a trial render of it: each unit's
level as its chain leaves it, and the mastered mix's tonal balance.

Several references are averaged; the spread (standard deviation) is quoted with every move.
A reference whose tempo is far from the song's, or whose parts or sound differ clearly (a unit
the song has that it lacks, a mix tonal balance more than :data:`TONAL_WARNING_DB` away), is
used with a warning. ``amount`` blends all of it as it blends the rest of the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..analysis.reference import (BalanceProfile, ReferenceComparison, measure_balance,
                                  tonal_balance)
from ..analysis.result import Analysis
from ..analysis.spectrum import OCTAVE_CENTRES_HZ, k_weighting_response
from ..audio.signal import MixSignal, as_signal
from .filters import OCTAVE_Q, band_response_db, matching_eq
from .mastering import is_peak_control
from .plan import Plan, PluginSpec

#: Largest balance move (dB) toward the references.
MAX_GAIN_DB = 12.0
#: Largest EQ move per octave band (dB) on a unit, and on the master.
MAX_STEM_EQ_DB = 4.0
MAX_MASTER_EQ_DB = 3.0
#: Bands more than this under a unit's strongest band carry no content to match (dB).
CONTENT_DB = 40.0
#: A song whose loudness range exceeds the references' by more than this (LU) keeps the default
#: chain's glue compression; otherwise it is left out (the references are no more compressed).
LRA_MARGIN_LU = 1.0
#: How the master's tonal-match reason starts.
MASTER_EQ_REASON = "master: tonal match"
#: Tonal moves smaller than this (dB, largest band) are left out.
MIN_EQ_DB = 0.5
#: A reference whose tempo differs from the song's by more than this ratio gets a warning.
TEMPO_RATIO = 1.3
#: A reference whose mix tonal balance differs from the song's by more than this (dB, RMS over
#: the bands with content) gets a warning.
TONAL_WARNING_DB = 4.0


@dataclass
class UnitTarget:
    """Where the references put one unit: mean level (LU re the mix), its spread over the
    references that have it, the mean octave balance, and how many references have it."""

    level_db: float
    spread_db: float
    rest_db: float | None
    octave_db: np.ndarray
    count: int


@dataclass
class ReferenceMoves:
    """The moves toward the references: ``gains`` dB and ``eq`` chains per stem, the master EQ,
    reasons per stem and for the master, warnings, and a summary for ``plan.extra``."""

    gains: dict[str, float] = field(default_factory=dict)
    eq: dict[str, list[PluginSpec]] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    master_eq: list[PluginSpec] = field(default_factory=list)
    master_reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    glue: bool = True


def unit_targets(references: list[BalanceProfile]) -> dict[str, UnitTarget]:
    """The references' mean level and tonal balance per unit."""
    out = {}
    for unit in sorted({u for ref in references for u in ref.units}):
        have = [ref.units[unit] for ref in references if unit in ref.units]
        levels = np.array([u.level_db for u in have])
        rests = [u.rest_db for u in have if u.rest_db is not None]
        out[unit] = UnitTarget(level_db=float(levels.mean()), spread_db=float(levels.std()),
                               rest_db=float(np.mean(rests)) if rests else None,
                               octave_db=np.mean([u.octave_db for u in have], axis=0),
                               count=len(have))
    return out


def _content(octave_db) -> np.ndarray:
    levels = np.asarray(octave_db, dtype=np.float64)
    return levels >= levels.max() - CONTENT_DB


def tonal_correction(ours, theirs, *, usable: np.ndarray, limit_db: float) -> np.ndarray:
    """Band correction (dB) from the octave balance ``ours`` to ``theirs`` (dB re total power):
    their difference on the ``usable`` bands where both have content, less its median there
    (only the shape counts), clipped at +-``limit_db``; 0 elsewhere."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    mask = usable & _content(ours) & _content(theirs)
    out = np.zeros(ours.size)
    if mask.sum() >= 2:
        diff = theirs[mask] - ours[mask]
        out[mask] = np.clip(diff - np.median(diff), -limit_db, limit_db)
    return out


def _band_text(correction: np.ndarray) -> str:
    order = np.argsort(-np.abs(correction))[:3]
    return ", ".join(f"{correction[i]:+.1f} dB at {_hz(OCTAVE_CENTRES_HZ[i])}"
                     for i in sorted(order) if abs(correction[i]) >= MIN_EQ_DB)


def _hz(hz: float) -> str:
    return f"{hz / 1000:g} kHz" if hz >= 1000 else f"{hz:g} Hz"


def _loudness_db(octave_db: np.ndarray, response_db: np.ndarray, sr: int) -> float:
    """Loudness change (dB, estimated) of a signal with band balance ``octave_db`` through an EQ
    of band response ``response_db``: the band powers K-weighted (ITU-R BS.1770-4) at their
    centres."""
    weight = k_weighting_response(np.asarray(OCTAVE_CENTRES_HZ, np.float64), sr)
    share = 10.0 ** (np.asarray(octave_db) / 10.0) * weight
    return float(10.0 * math.log10((share * 10.0 ** (response_db / 10.0)).sum() / share.sum()))


def _the(n: int, *, possessive: bool = False) -> str:
    """``the reference`` / ``the 3 references`` (``the reference's`` / ``the 3 references'``)."""
    if n == 1:
        return "the reference's" if possessive else "the reference"
    return f"the {n} references'" if possessive else f"the {n} references"


def _warnings(song: BalanceProfile, references: list[BalanceProfile]) -> list[str]:
    out = []
    for ref in references:
        if song.tempo_bpm and ref.tempo_bpm:
            ratio = max(song.tempo_bpm, ref.tempo_bpm) / min(song.tempo_bpm, ref.tempo_bpm)
            if min(ratio, max(ratio / 2.0, 2.0 / ratio)) > TEMPO_RATIO:  # or at double time
                out.append(f"reference {ref.name}: {ref.tempo_bpm:.0f} BPM against this song's "
                           f"{song.tempo_bpm:.0f} BPM; a song of another tempo range is often "
                           "balanced differently")
        missing = sorted(set(song.units) - set(ref.units))
        if missing:
            out.append(f"reference {ref.name} has no {', '.join(missing)}: a different "
                       "arrangement, perhaps another genre; those parts keep the plan's own "
                       "balance" + (" unless another reference has them" if len(references) > 1
                                    else ""))
        usable = _content(song.octave_db) & _content(ref.octave_db)
        diff = np.asarray(ref.octave_db)[usable] - np.asarray(song.octave_db)[usable]
        distance = float(np.sqrt(np.mean((diff - np.median(diff)) ** 2))) if diff.size else 0.0
        if distance > TONAL_WARNING_DB:
            out.append(f"reference {ref.name}: its tonal balance is {distance:.1f} dB (RMS over "
                       "octave bands) from this song's, a clearly different sound, perhaps "
                       "another genre; the tonal moves are capped at "
                       f"+-{MAX_STEM_EQ_DB:g} dB per band")
    return out


def reference_moves(song: BalanceProfile, references: list[BalanceProfile], *, sr: int,
                    highpass_hz: dict[str, float], focus_db: dict[str, float] | None = None
                    ) -> ReferenceMoves:
    """Balance and tonal moves of ``song``'s stems and master toward ``references``.

    ``highpass_hz`` is each stem's high-pass cutoff (Hz): bands below 1.5 times it are not
    matched. ``focus_db`` is an extra gain (dB) of the stems kept in front, on top of their
    match. Deterministic; see the module docstring for the rules.
    """
    focus_db = focus_db or {}
    targets = unit_targets(references)
    moves = ReferenceMoves(warnings=_warnings(song, references))
    n = len(references)
    shared = [u for u in song.units if u in targets]
    offset = -float(np.mean([targets[u].level_db - song.units[u].level_db for u in shared])) \
        if shared else 0.0
    predicted = np.zeros(len(OCTAVE_CENTRES_HZ))
    estimates: dict[str, tuple[float, float]] = {}
    for unit, ours in song.units.items():
        target = targets.get(unit)
        if target is None:
            predicted += 10.0 ** ((ours.power_db + np.asarray(ours.octave_db)) / 10.0)
            for stem in ours.stems:
                moves.reasons[stem] = [f"{stem}: no reference has its part ({unit}); balance "
                                       "and tonal balance left to the rest of the plan"]
            continue
        floor = 1.5 * max(highpass_hz.get(s, 0.0) for s in ours.stems)
        usable = np.asarray(OCTAVE_CENTRES_HZ) >= floor
        correction = tonal_correction(ours.octave_db, target.octave_db, usable=usable,
                                      limit_db=MAX_STEM_EQ_DB)
        eq = matching_eq(correction, OCTAVE_CENTRES_HZ, sr) \
            if np.abs(correction).max() >= MIN_EQ_DB else []
        response = band_response_db(eq, OCTAVE_CENTRES_HZ, sr)
        eq_level = _loudness_db(ours.octave_db, response, sr)
        move = target.level_db - ours.level_db + offset
        gain = round(float(np.clip(move - eq_level, -MAX_GAIN_DB, MAX_GAIN_DB)), 2)
        estimates[unit] = (round(move, 2), round(eq_level, 2))
        predicted += 10.0 ** ((ours.power_db + gain + np.asarray(ours.octave_db) + response)
                              / 10.0)
        spread = (f" (spread {target.spread_db:.1f} LU over the {target.count} that have it)"
                  if target.count > 1 else "")
        rest = (f"; {target.rest_db:+.1f} LU against the rest there, {ours.rest_db:+.1f} here"
                if target.rest_db is not None and ours.rest_db is not None else "")
        members = f" (with {', '.join(ours.stems)})" if len(ours.stems) > 1 else ""
        for stem in ours.stems:
            extra = focus_db.get(stem, 0.0)
            moves.gains[stem] = round(gain + extra, 2)
            moves.eq[stem] = list(eq)
            why = [f"{stem} {gain + extra:+.1f} dB: {_the(n)} put{'s' * (n == 1)} {unit}{members} at "
                   f"{target.level_db:+.1f} LU re the mix{spread}, it sits at "
                   f"{ours.level_db:+.1f} LU here{rest}; moved by {move:+.1f} dB once the "
                   f"units are centred ({offset:+.1f} dB)"
                   + (f", {eq_level:+.1f} dB of it by the tonal match (estimated)"
                      if abs(eq_level) >= 0.05 else "")
                   + (f"; +{extra:.1f} dB on top as the focus" if extra else "")]
            if eq:
                why.append(f"{stem}: tonal match to {_the(n, possessive=True)} {unit}: "
                           f"{_band_text(correction)} "
                           f"(octave bands, at most +-{MAX_STEM_EQ_DB:g} dB, "
                           f"{len(eq)} one-octave PeakFilters)")
            moves.reasons[stem] = why
    total = 10.0 * np.log10(predicted.sum() + 1e-30)
    moves.master_eq, text = master_match(10.0 * np.log10(predicted + 1e-30) - total, references,
                                         sr, how="predicted from the units' bands")
    moves.master_reasons.append(text)
    song_lra, ref_lra = song.lra_lu, float(np.mean([r.lra_lu for r in references]))
    moves.glue = song_lra > ref_lra + LRA_MARGIN_LU
    moves.master_reasons.append(
        f"master: glue compression {'kept' if moves.glue else 'left out'}: the song's loudness "
        f"range {song_lra:.1f} LU against {_the(n, possessive=True)} {ref_lra:.1f} LU")
    loud = [ref.loudness_lufs for ref in references]
    moves.master_reasons.append(
        f"references: {', '.join(r.name for r in references)}: {np.mean(loud):.1f} LUFS "
        f"integrated, LRA {np.mean([r.lra_lu for r in references]):.1f} LU, width "
        f"{np.mean([r.width for r in references]):.2f} (this song: {song.loudness_lufs:.1f} "
        f"LUFS, LRA {song.lra_lu:.1f} LU, width {song.width:.2f}); the loudness target stays "
        "the plan's")
    moves.master_reasons += [f"warning: {w}" for w in moves.warnings]
    moves.summary = {
        "references": [r.name for r in references],
        "units": {u: {"stems": song.units[u].stems, "level_db": song.units[u].level_db,
                      "reference_level_db": round(targets[u].level_db, 2),
                      "spread_db": round(targets[u].spread_db, 2), "move_db": estimates[u][0],
                      "chain_level_db": estimates[u][1],
                      "gain_db": moves.gains.get(song.units[u].stems[0], 0.0)}
                  for u in shared},
        "loudness_lufs": [r.loudness_lufs for r in references],
        "focus_db": {stem: db for stem, db in focus_db.items() if stem in moves.gains},
        "warnings": list(moves.warnings)}
    return moves


def calibrate(plan: Plan, comparison: ReferenceComparison, analysis: Analysis,
              processed: dict, mix, sr: int) -> Plan:
    """Correct ``plan``'s moves by what a trial render of it measured (in place, and returned).

    The plan cannot know beforehand what its EQ and compression do to each unit's loudness, nor
    what its bus returns and the loudness stage do to the mix's tonal balance: ``processed``
    (the trial's processed stems, arrays ``(channels, samples)`` at ``sr`` Hz or signals) give
    each unit's level
    re their sum, whose distance from the references' (less its mean: only the balance counts)
    is taken off its stems' gains; ``mix`` (the trial's mastered mix) gives what is left of the
    tonal distance to the references, added to the master's tonal match.
    """
    summary = plan.extra["reference"]
    n = len(comparison.references)
    targets = unit_targets(comparison.references)
    units = {u: b.stems for u, b in comparison.song.units.items()}
    # the focus boost stays on top; each stem scaled as it is read (MixSignal of one part)
    unboosted = {name: MixSignal({name: as_signal(audio, sr)}, gains={
        name: 10.0 ** (-summary["focus_db"].get(name, 0.0) / 20.0)})
        for name, audio in processed.items()}
    trial = measure_balance("trial", unboosted, sr, analysis, units)
    shared = [u for u in summary["units"] if u in trial.units]
    errors = {u: trial.units[u].level_db - targets[u].level_db for u in shared}
    mean = float(np.mean(list(errors.values()))) if errors else 0.0
    for unit in shared:
        delta = round(mean - errors[unit], 2)
        info = summary["units"][unit]
        for name in info["stems"]:
            stem = plan.stems[name]
            before = stem.gain_db
            stem.gain_db = round(float(np.clip(before + delta, -MAX_GAIN_DB, MAX_GAIN_DB)), 2)
            if abs(delta) >= 0.05:
                rest = stem.reasons[0].partition(": ")[2]
                stem.reasons[0] = f"{name} {stem.gain_db:+.1f} dB: {rest}"
                stem.reasons.insert(1, f"{name}: {delta:+.1f} dB of that measured: a trial render "
                                       f"of the plan at {before:+.1f} dB put {unit} "
                                       f"{-delta:+.1f} dB from {_the(n, possessive=True)} balance "
                                       "(what its EQ and compression do to its loudness)")
        info["gain_db"] = plan.stems[info["stems"][0]].gain_db
        info["trial_error_db"] = round(errors[unit] - mean, 2)
    current = band_response_db([s for s in plan.master.chain if _is_match(s)],
                               OCTAVE_CENTRES_HZ, sr)
    eq, text = master_match(tonal_balance(mix, sr)[0], comparison.references, sr,
                            how="measured on a trial render, mastered", start_db=current)
    glue = any(_is_glue(spec) for spec in plan.master.chain)
    plan.master.chain = master_toward(plan.master.chain, eq, glue=glue)
    plan.master.reasons = [text if r.startswith(MASTER_EQ_REASON) else r
                           for r in plan.master.reasons]
    return plan


def master_match(octave_db, references: list[BalanceProfile], sr: int, *, how: str,
                 start_db: np.ndarray | None = None) -> tuple[list[PluginSpec], str]:
    """The master EQ that moves a mix of octave balance ``octave_db`` (dB re total power) to the
    references' mean, at most +-:data:`MAX_MASTER_EQ_DB` per band, and its reason (``how``
    says where ``octave_db`` came from); ``start_db`` is the band response of a master EQ the
    mix already went through, which the new one replaces."""
    n = len(references)
    wanted = np.mean([ref.octave_db for ref in references], axis=0)
    start = np.zeros(wanted.size) if start_db is None else np.asarray(start_db)
    correction = np.clip(start + tonal_correction(octave_db, wanted, usable=np.ones(
        wanted.size, bool), limit_db=2 * MAX_MASTER_EQ_DB), -MAX_MASTER_EQ_DB, MAX_MASTER_EQ_DB)
    if np.abs(correction).max() < MIN_EQ_DB:
        return [], (f"{MASTER_EQ_REASON}: none needed, the mix ({how}) is within {MIN_EQ_DB} "
                    f"dB per octave band of {_the(n, possessive=True)} tonal balance")
    return (matching_eq(correction, OCTAVE_CENTRES_HZ, sr),
            f"{MASTER_EQ_REASON} to {_the(n, possessive=True)} mix: {_band_text(correction)} (the mix "
            f"{how}; at most +-{MAX_MASTER_EQ_DB:g} dB per octave band), in place of the "
            "default air shelf")


def _is_match(spec: PluginSpec) -> bool:
    return spec.plugin == "PeakFilter" and spec.params.get("q") == OCTAVE_Q


def master_toward(chain: list[PluginSpec], eq: list[PluginSpec], *, glue: bool = True
                  ) -> list[PluginSpec]:
    """The master ``chain`` with the tonal match ``eq`` in place of its air shelf (the default
    chain's ``HighShelfFilter``) or of an earlier match, after its first plugin (the sub-sonic
    high-pass), and without its glue compressor unless ``glue``."""
    kept = [s for s in chain if s.plugin != "HighShelfFilter" and not _is_match(s)
            and (glue or not _is_glue(s))]
    return kept[:1] + list(eq) + kept[1:]


def _is_glue(spec: PluginSpec) -> bool:
    return spec.plugin == "Compressor" and not is_peak_control(spec)
