"""Loudness targets: where a finished master should sit (integrated LUFS, true-peak ceiling dBTP).

The named presets are the fixed vocabulary of CONTRACT.md ("loudness targets"). Integrated
loudness per ITU-R BS.1770-4, true peak per BS.1770-4 Annex 2; see :mod:`mixassist.loudness`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..errors import ParameterError

#: True-peak ceiling (dBTP) used when a target is given as a bare LUFS number (CONTRACT.md).
DEFAULT_TRUE_PEAK_DBTP = -1.0
#: Plausible range for a numeric target (LUFS); outside it a number is almost surely a typo.
MIN_TARGET_LUFS = -70.0
MAX_TARGET_LUFS = 0.0


@dataclass(frozen=True)
class Target:
    """A loudness target: integrated loudness ``lufs`` (LUFS) and true-peak ceiling (dBTP)."""

    name: str
    lufs: float
    true_peak_dbtp: float

    def __post_init__(self):
        if not (isinstance(self.name, str) and self.name):
            raise ParameterError(f"target name must be a non-empty string, got {self.name!r}")
        for field, value in (("lufs", self.lufs), ("true_peak_dbtp", self.true_peak_dbtp)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise ParameterError(f"target {self.name!r}: {field} must be a finite number, "
                                     f"got {value!r}")
        if not MIN_TARGET_LUFS <= self.lufs <= MAX_TARGET_LUFS:
            raise ParameterError(f"target {self.name!r}: {self.lufs:g} LUFS is outside "
                                 f"{MIN_TARGET_LUFS:g}..{MAX_TARGET_LUFS:g} LUFS")
        if self.true_peak_dbtp > 0.0:
            raise ParameterError(f"target {self.name!r}: true-peak ceiling "
                                 f"{self.true_peak_dbtp:g} dBTP must be at most 0 dBTP")
        object.__setattr__(self, "lufs", float(self.lufs))
        object.__setattr__(self, "true_peak_dbtp", float(self.true_peak_dbtp))

    def to_dict(self) -> dict:
        """``{"name", "lufs", "true_peak_dbtp"}`` as in plan.json's ``target``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Target:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(name=data["name"], lufs=data["lufs"],
                       true_peak_dbtp=data["true_peak_dbtp"])
        except (KeyError, TypeError) as exc:
            raise ParameterError(f"a target needs name, lufs and true_peak_dbtp, got {data!r}") \
                from exc


#: Named delivery targets (CONTRACT.md, in its order): integrated LUFS / true-peak ceiling dBTP.
PRESETS: dict[str, Target] = {t.name: t for t in (
    Target("spotify", -14.0, -1.0),
    Target("apple", -16.0, -1.0),
    Target("youtube", -14.0, -1.0),
    Target("tidal", -14.0, -1.0),
    Target("amazon", -14.0, -2.0),
    Target("deezer", -15.0, -1.0),
    Target("soundcloud", -14.0, -1.0),
    Target("aes", -16.0, -1.0),
    Target("broadcast", -23.0, -1.0),  # EBU R 128
    Target("club", -8.0, -0.3),
)}


def resolve_target(spec: str | float | Target) -> Target:
    """Turn a preset name, a LUFS number (or numeric string) or a :class:`Target` into a Target.

    A number means that integrated loudness with a -1 dBTP ceiling; its name is the number as
    written, e.g. ``"-12 LUFS"``. Names are case-insensitive. Raises :class:`ParameterError`
    listing the valid names for anything else.
    """
    if isinstance(spec, Target):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Target(f"{float(spec):g} LUFS", float(spec), DEFAULT_TRUE_PEAK_DBTP)
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in PRESETS:
            return PRESETS[key]
        number = key.removesuffix("lufs").strip()
        try:
            value = float(number)
        except ValueError:
            value = None
        if value is not None and math.isfinite(value):
            return resolve_target(value)
    raise ParameterError(f"unknown loudness target {spec!r}; use one of "
                         f"{', '.join(PRESETS)} or a number in LUFS such as -14")
