"""Stem and track names: the one place that reads a name for what the stem is.

A name is split into lower-case words (:func:`name_words`: on non-letters, camelCase and
letter/digit boundaries) and only whole words count, so ``custom_pad`` is no drum ("tom") and
``Bottom`` no tom. The tables hold whole words and the abbreviations engineers type on console
strips and DAW tracks (``Kick In``, ``Snr``, ``OH L``, ``GTR L``, ``Bv 2``, ``Ld Vox``). When a name
holds words of several instruments, :data:`HINT_PRIORITY` decides (``Lead Guitar`` is a guitar,
``Synth Bass`` a bass, ``Bass Drum`` drums).

Used by the analysis (labels of stems the caller did not label, :mod:`.labels`), the structure
analysis (which stems are drums, before any label exists) and the arrangement planner (roles of
stems of a structure without labels).
"""

from __future__ import annotations

import re

#: Name word -> instrument. Words are matched whole after splitting on non-letters and camelCase.
NAME_HINTS: dict[str, str] = {
    **dict.fromkeys(["drum", "drums", "kick", "kik", "bd", "snare", "snr", "sd", "hat", "hats",
                     "hihat", "hh", "tom", "toms", "cymbal", "cymbals", "crash", "ride", "oh",
                     "overhead", "overheads", "kit", "room", "breakbeat", "break"], "drums"),
    **dict.fromkeys(["perc", "percussion", "shaker", "conga", "congas", "bongo", "bongos",
                     "tamb", "tambourine", "clap", "claps", "cowbell", "timbale", "cajon",
                     "triangle", "glock", "glockenspiel", "marimba", "vibes", "xylophone"],
                    "percussion"),
    **dict.fromkeys(["bass", "sub", "subbass", "808", "contrabass", "upright"], "bass"),
    **dict.fromkeys(["keys", "key", "piano", "pno", "rhodes", "wurli", "wurlitzer", "organ",
                     "ep", "epiano", "clav", "harpsichord", "celesta"], "keys"),
    **dict.fromkeys(["gtr", "gtrs", "egtr", "agtr", "guitar", "guitars", "acoustic", "electric",
                     "banjo", "mandolin", "ukulele", "uke", "sitar", "harp"], "guitar"),
    **dict.fromkeys(["strings", "string", "str", "violin", "violins", "vln", "viola", "vla",
                     "cello", "cellos", "vc", "orchestra", "ensemble"], "strings"),
    **dict.fromkeys(["brass", "trumpet", "trumpets", "tpt", "trombone", "tbn", "horn", "horns",
                     "tuba", "flugelhorn", "cornet"], "brass"),
    **dict.fromkeys(["woodwinds", "woodwind", "winds", "flute", "flutes", "fl", "clarinet",
                     "cl", "oboe", "bassoon", "sax", "saxophone", "alto", "tenor", "piccolo",
                     "recorder", "whistle"], "woodwinds"),
    **dict.fromkeys(["synth", "synths", "syn", "pad", "pads", "arp", "arps", "pluck", "plucks",
                     "saw", "supersaw", "moog", "lead"], "synth"),
    **dict.fromkeys(["vocal", "vocals", "vox", "voc", "voice", "voices", "vo", "lv", "bv",
                     "bvs", "bgv", "backing", "choir", "singer", "sing", "adlib", "adlibs",
                     "harmonies", "rap", "acapella"], "vocals"),
    **dict.fromkeys(["fx", "sfx", "riser", "risers", "impact", "impacts", "sweep", "sweeps",
                     "noise", "atmos", "ambience", "foley", "downlifter", "uplifter"], "fx"),
}
#: When a name holds words of several instruments, the first in this order wins
#: ("bass drum" -> drums, "synth bass" -> bass, "lead vox" -> vocals).
HINT_PRIORITY: tuple[str, ...] = ("drums", "percussion", "vocals", "bass", "brass", "woodwinds",
                                  "strings", "guitar", "keys", "fx", "synth")
#: Name word -> role, overriding the instrument's default.
ROLE_HINTS: dict[str, str] = {
    **dict.fromkeys(["lead", "ld", "lv", "solo", "melody", "mel", "hook", "topline"], "melody"),
    **dict.fromkeys(["bv", "bvs", "bgv", "backing", "choir", "harmonies", "harmony", "chords",
                     "comp", "rhythm"], "harmony"),
    **dict.fromkeys(["pad", "pads", "atmos", "ambience", "drone", "texture"], "texture"),
}
#: Instruments whose stems carry the beat: drum stems for the beat tracker.
DRUM_INSTRUMENTS: tuple[str, ...] = ("drums", "percussion")


def name_words(name: str) -> list[str]:
    """Lower-case words of a stem name: ``"LeadVox_02.wav"`` -> ``["lead", "vox"]``."""
    name = re.sub(r"\.[A-Za-z0-9]{2,5}$", "", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])",
                                name.lower()) if (w and not w.isdigit()) or w == "808"]


def name_instrument(name: str) -> str | None:
    """Instrument a stem name says (:data:`NAME_HINTS`, whole words), or None."""
    hinted = {NAME_HINTS[w] for w in name_words(name) if w in NAME_HINTS}
    return next((i for i in HINT_PRIORITY if i in hinted), None)


def name_role(name: str) -> str | None:
    """Role a word of the name says (:data:`ROLE_HINTS`: ``lead``, ``pad``, ``bv``...), or None."""
    return next((ROLE_HINTS[w] for w in name_words(name) if w in ROLE_HINTS), None)


def is_drum_name(name: str) -> bool:
    """True when the name says drums or percussion (``Kick In``, ``OH L``, ``Perc Loop``)."""
    return name_instrument(name) in DRUM_INSTRUMENTS
