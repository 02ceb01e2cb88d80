"""Procedural songs: genre templates, sections, chords, drums, bass, comping, pads, arpeggios, lead,
counter-melody, vocals and effects, humanised, with exact annotations.

:func:`compose_song` turns a seed into a :class:`~.song.Song` whose every part carries its
instrument family, musical role and 4-stem group (CONTRACT.md vocabularies) and whose annotations
(tempo, beats, downbeats, key, chords in Harte et al. 2005 notation, labelled sections) are the
grid the notes were placed on. Consecutive sections always differ in their set of playing parts,
so section boundaries are arrangement changes.

``variety="v2"`` (the default) writes every song in 4/4 exactly as generator version 2 did.
``variety="v3"`` also draws, from the seed, a :class:`Feel`: the meter (4/4, 3/4, 6/8, 12/8),
tempo 60-200 BPM, swing or triplet feel, half-time grooves, a rubato intro, drumless songs and
modes beyond the genre's (:func:`draw_feel`, docs/datasets.md). In every meter ``tempo_bpm`` and
``beats_s`` are the counted beat (the dotted quarter in 6/8 and 12/8, :mod:`.meter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError
from .instruments import program_family
from .meter import METERS, Meter
from .render import ChannelSetup
from .patches import programs
from .sources import ACOUSTIC_KITS, DRUMKITS, ELECTRONIC_KITS, PATCH_SETS, SYNTH_PREFIX, Palette, palette
from .song import Note, Part, Song
from .synth import random_patch, voices_for

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MODES = {
    "major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10), "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10), "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11), "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
}
#: Chord qualities in Harte et al. (2005) shorthand, keyed by intervals above the root.
QUALITIES = {(4, 7): "maj", (3, 7): "min", (3, 6): "dim", (4, 8): "aug", (4, 7, 11): "maj7",
             (4, 7, 10): "7", (3, 7, 10): "min7", (3, 6, 10): "hdim7", (3, 7, 11): "minmaj7",
             (3, 6, 9): "dim7", (4, 8, 11): "maj7", (4, 8, 10): "7", (3, 6, 11): "dim"}
PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (0, 3, 0, 4), (1, 4, 0, 0),
                (0, 2, 3, 4), (3, 4, 2, 5), (0, 5, 2, 6), (0, 6, 5, 6), (0, 3, 6, 2), (0, 0, 5, 6),
                (0, 6, 3, 4), (3, 0, 4, 5))
#: Section energy (0-4) decides how many parts play.
ENERGY = {"intro": 1, "verse": 2, "pre-chorus": 3, "chorus": 4, "bridge": 2, "breakdown": 1, "outro": 1}
STRUCTURES = (
    ("intro", "verse", "pre-chorus", "chorus", "verse", "pre-chorus", "chorus", "bridge", "chorus", "outro"),
    ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"),
    ("intro", "verse", "chorus", "breakdown", "chorus", "outro"),
    ("intro", "chorus", "verse", "chorus", "breakdown", "chorus", "outro"),
    ("intro", "verse", "verse", "chorus", "bridge", "chorus", "chorus", "outro"),
)
# GM drum keys.
KICK, SIDE, SNARE, CLAP, HAT, PEDAL, OPEN, CRASH, RIDE = 36, 37, 38, 39, 42, 44, 46, 49, 51
TOMS = (50, 48, 47, 45, 43, 41)


@dataclass(frozen=True)
class Genre:
    """A genre template: tempo range (BPM), modes, drum/bass/comp styles and part pools.

    ``parts`` maps a part slot to ``(probability, programs)``; programs are GM program numbers.
    """

    name: str
    tempo_bpm: tuple[int, int]
    modes: tuple[str, ...]
    drums: str
    bass: str
    comp: str
    swing: float
    sevenths: float
    parts: dict[str, tuple[float, tuple[int, ...]]] = field(default_factory=dict)


_SYNTH_LEADS, _PADS = (80, 81, 82, 84, 85, 87), (88, 89, 90, 91, 92, 94, 95)
GENRES = {g.name: g for g in (
    Genre("pop", (88, 128), ("major", "minor", "mixolydian", "lydian"), "pop", "pop", "straight", 0.0, 0.2,
          {"percussion": (0.5, ()), "bass": (1.0, (33, 34, 38)), "comp": (1.0, (0, 1, 4, 24, 25, 27)),
           "pad": (0.6, (48, 49, 89, 88, 16)), "arp": (0.4, (46, 11, 8, 81)),
           "lead": (0.8, (80, 73, 65, 56, 40, 11, 26)), "counter": (0.5, (40, 71, 60, 42, 68)),
           "vocals": (0.75, ()), "fx": (0.4, (96, 99, 102, 119))}),
    Genre("rock", (96, 156), ("major", "minor", "mixolydian", "dorian"), "rock", "rock", "power", 0.0, 0.0,
          {"percussion": (0.3, ()), "bass": (1.0, (33, 34)), "comp": (1.0, (29, 30)), "comp2": (0.4, (0, 16, 17, 18, 27)),
           "lead": (0.8, (30, 29, 81, 26)), "counter": (0.3, (40, 61, 60)),
           "pad": (0.3, (16, 48, 49)), "vocals": (0.7, ()), "fx": (0.2, (119, 102))}),
    Genre("edm", (118, 132), ("minor", "major", "phrygian", "dorian"), "edm", "edm", "stabs", 0.0, 0.2,
          {"percussion": (0.4, ()), "bass": (1.0, (38, 39, 87)), "comp": (1.0, (81, 80, 90, 62)),
           "pad": (0.8, _PADS), "arp": (0.8, (81, 80, 84, 85, 98)), "lead": (0.8, _SYNTH_LEADS),
           "vocals": (0.6, ()), "fx": (0.85, (96, 97, 99, 102, 103, 119))}),
    Genre("hiphop", (70, 100), ("minor", "dorian", "harmonic_minor"), "hiphop", "hiphop", "keys", 0.12, 0.6,
          {"percussion": (0.3, ()), "bass": (1.0, (38, 39, 33)), "comp": (1.0, (4, 5, 0, 11)),
           "pad": (0.5, _PADS + (48,)), "lead": (0.5, (80, 73, 11, 65, 56)), "counter": (0.3, (42, 71)),
           "vocals": (0.7, ()), "fx": (0.4, (97, 98, 102, 122))}),
    Genre("funk", (96, 120), ("dorian", "mixolydian", "minor"), "funk", "funk", "funk", 0.08, 0.8,
          {"percussion": (0.7, ()), "bass": (1.0, (36, 37, 33)), "comp": (1.0, (27, 28, 26, 4)),
           "brass": (0.7, (61, 62, 56, 57, 66)), "lead": (0.7, (65, 66, 16, 17, 81, 56)),
           "counter": (0.3, (57, 60, 68)), "vocals": (0.6, ())}),
    Genre("ballad", (60, 84), ("major", "minor", "lydian"), "ballad", "ballad", "piano", 0.0, 0.5,
          {"percussion": (0.3, ()), "bass": (0.9, (32, 33, 35)), "comp": (1.0, (0, 1, 2, 4, 24, 46)),
           "pad": (0.8, (48, 49, 50, 89, 44)), "counter": (0.7, (40, 42, 71, 73, 68, 60)),
           "lead": (0.5, (73, 40, 71, 68, 22, 66)), "arp": (0.3, (46, 8, 10, 11)), "vocals": (0.8, ())}),
    Genre("metal", (110, 180), ("minor", "phrygian", "harmonic_minor"), "metal", "metal", "power", 0.0, 0.0,
          {"bass": (1.0, (34, 33)), "comp": (1.0, (30, 29)), "comp2": (0.5, (30, 29)),
           "lead": (0.8, (30, 29, 81)), "pad": (0.3, (48, 19, 50)), "vocals": (0.5, ()),
           "fx": (0.2, (119, 103))}),
    Genre("ambient", (60, 100), ("lydian", "major", "dorian", "minor"), "ambient", "ambient", "pad", 0.0, 0.6,
          {"percussion": (0.5, ()), "bass": (0.6, (38, 39, 35)), "comp": (0.7, (4, 11, 12, 88)),
           "pad": (1.0, _PADS), "arp": (0.8, (46, 8, 11, 98, 84)), "lead": (0.5, (73, 75, 79, 82, 40)),
           "counter": (0.3, (71, 42, 60)), "fx": (0.9, (96, 97, 99, 100, 101, 102, 122)),
           "vocals": (0.4, ())}),
    Genre("reggae", (66, 90), ("major", "minor", "dorian"), "reggae", "reggae", "skank", 0.05, 0.2,
          {"percussion": (0.5, ()), "bass": (1.0, (33, 32)), "comp": (1.0, (27, 16, 17, 28)),
           "brass": (0.5, (61, 56, 57, 65)), "lead": (0.6, (16, 56, 65, 81, 22)),
           "vocals": (0.7, ()), "fx": (0.3, (102, 119))}),
)}

#: Drum grids per style: {piece: steps in a 16-step bar} for (low, high) energy.
DRUM_STYLES = {
    "pop": ({KICK: (0, 6, 8), SNARE: (4, 12), HAT: (0, 2, 4, 6, 8, 10, 12, 14)},
            {KICK: (0, 6, 8, 10), SNARE: (4, 12), OPEN: (2, 6, 10, 14), HAT: (0, 4, 8, 12)}),
    "rock": ({KICK: (0, 8, 10), SNARE: (4, 12), HAT: (0, 2, 4, 6, 8, 10, 12, 14)},
             {KICK: (0, 3, 8, 10), SNARE: (4, 12), RIDE: (0, 2, 4, 6, 8, 10, 12, 14)}),
    "edm": ({KICK: (0, 4, 8, 12), HAT: (2, 6, 10, 14)},
            {KICK: (0, 4, 8, 12), CLAP: (4, 12), OPEN: (2, 6, 10, 14), HAT: tuple(range(16))}),
    "hiphop": ({KICK: (0, 7, 10), SNARE: (4, 12), HAT: (0, 2, 4, 6, 8, 10, 12, 14)},
               {KICK: (0, 3, 7, 10), CLAP: (4, 12), HAT: tuple(range(16))}),
    "funk": ({KICK: (0, 3, 10), SNARE: (4, 12), SIDE: (7, 9, 15), HAT: tuple(range(16))},
             {KICK: (0, 3, 6, 10), SNARE: (4, 7, 12, 15), OPEN: (2, 10), HAT: (0, 1, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15)}),
    "ballad": ({KICK: (0, 10), SIDE: (8,), HAT: (0, 4, 8, 12)},
               {KICK: (0, 6, 10), SNARE: (8,), RIDE: (0, 2, 4, 6, 8, 10, 12, 14)}),
    "metal": ({KICK: (0, 2, 4, 6, 8, 10, 12, 14), SNARE: (4, 12), HAT: (0, 2, 4, 6, 8, 10, 12, 14)},
              {KICK: tuple(range(16)), SNARE: (4, 12), RIDE: (0, 2, 4, 6, 8, 10, 12, 14)}),
    "ambient": ({KICK: (0,), SIDE: (12,)}, {KICK: (0, 10), SNARE: (8,), HAT: (0, 4, 8, 12)}),
    "reggae": ({KICK: (0, 8), SIDE: (8,), HAT: (2, 6, 10, 14)},
               {KICK: (0, 8), SNARE: (8,), HAT: (0, 2, 4, 6, 8, 10, 12, 14), OPEN: (14,)}),
}
#: Bass grids: (step, length in steps, degree: R root, O octave, F fifth, A approach next root).
BASS_STYLES = {
    "pop": ((0, 3, "R"), (3, 1, "R"), (4, 2, "R"), (6, 2, "F"), (8, 3, "R"), (11, 1, "R"), (12, 2, "O"), (14, 2, "A")),
    "rock": tuple((s, 2, "R") for s in range(0, 16, 2)),
    "edm": ((2, 2, "R"), (6, 2, "R"), (10, 2, "R"), (14, 2, "R")),
    "hiphop": ((0, 6, "R"), (7, 3, "R"), (10, 6, "F")),
    "funk": ((0, 1, "R"), (3, 1, "O"), (4, 1, "R"), (6, 1, "F"), (7, 1, "O"), (10, 1, "R"), (12, 1, "O"), (14, 1, "A")),
    "ballad": ((0, 8, "R"), (8, 8, "F")),
    "metal": tuple((s, 1, "R") for s in range(16)),
    "ambient": ((0, 16, "R"),),
    "reggae": ((0, 3, "R"), (4, 2, "F"), (6, 2, "R"), (10, 2, "O"), (12, 2, "F")),
}
#: Comping rhythms: (step, length in steps).
COMP_STYLES = {
    "straight": ((0, 4), (4, 4), (8, 4), (12, 4)), "power": tuple((s, 2) for s in range(0, 16, 2)),
    "stabs": ((2, 1), (6, 1), (10, 1), (14, 1)), "keys": ((0, 6), (10, 6)),
    "funk": ((2, 1), (6, 1), (7, 1), (10, 1), (14, 1)), "piano": ((0, 8), (8, 8)),
    "pad": ((0, 16),), "skank": ((4, 1), (12, 1)),
}
PERCUSSION = ({70: tuple(range(0, 16, 2)), 54: (4, 12)}, {62: (0, 6, 10), 63: (3, 8, 14), 64: (12,)},
              {56: (0, 4, 8, 12), 75: (3, 10)}, {60: (0, 3, 8, 11), 61: (6, 14), 70: tuple(range(16))})
#: Lead rhythms over two bars: (step, length) in 16ths; vocal rhythms avoid 16th notes.
LEAD_RHYTHMS = (((0, 4), (4, 2), (6, 2), (8, 6), (16, 2), (18, 2), (20, 4), (24, 8)),
                ((0, 2), (2, 2), (4, 4), (8, 2), (10, 2), (12, 4), (16, 8), (28, 4)),
                ((2, 2), (4, 2), (6, 4), (10, 2), (12, 4), (18, 2), (20, 2), (22, 6)),
                ((0, 6), (6, 2), (8, 8), (16, 4), (20, 4), (24, 8)),
                ((0, 1), (1, 1), (2, 2), (4, 2), (6, 2), (8, 4), (12, 4), (16, 2), (18, 6), (24, 4)))
# ---- variety v3: the other meters --------------------------------------------------------------
# Steps are 16th notes: 3/4 has 12 a bar (beats on 0, 4, 8), 6/8 has 12 (eighths on even steps,
# counted beats on 0 and 6), 12/8 has 24 (counted beats on 0, 6, 12, 18). 4/4 uses the tables above.
_EIGHTHS = {n: tuple(range(0, n, 2)) for n in (12, 24)}
#: Drum grids of the other meters: {meter: {family: (low, high)}}; "drive" for pop, rock, EDM,
#: funk and metal, "soft" for hip-hop, ballad, ambient and reggae. Kick on 1 in every grid; the
#: compound grids put the snare on the compound backbeat (6/8: beat 2; 12/8: beats 2 and 4).
METER_DRUMS = {
    "3/4": {"drive": ({KICK: (0, 6), SNARE: (8,), HAT: _EIGHTHS[12]},  # 3/4 rock: snare on 3
                      {KICK: (0, 2, 6), SNARE: (8,), RIDE: _EIGHTHS[12], OPEN: (10,)}),
            "soft": ({KICK: (0,), SIDE: (4, 8), HAT: (0, 4, 8)},  # waltz: oom-pah-pah
                     {KICK: (0,), SNARE: (4, 8), HAT: _EIGHTHS[12]})},
    "6/8": {"drive": ({KICK: (0, 4), SNARE: (6,), HAT: _EIGHTHS[12]},  # 6/8 shuffle
                      {KICK: (0, 4, 10), SNARE: (6,), RIDE: _EIGHTHS[12], OPEN: (10,)}),
            "soft": ({KICK: (0,), SIDE: (6,), HAT: _EIGHTHS[12]},  # 6/8 ballad
                     {KICK: (0, 10), SNARE: (6,), RIDE: _EIGHTHS[12]})},
    "12/8": {"drive": ({KICK: (0, 12, 16), SNARE: (6, 18), HAT: (0, 4, 6, 10, 12, 16, 18, 22)},  # shuffle
                       {KICK: (0, 4, 12, 16), SNARE: (6, 18), RIDE: (0, 4, 6, 10, 12, 16, 18, 22), OPEN: (22,)}),
             "soft": ({KICK: (0, 12), SIDE: (6, 18), HAT: _EIGHTHS[24]},  # 12/8 slow blues/ballad
                      {KICK: (0, 10, 12), SNARE: (6, 18), RIDE: _EIGHTHS[24]})},
}
DRUM_FAMILY = {"pop": "drive", "rock": "drive", "edm": "drive", "funk": "drive", "metal": "drive",
               "hiphop": "soft", "ballad": "soft", "ambient": "soft", "reggae": "soft"}
#: Bass grids of the other meters (as BASS_STYLES), per drum family.
METER_BASS = {
    "3/4": {"drive": ((0, 4, "R"), (4, 2, "F"), (8, 2, "O"), (10, 2, "A")), "soft": ((0, 8, "R"), (8, 4, "F"))},
    "6/8": {"drive": ((0, 4, "R"), (4, 2, "R"), (6, 4, "F"), (10, 2, "A")), "soft": ((0, 6, "R"), (6, 6, "F"))},
    "12/8": {"drive": ((0, 4, "R"), (4, 2, "R"), (6, 6, "F"), (12, 4, "R"), (16, 2, "O"), (18, 4, "F"), (22, 2, "A")),
             "soft": ((0, 12, "R"), (12, 12, "F"))},
}
#: Comping rhythms of the other meters, by rhythm family of the genre's comp style.
COMP_FAMILY = {"straight": "beats", "power": "drive", "stabs": "offbeat", "keys": "long", "funk": "offbeat",
               "piano": "long", "pad": "whole", "skank": "offbeat"}
METER_COMP = {
    "3/4": {"beats": ((0, 4), (4, 4), (8, 4)), "drive": tuple((s, 2) for s in _EIGHTHS[12]),
            "offbeat": ((4, 2), (8, 2)), "long": ((0, 8), (8, 4)), "whole": ((0, 12),)},
    "6/8": {"beats": ((0, 6), (6, 6)), "drive": tuple((s, 2) for s in _EIGHTHS[12]),
            "offbeat": ((2, 2), (4, 2), (8, 2), (10, 2)), "long": ((0, 4), (4, 2), (6, 6)), "whole": ((0, 12),)},
    "12/8": {"beats": ((0, 6), (6, 6), (12, 6), (18, 6)), "drive": tuple((s, 2) for s in _EIGHTHS[24]),
             "offbeat": tuple((s, 2) for s in _EIGHTHS[24] if s % 6), "long": ((0, 12), (12, 12)),
             "whole": ((0, 24),)},
}
METER_PERCUSSION = {
    "3/4": ({70: _EIGHTHS[12], 54: (4, 8)}, {62: (0, 6), 63: (4, 10), 64: (8,)}),
    "6/8": ({70: _EIGHTHS[12], 54: (6,)}, {62: (0, 4), 63: (6, 10), 64: (8,)}),
    "12/8": ({70: _EIGHTHS[24], 54: (6, 18)}, {62: (0, 4, 12, 16), 63: (6, 10, 18, 22), 64: (20,)}),
}
METER_BRASS = {
    "3/4": (((0, 2), (8, 2)), ((4, 1), (8, 2)), ((0, 4),)),
    "6/8": (((0, 2), (6, 2)), ((4, 2), (10, 2)), ((0, 6),)),
    "12/8": (((0, 2), (12, 2)), ((6, 2), (18, 2)), ((0, 6), (18, 4))),
}
#: Lead rhythms over two bars of the other meters (all vocal-safe: no 16th notes).
METER_LEAD = {
    "3/4": (((0, 4), (4, 4), (8, 4), (12, 8), (20, 4)), ((0, 6), (6, 2), (8, 4), (12, 4), (16, 8)),
            ((0, 2), (2, 2), (4, 4), (8, 4), (12, 12)), ((4, 4), (8, 4), (12, 6), (18, 2), (20, 4))),
    "6/8": (((0, 4), (4, 2), (6, 6), (12, 4), (16, 2), (18, 6)), ((0, 2), (2, 2), (4, 2), (6, 6), (12, 6), (18, 6)),
            ((0, 6), (6, 4), (10, 2), (12, 12)), ((2, 2), (4, 2), (6, 4), (10, 2), (12, 4), (16, 2), (18, 6))),
    "12/8": (((0, 4), (4, 2), (6, 6), (12, 4), (16, 2), (18, 6), (24, 6), (30, 6), (36, 12)),
             ((0, 6), (6, 4), (10, 2), (12, 12), (24, 4), (28, 2), (30, 6), (36, 6), (42, 6)),
             ((2, 2), (4, 2), (6, 6), (12, 6), (18, 6), (26, 2), (28, 2), (30, 12)),
             ((0, 12), (12, 4), (16, 2), (18, 6), (24, 12), (36, 6), (42, 6))),
}
#: How v3 draws a song's meter.
METER_WEIGHTS = {"4/4": 0.55, "3/4": 0.15, "6/8": 0.15, "12/8": 0.15}
VARIETIES = ("v2", "v3")

KANA = ("ら", "な", "ま", "か", "さ", "た", "は", "や", "あ", "い", "う", "え", "お", "の", "と", "こ",
        "そ", "ね", "み", "り", "る", "よ", "わ", "き", "し", "ひ", "も", "ほ", "せ", "て")

MELODIC_CHANNELS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15)
DRUM_CHANNEL, PERC_CHANNEL = 9, 10
#: Share of the parts a synthesis voice of the palette can play that one plays (variety v3).
SYNTH_SHARE = 0.4
#: Share of the other parts whose GM program the palette's patch set has that it plays (v3).
PATCH_SHARE = 0.4
#: Share of the drum parts a recorded Hydrogen kit of the palette plays (variety v3; electronic
#: genres' electronic drums draw an electronic kit, the others an acoustic one, when there is one).
SAMPLED_DRUMS = 0.5
SLOT_ROLES = {"drums": "rhythm", "percussion": "rhythm", "bass": "low_end", "comp": "harmony",
              "comp2": "harmony", "brass": "harmony", "arp": "harmony", "pad": "texture", "fx": "texture",
              "lead": "melody", "counter": "melody", "vocals": "melody"}
#: Lowest section energy at which a slot plays (before random changes).
SLOT_ENERGY = {"drums": 2, "percussion": 3, "bass": 2, "comp": 1, "comp2": 3, "brass": 3, "arp": 2,
               "pad": 1, "fx": 0, "lead": 3, "counter": 4, "vocals": 2}


@dataclass(frozen=True)
class Feel:
    """What generator variety v3 draws per song beyond v2 (:func:`draw_feel`).

    ``swing`` is how far the off-beat ``swing_unit`` ("16th" or "8th") moves toward the triplet
    position: 0 straight, 1 a triplet shuffle (the off-beat at 2/3 of the pair); compound meters
    are never swung (their subdivision is already ternary). ``half_time``: snare on beat 3 (4/4
    only; ``tempo_bpm`` stays the counted quarter). ``rubato``: the intro's tempo varies by up
    to this fraction (slow, pushing, slowing into the next section); the intro keeps its nominal
    length, so every later beat is on the steady grid. ``drums``: False for a song without drums
    or percussion.
    """

    meter: Meter
    tempo_bpm: float
    mode: str
    swing: float = 0.0
    swing_unit: str | None = None
    half_time: bool = False
    rubato: float = 0.0
    drums: bool = True

    def annotation(self) -> dict:
        """The ``feel`` entry of song.json."""
        return {"meter": self.meter.time_signature, "beat_unit": self.meter.beat_unit,
                "beats_per_bar": self.meter.beats_per_bar, "swing": round(self.swing, 3),
                "swing_unit": self.swing_unit, "half_time": self.half_time,
                "rubato_intro": round(self.rubato, 3), "drums": self.drums}


def draw_feel(seed: int, genre: Genre) -> Feel:
    """The v3 feel of the song of ``seed`` in ``genre``, from its own random stream ``[seed, 3]``.

    Meter by :data:`METER_WEIGHTS`; tempo (counted beats per minute) 60 % from the genre's range,
    40 % uniform 60-200 (compound meters at most 150 dotted quarters); mode 60 % from the genre's,
    40 % any of :data:`MODES`; in simple meters 55 % straight, 20 % 16th swing (0.3-1), 15 % 8th
    swing (0.3-0.8), 10 % triplet shuffle (8th swing 1); half-time 20 % of 4/4 songs; a rubato
    intro (depth 0.15-0.35) 20 %; drumless 10 %.
    """
    rng = np.random.default_rng([seed, 3])
    names = list(METER_WEIGHTS)
    meter = METERS[names[int(rng.choice(len(names), p=list(METER_WEIGHTS.values())))]]
    top = 150 if meter.compound else 200
    lo, hi = (min(genre.tempo_bpm[0], top), min(genre.tempo_bpm[1], top)) if rng.random() < 0.6 else (60, top)
    tempo = float(rng.integers(lo, hi + 1))
    modes = genre.modes if rng.random() < 0.6 else tuple(MODES)
    mode = modes[int(rng.integers(len(modes)))]
    swing, unit, kind = 0.0, None, rng.random()
    if not meter.compound:
        if kind < 0.20:
            swing, unit = float(rng.uniform(0.3, 1.0)), "16th"
        elif kind < 0.35:
            swing, unit = float(rng.uniform(0.3, 0.8)), "8th"
        elif kind < 0.45:
            swing, unit = 1.0, "8th"
    half_time = meter.time_signature == "4/4" and rng.random() < 0.2
    rubato = float(rng.uniform(0.15, 0.35)) if rng.random() < 0.2 else 0.0
    drums = rng.random() >= 0.1
    return Feel(meter, tempo, mode, swing, unit, half_time, rubato, drums)


def compose_song(seed: int, *, target_duration_s: float = 180.0, song_id: str = "song",
                 sources: Palette | None = None, variety: str = "v2") -> Song:
    """Compose one song from ``seed``; its length is close to ``target_duration_s`` (whole bars).

    ``sources``: the sound sources its parts are played with (default: the ``training`` palette).
    ``variety``: ``"v2"`` (4/4, genre tempo and swing; byte for byte what generator version 2
    wrote) or ``"v3"`` (also meters, feels, rubato intros, drumless songs: :func:`draw_feel`;
    the song's ``feel`` records what was drawn).
    """
    if variety not in VARIETIES:
        raise ParameterError(f"variety {variety!r} is not one of {', '.join(VARIETIES)}")
    return _Composer(np.random.default_rng(seed), target_duration_s, song_id, seed,
                     sources or palette(), variety).song()


class _Composer:
    def __init__(self, rng: np.random.Generator, target_duration_s: float, song_id: str, seed: int,
                 sources: Palette, variety: str = "v2"):
        self.rng, self.target, self.song_id, self.seed = rng, target_duration_s, song_id, seed
        self.sources = sources
        self.v3 = variety == "v3"

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def song(self) -> Song:
        rng = self.rng
        genre = self.genre = self.pick(sorted(GENRES.values(), key=lambda g: g.name))
        feel = self.feel = draw_feel(self.seed, genre) if self.v3 else None
        if feel is None:
            self.tempo = float(rng.integers(genre.tempo_bpm[0], genre.tempo_bpm[1] + 1))
        else:
            self.tempo = feel.tempo_bpm
        m = self.meter = feel.meter if feel else METERS["4/4"]
        self.spb, self.spbeat, self.bpb = m.steps_per_bar, m.steps_per_beat, m.beats_per_bar
        self.beat_s = 60.0 / self.tempo
        self.step_s = self.beat_s / self.spbeat
        self.t0 = 0.25
        self.tonic = int(rng.integers(12))
        self.mode = feel.mode if feel else self.pick(genre.modes)
        self.scale = MODES[self.mode]
        self.sections = self._sections()
        n_bars = sum(b for _, b in self.sections)
        if feel:
            self.beat_times = self._beat_times(n_bars)
        self.chords = self._chords()
        self.active = self._arrangement()
        parts = [p for p in (self._part(slot) for slot in self.active) if p.notes]
        if feel:
            end_s, beats = self._bar_s(n_bars), list(self.beat_times)
        else:
            end_s = self.t0 + n_bars * 4 * self.beat_s
            beats = [self.t0 + i * self.beat_s for i in range(n_bars * 4 + 1)]
        sections, bar = [], 0
        for label, bars in self.sections:
            sections.append({"start_s": self._bar_s(bar), "end_s": self._bar_s(bar + bars), "label": label})
            bar += bars
        chords = [{"start_s": self._bar_s(b), "end_s": self._bar_s(b + 1),
                   "label": _chord_label(ch)} for b, ch in enumerate(self.chords)]
        third = 4 if 4 in self.scale else 3
        return Song(
            song_id=self.song_id, source="procedural", licence="GPL-3.0-or-later (generated by mixassist)",
            seed=self.seed, genre=genre.name, tempo_bpm=self.tempo, time_signature=m.time_signature,
            key=f"{NOTE_NAMES[self.tonic]} {self.mode}",
            key_major_minor=f"{NOTE_NAMES[self.tonic]} {'major' if third == 4 else 'minor'}",
            duration_s=round(end_s + 2.0, 6), beats_s=beats, downbeats_s=beats[::self.bpb], sections=sections,
            chords=chords, parts=parts, feel=feel.annotation() if feel else None)

    # ---- form and harmony ---------------------------------------------------------------------
    def _bar_s(self, bar: int) -> float:
        if self.feel:
            return self.beat_times[bar * self.bpb]
        return self.t0 + bar * 4 * self.beat_s

    def _grid_s(self, bar: int, step: float) -> float:
        """Time of 16th-note ``step`` of ``bar`` (no swing, no humanising)."""
        if not self.feel:
            return self._bar_s(bar) + step * self.step_s
        pos = bar * self.bpb + step / self.spbeat
        i = min(int(pos), len(self.beat_times) - 2)
        return self.beat_times[i] + (pos - i) * (self.beat_times[i + 1] - self.beat_times[i])

    def _beat_times(self, n_bars: int) -> list[float]:
        """Every counted beat's time: the steady grid, and in a rubato intro a slow-fast-slow tempo
        curve (beat length ``1 + depth cos(2 pi x)`` normalised so the intro keeps its length)."""
        n = n_bars * self.bpb
        times = [self.t0 + i * self.beat_s for i in range(n + 1)]
        if self.feel.rubato:
            k = self.sections[0][1] * self.bpb
            shape = 1 + self.feel.rubato * np.cos(2 * np.pi * (np.arange(k) + 0.5) / k)
            lengths = shape / shape.mean() * self.beat_s
            times[1:k] = [self.t0 + float(t) for t in np.cumsum(lengths)[:-1]]
        return times

    def _sections(self) -> list[tuple[str, int]]:
        bar_s = self.bpb * self.beat_s
        scale = 2 if self.bpb == 2 else 1  # 6/8 phrases count twice as many (short) bars
        structure = list(self.pick(STRUCTURES))
        out = []
        for label in structure:
            bars = 4 if label in ("intro", "outro", "pre-chorus", "breakdown") else int(self.pick((8, 8, 16)))
            out.append((label, bars * scale))
        while sum(b for _, b in out) * bar_s > self.target and len(out) > 2:
            # shorten long sections first, then drop inner sections (keep intro and outro).
            longest = max(range(len(out)), key=lambda i: out[i][1])
            if out[longest][1] > 4 * scale:
                out[longest] = (out[longest][0], out[longest][1] // 2)
            else:
                out.pop(len(out) // 2)
        return out

    def _chords(self) -> list[tuple[int, ...]]:
        """One chord per bar: a tuple of MIDI pitch classes with the root first."""
        progs = {}
        chords = []
        sevenths = self.rng.random() < self.genre.sevenths
        for label, bars in self.sections:
            if label not in progs:
                progs[label] = self.pick(PROGRESSIONS)
            prog = progs[label]
            for b in range(bars):
                degree = prog[b % len(prog)]
                tones = [self.scale[(degree + k) % 7] for k in ((0, 2, 4, 6) if sevenths else (0, 2, 4))]
                chords.append(tuple((self.tonic + t) % 12 for t in tones))
        return chords

    def _arrangement(self) -> dict[str, list[bool]]:
        """Which slot plays in which section; consecutive sections always differ."""
        rng, genre = self.rng, self.genre
        slots = {"drums": 1.0 if genre.name not in ("ballad", "ambient") else 0.7}
        slots.update({k: p for k, (p, _) in genre.parts.items()})
        if self.feel and not self.feel.drums:
            slots = {k: p for k, p in slots.items() if k not in ("drums", "percussion")}
        chosen = [s for s, p in slots.items() if rng.random() < p] or ["comp"]
        for must in ("bass", "comp"):
            if must in genre.parts and must not in chosen:
                chosen.append(must)
        vocal = "vocals" in chosen
        active = {}
        for slot in chosen:
            row = []
            for label, _ in self.sections:
                energy = ENERGY[label]
                on = energy >= SLOT_ENERGY[slot] or (energy >= SLOT_ENERGY[slot] - 1 and rng.random() < 0.3)
                if slot == "vocals":
                    on = label in ("verse", "pre-chorus", "chorus", "bridge")
                if slot == "lead" and vocal:  # the instrument lead answers the singer
                    on = label in ("intro", "bridge", "breakdown", "outro") or (label == "chorus" and rng.random() < 0.3)
                if slot == "fx":
                    on = label in ("intro", "breakdown", "outro", "pre-chorus") or rng.random() < 0.2
                row.append(on)
            active[slot] = row
        if self.feel and self.feel.rubato:  # a free intro: no drums (the fix below never changes it)
            for slot in ("drums", "percussion"):
                if slot in active:
                    active[slot][0] = False
        n = len(self.sections)
        for i in range(1, n):  # fx (risers at section ends) does not count as a change at the start
            if all(active[s][i] == active[s][i - 1] for s in active if s != "fx"):
                optional = [s for s in active if s not in ("bass", "comp", "fx")] or [s for s in active if s != "fx"]
                slot = self.pick(optional)
                active[slot][i] = not active[slot][i]
        for slot in list(active):
            if not any(active[slot]):
                del active[slot]
        return active

    # ---- parts ----------------------------------------------------------------------------------
    def _bars_of(self, slot: str):
        """Yield (bar index, section label, first bar of section?, last bar?) where ``slot`` plays."""
        bar = 0
        for i, (label, bars) in enumerate(self.sections):
            for b in range(bars):
                if self.active[slot][i]:
                    yield bar + b, label, b == 0, b == bars - 1
            bar += bars

    def _time(self, bar: int, step: float, jitter_ms: float) -> float:
        if self.feel:
            jitter = float(np.clip(self.rng.normal(0, jitter_ms), -3 * jitter_ms, 3 * jitter_ms)) / 1000
            return max(0.0, self._grid_s(bar, self._swung(step)) + jitter)
        swing = self.genre.swing * self.step_s if int(step) % 2 == 1 else 0.0
        jitter = float(np.clip(self.rng.normal(0, jitter_ms), -3 * jitter_ms, 3 * jitter_ms)) / 1000
        return max(0.0, self._bar_s(bar) + step * self.step_s + swing + jitter)

    def _swung(self, step: float) -> float:
        """``step`` moved by the feel's swing: within each pair of ``swing_unit`` subdivisions the
        off-beat moves by ``swing / 3`` of a subdivision (1 = triplet position), linearly between."""
        feel = self.feel
        if not feel.swing:
            return step
        sub = 1 if feel.swing_unit == "16th" else 2
        pair, x = divmod(step, 2 * sub)
        late = sub * (1 + feel.swing / 3)
        x = x * late / sub if x <= sub else late + (x - sub) * (2 * sub - late) / sub
        return pair * 2 * sub + x

    def _accent(self, step: float) -> bool:
        """On a counted beat (v2: on a quarter note)."""
        return step % self.spbeat == 0

    def _styles(self, four_four, by_meter: dict, family: str | None = None):
        """The 4/4 table entry (v2's) or the current meter's entry of ``by_meter`` (of ``family``)."""
        if self.meter.time_signature == "4/4":
            return four_four
        entry = by_meter[self.meter.time_signature]
        return entry[family] if family else entry

    def _vel(self, base: int, spread: int = 8) -> int:
        return int(np.clip(base + self.rng.integers(-spread, spread + 1), 1, 127))

    def _part(self, slot: str) -> Part:
        if slot == "drums":
            return self._drums()
        if slot == "percussion":
            return self._percussion()
        if slot == "vocals":
            return Part(slot, "vocals", "melody", None, None, self._melody(slot, 57, 74, vocal=True), kind="vocal")
        self._prog = program = int(self.pick(self.genre.parts[slot][1]))
        setup = ChannelSetup(self.pick(self.sources.melodic), program)
        build = {"bass": self._bass, "comp": self._comp, "comp2": self._comp, "brass": self._brass,
                 "pad": self._pad, "arp": self._arp, "fx": self._fx,
                 "lead": lambda s: self._melody(s, 60, 84),
                 "counter": lambda s: self._melody(s, 50, 69, counter=True)}[slot]
        self._bends: list[tuple[float, int]] = []
        notes = build(slot)
        family = program_family(program)
        synth = self._synth(family)
        if synth is not None:
            return Part(slot, family, SLOT_ROLES[slot], None, None, notes, kind="synth",
                        program_name=synth["voice"], synth=synth)
        if self._patched(program):
            return Part(slot, family, SLOT_ROLES[slot], None, ChannelSetup(PATCH_SETS[0], program), notes,
                        kind="patch", program_name=programs()[program].stem)
        return Part(slot, family, SLOT_ROLES[slot], self._channel(), setup, notes,
                    bends=self._bends)

    def _synth(self, family: str) -> dict | None:
        """A synthesis voice and a random patch for a part of ``family`` (:data:`SYNTH_SHARE` of
        the parts a voice of the palette can play; v3 only), or None: a soundfont plays it."""
        voices = [f"{SYNTH_PREFIX}:{v}" for v in voices_for(family)]
        voices = [v for v in voices if v in self.sources.synths]
        if not (self.v3 and voices) or self.rng.random() >= SYNTH_SHARE:
            return None
        name = str(self.pick(voices))
        return {"voice": name, "patch": random_patch(name, self.rng).to_json()}

    def _patched(self, program: int) -> bool:
        """Whether freepats plays a part of GM ``program`` (:data:`PATCH_SHARE` of the parts whose
        program it has, when the palette holds it; v3 only)."""
        if not (self.v3 and self.sources.patches and program in programs()):
            return False
        return bool(self.rng.random() < PATCH_SHARE)

    def _channel(self) -> int:
        used = getattr(self, "_used", 0)
        self._used = used + 1
        return MELODIC_CHANNELS[used]

    def _drums(self) -> Part:
        rng = self.rng
        electronic = self.genre.name in ("edm", "hiphop") and rng.random() < 0.7
        kits = self.sources
        if electronic:
            font = kits.electronic
            setup = ChannelSetup(font, self.pick(kits.kit_programs(font, ELECTRONIC_KITS)), bank=128, drum=True)
        elif rng.random() < 0.7 and kits.kits:
            setup = ChannelSetup(self.pick(kits.kits), 0, drum=True)
        else:
            font = self.pick(kits.melodic)
            setup = ChannelSetup(font, self.pick(kits.kit_programs(font, ACOUSTIC_KITS)), bank=128, drum=True)
        if self.v3 and kits.drumkits and rng.random() < SAMPLED_DRUMS:  # a recorded Hydrogen kit
            style = "electronic" if electronic else "acoustic"
            pool = [k for k in kits.drumkits if DRUMKITS[k].style == style] or list(kits.drumkits)
            kit = str(self.pick(pool))
            return Part("drums", "drums", "rhythm", None, None, self._drum_notes(True), kind="sampled",
                        program_name=kit, sample_kit=kit)
        notes = self._drum_notes(not setup.soundfont.startswith("AVL"))
        return Part("drums", "drums", "rhythm", DRUM_CHANNEL, setup, notes)

    def _drum_notes(self, kit_has_clap: bool) -> list[Note]:
        """The drum part's notes (GM keys); without a clap in the kit the snare plays its notes."""
        rng = self.rng
        low, high = self._styles(DRUM_STYLES[self.genre.drums], METER_DRUMS, DRUM_FAMILY[self.genre.name])
        if self.feel and self.feel.half_time:
            low, high = _half_time(low), _half_time(high)
        fill_from = self.spb // 2
        notes = []
        for bar, label, first, last in self._bars_of("drums"):
            grid = high if ENERGY[label] >= 3 else low
            fill = last and rng.random() < 0.6
            for piece, steps in grid.items():
                piece = piece if (piece != CLAP or kit_has_clap) else SNARE
                for step in steps:
                    if fill and step >= fill_from and piece != KICK:
                        continue
                    base = 108 if self._accent(step) else 88
                    if piece in (HAT, RIDE, OPEN):
                        base -= 18
                    if piece == SIDE and self.genre.drums == "funk":
                        base = 50  # ghost notes
                    t = self._time(bar, step, 1.5)
                    notes.append(Note(t, t + 0.1, piece, self._vel(base)))
            if first and ENERGY[label] >= 3:
                t = self._time(bar, 0, 1.5)
                notes.append(Note(t, t + 0.5, CRASH, self._vel(110)))
            if fill:
                for k, step in enumerate(range(fill_from, self.spb, 2 if self.meter.compound else 1)):
                    piece = TOMS[min(k // 2 + int(rng.integers(2)), len(TOMS) - 1)] if rng.random() < 0.6 else SNARE
                    t = self._time(bar, step, 1.5)
                    notes.append(Note(t, t + 0.1, piece, self._vel(80 + 4 * k)))
        return notes

    def _percussion(self) -> Part:
        setup = ChannelSetup(self.pick(self.sources.melodic), 0, bank=128, drum=True)
        pattern = self.pick(self._styles(PERCUSSION, METER_PERCUSSION))
        notes = []
        for bar, label, _, _ in self._bars_of("percussion"):
            for piece, steps in pattern.items():
                for step in steps:
                    t = self._time(bar, step, 4.0)
                    notes.append(Note(t, t + 0.1, piece, self._vel(85 if self._accent(step) else 65, 12)))
        return Part("percussion", "percussion", "rhythm", PERC_CHANNEL, setup, notes)

    def _bass(self, slot: str) -> list[Note]:
        pattern, notes = self._styles(BASS_STYLES[self.genre.bass], METER_BASS, DRUM_FAMILY[self.genre.name]), []
        for bar, label, _, _ in self._bars_of(slot):
            chord = self.chords[bar]
            nxt = self.chords[min(bar + 1, len(self.chords) - 1)]
            root = 28 + (chord[0] - 4) % 12  # E1..Eb2
            for step, length, degree in pattern:
                pitch = {"R": root, "O": root + 12, "F": root + 7,
                         "A": 28 + (nxt[0] - 4) % 12 + (1 if self.rng.random() < 0.5 else -1)}[degree]
                t = self._time(bar, step, 4.0)
                notes.append(Note(t, t + length * self.step_s * 0.92, int(pitch), self._vel(96 if self._accent(step) else 84)))
        return notes

    def _voicing(self, chord: tuple[int, ...], low: int, previous: list[int] | None) -> list[int]:
        """Close voicing of ``chord`` at or above ``low``, inverted to move least from ``previous``."""
        options = []
        for inversion in range(len(chord)):
            pcs = chord[inversion:] + chord[:inversion]
            pitches, p = [], low - 1
            for pc in pcs:
                p = p + 1 + (pc - p - 1) % 12
                pitches.append(p)
            options.append(pitches)
        if previous is None:
            return options[0]
        return min(options, key=lambda v: sum(abs(a - b) for a, b in zip(sorted(v), sorted(previous))))

    def _comp(self, slot: str) -> list[Note]:
        name = self.genre.comp if slot == "comp" else self.pick(("straight", "piano", "keys"))
        style = self._styles(COMP_STYLES[name], METER_COMP, COMP_FAMILY[name])
        power = self.genre.comp == "power" and slot == "comp"
        notes, prev = [], None
        for bar, label, _, _ in self._bars_of(slot):
            chord = self.chords[bar]
            if power:
                root = 40 + (chord[0] - 4) % 12
                pitches = [root, root + 7, root + 12]
            else:
                pitches = prev = self._voicing(chord, 55, prev)
            for step, length in style:
                t = self._time(bar, step, 6.0)
                vel = self._vel(84 if self._accent(step) else 74)
                for k, p in enumerate(pitches):  # a guitar strums: 10 ms between strings
                    dt = 0.010 * k if 24 <= self._prog <= 31 else 0.0
                    notes.append(Note(t + dt, t + length * self.step_s * 0.9, int(p), vel))
        return notes

    def _brass(self, slot: str) -> list[Note]:
        notes, prev = [], None
        hits = self.pick(self._styles((((0, 2), (6, 2)), ((3, 1), (10, 2)), ((0, 4), (12, 2))), METER_BRASS))
        for bar, label, _, _ in self._bars_of(slot):
            prev = self._voicing(self.chords[bar], 58, prev)
            for step, length in hits:
                t = self._time(bar, step, 5.0)
                vel = self._vel(96)
                notes.extend(Note(t, t + length * self.step_s * 0.85, p, vel) for p in prev)
        return notes

    def _pad(self, slot: str) -> list[Note]:
        notes, prev = [], None
        for bar, label, _, _ in self._bars_of(slot):
            prev = self._voicing(self.chords[bar], 50, prev)
            t = self._time(bar, 0, 8.0)
            notes.extend(Note(t, self._bar_s(bar + 1) - 0.01, p, self._vel(72)) for p in prev)
        return notes

    def _arp(self, slot: str) -> list[Note]:
        order = self.pick(("up", "down", "updown"))
        rate = int(self.pick((1, 2, 2)))
        notes = []
        for bar, label, _, _ in self._bars_of(slot):
            tones = self._voicing(self.chords[bar], 62, None)
            tones = tones + [tones[0] + 12]
            seq = {"up": tones, "down": tones[::-1], "updown": tones + tones[-2:0:-1]}[order]
            for k, step in enumerate(range(0, self.spb, rate)):
                t = self._time(bar, step, 3.0)
                notes.append(Note(t, t + rate * self.step_s * 0.8, int(seq[k % len(seq)]), self._vel(78 if self._accent(step) else 66)))
        return notes

    def _fx(self, slot: str) -> list[Note]:
        """Risers into sections (one bar, pitch bend up) and long atmospheres in quiet sections."""
        notes = []
        pitch = 60 + self.tonic
        bar = 0
        for i, (label, bars) in enumerate(self.sections):
            if self.active[slot][i]:
                if ENERGY[label] <= 1:
                    notes.append(Note(self._bar_s(bar), self._bar_s(bar + bars) - 0.05, pitch, self._vel(80)))
                else:
                    start, end = self._bar_s(bar + bars - 1), self._bar_s(bar + bars) - 0.02
                    notes.append(Note(start, end, pitch, self._vel(90)))
                    self._bends.extend((start + (end - start) * k / 16, 8192 + 512 * k) for k in range(16))
                    self._bends.append((end + 0.01, 8192))
            bar += bars
        return notes

    def _melody(self, slot: str, low: int, high: int, *, vocal: bool = False, counter: bool = False) -> list[Note]:
        """Motif-based melody: a two-bar rhythm repeated per phrase, stepwise motion in the scale,
        chord tones on strong beats, a rest at each phrase end (vocals get a syllable per note)."""
        rng = self.rng
        scale_pitches = [p for p in range(low, high + 1) if (p - self.tonic) % 12 in self.scale]
        spb = self.spb
        rhythms = LEAD_RHYTHMS[:4] if vocal else LEAD_RHYTHMS
        if self.meter.time_signature != "4/4":
            rhythms = METER_LEAD[self.meter.time_signature]
        strong = {"4/4": 8, "3/4": 4, "6/8": 6, "12/8": 12}[self.meter.time_signature]
        long_note = 12 if self.meter.time_signature == "3/4" else strong
        motifs: dict[str, tuple] = {}
        notes = []
        idx = len(scale_pitches) // 2
        bar = 0
        for i, (label, bars) in enumerate(self.sections):
            if self.active[slot][i]:
                if label not in motifs:
                    rhythm = tuple((s, long_note) for s in range(0, 2 * spb, long_note)) if counter else self.pick(rhythms)
                    motifs[label] = (rhythm, [int(rng.integers(-2, 3)) for _ in rhythm])
                rhythm, contour = motifs[label]
                for phrase_bar in range(0, bars, 2):
                    last_phrase = phrase_bar + 2 >= bars
                    for k, ((step, length), move) in enumerate(zip(rhythm, contour)):
                        b = bar + phrase_bar + step // spb
                        if b >= bar + bars:
                            break
                        if vocal and last_phrase and step >= 2 * spb - spb // 2:
                            continue  # breath at the end of the section
                        idx = int(np.clip(idx + move + int(rng.integers(-1, 2)) * (rng.random() < 0.3), 0, len(scale_pitches) - 1))
                        if step % strong == 0:  # strong beat: nearest chord tone
                            chord = self.chords[b]
                            tones = [j for j, p in enumerate(scale_pitches) if p % 12 in chord]
                            idx = min(tones, key=lambda j: abs(j - idx))
                        if vocal:
                            t = self._grid_s(b, step % spb)
                        else:
                            t = self._time(b, step % spb, 6.0)
                        dur = length * self.step_s * (0.95 if vocal else 0.85)
                        notes.append(Note(t, t + dur, scale_pitches[idx], self._vel(92 if step % strong == 0 else 80),
                                          lyric=self.pick(KANA) if vocal else None))
            bar += bars
        return notes


def _half_time(grid: dict[int, tuple[int, ...]]) -> dict[int, tuple[int, ...]]:
    """A 4/4 drum grid in half time: snare (or clap) only on beat 3, no kick on beats 2-4."""
    out = {}
    for piece, steps in grid.items():
        if piece in (SNARE, CLAP):
            steps = (8,)
        elif piece == KICK:
            steps = tuple(s for s in steps if s not in (4, 8, 12)) or (0,)
        out[piece] = steps
    if SNARE not in out and CLAP not in out:
        out[SNARE] = (8,)
    return out


def _chord_label(chord: tuple[int, ...]) -> str:
    root = chord[0]
    intervals = tuple(sorted((p - root) % 12 for p in chord[1:]))
    return f"{NOTE_NAMES[root]}:{QUALITIES.get(intervals, 'maj')}"
