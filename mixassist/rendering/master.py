"""Mastering to a loudness target: the loudness stage (the master chain in plan form, and the
parts of a chain that are the loudness stage's, are :mod:`mixassist.planning.mastering`).

The loudness stage is gain into a brick-wall limiter (``pedalboard.BrickwallLimiter``: lookahead,
no makeup gain, configurable ceiling; not ``pedalboard.Limiter``, which adds makeup gain and
hard-clips, pedalboard issue 369), repeated until the integrated loudness (ITU-R BS.1770-4) is
within ``tolerance_lu`` of the target and the true peak (BS.1770-4 Annex 2) is at or below the
ceiling: measure, gain, limit, re-measure.

Loud targets need the limiter to shave peaks; how much is measured as *peak limiting*, the
peak of the gained signal as the limiter's detector sees it (sample peak, or true peak once the
stage has switched the detector on because inter-sample peaks got through) above its ceiling
(dB), and it is capped at ``max_limiting_db``. Transient-heavy mixes (drums) have a
peak-to-loudness ratio (PLR, sample peak dBFS minus integrated LUFS) too high for a loud target
within that cap. A mastering engineer then lowers the PLR before the limiter; the stage does the
same with *peak control*: a fast ``Compressor`` (:data:`PEAK_CONTROL`: near-instant attack,
4:1, short release) right before the limiter, whose threshold is found by bisection on the
measured PLR of the compressed mix. Its own budget is ``max_peak_control_db``, the gain
reduction its static curve applies to the mix's highest sample peak, ``(peak - threshold)
(1 - 1/ratio)`` dB. ``benchmarks/master_distortion.py`` measures what it costs: on a sine 26 dB
under a drum loop pushed 1.5-3 LU louder than the limiter alone gets, the sine's harmonics stay
58-70 dB under it and the gain riding (pumping) is 5-8 dB lower than with the limiter alone.
Hard clipping (``pedalboard.Clipping``) to the same PLR was as clean on the sine but the
limiter after it stopped 0.2-1.2 LU short of the compressor's loudness.

When the target needs more than both budgets, the stage stops there and says so in its reasons
with the numbers (``"loudness: target missed: ..."``). Output is float and never clipped; its
true peak is verified after limiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..loudness import integrated_loudness, measure_loudness, true_peak_dbtp
from ..planning.mastering import (  # noqa: F401  (the plan side of mastering, re-exported)
    CEILING_MARGIN_DB, LOUDNESS_REASON, MISSED, PEAK_CONTROL, PEAK_CONTROL_MAX_ATTACK_MS,
    is_loudness_reason, is_peak_control, limiter_spec, master_chain, peak_control_spec,
    split_limiter, split_loudness_stage)
from ..planning.plan import PluginSpec
from ..planning.targets import Target
from .plugins import build_plugin

#: Default largest peak limiting (dB) the loudness stage may apply before giving up on the target.
MAX_LIMITING_DB = 6.0
#: Default largest gain reduction (dB) of the peak-control compressor on the mix's highest peak.
MAX_PEAK_CONTROL_DB = 6.0
#: Tolerance on the integrated loudness (LU), CONTRACT-level promise.
TOLERANCE_LU = 0.5
#: A sample-peak limiter whose output overshoots the true-peak ceiling by more than this (dB)
#: switches to its true-peak detector.
MAX_SAMPLE_PEAK_OVERSHOOT_DB = 0.3
#: Loudness iterations aim this close (LU), well inside the tolerance.
_AIM_LU = 0.05
_MAX_ITERATIONS = 6
#: Rounds of (loudness passes, then one full measurement with the true peak).
_ROUNDS = 3
#: PLR (dB) the peak-control search first leaves for the loudness the limiter itself takes away.
_LIMITER_LOSS_DB = 1.0
#: Peak-control attempts: each searches again for a PLR lower by the last attempt's shortfall
#: (LU) over the loudness won per dB of PLR so far (secant), by at least :data:`_MIN_STEP_DB`.
_PEAK_CONTROL_TRIES = 3
_MIN_STEP_DB = 0.25
#: Peak control is searched (again) while the result is this far (LU) or more below the target.
_RETRY_LU = 0.2
#: Bisection steps of the peak-control threshold search (resolution: the depth range / 2^steps).
_SEARCH_STEPS = 7


@dataclass
class MasterResult:
    """What the loudness stage did: gain, peak limiting and peak control (dB), the result, why.

    ``loudness`` is :func:`mixassist.loudness.measure_loudness` of the mastered audio.
    ``peak_control`` is the compressor the stage put before the limiter (None: not needed) and
    ``peak_control_db`` its gain reduction on the mix's highest sample peak (dB).
    """

    target: Target
    gain_db: float
    limiting_db: float
    ceiling_db: float
    integrated_lufs: float
    true_peak_dbtp: float
    iterations: int
    reached: bool
    reasons: list[str] = field(default_factory=list)
    loudness: dict = field(default_factory=dict)
    peak_control: PluginSpec | None = None
    peak_control_db: float = 0.0
    limiter: PluginSpec | None = None

    def rendered_chain(self, chain: list[PluginSpec]) -> list[PluginSpec]:
        """``chain`` (the plan's master chain this result was rendered with) with the stage's
        decisions written in, so that rendering the returned chain reproduces the mastered mix:
        the peak control inserted before the final limiter, and the limiter's detector set as
        used (``true_peak``; its ceiling is left to the target, which the stage lowers again
        from the measured overshoot)."""
        before, limiter = split_limiter(chain)
        before = list(before) + ([self.peak_control] if self.peak_control is not None else [])
        if self.limiter is None:
            return before + ([limiter] if limiter is not None else [])
        used = self.limiter.params.get("true_peak", False)
        if limiter is None:
            return before + [PluginSpec(self.limiter.plugin, self.limiter.params
                                        | {"ceiling_db": self.target.true_peak_dbtp
                                           - CEILING_MARGIN_DB})]
        return before + [PluginSpec(limiter.plugin, limiter.params | {"true_peak": used})]


def _peak_db(audio: np.ndarray) -> float:
    peak = float(np.max(np.abs(audio)))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def _limit(audio: np.ndarray, sr: int, gain_db: float, spec: PluginSpec, ceiling_db: float,
           peak_db: float) -> np.ndarray:
    """``audio`` gained by ``gain_db`` and limited at ``ceiling_db``; the limiter is skipped
    when the gained sample peak (``peak_db + gain_db``) stays under the ceiling anyway."""
    gained = audio * np.float32(10.0 ** (gain_db / 20.0))
    if peak_db + gain_db <= ceiling_db and not spec.params.get("true_peak", False):
        return gained
    limiter = build_plugin(spec.plugin, spec.params | {"ceiling_db": ceiling_db})
    return limiter(gained, sr)


def _loudness_loop(audio, sr, target, spec, ceiling, gain, source_peak, predicted_lufs,
                   max_limiting_db):
    """Gain and limit until the loudness is within :data:`_AIM_LU` of the target or the limiting
    cap is hit, stepping the gain by the secant of the last two passes (LU per dB, 0.2..1); a
    limiter that limits all the time stops getting louder, so the pass closest to
    the target is kept. Returns ``(out, gain_db, lufs, capped, passes)``; when the limiter has
    nothing to do, ``lufs`` is predicted as ``predicted_lufs + gain`` (BS.1770 loudness moves
    with a plain gain, up to the absolute gate)."""
    best, last = None, None
    for passes in range(1, _MAX_ITERATIONS + 1):
        capped = source_peak + gain - ceiling > max_limiting_db
        if capped:
            gain = ceiling + max_limiting_db - source_peak
        out = _limit(audio, sr, gain, spec, ceiling, source_peak)
        if source_peak + gain <= ceiling and not spec.params.get("true_peak", False):
            lufs = predicted_lufs + gain
        else:
            lufs = integrated_loudness(out, sr)
        if best is None or abs(target.lufs - lufs) < abs(target.lufs - best[2]):
            best = (out, gain, lufs, capped)
        if capped or abs(target.lufs - lufs) <= _AIM_LU:
            break
        # secant step: a limiter at work gives back less than 1 LU per dB of gain
        slope = 1.0 if last is None or abs(gain - last[0]) < 0.01 else \
            min(1.0, max(0.2, (lufs - last[1]) / (gain - last[0])))
        last = (gain, lufs)
        gain += (target.lufs - lufs) / slope
    return (*best, passes)


@dataclass
class _Run:
    """One gain-and-limit attempt on one input (:func:`_gain_and_limit`); ``limiter`` is the
    limiter as used (its ceiling and detector), ``detector_peak_db`` the input's peak as that
    detector sees it (dBFS; the true peak when ``true_peak`` is on)."""

    out: np.ndarray
    gain_db: float
    limiter: PluginSpec
    capped: bool
    passes: int
    source_lufs: float
    detector_peak_db: float
    report: dict

    @property
    def lufs(self) -> float:
        return self.report["integrated_lufs"]

    @property
    def ceiling_db(self) -> float:
        return self.limiter.params["ceiling_db"]

    @property
    def limiting_db(self) -> float:
        return max(0.0, self.detector_peak_db + self.gain_db - self.ceiling_db)


def _detector_peak_db(audio: np.ndarray, sr: int, spec: PluginSpec) -> float:
    """The peak of ``audio`` as the limiter ``spec`` detects it: true peak or sample peak, dB."""
    return true_peak_dbtp(audio, sr) if spec.params.get("true_peak", False) else _peak_db(audio)


def _gain_and_limit(audio, sr, target, spec, ceiling, max_limiting_db, source_lufs) -> _Run:
    """Gain and limit ``audio`` (LUFS ``source_lufs``) to ``target``; the true peak of the result
    is measured once per round. When the limiter let an inter-sample peak through, a sample-peak
    limiter that overshot by more than :data:`MAX_SAMPLE_PEAK_OVERSHOOT_DB` switches to its
    true-peak detector (BS.1770-4 Annex 2 oversampling; lowering its ceiling instead would spend
    the limiting budget on the overshoot), otherwise the ceiling is lowered by the overshoot,
    and the round is repeated (at most :data:`_ROUNDS` rounds after the switch, then plain gain
    down, which cannot raise a peak)."""
    detector_peak = _detector_peak_db(audio, sr, spec)
    gain = target.lufs - source_lufs
    passes, bias, rounds = 0, 0.0, 0
    while rounds < _ROUNDS:
        rounds += 1
        out, gain, lufs, capped, n = _loudness_loop(audio, sr, target, spec, ceiling, gain,
                                                    detector_peak, source_lufs + bias,
                                                    max_limiting_db)
        passes += n
        report = measure_loudness(out, sr)
        peak, measured = report["true_peak_dbtp"], report["integrated_lufs"]
        if peak > target.true_peak_dbtp + MAX_SAMPLE_PEAK_OVERSHOOT_DB \
                and not spec.params.get("true_peak", False):
            spec = PluginSpec(spec.plugin, spec.params | {"true_peak": True})
            detector_peak, rounds = true_peak_dbtp(audio, sr), 0
        elif peak > target.true_peak_dbtp:
            ceiling -= peak - target.true_peak_dbtp + 0.05  # inter-sample overshoot
        elif (abs(measured - lufs) > _AIM_LU and abs(target.lufs - measured) > _AIM_LU
              and not capped):
            bias += measured - lufs  # plain gain moved blocks across the -70 LUFS gate
            gain += target.lufs - measured
        else:
            break
    if peak > target.true_peak_dbtp:
        trim = target.true_peak_dbtp - peak - 0.01
        out *= np.float32(10.0 ** (trim / 20.0))
        gain += trim
        report = measure_loudness(out, sr)
    limiter = PluginSpec(spec.plugin, spec.params | {"ceiling_db": float(ceiling)})
    return _Run(out, gain, limiter, capped, passes, source_lufs, detector_peak, report)


def _plr_db(audio: np.ndarray, sr: int) -> tuple[float, float]:
    """Peak-to-loudness ratio (sample peak dBFS minus integrated LUFS, dB) and the loudness."""
    lufs = integrated_loudness(audio, sr)
    return _peak_db(audio) - lufs, lufs


def _search_peak_control(audio, sr, goal_plr_db, max_peak_control_db):
    """The highest peak-control threshold (least gain reduction) that brings the PLR of
    ``audio`` to ``goal_plr_db`` or below, by bisection on the threshold's depth under the
    sample peak; the deepest threshold within ``max_peak_control_db`` when none does. Returns
    ``(threshold_db, gain_reduction_db, compressed, plr_db, lufs)``, or None when no threshold
    within the budget and the plugin's -80..0 dBFS range exists."""
    peak = _peak_db(audio)
    slope = 1.0 - 1.0 / PEAK_CONTROL["ratio"]
    lo, hi = max(0.0, peak), min(max_peak_control_db / slope, peak + 80.0)
    if hi <= lo:
        return None

    def trial(depth: float):  # the threshold in the plan is rounded up to 0.01 dB
        spec = peak_control_spec(min(0.0, math.ceil((peak - depth) * 100.0) / 100.0))
        out = build_plugin(spec.plugin, spec.params)(audio, sr)
        return (peak - spec.params["threshold_db"], out, *_plr_db(out, sr))

    best = trial(hi)
    if best[2] <= goal_plr_db:
        for _ in range(_SEARCH_STEPS):
            mid = trial(0.5 * (lo + hi))
            if mid[2] <= goal_plr_db:
                best, hi = mid, mid[0]
            else:
                lo = mid[0]
    depth, out, plr, lufs = best
    return peak - depth, depth * slope, out, plr, lufs


def _lufs_per_plr_db(points: list[tuple[float, float]]) -> float:
    """LU of loudness won per dB of PLR taken off before the limiter, from the last two
    ``(plr_db, lufs)`` attempts (secant), within 0.25..1 (1 without two attempts: the limiter
    takes part of every dB back, so the true figure is smaller)."""
    if len(points) < 2 or points[-2][0] - points[-1][0] <= 0.05:
        return 1.0
    slope = (points[-1][1] - points[-2][1]) / (points[-2][0] - points[-1][0])
    return min(1.0, max(0.25, slope))


def reach_target(audio: np.ndarray, sr: int, target: Target, *, limiter: PluginSpec | None = None,
                 max_limiting_db: float = MAX_LIMITING_DB, tolerance_lu: float = TOLERANCE_LU,
                 max_peak_control_db: float = MAX_PEAK_CONTROL_DB,
                 ) -> tuple[np.ndarray, MasterResult]:
    """Bring ``audio`` to ``target`` loudness with its true peak at or below the target ceiling.

    Gain into the limiter first; when the target needs more than ``max_limiting_db`` of peak
    limiting (or the limiter stops getting louder), peak control (module docstring) lowers the
    peak-to-loudness ratio before the limiter: the threshold is searched so that the PLR leaves
    the limiter its budget less :data:`_LIMITER_LOSS_DB` for the loudness limiting takes away,
    and searched again with the shortfall added when the target is still missed. The attempt
    nearest the target is kept (the one with less processing on a tie). Peak limiting is
    measured on sample peaks (the limiter's own detector unless its ``true_peak`` is on).

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, samples), dtype=float32], the mix before the limiter.
    sr : sample rate, Hz.
    target : integrated loudness (LUFS) and true-peak ceiling (dBTP).
    limiter : the ``BrickwallLimiter`` spec to use (its ``ceiling_db`` is lowered to the target
        ceiling minus :data:`CEILING_MARGIN_DB` when above it); None uses :func:`limiter_spec`.
    max_limiting_db : most peak limiting (dB) allowed; the loudness stops short of the target
        there, and the reasons say so.
    tolerance_lu : the target is reached when the result is within this many LU.
    max_peak_control_db : most gain reduction (dB) of peak control on the highest sample peak;
        0 turns peak control off.

    Returns
    -------
    mastered : np.ndarray [shape=(channels, samples), dtype=float32]
    result : :class:`MasterResult`; ``result.rendered_chain(chain)`` writes its decisions into
        the plan's master chain.
    """
    spec = limiter or limiter_spec(target)
    ceiling = min(float(spec.params.get("ceiling_db", 0.0)),
                  target.true_peak_dbtp - CEILING_MARGIN_DB)
    source_lufs = integrated_loudness(audio, sr)
    if not math.isfinite(source_lufs):
        report = measure_loudness(audio, sr)
        reason = (f"{MISSED} the mix is silent (below the -70 LUFS gate), so no gain can reach "
                  f"{target.lufs:g} LUFS")
        return audio.copy(), MasterResult(target, 0.0, 0.0, ceiling, source_lufs,
                                          report["true_peak_dbtp"], 0, False, [reason], report)
    source_plr = _peak_db(audio) - source_lufs
    room = ceiling + max_limiting_db - target.lufs  # the largest PLR the limiter budget fits

    def missed(run: _Run) -> bool:  # short enough to try peak control (again)
        return target.lufs - run.lufs > _RETRY_LU

    runs: list[tuple[_Run, tuple | None]] = []
    if source_plr <= room or max_peak_control_db <= 0:  # the limiter alone may get there
        runs.append((_gain_and_limit(audio, sr, target, spec, ceiling, max_limiting_db,
                                     source_lufs), None))
    points = [(source_plr, runs[0][0].lufs)] if runs else []  # (PLR into the limiter, LUFS)
    goal = room - _LIMITER_LOSS_DB
    if runs:  # the limiter alone fell short: lower the PLR by that shortfall
        goal = min(goal, source_plr) - max(_MIN_STEP_DB, target.lufs - runs[0][0].lufs)
    tried, out_of_range = False, False
    while (not runs or missed(runs[-1][0])) and len(runs) < 1 + _PEAK_CONTROL_TRIES \
            and max_peak_control_db > 0:
        found = _search_peak_control(audio, sr, goal, max_peak_control_db)
        tried, out_of_range = True, found is None
        if found is None or (runs and runs[-1][1] is not None and found[0] == runs[-1][1][0]):
            break  # no threshold within the budget, or the same one again
        run = _gain_and_limit(found[2], sr, target, runs[-1][0].limiter if runs else spec,
                              ceiling, max_limiting_db, found[4])
        runs.append((run, found))
        points.append((found[3], run.lufs))
        goal = found[3] - max(_MIN_STEP_DB, (target.lufs - run.lufs) / _lufs_per_plr_db(points))
    if not runs:
        runs.append((_gain_and_limit(audio, sr, target, spec, ceiling, max_limiting_db,
                                     source_lufs), None))
    run, found = min(runs, key=lambda r: (round(abs(target.lufs - r[0].lufs), 2),
                                          0.0 if r[1] is None else r[1][1]))
    report, lufs = run.report, run.lufs
    peak = report["true_peak_dbtp"]
    reached = abs(target.lufs - lufs) <= tolerance_lu
    passes = sum(r.passes for r, _ in runs)
    detector = "true-peak" if run.limiter.params.get("true_peak", False) else "sample-peak"
    reasons = [f"{LOUDNESS_REASON} {run.gain_db:+.1f} dB gain and {run.limiting_db:.1f} dB of peak "
               f"limiting ({detector} detector, ceiling {run.ceiling_db:.2f} dBFS) bring the "
               f"mix from {source_lufs:.1f} to {lufs:.1f} LUFS (target {target.name}: "
               f"{target.lufs:g} LUFS), true peak {peak:.1f} dBTP (ceiling "
               f"{target.true_peak_dbtp:g} dBTP)"]
    peak_control, peak_control_db = None, 0.0
    if found is not None:
        threshold, peak_control_db, _, plr, _ = found
        peak_control = peak_control_spec(threshold)
        reasons.append(
            f"{LOUDNESS_REASON} peak control before the limiter: Compressor at {threshold:.1f} dBFS, "
            f"{PEAK_CONTROL['ratio']:g}:1, {PEAK_CONTROL['attack_ms']:g} ms attack, "
            f"{PEAK_CONTROL['release_ms']:g} ms release ({peak_control_db:.1f} dB gain reduction "
            f"on the highest peak, budget {max_peak_control_db:g} dB) lowers the "
            f"peak-to-loudness ratio from {source_plr:.1f} to {plr:.1f} dB, so that "
            f"{target.lufs:g} LUFS fits under the {ceiling:.1f} dBFS ceiling with at most "
            f"{max_limiting_db:g} dB of peak limiting. It is part of reaching the loudness "
            "target, so it applies at every amount, 0 included")
    if not reached:
        if found is not None:
            control = (f" after {peak_control_db:.1f} dB of peak control (budget "
                       f"{max_peak_control_db:g} dB)")
        elif out_of_range:
            control = (f" (peak control within {max_peak_control_db:g} dB would need a "
                       f"threshold above 0 dBFS: the mix peaks at {source_plr + source_lufs:+.1f}"
                       " dBFS; turn the mix down)")
        elif tried:
            control = " (peak control was tried and got no closer)"
        else:
            control = ""
        after = f", {found[3]:.1f} dB after peak control" if found is not None else ""
        if run.capped:
            reasons.append(
                f"{MISSED} {target.lufs:g} LUFS needs more than the allowed {max_limiting_db:g} "
                f"dB of peak limiting{control}; stopped there at {lufs:.1f} LUFS "
                f"({lufs - target.lufs:+.1f} LU; peak-to-loudness ratio {source_plr:.1f} dB"
                f"{after}). Allow more limiting, compress the mix harder, or choose "
                "a quieter target")
        else:
            reasons.append(
                f"{MISSED} the limiter stopped getting louder at {lufs:.1f} LUFS "
                f"({lufs - target.lufs:+.1f} LU; {run.limiting_db:.1f} dB of peak limiting"
                f"{control}): it is limiting all the time. Compress the mix harder or choose a "
                "quieter target")
    return run.out, MasterResult(target, run.gain_db, run.limiting_db, run.ceiling_db, lufs,
                                 peak, passes, reached, reasons, report, peak_control,
                                 peak_control_db, run.limiter)
