"""A song as data: labelled parts with notes, plus annotations; converts to MIDI events."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .instruments import group_of
from .render import ChannelSetup, MidiEvent


@dataclass(frozen=True)
class Note:
    """A note from ``start_s`` to ``end_s`` (s); ``lyric`` is the sung syllable of a vocal note."""

    start_s: float
    end_s: float
    pitch: int
    velocity: int
    lyric: str | None = None


@dataclass
class Part:
    """One stem: ``instrument``/``role`` use CONTRACT.md vocabularies. ``kind`` is ``midi``
    (rendered by fluidsynth on ``channel`` with ``setup``), ``vocal`` (sung, see :mod:`.vocals`),
    ``synth`` (one of mixassist's synthesis voices, ``synth``; generator v3) or ``sampled`` (a
    recorded Hydrogen kit, ``sample_kit``, played by :mod:`.drumkits`; no channel; generator v3),
    ``patch`` (freepats' patch of GM program ``setup.program``, played by :mod:`.patches`; no
    channel; generator v3) or ``room`` (a room mic: the other tracks of its slot, as rendered, through ``chain``; no
    channel, no notes; generator v3).
    ``bends`` are (time_s, 14-bit pitch-bend value) pairs; ``controls`` (time_s, controller, value)
    MIDI CC events; ``volume`` is the initial MIDI CC7 when ``controls`` sets none."""

    name: str
    instrument: str
    role: str
    channel: int | None
    setup: ChannelSetup | None
    notes: list[Note]
    kind: str = "midi"
    bends: list[tuple[float, int]] = field(default_factory=list)
    controls: list[tuple[float, int, int]] = field(default_factory=list)
    volume: int = 100
    program_name: str = ""
    #: kind ``synth``: ``{"voice": source name, "patch": Patch.to_json()}`` (:mod:`.synth`).
    synth: dict | None = None
    #: kind ``sampled``: the kit's source name ``hydrogen:<Kit>`` (:data:`.sources.DRUMKITS`).
    sample_kit: str | None = None
    #: Generator v3 sessions (:mod:`.session`): the composer's part (slot) a track plays, the
    #: drum piece or string section it is (``kick``, ``violins``, ...) and the side of a double
    #: (``L``/``R``); None: the track is the whole part, named by its slot.
    slot: str | None = None
    piece: str | None = None
    side: str | None = None
    #: Backing vocals (v3 sessions): the line against the lead (``third above``, ...) and where
    #: it sings (``chorus``, ``phrase_ends``, ``throughout``); None otherwise.
    harmony: str | None = None
    sings: str | None = None
    #: A lead's double (v3 sessions): the name of the track it doubles, and how it departs from it
    #: note by note, ``[{start_s, onset_s, shift_ms, cents}]`` (:func:`.vocals.double_take`).
    double_of: str | None = None
    retake: list[dict] | None = None
    #: A synth layer (v3 sessions): the name of the track it layers and its interval above it
    #: (semitones: 0 or 12).
    layer_of: str | None = None
    transpose: int = 0
    #: A room mic's, a double's or a layer's level (LU) under its kit, its lead or the track it
    #: layers (v3 sessions).
    under_lu: float | None = None
    #: A double's stereo position (-1 left .. 1 right; v3 sessions): its production chain's ``Pan``.
    pan: float | None = None
    #: A production chain the session chose (a room mic's), applied instead of a drawn one.
    chain: list[dict] | None = None

    @property
    def group(self) -> str:
        return group_of(self.instrument)


@dataclass
class Song:
    """Everything known about a song before rendering; times in seconds from the start of the audio.

    ``chords`` and ``sections`` are lists of ``{start_s, end_s, label}``; an empty ``sections``
    list means the source has no labelled sections (MIDI corpora). ``tempo_bpm`` and ``beats_s``
    are the counted beat (the dotted quarter in 6/8 and 12/8, :mod:`.meter`). ``feel`` is what
    generator variety v3 drew (:meth:`.compose.Feel.annotation`), ``engineer`` the engineer style
    generator v3 mixes it with (:func:`.balance.draw_engineer`, LU); None (and left out of the
    annotations) otherwise."""

    song_id: str
    source: str
    licence: str
    seed: int
    genre: str
    tempo_bpm: float
    time_signature: str
    key: str
    key_major_minor: str
    duration_s: float
    beats_s: list[float]
    downbeats_s: list[float]
    sections: list[dict]
    chords: list[dict]
    parts: list[Part]
    title: str = ""
    feel: dict | None = None
    engineer: dict[str, float] | None = None

    def midi_events(self) -> list[MidiEvent]:
        """Note, volume and pitch-bend events of every MIDI part."""
        events = []
        for part in self.parts:
            if part.kind != "midi":
                continue
            ch = part.channel
            if not any(c == 7 for _, c, _ in part.controls):
                events.append(MidiEvent(0.0, 0, ch, "cc", 7, part.volume))
            events.extend(MidiEvent(round(t, 6), 0, ch, "cc", c, v) for t, c, v in part.controls)
            for n in part.notes:
                events.append(MidiEvent(round(n.start_s, 6), 1, ch, "note_on", n.pitch, n.velocity))
                events.append(MidiEvent(round(max(n.end_s, n.start_s + 0.03), 6), 0, ch, "note_off", n.pitch))
            events.extend(MidiEvent(round(t, 6), 0, ch, "pitch_bend", int(v)) for t, v in part.bends)
        return events

    def annotations(self) -> dict:
        """The JSON-ready annotations (no notes)."""
        d = {k: v for k, v in asdict(self).items() if k != "parts" and not (k in ("feel", "engineer") and v is None)}
        d["beats_s"] = [round(t, 6) for t in self.beats_s]
        d["downbeats_s"] = [round(t, 6) for t in self.downbeats_s]
        return d
