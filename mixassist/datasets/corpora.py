"""Openly licensed MIDI corpora: freedoom (music lumps in its WAD files), planetblupi, music21.

Each item becomes a :class:`~.song.Song` with one part per MIDI channel, labelled from its
General-MIDI program (:func:`~.instruments.program_family`) and a role heuristic (channel 10 and
percussion: rhythm; bass programs or a low register: low_end; synth/sound effects and pads:
texture; mostly monophonic upper voices: melody; the rest: harmony). Authors' programs, volumes,
expression, pan, sustain and velocities are kept, so level_db reflects their balance. music21
scores (chorales, quartets) carry no programs; they are played by a drawn ensemble (strings,
woodwinds, brass, keys). Annotations from the MIDI: tempo map -> beats, time signature ->
downbeats, key by Krumhansl-Kessler profile correlation (Krumhansl 1990), one triad per bar by
template matching; sections are unknown (empty list).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import mido
import numpy as np

from ..errors import CorpusError
from .compose import NOTE_NAMES
from .instruments import program_family
from .licences import check_source
from .render import ChannelSetup
from .sources import Palette, palette
from .song import Note, Part, Song

FREEDOOM_WADS = (Path("/usr/share/games/doom/freedoom1.wad"), Path("/usr/share/games/doom/freedoom2.wad"))
PLANETBLUPI_DIR = Path("/usr/share/planetblupi/music")
MUSIC21_COMPOSERS = ("bach", "beethoven", "haydn", "mozart", "joplin", "handel", "corelli")
#: Score files only (the corpus also holds analyses, e.g. ``.rntxt``, and multi-tune ``.abc`` books).
MUSIC21_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn", ".mid")
LICENCES = {"freedoom": "BSD-3-Clause", "planetblupi": "GPL-3.0-or-later",
            "music21": "BSD-3-Clause (music21 corpus; scores public domain)"}
ENSEMBLES = ((40, 40, 41, 42), (73, 68, 71, 70), (56, 60, 57, 58), (19, 19, 19, 19), (0, 0, 0, 0),
             (48, 48, 48, 43), (65, 66, 67, 57), (6, 6, 6, 6), (24, 24, 25, 32))
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


@dataclass(frozen=True)
class CorpusItem:
    """One corpus song: ``corpus`` name, ``name``, file ``path`` and (for WADs) the lump name."""

    corpus: str
    name: str
    path: str
    lump: str = ""

    @property
    def licence(self) -> str:
        return LICENCES[self.corpus]

    def midi(self) -> mido.MidiFile:
        return mido.MidiFile(file=io.BytesIO(_midi_bytes(self)))


@lru_cache(maxsize=64)
def _midi_bytes(item: CorpusItem) -> bytes:
    check_source(item.path)
    if item.corpus == "freedoom":
        return _wad_lumps(Path(item.path))[item.lump]
    if item.corpus == "music21":
        from music21 import corpus
        from music21.exceptions21 import Music21Exception
        from music21.midi import translate
        try:
            return translate.music21ObjectToMidiFile(corpus.parse(item.path)).writestr()
        except Music21Exception as exc:  # e.g. badly formed repeats (bach/bwv277.krn)
            raise CorpusError(f"{item.path}: music21 cannot turn it into MIDI ({exc})") from exc
    return Path(item.path).read_bytes()


@lru_cache(maxsize=4)
def _wad_lumps(path: Path) -> dict[str, bytes]:
    """MIDI music lumps (``D_*`` starting with ``MThd``) of a Doom WAD file."""
    data = path.read_bytes()
    _, n, offset = struct.unpack("<4sii", data[:12])
    lumps = {}
    for i in range(n):
        pos, size, raw = struct.unpack("<ii8s", data[offset + 16 * i:offset + 16 * i + 16])
        name = raw.rstrip(b"\0").decode("ascii", "replace")
        if name.startswith("D_") and data[pos:pos + 4] == b"MThd":
            lumps[name] = data[pos:pos + size]
    return lumps


def available_corpora() -> list[CorpusItem]:
    """Every corpus item installed on this machine, in a fixed order."""
    items = []
    for wad in FREEDOOM_WADS:
        if wad.is_file():
            items += [CorpusItem("freedoom", f"{wad.stem}:{lump}", str(wad), lump) for lump in sorted(_wad_lumps(wad))]
    if PLANETBLUPI_DIR.is_dir():
        items += [CorpusItem("planetblupi", p.stem, str(p)) for p in sorted(PLANETBLUPI_DIR.glob("*.mid"))]
    try:
        from music21 import corpus
    except ImportError:
        return items
    for composer in MUSIC21_COMPOSERS:
        items += [CorpusItem("music21", f"{composer}/{Path(p).name}", str(p))
                  for p in sorted(map(str, corpus.getComposer(composer)))
                  if Path(p).suffix.lower() in MUSIC21_SUFFIXES]
    return items


def load_corpus_song(item: CorpusItem, *, seed: int, song_id: str, max_duration_s: float = 240.0,
                     sources: Palette | None = None) -> Song:
    """Turn a corpus item into a labelled :class:`Song` (cut at a downbeat before ``max_duration_s``),
    played with ``sources`` (default: the ``training`` palette)."""
    rng = np.random.default_rng(seed)
    sources = sources or palette()
    midi = item.midi()
    tempo_map, numerator, events = _read(midi)
    beats = _beats(midi, tempo_map)
    end = min(max(events["end"], default=0.0), max_duration_s)
    downbeats = beats[::numerator]
    if events["end"] and max(events["end"]) > max_duration_s:
        end = max([d for d in downbeats if d <= max_duration_s] or [max_duration_s])
    beats = [b for b in beats if b <= end]
    downbeats = [d for d in downbeats if d <= end]
    ensemble = ENSEMBLES[int(rng.integers(len(ENSEMBLES)))]
    parts, pcs = [], np.zeros(12)
    for ch in sorted(events["notes"]):
        notes = [Note(s, min(e, end), p, v) for s, e, p, v in events["notes"][ch] if s < end - 0.05]
        if not notes:
            continue
        drum = ch == 9
        program = events["program"].get(ch, 0)
        if item.corpus == "music21" and not drum:
            program = ensemble[len(parts) % len(ensemble)]
        if drum:
            kit = str(rng.choice(sources.kits)) if rng.random() < 0.4 and sources.kits else None
            setup = ChannelSetup(kit, 0, drum=True) if kit else \
                ChannelSetup(str(rng.choice(sources.melodic)), 0, bank=128, drum=True)
            family = "drums"
        else:
            setup = ChannelSetup(str(rng.choice(sources.melodic)), program)
            family = program_family(program)
            for n in notes:
                pcs[n.pitch % 12] += n.end_s - n.start_s
        part = Part(f"ch{ch + 1:02d}_{family}", family, "harmony", ch, setup, notes,
                    program_name=f"GM {program}" if not drum else "drum kit")
        part.controls = [c for c in events["cc"].get(ch, []) if c[0] < end]
        part.bends = [b for b in events["bend"].get(ch, []) if b[0] < end]
        parts.append(part)
    _assign_roles(parts)
    tempo = 60.0 / float(np.median(np.diff(beats))) if len(beats) > 1 else 120.0
    key = _key(pcs)
    return Song(song_id=song_id, source=item.corpus, licence=item.licence, seed=seed, genre=item.corpus,
                tempo_bpm=round(tempo, 3), time_signature=f"{numerator}/4", key=key, key_major_minor=key,
                duration_s=round(end + 2.0, 6), beats_s=beats, downbeats_s=downbeats, sections=[],
                chords=_chords(parts, downbeats, end), parts=parts, title=item.name)


def _separate_tracks(midi: mido.MidiFile) -> None:
    """Give every (track, channel) with notes its own channel when tracks share one (music21
    writes each part as a track, several on the same channel); channel 10 stays the drums."""
    pairs = sorted({(i, m.channel) for i, tr in enumerate(midi.tracks) for m in tr if m.type == "note_on"})
    channels = [ch for _, ch in pairs]
    if len(set(channels)) == len(channels):
        return
    free = [ch for ch in range(16) if ch != 9 and ch not in channels]
    seen, remap = set(), {}
    for i, ch in pairs:
        if ch in seen and ch != 9 and free:
            remap[(i, ch)] = free.pop(0)
        seen.add(ch)
    for i, track in enumerate(midi.tracks):
        for k, m in enumerate(track):
            if hasattr(m, "channel") and (i, m.channel) in remap:
                track[k] = m.copy(channel=remap[(i, m.channel)])


def _read(midi: mido.MidiFile):
    """Absolute-time notes, programs, controllers and bends per channel, tempo map, numerator."""
    _separate_tracks(midi)
    notes, program, cc, bend, ends, numerator = {}, {}, {}, {}, [], None
    open_notes: dict[tuple[int, int], list] = {}
    t, tick, tempo_map = 0.0, 0, [(0, 0.0, 500000)]
    tempo = 500000
    for msg in mido.merge_tracks(midi.tracks):
        tick += msg.time
        t += mido.tick2second(msg.time, midi.ticks_per_beat, tempo)
        if msg.type == "set_tempo":
            tempo = msg.tempo
            tempo_map.append((tick, t, tempo))
        elif msg.type == "time_signature" and numerator is None:
            numerator = int(msg.numerator * 4 / msg.denominator) or 4
        elif msg.type == "program_change":
            program.setdefault(msg.channel, msg.program)
        elif msg.type == "control_change" and msg.control in (7, 10, 11, 64):
            cc.setdefault(msg.channel, []).append((t, msg.control, msg.value))
        elif msg.type == "pitchwheel":
            bend.setdefault(msg.channel, []).append((t, msg.pitch + 8192))
        elif msg.type == "note_on" and msg.velocity > 0:
            open_notes.setdefault((msg.channel, msg.note), []).append((t, msg.velocity))
        elif msg.type in ("note_off", "note_on") and open_notes.get((msg.channel, msg.note)):
            start, vel = open_notes[(msg.channel, msg.note)].pop(0)
            notes.setdefault(msg.channel, []).append((start, t, msg.note, vel))
            ends.append(t)
    return tempo_map, numerator or 4, {"notes": notes, "program": program, "cc": cc, "bend": bend, "end": ends}


def _beats(midi: mido.MidiFile, tempo_map) -> list[float]:
    """Quarter-note times (s) from the tempo map, up to the file's length."""
    beats, ppq, k = [], midi.ticks_per_beat, 0
    length = midi.length
    tick = 0
    while True:
        while k + 1 < len(tempo_map) and tempo_map[k + 1][0] <= tick:
            k += 1
        t0_tick, t0_s, tempo = tempo_map[k]
        t = t0_s + mido.tick2second(tick - t0_tick, ppq, tempo)
        if t > length:
            return beats
        beats.append(round(t, 6))
        tick += ppq


def _assign_roles(parts: list[Part]) -> None:
    melodic = []
    for p in parts:
        pitches = np.array([n.pitch for n in p.notes])
        if p.instrument in ("drums", "percussion"):
            p.role = "rhythm"
        elif p.instrument == "bass" or np.median(pitches) < 48:
            p.role = "low_end"
        elif p.instrument == "fx":
            p.role = "texture"
        else:
            starts = np.array(sorted(n.start_s for n in p.notes))
            chordal = np.mean(np.diff(starts) < 0.03) if len(starts) > 1 else 0.0
            long_notes = np.median([n.end_s - n.start_s for n in p.notes]) > 1.5
            p.role = "texture" if (p.instrument == "synth" and long_notes) else "harmony"
            if chordal < 0.2 and not long_notes:
                melodic.append((float(np.median(pitches)), p))
    if melodic:  # the highest mostly-monophonic voice carries the melody; others above C4 too
        top = max(melodic, key=lambda x: x[0])[1]
        for median, p in melodic:
            if p is top or median >= 67:
                p.role = "melody"


def _key(pcs: np.ndarray) -> str:
    """Krumhansl-Kessler key: the rotation of the major/minor profile best correlated with ``pcs``."""
    if pcs.sum() == 0:
        return "C major"
    best = max(((np.corrcoef(np.roll(profile, tonic), pcs)[0, 1], tonic, mode)
                for mode, profile in (("major", KK_MAJOR), ("minor", KK_MINOR)) for tonic in range(12)))
    return f"{NOTE_NAMES[best[1]]} {best[2]}"


def _chords(parts: list[Part], downbeats: list[float], end: float) -> list[dict]:
    """One major or minor triad per bar (duration-weighted pitch-class template match), or ``N``."""
    bounds = list(downbeats) + [end]
    templates = [(root, q, np.isin(np.arange(12), [root, (root + t) % 12, (root + 7) % 12]).astype(float))
                 for root in range(12) for q, t in (("maj", 4), ("min", 3))]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        pcs = np.zeros(12)
        for p in parts:
            if p.instrument in ("drums", "percussion"):
                continue
            for n in p.notes:
                overlap = min(n.end_s, b) - max(n.start_s, a)
                if overlap > 0:
                    pcs[n.pitch % 12] += overlap
        if pcs.sum() == 0:
            out.append({"start_s": a, "end_s": b, "label": "N"})
            continue
        root, quality, _ = max(templates, key=lambda x: float(x[2] @ pcs) - 0.5 * float((1 - x[2]) @ pcs))
        out.append({"start_s": a, "end_s": b, "label": f"{NOTE_NAMES[root]}:{quality}"})
    return out
