"""The General-MIDI program -> instrument family map, and family -> 4-stem group (CONTRACT.md)."""

from __future__ import annotations

from ..errors import ParameterError
from ..vocab import INSTRUMENTS, ROLES
from ..vocab import STEM_GROUPS as GROUPS

__all__ = ["GROUPS", "INSTRUMENTS", "ROLES", "program_family", "group_of"]

#: GM program ranges (inclusive) -> family. GM groups (MMA 1991), with these choices: chromatic
#: percussion (vibraphone, marimba, ...) counts as keys, timpani and the GM "percussive" group as
#: percussion, choir/voice presets (52-54) as synth (they are sampled pads, not singing), orchestra
#: hit (55), reverse cymbal (119), synth effects (96-103) and sound effects (120-127) as fx.
_RANGES = ((0, 15, "keys"), (16, 23, "keys"), (24, 31, "guitar"), (32, 39, "bass"), (40, 46, "strings"),
           (47, 47, "percussion"), (48, 51, "strings"), (52, 54, "synth"), (55, 55, "fx"),
           (56, 63, "brass"), (64, 79, "woodwinds"), (80, 95, "synth"), (96, 103, "fx"),
           (104, 107, "guitar"), (108, 108, "keys"), (109, 109, "woodwinds"), (110, 110, "strings"),
           (111, 111, "woodwinds"), (112, 118, "percussion"), (119, 127, "fx"))


def program_family(program: int) -> str:
    """Instrument family (CONTRACT.md) of General-MIDI ``program`` (0-127, melodic channel)."""
    for low, high, family in _RANGES:
        if low <= program <= high:
            return family
    raise ParameterError(f"GM program {program} is out of range; use 0-127")


def group_of(instrument: str) -> str:
    """The 4-stem separation group (drums/bass/other/vocals) an instrument family belongs to."""
    if instrument not in INSTRUMENTS:
        raise ParameterError(f"unknown instrument {instrument!r}; use one of {', '.join(INSTRUMENTS)}")
    return {"drums": "drums", "percussion": "drums", "bass": "bass", "vocals": "vocals"}.get(instrument, "other")
