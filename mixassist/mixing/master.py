"""Mastering to a loudness target: the master chain in plan form and the loudness stage.

The loudness stage is gain into a brick-wall limiter (``pedalboard.BrickwallLimiter``: lookahead,
no makeup gain, configurable ceiling; not ``pedalboard.Limiter``, which adds makeup gain and
hard-clips, pedalboard issue 369), repeated until the integrated loudness (ITU-R BS.1770-4) is
within ``tolerance_lu`` of the target and the true peak (BS.1770-4 Annex 2) is at or below the
ceiling: measure, gain, limit, re-measure.

Loud targets need the limiter to shave peaks; how much is measured as *peak limiting*, the
sample peak of the gained signal above the limiter's ceiling (dB). When reaching the target
would need more than ``max_limiting_db`` of it, the stage stops there and says so in its
reasons with the numbers (``"loudness: target missed: ..."``). Output is float and never
clipped; its true peak is verified after limiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..loudness import integrated_loudness, measure_loudness
from .plan import PluginSpec
from .plugins import build_plugin
from .targets import Target

#: Default largest peak limiting (dB) the loudness stage may apply before giving up on the target.
MAX_LIMITING_DB = 6.0
#: Tolerance on the integrated loudness (LU), CONTRACT-level promise.
TOLERANCE_LU = 0.5
#: The limiter's ceiling sits this far below the target's true-peak ceiling (dB) to start with.
CEILING_MARGIN_DB = 0.3
#: Loudness iterations aim this close (LU), well inside the tolerance.
_AIM_LU = 0.05
_MAX_ITERATIONS = 6
#: Rounds of (loudness passes, then one full measurement with the true peak).
_ROUNDS = 3
_REASON = "loudness:"
MISSED = "loudness: target missed:"


def master_chain(target: Target, *, mix_lufs: float = -20.0, sample_rate: int | None = None,
                 true_peak: bool = False) -> list[PluginSpec]:
    """A gentle default master chain in plan form, ending with the loudness stage's limiter.

    Sub-sonic high-pass (25 Hz), a 1 dB air shelf (10 kHz, or 0.4 ``sample_rate`` when that is
    lower), a 2:1 glue compressor whose threshold sits 4 dB above the mix loudness ``mix_lufs``
    (LUFS, before mastering) so it only touches the peaks, and a ``BrickwallLimiter`` at the
    target's true-peak ceiling minus :data:`CEILING_MARGIN_DB`. ``true_peak`` turns on the
    limiter's 4x-oversampled detector (about 10x slower; the loudness stage measures the true
    peak and corrects it either way).
    """
    shelf_hz = 10_000.0 if sample_rate is None else min(10_000.0, 0.4 * sample_rate)
    return [
        PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 25.0}),
        PluginSpec("HighShelfFilter", {"cutoff_frequency_hz": shelf_hz, "gain_db": 1.0,
                                       "q": 0.7071067690849304}),
        PluginSpec("Compressor", {"threshold_db": float(min(0.0, max(-60.0, mix_lufs + 4.0))),
                                  "ratio": 2.0, "attack_ms": 30.0, "release_ms": 150.0}),
        limiter_spec(target, true_peak=true_peak),
    ]


def limiter_spec(target: Target, *, true_peak: bool = False) -> PluginSpec:
    """The loudness stage's limiter for ``target`` in plan form."""
    return PluginSpec("BrickwallLimiter", {
        "ceiling_db": target.true_peak_dbtp - CEILING_MARGIN_DB, "release_ms": 100.0,
        "lookahead_ms": 5.0, "true_peak": true_peak})


def split_limiter(chain: list[PluginSpec]) -> tuple[list[PluginSpec], PluginSpec | None]:
    """Split a master chain into what comes before its final ``BrickwallLimiter``, and that."""
    if chain and chain[-1].plugin == "BrickwallLimiter":
        return chain[:-1], chain[-1]
    return chain, None


@dataclass
class MasterResult:
    """What the loudness stage did: gain and peak limiting (dB), the result, and why.

    ``loudness`` is :func:`mixassist.loudness.measure_loudness` of the mastered audio.
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
    cap is hit; a limiter that limits all the time stops getting louder, so the pass closest to
    the target is kept. Returns ``(out, gain_db, lufs, capped, passes)``; when the limiter has
    nothing to do, ``lufs`` is predicted as ``predicted_lufs + gain`` (BS.1770 loudness moves
    with a plain gain, up to the absolute gate)."""
    best = None
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
        gain += target.lufs - lufs
    return (*best, passes)


def reach_target(audio: np.ndarray, sr: int, target: Target, *, limiter: PluginSpec | None = None,
                 max_limiting_db: float = MAX_LIMITING_DB, tolerance_lu: float = TOLERANCE_LU,
                 ) -> tuple[np.ndarray, MasterResult]:
    """Bring ``audio`` to ``target`` loudness with its true peak at or below the target ceiling.

    Peak limiting is measured on sample peaks (the limiter's own detector unless its
    ``true_peak`` is on); the true peak of the result is measured once per round and, when the
    limiter let an inter-sample peak through, the ceiling is lowered by the overshoot and the
    round repeated (at most :data:`_ROUNDS` rounds, then plain gain down).

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

    Returns
    -------
    mastered : np.ndarray [shape=(channels, samples), dtype=float32]
    result : :class:`MasterResult`
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
    source_peak = _peak_db(audio)
    gain = target.lufs - source_lufs
    passes, bias = 0, 0.0
    for _ in range(_ROUNDS):
        out, gain, lufs, capped, n = _loudness_loop(audio, sr, target, spec, ceiling, gain,
                                                    source_peak, source_lufs + bias,
                                                    max_limiting_db)
        passes += n
        report = measure_loudness(out, sr)
        peak, measured = report["true_peak_dbtp"], report["integrated_lufs"]
        if peak > target.true_peak_dbtp:
            ceiling -= peak - target.true_peak_dbtp + 0.05  # inter-sample overshoot
        elif (abs(measured - lufs) > _AIM_LU and abs(target.lufs - measured) > _AIM_LU
              and not capped):
            bias += measured - lufs  # plain gain moved blocks across the -70 LUFS gate
            gain += target.lufs - measured
        else:
            break
    if peak > target.true_peak_dbtp:  # last resort: plain gain down, which cannot raise a peak
        trim = target.true_peak_dbtp - peak - 0.01
        out *= np.float32(10.0 ** (trim / 20.0))
        gain += trim
        report = measure_loudness(out, sr)
        peak = report["true_peak_dbtp"]
    lufs = report["integrated_lufs"]
    limiting = max(0.0, source_peak + gain - ceiling)
    reached = abs(target.lufs - lufs) <= tolerance_lu
    reasons = [f"{_REASON} {gain:+.1f} dB gain and {limiting:.1f} dB of peak limiting (ceiling "
               f"{ceiling:.2f} dBFS) bring the mix from {source_lufs:.1f} to {lufs:.1f} LUFS "
               f"(target {target.name}: {target.lufs:g} LUFS), true peak {peak:.1f} dBTP "
               f"(ceiling {target.true_peak_dbtp:g} dBTP)"]
    if not reached and capped:
        reasons.append(f"{MISSED} {target.lufs:g} LUFS needs more than the allowed "
                       f"{max_limiting_db:g} dB of peak limiting; stopped there at {lufs:.1f} LUFS "
                       f"({lufs - target.lufs:+.1f} LU). Allow more limiting, compress the mix "
                       "harder, or choose a quieter target")
    elif not reached:
        reasons.append(f"{MISSED} the limiter stopped getting louder at {lufs:.1f} LUFS "
                       f"({lufs - target.lufs:+.1f} LU; {limiting:.1f} dB of peak limiting): it is "
                       "limiting all the time. Compress the mix harder or choose a quieter target")
    return out, MasterResult(target, gain, limiting, ceiling, lufs, peak, passes, reached,
                             reasons, report)


def is_loudness_reason(reason: str) -> bool:
    """True for the reasons the loudness stage writes (they are replaced on every render)."""
    return reason.startswith(_REASON)
