"""The fixed vocabularies of CONTRACT.md, in contract order.

Models, analyses and plans index classes by position in these tuples, so never reorder them; extend
only by appending (and keep the old spelling working).
"""

from __future__ import annotations

#: The four stem groups of a 4-stem separation (Demucs ``htdemucs``).
STEM_GROUPS: tuple[str, ...] = ("drums", "bass", "other", "vocals")

#: Instrument families a stem is classified into.
INSTRUMENTS: tuple[str, ...] = ("drums", "percussion", "bass", "keys", "guitar", "strings",
                                "brass", "woodwinds", "synth", "vocals", "fx")

#: Musical function of a stem in the song.
ROLES: tuple[str, ...] = ("rhythm", "low_end", "harmony", "melody", "texture")
