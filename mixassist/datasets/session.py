"""Sessions like real ones (generator v3): how a song's parts become the tracks of a session.

:func:`arrange_session` turns the composer's one-stem-per-part song into a session as people
record and name them, drawn from a random stream of its own (``data build --generator 3`` uses
the song seed's stream 4, so the music is the same whatever the session; procedural songs only):

- **drum pieces** (:data:`SPLIT_DRUMS` of the songs with drums): the kit played as separate
  tracks, kick, snare, hats, toms, cymbals (overheads), each the notes of its GM keys on its own
  channel with the same kit (a sampled kit's pieces need no channel); every piece keeps the instrument ``drums`` and the slot ``drums``,
  so the balance moves them as one kit (their levels inside it are the kit's own);
- **doubles** (:data:`DOUBLE` of the comping guitar, keys and synth parts): the part played
  twice, each take humanised on its own (onsets +-:data:`DOUBLE_JITTER_S`, velocity +-6), as a
  left and a right track of one slot;
- **names** (:data:`NAMES`): the slot names as today, names as engineers write them (``Kick
  In``, ``GTR L``, ``Bass DI``, ``Lead Vox``), or tracks numbered by the recorder (``Audio 03``,
  ``Track 7``) that say nothing of their content.

Lead and backing vocals and strings split by section are not drawn yet.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .song import Note, Part

#: Share of songs with drums whose kit is split into pieces.
SPLIT_DRUMS = 0.4
#: GM drum keys of each piece (kick, snare, hats, toms, cymbals); other keys go to the cymbals.
DRUM_PIECES = (("kick", (35, 36)), ("snare", (37, 38, 39, 40)), ("hats", (42, 44, 46)),
               ("toms", (41, 43, 45, 47, 48, 50)))
#: Share of the comping guitar, keys and synth parts that are doubled left and right.
DOUBLE = 0.3
DOUBLE_FAMILIES = ("guitar", "keys", "synth")
#: Timing spread (s) of a double's onsets against the first take.
DOUBLE_JITTER_S = 0.008
#: How tracks are named: (kind, share): slot names, engineers' names, numbered tracks.
NAMES = (("slot", 0.4), ("engineer", 0.4), ("numbered", 0.2))
#: Engineers' names by piece or instrument family (the first unused is taken).
ENGINEER_NAMES = {
    "kick": ("Kick In", "Kick", "KD"), "snare": ("Snare Top", "SN", "Snare"),
    "hats": ("HH", "Hats", "Hi-Hat"), "toms": ("Toms", "Tom 1", "TOMS"),
    "cymbals": ("OH", "Overheads", "Cymbals"), "drums": ("Drums", "Drum Bus", "Kit"),
    "percussion": ("Perc", "Shaker", "Perc 2"), "bass": ("Bass DI", "BASS", "Bass"),
    "guitar": ("GTR", "Gtr", "Guitar"), "keys": ("Keys", "Piano", "Rhodes"),
    "strings": ("Strings", "Str", "Violins"), "brass": ("Brass", "Horns", "Tpt"),
    "woodwinds": ("Flute", "Sax", "Reeds"), "synth": ("Synth", "Lead Syn", "Pad"),
    "vocals": ("Lead Vox", "Vox", "LV"), "fx": ("FX", "Riser", "Sweep"),
}


def arrange_session(parts: list[Part], rng: np.random.Generator, *,
                    free_channels: list[int]) -> list[Part]:
    """The song's parts as the tracks of a session (module docstring); ``free_channels`` are the
    MIDI channels no part uses (pieces and doubles take them; without one a part stays whole)."""
    free = list(free_channels)
    out: list[Part] = []
    for part in parts:
        if part.name == "drums" and part.kind in ("midi", "sampled") and rng.random() < SPLIT_DRUMS:
            out += _pieces(part, free)
        elif (part.kind == "midi" and part.role == "harmony" and part.instrument in DOUBLE_FAMILIES
              and rng.random() < DOUBLE and free):
            out += _double(part, rng, free.pop(0))
        else:
            out.append(dataclasses.replace(part, slot=part.name))
    return _named(out, rng)


def _pieces(drums: Part, free: list[int]) -> list[Part]:
    keys = {key: piece for piece, piece_keys in DRUM_PIECES for key in piece_keys}
    by_piece: dict[str, list[Note]] = {}
    for note in drums.notes:
        by_piece.setdefault(keys.get(note.pitch, "cymbals"), []).append(note)
    pieces = [p for p, _ in DRUM_PIECES if p in by_piece] + (["cymbals"] if "cymbals" in by_piece
                                                             else [])
    sampled = drums.kind == "sampled"  # played by sample playback: its pieces take no channel
    if len(pieces) < 2 or (not sampled and len(free) < len(pieces) - 1):
        return [dataclasses.replace(drums, slot="drums")]
    channels = [None] * len(pieces) if sampled else [drums.channel] + [free.pop(0) for _ in pieces[1:]]
    return [dataclasses.replace(drums, name=piece, channel=channel, notes=by_piece[piece],
                                slot="drums", piece=piece)
            for piece, channel in zip(pieces, channels)]


def _double(part: Part, rng: np.random.Generator, channel: int) -> list[Part]:
    def take() -> list[Note]:
        jitter = rng.uniform(-DOUBLE_JITTER_S, DOUBLE_JITTER_S, len(part.notes))
        velocity = rng.integers(-6, 7, len(part.notes))
        return [dataclasses.replace(n, start_s=max(0.0, n.start_s + float(j)),
                                    end_s=max(0.0, n.end_s + float(j)),
                                    velocity=int(np.clip(n.velocity + v, 1, 127)))
                for n, j, v in zip(part.notes, jitter, velocity)]

    return [dataclasses.replace(part, name=f"{part.name} L", slot=part.name, side="L"),
            dataclasses.replace(part, name=f"{part.name} R", channel=channel, notes=take(),
                                slot=part.name, side="R")]


def _named(parts: list[Part], rng: np.random.Generator) -> list[Part]:
    kind = str(rng.choice([k for k, _ in NAMES], p=[s for _, s in NAMES]))
    if kind == "slot":
        return parts
    if kind == "numbered":
        word, start = str(rng.choice(["Audio", "Track"])), int(rng.integers(1, 4))
        order = rng.permutation(len(parts))
        return [dataclasses.replace(p, name=f"{word} {start + int(k):02d}")
                for p, k in zip(parts, order)]
    used: set[str] = set()
    out = []
    for part in parts:
        choices = ENGINEER_NAMES[part.piece or part.instrument]
        name = next((c for c in choices if c not in used), choices[0])
        if part.side:
            name = f"{name} {part.side}"
        while name in used:
            name += " 2"
        used.add(name)
        out.append(dataclasses.replace(part, name=name))
    return out
