"""Meters: the counted beat, beats per bar and the 16th-note step grid of a time signature.

A song's ``tempo_bpm`` and ``beats_s`` are always the *counted* beat, the pulse a musician taps:
the quarter note in simple meters (4/4, 3/4, any x/4) and the dotted quarter in compound meters
(6/8, 9/8, 12/8: three eighth notes per beat). Notes are placed on 16th-note steps, so a counted
beat is 4 steps in simple and 6 steps in compound meters, and a MIDI or MusicXML tempo (which is
in quarter notes per minute) is ``tempo_bpm * quarters_per_beat``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParameterError


@dataclass(frozen=True)
class Meter:
    """``beats_per_bar`` counted beats of ``steps_per_beat`` 16th notes each (a ``beat_unit``)."""

    time_signature: str
    beats_per_bar: int
    steps_per_beat: int
    beat_unit: str

    @property
    def steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat

    @property
    def compound(self) -> bool:
        return self.steps_per_beat == 6

    @property
    def quarters_per_beat(self) -> float:
        return self.steps_per_beat / 4

    @property
    def numerator(self) -> int:
        return int(self.time_signature.split("/")[0])

    @property
    def denominator(self) -> int:
        return int(self.time_signature.split("/")[1])


#: The meters :mod:`.compose` writes songs in.
METERS = {m.time_signature: m for m in (
    Meter("4/4", 4, 4, "quarter"), Meter("3/4", 3, 4, "quarter"),
    Meter("6/8", 2, 6, "dotted quarter"), Meter("12/8", 4, 6, "dotted quarter"))}


def meter_of(time_signature: str) -> Meter:
    """The :class:`Meter` of ``"N/D"``: x/4 counts N quarters, x/8 with N a multiple of 3 above 3
    counts N/3 dotted quarters, other x/8 count N eighths (2 steps a beat)."""
    if time_signature in METERS:
        return METERS[time_signature]
    try:
        num, den = (int(x) for x in time_signature.split("/"))
    except ValueError:
        num = den = 0
    if num < 1 or den not in (2, 4, 8, 16):
        raise ParameterError(f"time signature {time_signature!r} is not N/D with D in 2, 4, 8, 16; "
                             "write it like '6/8'")
    if den == 8 and num % 3 == 0 and num > 3:
        return Meter(time_signature, num // 3, 6, "dotted quarter")
    return Meter(time_signature, num, 16 // den, {2: "half", 4: "quarter", 8: "eighth", 16: "16th"}[den])
