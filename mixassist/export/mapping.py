"""How the plan's pedalboard plugins map onto REAPER's stock plugins (the table of docs/export.md).

:data:`FX_MAP` is the table: per pedalboard plugin, the REAPER plugin, whether its state is
written into the session (``written=True``: a ReaEQ band, :mod:`.reaeq`) or only listed in the
session's notes with the values to dial in, and per parameter the REAPER control, its unit and
the conversion. :func:`bandwidth_oct` converts a filter's Q to the bandwidth in octaves that
ReaEQ shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

#: Q of the 2nd-order Butterworth high-pass used for pedalboard's 1st-order ``HighpassFilter``.
BUTTERWORTH_Q = 1.0 / math.sqrt(2.0)


def bandwidth_oct(q: float) -> float:
    """Bandwidth (octaves) of a band of quality factor ``q``: ``2 asinh(1 / (2 q)) / ln 2``
    (R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients", the
    relation of Q and BW for peaking filters)."""
    return 2.0 * math.asinh(1.0 / (2.0 * q)) / math.log(2.0)


def _db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


@dataclass(frozen=True)
class ParamMap:
    """One parameter: pedalboard's name (with its unit), REAPER's control and unit, the formula."""

    source: str
    target: str
    unit: str
    convert: Callable[[float], float]
    formula: str


@dataclass(frozen=True)
class FxMap:
    """A pedalboard plugin's REAPER counterpart; ``band`` is the ReaEQ band type for EQ plugins."""

    reaper: str
    written: bool
    params: tuple[ParamMap, ...]
    band: str | None = None
    note: str = ""


_FREQ = ParamMap("cutoff_frequency_hz", "Frequency", "Hz", float, "same")
_GAIN = ParamMap("gain_db", "Gain", "dB", float, "same (stored as 10^(dB/20))")
_BW = ParamMap("q", "Bandwidth", "oct", bandwidth_oct, "2 asinh(1/(2 Q)) / ln 2")

FX_MAP: dict[str, FxMap] = {
    "PeakFilter": FxMap("ReaEQ", True, (_FREQ, _GAIN, _BW), band="band"),
    "LowShelfFilter": FxMap("ReaEQ", True, (_FREQ, _GAIN, _BW), band="low_shelf",
                            note="shelf Q converted like a band's; the shelf's slope may differ"),
    "HighShelfFilter": FxMap("ReaEQ", True, (_FREQ, _GAIN, _BW), band="high_shelf",
                             note="shelf Q converted like a band's; the shelf's slope may differ"),
    "HighpassFilter": FxMap(
        "ReaEQ", True, (_FREQ,), band="high_pass",
        note=f"pedalboard's is 1st order (6 dB/oct); ReaEQ's high pass is 2nd order (12 dB/oct), "
             f"written with bandwidth {bandwidth_oct(BUTTERWORTH_Q):.2f} oct (Q 0.707, "
             "Butterworth): both -3 dB at the cutoff, ReaEQ's steeper below it"),
    "LowpassFilter": FxMap(
        "ReaEQ", True, (_FREQ,), band="low_pass",
        note="1st order in pedalboard, 2nd order (Q 0.707) in ReaEQ, as for the high pass"),
    "Compressor": FxMap("ReaComp", False, (
        ParamMap("threshold_db", "Thresh", "dB", float, "same"),
        ParamMap("ratio", "Ratio", ":1", float, "same"),
        ParamMap("attack_ms", "Attack", "ms", float, "same"),
        ParamMap("release_ms", "Release", "ms", float, "same")),
        note="detectors differ (pedalboard: peak, hard knee); ReaComp's defaults otherwise"),
    "Reverb": FxMap("ReaVerbate", False, (
        ParamMap("room_size", "Room size", "%", lambda v: 100.0 * v, "x 100"),
        ParamMap("damping", "Dampening", "%", lambda v: 100.0 * v, "x 100"),
        ParamMap("wet_level", "Wet", "dB", _db, "20 log10"),
        ParamMap("dry_level", "Dry", "dB", _db, "20 log10"),
        ParamMap("width", "Stereo width", "%", lambda v: 100.0 * v, "x 100")),
        note="pedalboard's is Freeverb; ReaVerbate is another algorithm: similar, not equal"),
    "Delay": FxMap("ReaDelay", False, (
        ParamMap("delay_seconds", "Length (time)", "ms", lambda v: 1000.0 * v, "x 1000"),
        ParamMap("feedback", "Feedback", "dB", _db, "20 log10"),
        ParamMap("mix", "Wet", "dB", _db, "20 log10 (dry: 20 log10(1 - mix))")),
        note="one tap, no filters"),
    "BrickwallLimiter": FxMap("ReaLimit", False, (
        ParamMap("ceiling_db", "Ceiling", "dB", float, "same"),
        ParamMap("release_ms", "Release", "ms", float, "same")),
        note="the loudness stage's limiter; its make-up gain is the plan's Gain before it"),
    "Gain": FxMap("JS: Volume Adjustment", False, (
        ParamMap("gain_db", "Adjustment", "dB", float, "same"),)),
}


def describe(plugin: str, params: dict) -> str:
    """One line: the REAPER plugin and the values to set, e.g. ``ReaComp: Thresh -18 dB, ...``."""
    fx = FX_MAP.get(plugin)
    if fx is None:
        listed = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                           for k, v in params.items())
        return f"{plugin} (no REAPER plugin mapped): {listed or 'defaults'}"
    parts = []
    for p in fx.params:
        if p.source in params:
            value = p.convert(float(params[p.source]))
            sep = "" if p.unit.startswith(":") else " "
            parts.append(f"{p.target} {value:.4g}{sep}{p.unit}")
    if plugin == "Delay" and "mix" in params:
        parts.append(f"Dry {_db(1.0 - float(params['mix'])):.4g} dB")
    return f"{fx.reaper}: {', '.join(parts) or 'defaults'}"
