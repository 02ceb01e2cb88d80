"""Write a song's MIDI parts as a Standard MIDI File (type 1, one track per part, 480 ppq)."""

from __future__ import annotations

import os

import mido

from .meter import meter_of
from .song import Song

PPQ = 480


def write_midi(path: str | os.PathLike, song: Song) -> None:
    """Write ``song`` to ``path``; vocal parts are written as notes too (lyrics as meta events).

    The tempo is in quarter notes (a 6/8 song's counted dotted quarter is 1.5 of them); notes are
    placed by their times in seconds, so a rubato intro keeps its exact times (its bar lines in the
    file follow the song's nominal tempo). Songs without a v3 ``feel`` (v2 and corpus songs) keep
    the 4/4 meta event generator version 2 wrote, so their files stay byte-identical."""
    meter = meter_of(song.time_signature if song.feel is not None else "4/4")
    tempo = mido.bpm2tempo(song.tempo_bpm * meter.quarters_per_beat)
    ticks = lambda t: int(round(mido.second2tick(t, PPQ, tempo)))  # noqa: E731
    midi = mido.MidiFile(type=1, ticks_per_beat=PPQ, charset="utf-8")  # lyrics are kana
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=tempo, time=0),
                           mido.MetaMessage("time_signature", numerator=meter.numerator,
                                             denominator=meter.denominator, time=0)])
    midi.tracks.append(meta)
    used = {p.channel for p in song.parts}
    # a sampled kit (v3) is written on the GM drum channel 10 when no part plays on it
    drum = 9 if 9 not in used and any(p.kind == "sampled" for p in song.parts) else None
    free = iter(ch for ch in range(16) if ch not in used and ch != drum)
    for part in song.parts:
        ch = part.channel if part.channel is not None else (
            drum if part.kind == "sampled" and drum is not None else next(free, 15))
        events = []
        if part.setup is not None and not part.setup.drum:
            events.append((0, 0, mido.Message("program_change", channel=ch, program=part.setup.program)))
        for n in part.notes:
            if n.lyric:
                events.append((ticks(n.start_s), 1, mido.MetaMessage("lyrics", text=n.lyric)))
            events.append((ticks(n.start_s), 2, mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity)))
            events.append((ticks(max(n.end_s, n.start_s + 0.03)), 0, mido.Message("note_off", channel=ch, note=n.pitch)))
        for t, value in part.bends:
            events.append((ticks(t), 0, mido.Message("pitchwheel", channel=ch, pitch=int(value) - 8192)))
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=f"{part.name} ({part.instrument}, {part.role})")])
        now = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(os.fspath(path))
