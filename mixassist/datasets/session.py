"""Sessions like real ones (generator v3): how a song's parts become the tracks of a session.

:func:`arrange_session` turns the composer's one-stem-per-part song into a session as people
record and name them, drawn from a random stream of its own (``data build --generator 3`` uses
the song seed's stream 4, so the music is the same whatever the session; procedural songs only):

- **drum pieces** (:data:`SPLIT_DRUMS` of the songs with drums): the kit played as separate
  tracks, kick, snare, hats, toms, cymbals (overheads), each the notes of its GM keys on its own
  channel with the same kit (a sampled kit's pieces need no channel); every piece keeps the instrument ``drums`` and the slot ``drums``,
  so the balance moves them as one kit (their levels inside it are the kit's own);
- **room mic** (:data:`ROOM` of the split kits): one more track of the kit's slot (piece
  ``room``, kind ``room``): the whole kit as rendered (the sum of its pieces before their
  production) through a generated room (:data:`ROOM_RANGES`; a fully wet ``RoomReverb``, decorrelated
  stereo), high-passed and compressed a little (its ``chain``, drawn here, replaces a drawn
  production chain), :data:`ROOM_UNDER_KIT_LU` under the produced pieces (``under_lu``);
- **synth layers** (:data:`LAYER` of the synth parts a synthesis voice plays): a second voice
  of the palette's that plays synth (the same voice possible, ``synths``), with its own random
  patch, on the same notes or (:data:`LAYER_OCTAVE`) an octave up (``transpose`` 12), its own
  track of the part's slot, instrument ``synth``, the part's role, ``layer_of`` the part's track,
  :data:`LAYER_UNDER_LU` under it (``under_lu``);
- **doubles** (:data:`DOUBLE` of the other comping guitar, keys and synth parts, whether a
  soundfont, a synthesis voice or freepats plays them): the part played twice, the second take
  humanised on its own (onsets +-:data:`DOUBLE_JITTER_S`, velocity +-6; a synthesis voice's with
  its own patch seed, so its noise and phases differ), as a left and a right track of one slot,
  panned opposite (``pan`` +-:data:`DOUBLE_PAN`, the left take left);
- **backing vocals** (:data:`BACKING` of the songs with a sung lead, when the key is known): one
  or two (:data:`BACKING_COUNT`) backing singers who sing the lead's syllables with it in the
  choruses, in the second bar of every two-bar phrase or throughout (:data:`BACKING_WHERE`), a
  diatonic third or sixth from the melody in the song's key or an octave double
  (:data:`HARMONIES`; a note that would leave :data:`BACKING_RANGE` moves by an octave), sung by
  the lead's singer (kind ``vocal``, instrument ``vocals``, role ``harmony``), each its own track;
  the balance puts each :data:`.balance.BACKING_UNDER_LEAD_LU` under the lead;
- **a double of the lead** (:data:`LEAD_DOUBLE` of the songs with a sung lead that get no backing
  vocals): the lead line sung again by the same voice, role ``melody``, ``double_of`` the lead's
  track. One voice sings one score the same way every time, so the double is the lead's render
  retaken note by note (:func:`.vocals.double_take`): each phrase (notes apart by less than
  :data:`PHRASE_GAP_S`) comes :data:`DOUBLE_SHIFT_MS` early or late, each note a few cents off (a
  song-wide :data:`DOUBLE_CENTS` plus a drift of up to :data:`DOUBLE_DRIFT_CENTS` per note),
  recorded as ``retake``; its notes are the lead's moved the same way; it draws its own
  production chain and sits :data:`DOUBLE_UNDER_LEAD_LU` under the lead (``under_lu``);
- **string sections** (:data:`SPLIT_STRINGS` of the strings parts a soundfont or synthesis voice
  plays): the part played by violins, violas, cellos and (when it goes low) basses, each its own
  track of the part's slot on its own channel: a chord (notes starting within 30 ms) is spread top
  down, its top note to the highest section whose range (:data:`STRING_SECTIONS`) holds it, each
  next note to the next section down that holds it (or the lowest one above that does); a lone note
  goes to the highest section that holds it;
- **names** (:data:`NAMES`): the slot names as today, names as engineers write them (``Kick
  In``, ``GTR L``, ``Bass DI``, ``Lead Vox``, ``BV 1``, ``Vln 1``; a room mic's and a double's
  drawn from :data:`ENGINEER_NAMES` ``room`` and ``double``; a synth and its layer by one
  :data:`LAYER_NAMES` style a song, ``Synth 1``/``Synth 2``, ``Pad``/``Pad Layer``), or tracks
  numbered by the recorder that say nothing of their content: ``Audio 03``, ``Track 7``, or no
  name at all, the stem exported as its two-digit number alone (``07``;
  :data:`NUMBERED_WORDS`, :data:`PADDED`). Names are unique in a song; the labels are never only
  in them (song.json and the manifest carry them).
"""

from __future__ import annotations

import bisect
import dataclasses

import numpy as np

from .compose import MODES, NOTE_NAMES
from .production import draw_room_decay_s
from .song import Note, Part
from .synth import random_patch, voice

#: Share of songs with drums whose kit is split into pieces.
SPLIT_DRUMS = 0.4
#: GM drum keys of each piece (kick, snare, hats, toms, cymbals); other keys go to the cymbals.
DRUM_PIECES = (("kick", (35, 36)), ("snare", (37, 38, 39, 40)), ("hats", (42, 44, 46)),
               ("toms", (41, 43, 45, 47, 48, 50)))
#: Share of the split kits that get a room mic, its level under the pieces (LU, uniform) and the
#: rooms (size log-uniform, m; RT60 :func:`.production.draw_room_decay_s`; the rest uniform).
ROOM = 0.5
ROOM_UNDER_KIT_LU = (3.0, 8.0)
ROOM_RANGES = {"size_m": (4.0, 15.0), "hf_damping": (0.4, 0.9), "predelay_ms": (3.0, 20.0),
               "highpass_hz": (80.0, 250.0), "threshold_db": (-24.0, -14.0), "ratio": (1.5, 3.0),
               "attack_ms": (5.0, 30.0), "release_ms": (60.0, 250.0)}
#: Share of the synth parts played by a synthesis voice that get a second voice layered on them,
#: the share of the layers an octave up and a layer's level under the part (LU, uniform).
LAYER = 0.25
LAYER_OCTAVE = 0.3
LAYER_UNDER_LU = (2.0, 6.0)
#: Share of the comping guitar, keys and synth parts (not layered) that are doubled left and
#: right, the kinds of part that can be (a soundfont's, a synthesis voice's, freepats') and how
#: far the takes are panned (|position|, uniform; the left take at -, the right at +).
DOUBLE = 0.3
DOUBLE_FAMILIES = ("guitar", "keys", "synth")
DOUBLE_KINDS = ("midi", "synth", "patch")
DOUBLE_PAN = (0.3, 1.0)
#: Timing spread (s) of a double's onsets against the first take.
DOUBLE_JITTER_S = 0.008
#: Share of the songs with a sung lead that get backing vocals, and how many singers (count, share).
BACKING = 0.35
BACKING_COUNT = ((1, 0.6), (2, 0.4))
#: Where the backing singers sing: (where, share); ``chorus`` falls back to ``phrase_ends`` in a
#: song without a sung chorus, either to ``throughout`` when it leaves no note.
BACKING_WHERE = (("chorus", 0.5), ("phrase_ends", 0.3), ("throughout", 0.2))
#: The backing line against the melody: (name, scale steps in the key, share); two singers take
#: two different ones.
HARMONIES = (("third above", 2, 0.35), ("third below", -2, 0.15), ("sixth below", -5, 0.15),
             ("sixth above", 5, 0.1), ("octave below", -7, 0.15), ("octave above", 7, 0.1))
#: MIDI range of a backing line (the singer's; the lead sings 57-74).
BACKING_RANGE = (50, 79)
#: Share of the songs with a sung lead and no backing vocals whose lead is doubled; a phrase ends
#: at a rest of at least PHRASE_GAP_S; each phrase's shift (ms, uniform in magnitude, either
#: sign), the song's pitch offset (cents, uniform in magnitude, either sign) and each note's
#: drift around it (cents, uniform); the double's level under the lead (LU, uniform).
LEAD_DOUBLE = 0.2
PHRASE_GAP_S = 0.1
DOUBLE_SHIFT_MS = (10.0, 30.0)
DOUBLE_CENTS = (3.0, 10.0)
DOUBLE_DRIFT_CENTS = 2.0
DOUBLE_UNDER_LEAD_LU = (3.0, 8.0)
#: Share of the strings parts played as sections.
SPLIT_STRINGS = 0.5
#: The string sections, top down, with the MIDI range each plays.
STRING_SECTIONS = (("violins", 55, 103), ("violas", 48, 88), ("cellos", 36, 76), ("basses", 24, 47))
#: Notes starting this close (s) are one chord.
CHORD_S = 0.03
#: How tracks are named: (kind, share): slot names, engineers' names, numbered tracks.
NAMES = (("slot", 0.4), ("engineer", 0.4), ("numbered", 0.2))
#: Numbered tracks: the word before a song's numbers (share; ``""``: no name, the stem exported as
#: its number alone, always two digits, ``07``) and the share of songs whose numbers after a word
#: are zero-padded (``Audio 07``; the others ``Audio 7``).
NUMBERED_WORDS = (("Audio", 0.35), ("Track", 0.35), ("", 0.3))
PADDED = 0.5
#: Engineers' names of a synth and its layer, one style a song: formats of the synth's name.
LAYER_NAMES = (("{} 1", "{} 2"), ("{}", "{} Layer"), ("{} A", "{} B"), ("{}", "{} 2"))
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
    "violins": ("Vln 1", "Violins", "VLN"), "violas": ("Vla", "Violas", "VLA"),
    "cellos": ("Celli", "Cello", "VC"), "basses": ("Basses", "CB", "Contrabass"),
    "room": ("Room", "Rooms", "Amb", "OH Room", "Drum Room"),
    "double": ("Vox Dbl", "Lead Dbl", "Vocal Double", "LV 2"),
}
#: Tracks whose engineer's name is drawn from their names (the others take the first unused).
DRAWN_NAMES = ("room", "double")
#: Engineers' names of backing vocals, one style per song (the first for the first singer, ...).
BACKING_NAMES = (("BV 1", "BV 2"), ("Bv 1", "Bv 2"), ("Backing Vox", "Backing Vox 2"),
                 ("Harmony", "Harmony 2"), ("BGV 1", "BGV 2"))


def arrange_session(parts: list[Part], rng: np.random.Generator, *, free_channels: list[int],
                    key: str | None = None, sections: list[dict] = (),
                    downbeats_s: list[float] = (), synths: tuple[str, ...] = ()) -> list[Part]:
    """The song's parts as the tracks of a session (module docstring); ``free_channels`` are the
    MIDI channels no part uses (pieces, doubles and sections take them; without enough a part stays
    whole). ``key`` (the song's, ``"D dorian"``), ``sections`` and ``downbeats_s`` (the song's
    annotations) place backing vocals; without ``key`` none are drawn. ``synths``: the palette's
    synthesis voices (source names) a layer may use; without one that plays synth a layer is the
    part's own voice."""
    free = list(free_channels)
    out: list[Part] = []
    for part in parts:
        if part.name == "drums" and part.kind in ("midi", "sampled") and rng.random() < SPLIT_DRUMS:
            pieces = _pieces(part, free)
            out += pieces
            if len(pieces) > 1 and rng.random() < ROOM:
                out.append(_room(part, rng))
        elif part.kind == "synth" and part.instrument == "synth" and part.notes and rng.random() < LAYER:
            out += _layer(part, rng, synths)
        elif (part.kind in DOUBLE_KINDS and part.role == "harmony" and part.instrument in DOUBLE_FAMILIES
              and rng.random() < DOUBLE and (free or part.kind != "midi")):
            out += _double(part, rng, free.pop(0) if part.kind == "midi" else None)
        elif part.kind == "vocal" and part.role == "melody" and key and part.notes:
            out.append(dataclasses.replace(part, slot=part.name))
            if rng.random() < BACKING:
                out += _backing(part, rng, key=key, sections=sections, downbeats_s=downbeats_s)
            elif rng.random() < LEAD_DOUBLE:
                out.append(_lead_double(part, rng))
        elif (part.instrument == "strings" and part.kind in ("midi", "synth", "patch")
              and rng.random() < SPLIT_STRINGS):
            out += _string_sections(part, free, taken={p.name for p in parts + out})
        else:
            out.append(dataclasses.replace(part, slot=part.name))
    named = _named(out, rng)
    renamed = {p.name: q.name for p, q in zip(out, named)}
    return [dataclasses.replace(q, double_of=q.double_of and renamed[q.double_of],
                                layer_of=q.layer_of and renamed[q.layer_of]) for q in named]


def _draw(rng: np.random.Generator, table) -> object:
    return table[int(rng.choice(len(table), p=[row[-1] for row in table]))]


def _backing(lead: Part, rng: np.random.Generator, *, key: str, sections: list[dict],
             downbeats_s: list[float]) -> list[Part]:
    tonic, mode = key.split(" ", 1)
    scale = [p for p in range(128) if (p - NOTE_NAMES.index(tonic)) % 12 in MODES[mode]]
    count = _draw(rng, BACKING_COUNT)[0]
    where = _draw(rng, BACKING_WHERE)[0]
    order = list(rng.choice(len(HARMONIES), size=count, replace=False,
                            p=[h[-1] for h in HARMONIES]))
    notes, where = _backing_notes(lead.notes, where, sections, downbeats_s)
    out = []
    for k, h in enumerate(order, start=1):
        name, steps, _ = HARMONIES[int(h)]
        line = [dataclasses.replace(n, pitch=_harmony(n.pitch, steps, scale)) for n in notes]
        out.append(dataclasses.replace(lead, name=f"backing {k}", role="harmony", notes=line,
                                       slot=f"backing {k}", harmony=name, sings=where))
    return out


def _backing_notes(notes: list[Note], where: str, sections: list[dict],
                   downbeats_s: list[float]) -> tuple[list[Note], str]:
    def inside(n: Note, spans) -> bool:
        return any(a - 1e-6 <= n.start_s < b - 1e-6 for a, b in spans)

    if where == "chorus":
        choruses = [(s["start_s"], s["end_s"]) for s in sections if s["label"] == "chorus"]
        chosen = [n for n in notes if inside(n, choruses)]
        if chosen:
            return chosen, where
        where = "phrase_ends"
    if where == "phrase_ends" and len(downbeats_s) > 1:
        starts = sorted({bisect.bisect_right(downbeats_s, s["start_s"] + 1e-6) - 1 for s in sections} | {0})
        chosen = []
        for n in notes:
            bar = bisect.bisect_right(downbeats_s, n.start_s + 1e-6) - 1
            first = starts[bisect.bisect_right(starts, bar) - 1]
            if (bar - first) % 2 == 1:
                chosen.append(n)
        if chosen:
            return chosen, where
    return list(notes), "throughout"


def _harmony(pitch: int, steps: int, scale: list[int]) -> int:
    """``pitch`` moved ``steps`` degrees of ``scale`` (from its nearest degree), kept in range."""
    i = min(range(len(scale)), key=lambda j: abs(scale[j] - pitch))
    out = scale[int(np.clip(i + steps, 0, len(scale) - 1))]
    low, high = BACKING_RANGE
    while out > high:
        out -= 12
    while out < low:
        out += 12
    return out


def string_section(pitches: list[int]) -> list[str]:
    """The section (:data:`STRING_SECTIONS`) playing each of a chord's ``pitches`` (module
    docstring); in the order given."""
    ranges = STRING_SECTIONS
    holds = lambda i, p: ranges[i][1] <= p <= ranges[i][2]  # noqa: E731
    out, k = {}, 0
    for idx in sorted(range(len(pitches)), key=lambda j: -pitches[j]):
        p = pitches[idx]
        j = next((i for i in range(k, len(ranges)) if holds(i, p)), None)
        if j is None:  # no section from here down holds it: the lowest above that does
            j = max((i for i in range(len(ranges)) if holds(i, p)),
                    default=0 if p > ranges[0][2] else len(ranges) - 1)
        out[idx] = ranges[j][0]
        k = j + 1
    return [out[i] for i in range(len(pitches))]


def _string_sections(part: Part, free: list[int], *, taken: set[str]) -> list[Part]:
    by_section: dict[str, list[Note]] = {}
    notes = sorted(part.notes, key=lambda n: (n.start_s, -n.pitch))
    k = 0
    while k < len(notes):
        j = k + 1
        while j < len(notes) and notes[j].start_s - notes[k].start_s < CHORD_S:
            j += 1
        chord = notes[k:j]
        for note, section in zip(chord, string_section([n.pitch for n in chord])):
            by_section.setdefault(section, []).append(note)
        k = j
    sections = [s for s, _, _ in STRING_SECTIONS if s in by_section]
    midi = part.kind == "midi"
    if len(sections) < 2 or (midi and len(free) < len(sections) - 1):
        return [dataclasses.replace(part, slot=part.name)]
    channels = [part.channel] + [free.pop(0) if midi else None for _ in sections[1:]]
    return [dataclasses.replace(part, name=s if s not in taken else f"{part.name} {s}",
                                channel=ch, notes=by_section[s], slot=part.name, piece=s)
            for s, ch in zip(sections, channels)]


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


def _room(drums: Part, rng: np.random.Generator) -> Part:
    """The room mic of a split kit (module docstring): its chain and its level under the pieces."""
    r = ROOM_RANGES
    u = lambda key: round(float(rng.uniform(*r[key])), 2)  # noqa: E731
    size = round(float(np.exp(rng.uniform(*np.log(r["size_m"])))), 1)
    chain = [{"plugin": "RoomReverb", "params": {
                 "size_m": size, "decay_s": draw_room_decay_s(size, rng), "hf_damping": u("hf_damping"),
                 "predelay_ms": u("predelay_ms"), "crossover_hz": 4000.0,
                 "seed": int(rng.integers(2 ** 31)), "wet_level": 1.0, "dry_level": 0.0}},
             {"plugin": "HighpassFilter", "params": {"cutoff_frequency_hz": u("highpass_hz")}},
             {"plugin": "Compressor", "params": {"threshold_db": u("threshold_db"), "ratio": u("ratio"),
                                                 "attack_ms": u("attack_ms"), "release_ms": u("release_ms")}}]
    return dataclasses.replace(drums, name="room", kind="room", channel=None, notes=[], slot="drums",
                               piece="room", chain=chain,
                               under_lu=round(float(rng.uniform(*ROOM_UNDER_KIT_LU)), 2))


def phrases(notes: list[Note], gap_s: float = PHRASE_GAP_S) -> list[list[Note]]:
    """``notes`` (sorted by start) in phrases: a phrase ends where the next note starts at least
    ``gap_s`` after it ends."""
    out: list[list[Note]] = []
    for note in notes:
        if out and note.start_s - out[-1][-1].end_s < gap_s:
            out[-1].append(note)
        else:
            out.append([note])
    return out


def _lead_double(lead: Part, rng: np.random.Generator) -> Part:
    """The lead sung again (module docstring): one shift per phrase, one pitch offset per note
    (the song's plus a drift), each note's take starting halfway from the previous note (the
    first at 0)."""
    cents = float(rng.choice([-1.0, 1.0]) * rng.uniform(*DOUBLE_CENTS))
    retake, notes = [], []
    previous_end = None
    for phrase in phrases(sorted(lead.notes, key=lambda n: n.start_s)):
        shift = round(float(rng.choice([-1.0, 1.0]) * rng.uniform(*DOUBLE_SHIFT_MS)), 2)
        for n in phrase:
            start = 0.0 if previous_end is None else round(min(n.start_s, (previous_end + n.start_s) / 2), 6)
            take = {"start_s": start, "onset_s": round(n.start_s, 6), "shift_ms": shift,
                    "cents": round(cents + float(rng.uniform(-DOUBLE_DRIFT_CENTS, DOUBLE_DRIFT_CENTS)), 2)}
            retake.append(take)
            notes.append(dataclasses.replace(n, start_s=retimed(n.start_s, take), end_s=retimed(n.end_s, take)))
            previous_end = n.end_s
    return dataclasses.replace(lead, name=f"{lead.name} double", slot=lead.name, notes=notes,
                               double_of=lead.name, retake=retake,
                               under_lu=round(float(rng.uniform(*DOUBLE_UNDER_LEAD_LU)), 2))


def retimed(t: float, take: dict) -> float:
    """Where time ``t`` (s) of the lead falls in its double's note ``take`` (:func:`.vocals.double_take`):
    the take plays ``2 ** (cents / 1200)`` times faster, its onset ``shift_ms`` after the lead's."""
    ratio = 2 ** (take["cents"] / 1200)
    return round(max(0.0, take["onset_s"] + take["shift_ms"] / 1000 + (t - take["onset_s"]) / ratio), 6)


def _double(part: Part, rng: np.random.Generator, channel: int | None) -> list[Part]:
    """The part as a left take and a humanised right take (on ``channel``, a MIDI part's; module
    docstring)."""
    def take() -> list[Note]:
        jitter = rng.uniform(-DOUBLE_JITTER_S, DOUBLE_JITTER_S, len(part.notes))
        velocity = rng.integers(-6, 7, len(part.notes))
        return [dataclasses.replace(n, start_s=max(0.0, n.start_s + float(j)),
                                    end_s=max(0.0, n.end_s + float(j)),
                                    velocity=int(np.clip(n.velocity + v, 1, 127)))
                for n, j, v in zip(part.notes, jitter, velocity)]

    notes = take()
    pan = round(float(rng.uniform(*DOUBLE_PAN)), 2)
    synth = part.synth and {**part.synth, "patch": {**part.synth["patch"],
                                                    "seed": int(rng.integers(2 ** 31 - 1))}}
    return [dataclasses.replace(part, name=f"{part.name} L", slot=part.name, side="L", pan=-pan),
            dataclasses.replace(part, name=f"{part.name} R", channel=channel, notes=notes,
                                slot=part.name, side="R", pan=pan, synth=synth)]


def _layer(part: Part, rng: np.random.Generator, synths: tuple[str, ...]) -> list[Part]:
    """The synth part and a second voice layered on it (module docstring)."""
    pool = [v for v in synths if "synth" in voice(v).families] or [part.synth["voice"]]
    name = str(pool[int(rng.integers(len(pool)))])
    patch = random_patch(name, rng).to_json()
    up = rng.random() < LAYER_OCTAVE and max(n.pitch for n in part.notes) + 12 <= 127
    notes = [dataclasses.replace(n, pitch=n.pitch + 12) for n in part.notes] if up else list(part.notes)
    return [dataclasses.replace(part, slot=part.name),
            dataclasses.replace(part, name=f"{part.name} layer", notes=notes, slot=part.name,
                                program_name=name, synth={"voice": name, "patch": patch},
                                layer_of=part.name, transpose=12 if up else 0,
                                under_lu=round(float(rng.uniform(*LAYER_UNDER_LU)), 2))]


def numbered(word: str, number: int, *, padded: bool) -> str:
    """A recorder's name of track ``number``: ``Audio 07`` (``padded``), ``Audio 7``, or with no
    ``word`` the number alone, ``07``."""
    if not word:
        return f"{number:02d}"
    return f"{word} {number:02d}" if padded else f"{word} {number}"


def _named(parts: list[Part], rng: np.random.Generator) -> list[Part]:
    kind = str(rng.choice([k for k, _ in NAMES], p=[s for _, s in NAMES]))
    if kind == "slot":
        return parts
    if kind == "numbered":
        word, padded = str(_draw(rng, NUMBERED_WORDS)[0]), bool(rng.random() < PADDED)
        start = int(rng.integers(1, 4))
        order = rng.permutation(len(parts))
        return [dataclasses.replace(p, name=numbered(word, start + int(k), padded=padded))
                for p, k in zip(parts, order)]
    backing = iter(BACKING_NAMES[int(rng.integers(len(BACKING_NAMES)))]
                   if any(p.harmony for p in parts) else ())
    layered = {p.layer_of for p in parts if p.layer_of}
    style = LAYER_NAMES[int(rng.integers(len(LAYER_NAMES)))] if layered else ("{}", "{}")
    used: set[str] = set()
    bases: dict[str, str] = {}  # a layered synth's name before its style, for its layer
    out = []
    for part in parts:
        if part.layer_of:
            name = style[1].format(bases[part.layer_of])
        else:
            key = "double" if part.double_of else part.piece or part.instrument
            choices = (next(backing),) if part.harmony else ENGINEER_NAMES[key]
            if key in DRAWN_NAMES:
                k = int(rng.integers(len(choices)))
                choices = choices[k:] + choices[:k]
            name = next((c for c in choices if c not in used), choices[0])
            if part.name in layered:
                bases[part.name] = name
                name = style[0].format(name)
        if part.side:
            name = f"{name} {part.side}"
        while name in used:
            name += " 2"
        used.update((name, bases.get(part.name, name)))  # a later synth takes another name
        out.append(dataclasses.replace(part, name=name))
    return out
