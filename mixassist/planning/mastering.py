"""The master chain in plan form, and which plugins of a chain are the loudness stage's.

The plan side of mastering: :func:`master_chain` is what :func:`~.predict.predict_plan` writes
into a plan's ``master``; the loudness stage that renders it to the target (gain, peak control,
limiter, re-measured until the target is met) is :func:`mixassist.rendering.master.reach_target`.
"""

from __future__ import annotations

import math

from .plan import PluginSpec
from .targets import Target

#: The peak-control compressor (pedalboard ``Compressor`` parameters, threshold aside): an attack
#: at the plugin's minimum catches transients a 1 ms attack lets through; 30 ms release recovers
#: between drum hits; 4:1 keeps the gain reduction proportional rather than a second limiter.
PEAK_CONTROL = {"ratio": 4.0, "attack_ms": 0.01, "release_ms": 30.0}
#: A ``Compressor`` directly before the final limiter with an attack this short or shorter is the
#: loudness stage's peak control (:func:`split_loudness_stage`); a glue compressor is slower.
PEAK_CONTROL_MAX_ATTACK_MS = 1.0
#: The limiter's ceiling sits this far below the target's true-peak ceiling (dB) to start with.
CEILING_MARGIN_DB = 0.3
LOUDNESS_REASON = "loudness:"
MISSED = "loudness: target missed:"


def master_chain(target: Target, *, mix_lufs: float = -20.0, sample_rate: int | None = None,
                 true_peak: bool = False) -> list[PluginSpec]:
    """A gentle default master chain in plan form, ending with the loudness stage's limiter.

    Sub-sonic high-pass (25 Hz), a 1 dB air shelf (10 kHz, or 0.4 ``sample_rate`` when that is
    lower), a 2:1 glue compressor whose threshold sits 4 dB above the mix loudness ``mix_lufs``
    (LUFS, before mastering) so it only touches the peaks, and a ``BrickwallLimiter`` at the
    target's true-peak ceiling minus :data:`CEILING_MARGIN_DB`. ``sample_rate`` (Hz) is the rate
    of the audio the chain will process; without it the air shelf is left out, so the chain is
    valid at any rate. ``true_peak`` turns on the limiter's 4x-oversampled detector (about 5x
    slower; the loudness stage turns it on itself when inter-sample peaks need it). Peak control
    is not part of the default chain: the loudness stage adds it when the target needs it
    (:func:`reach_target`).
    """
    shelf = [] if sample_rate is None else [
        PluginSpec("HighShelfFilter", {"cutoff_frequency_hz": min(10_000.0, 0.4 * sample_rate),
                                       "gain_db": 1.0, "q": 0.7071067690849304})]
    return [
        PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 25.0}),
        *shelf,
        PluginSpec("Compressor", {"threshold_db": float(min(0.0, max(-60.0, mix_lufs + 4.0))),
                                  "ratio": 2.0, "attack_ms": 30.0, "release_ms": 150.0}),
        limiter_spec(target, true_peak=true_peak),
    ]


def limiter_spec(target: Target, *, true_peak: bool = False) -> PluginSpec:
    """The loudness stage's limiter for ``target`` in plan form."""
    return PluginSpec("BrickwallLimiter", {
        "ceiling_db": target.true_peak_dbtp - CEILING_MARGIN_DB, "release_ms": 100.0,
        "lookahead_ms": 5.0, "true_peak": true_peak})


def peak_control_spec(threshold_db: float) -> PluginSpec:
    """The loudness stage's peak-control compressor (:data:`PEAK_CONTROL`) in plan form."""
    return PluginSpec("Compressor", {"threshold_db": float(threshold_db), **PEAK_CONTROL})


def split_limiter(chain: list[PluginSpec]) -> tuple[list[PluginSpec], PluginSpec | None]:
    """Split a master chain into what comes before its final ``BrickwallLimiter``, and that."""
    if chain and chain[-1].plugin == "BrickwallLimiter":
        return chain[:-1], chain[-1]
    return chain, None


def is_peak_control(spec: PluginSpec) -> bool:
    """True for a compressor fast enough to be the loudness stage's peak control."""
    return (spec.plugin == "Compressor"
            and float(spec.params.get("attack_ms", math.inf)) <= PEAK_CONTROL_MAX_ATTACK_MS)


def split_loudness_stage(chain: list[PluginSpec]) -> tuple[list[PluginSpec], list[PluginSpec]]:
    """Split a master chain into the plan's own processing and the loudness stage's plugins.

    The loudness stage is the final ``BrickwallLimiter`` and the peak-control compressors
    (:func:`is_peak_control`) directly before it; without a final limiter it is empty. Its
    plugins are part of reaching the target, so ``amount`` does not blend them
    (:mod:`~mixassist.planning.amount`).
    """
    before, limiter = split_limiter(chain)
    if limiter is None:
        return list(chain), []
    start = len(before)
    while start > 0 and is_peak_control(before[start - 1]):
        start -= 1
    return before[:start], before[start:] + [limiter]


def is_loudness_reason(reason: str) -> bool:
    """True for the reasons the loudness stage writes (they are replaced on every render)."""
    return reason.startswith(LOUDNESS_REASON)
