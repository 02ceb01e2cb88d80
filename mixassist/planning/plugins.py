"""The pedalboard plugins a plan may use, with each parameter's type, range and neutral value.

A plan names a plugin by its exact pedalboard class name and passes its keyword arguments
(CONTRACT.md), so a plan stays readable, editable and re-renderable. Parameter names and defaults
are read from pedalboard's own ``__init__`` signatures; the valid ranges are ours (pedalboard
checks only a few), chosen wide enough for any musical use and narrow enough to catch typos.

``neutral`` is the value at which a parameter does nothing; :func:`blend_params` moves a parameter
towards it when a plan is rendered at ``amount < 1`` (see :mod:`mixassist.planning.amount`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import pedalboard

from ..errors import PlanError


@dataclass(frozen=True)
class Param:
    """One keyword argument of a plugin.

    ``kind`` is ``"float"`` or ``"bool"``; ``low``/``high`` bound a float (inclusive);
    ``neutral`` is the value that does nothing (None: the parameter is kept as is when blending);
    ``log`` blends geometrically (frequencies).
    """

    name: str
    kind: str
    default: float | bool
    low: float = -math.inf
    high: float = math.inf
    neutral: float | None = None
    log: bool = False


# Ranges and neutral values by plugin, then parameter: (low, high, neutral, log).
_RANGES: dict[str, dict[str, tuple]] = {
    "HighpassFilter": {"cutoff_frequency_hz": (5.0, 96_000.0, 5.0, True)},
    "LowpassFilter": {"cutoff_frequency_hz": (5.0, 96_000.0, 96_000.0, True)},
    "PeakFilter": {"cutoff_frequency_hz": (5.0, 96_000.0, None, False),
                   "gain_db": (-48.0, 24.0, 0.0, False), "q": (0.05, 40.0, None, False)},
    "LowShelfFilter": {"cutoff_frequency_hz": (5.0, 96_000.0, None, False),
                       "gain_db": (-48.0, 24.0, 0.0, False), "q": (0.05, 40.0, None, False)},
    "HighShelfFilter": {"cutoff_frequency_hz": (5.0, 96_000.0, None, False),
                        "gain_db": (-48.0, 24.0, 0.0, False), "q": (0.05, 40.0, None, False)},
    "Compressor": {"threshold_db": (-80.0, 0.0, 0.0, False), "ratio": (1.0, 100.0, 1.0, False),
                   "attack_ms": (0.01, 1000.0, None, False),
                   "release_ms": (1.0, 10_000.0, None, False)},
    "Gain": {"gain_db": (-120.0, 48.0, 0.0, False)},
    "Reverb": {"room_size": (0.0, 1.0, None, False), "damping": (0.0, 1.0, None, False),
               "wet_level": (0.0, 1.0, 0.0, False), "dry_level": (0.0, 1.0, 1.0, False),
               "width": (0.0, 1.0, None, False), "freeze_mode": (0.0, 1.0, None, False)},
    "Delay": {"delay_seconds": (0.0, 10.0, None, False), "feedback": (0.0, 0.99, None, False),
              "mix": (0.0, 1.0, 0.0, False)},
    "Chorus": {"rate_hz": (0.0, 99.0, None, False), "depth": (0.0, 1.0, None, False),
               "centre_delay_ms": (0.0, 100.0, None, False),
               "feedback": (-0.95, 0.95, None, False), "mix": (0.0, 1.0, 0.0, False)},
    "Phaser": {"rate_hz": (0.0, 99.0, None, False), "depth": (0.0, 1.0, None, False),
               "centre_frequency_hz": (20.0, 20_000.0, None, False),
               "feedback": (-0.95, 0.95, None, False), "mix": (0.0, 1.0, 0.0, False)},
    "Distortion": {"drive_db": (0.0, 80.0, 0.0, False)},
    "Clipping": {"threshold_db": (-60.0, 0.0, 0.0, False)},
    "NoiseGate": {"threshold_db": (-120.0, 0.0, -120.0, False), "ratio": (1.0, 100.0, None, False),
                  "attack_ms": (0.01, 1000.0, None, False),
                  "release_ms": (1.0, 10_000.0, None, False)},
    "Limiter": {"threshold_db": (-60.0, 0.0, 0.0, False),
                "release_ms": (1.0, 10_000.0, None, False)},
    "BrickwallLimiter": {"ceiling_db": (-30.0, 0.0, None, False),
                         "release_ms": (1.0, 10_000.0, None, False),
                         "lookahead_ms": (0.0, 20.0, None, False)},
    "Bitcrush": {"bit_depth": (1.0, 32.0, 32.0, False)},
    "Invert": {},
}

_SIGNATURE = re.compile(r"__init__\(self[^,)]*(?P<args>.*)\)\s*->")
_ARG = re.compile(r"(?P<name>\w+):\s*(?P<type>[\w.]+)\s*=\s*(?P<default>[^,]+)")


def _signature(cls: type) -> dict[str, tuple[str, str]]:
    """``{name: (type, default)}`` parsed from a pybind11 ``__init__`` docstring."""
    match = _SIGNATURE.search(cls.__init__.__doc__ or "")
    if match is None:
        return {}
    return {m["name"]: (m["type"], m["default"].strip()) for m in _ARG.finditer(match["args"])}


@lru_cache(maxsize=None)
def registry() -> dict[str, dict[str, Param]]:
    """``{plugin class name: {parameter name: Param}}`` for every plugin a plan may use."""
    out: dict[str, dict[str, Param]] = {}
    for plugin, ranges in _RANGES.items():
        cls = getattr(pedalboard, plugin, None)
        if cls is None:  # older pedalboard without this class
            continue
        params = {}
        for name, (type_name, default) in _signature(cls).items():
            if type_name == "bool":
                params[name] = Param(name, "bool", default == "True")
            elif type_name == "float":
                low, high, neutral, log = ranges[name]
                params[name] = Param(name, "float", float(default), low, high, neutral, log)
        missing = set(ranges) - set(params)
        if missing:
            raise RuntimeError(f"pedalboard.{plugin} has no parameter(s) {sorted(missing)}")
        out[plugin] = params
    return out


def check_params(plugin: str, params: dict, *, where: str, sample_rate: int | None = None) -> dict:
    """Validate a plugin name and its keyword arguments; return the params with ints as floats.

    ``where`` names the place in the plan (``stems.vocals.chain[1]``) for the error message.
    With ``sample_rate``, frequencies must also lie below the Nyquist frequency.
    """
    known = registry()
    if plugin not in known:
        raise PlanError(f"{where}: unknown plugin {plugin!r}; use one of {', '.join(known)}")
    if not isinstance(params, dict):
        raise PlanError(f"{where}: params must be an object, got {type(params).__name__}")
    spec = known[plugin]
    out = {}
    for name, value in params.items():
        if name not in spec:
            allowed = ", ".join(spec) or "none"
            raise PlanError(f"{where}: {plugin} has no parameter {name!r} (allowed: {allowed})")
        p = spec[name]
        if p.kind == "bool":
            if not isinstance(value, bool):
                raise PlanError(f"{where}: {plugin}.{name} must be true or false, got {value!r}")
            out[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PlanError(f"{where}: {plugin}.{name} must be a number, got {value!r}")
        value = float(value)
        if not (p.low <= value <= p.high):  # also rejects NaN
            raise PlanError(f"{where}: {plugin}.{name} = {value:g} is outside "
                            f"[{p.low:g}, {p.high:g}]")
        if sample_rate is not None and name.endswith("frequency_hz") and value >= sample_rate / 2:
            raise PlanError(f"{where}: {plugin}.{name} = {value:g} Hz is not below the Nyquist "
                            f"frequency {sample_rate / 2:g} Hz of {sample_rate} Hz audio")
        out[name] = value
    return out


def blend_params(plugin: str, params: dict, amount: float, *, sample_rate: int) -> dict:
    """Move every parameter that has a neutral value towards it: ``amount`` 1 keeps, 0 neutralises.

    Linear parameters: ``neutral + amount * (value - neutral)``; frequencies (``log``) blend
    geometrically and stay below 0.45 ``sample_rate``. Parameters with no neutral value (times,
    Q, room size) are kept: the plugin is already neutral through its other parameters.
    """
    spec = registry()[plugin]
    full = {name: p.default for name, p in spec.items()} | params
    out = {}
    for name, value in full.items():
        p = spec[name]
        if p.kind == "float" and p.neutral is not None:
            if p.log:
                low = math.log(p.neutral)
                value = math.exp(low + amount * (math.log(value) - low))
                value = min(value, 0.45 * sample_rate)
            else:
                value = p.neutral + amount * (value - p.neutral)
            value = min(max(value, p.low), p.high)
        out[name] = value
    return out
