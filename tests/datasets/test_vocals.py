"""Vocals: MusicXML of the melody, and pysinsy singing it on time."""

import xml.etree.ElementTree as ET

import numpy as np

from mixassist.datasets.song import Note
from mixassist.datasets.vocals import musicxml, sing


def test_musicxml_has_every_note_with_its_lyric_and_full_bars():
    tempo, t0 = 120.0, 0.25
    step = 60 / tempo / 4
    notes = [Note(t0 + 4 * step, t0 + 8 * step, 61, 90, "な"), Note(t0 + 20 * step, t0 + 28 * step, 64, 90, "ら")]
    root = ET.fromstring(musicxml(notes, tempo_bpm=tempo, t0_s=t0, n_bars=2))
    measures = root.findall(".//measure")
    assert len(measures) == 2
    for m in measures:
        assert sum(int(d.text) for d in m.iter("duration")) == 16
    lyrics = [t.text for t in root.iter("text")]
    assert lyrics == ["な", "ら"]
    pitches = [(p.findtext("step"), p.findtext("alter"), p.findtext("octave")) for p in root.iter("pitch")]
    assert pitches == [("C", "1", "4"), ("E", None, "4")]


def test_sung_notes_are_where_the_score_puts_them():
    tempo, t0 = 100.0, 0.25
    beat = 60 / tempo
    notes = [Note(t0 + 2 * beat * k, t0 + 2 * beat * k + beat, 62 + k, 90, "あ") for k in range(4)]
    voice = sing(notes, tempo_bpm=tempo, t0_s=t0, n_bars=3, duration_s=6.0)
    assert voice.shape == (1, 6 * 44100) and voice.dtype == np.float32
    env = np.convolve(np.abs(voice[0]), np.ones(220) / 220, mode="same")
    for n in notes:
        seg = env[int((n.start_s - 0.1) * 44100):int((n.start_s + 0.3) * 44100)]
        onset = n.start_s - 0.1 + np.argmax(seg >= 0.1 * seg.max()) / 44100
        assert -0.01 <= onset - n.start_s <= 0.06, (n.start_s, onset)
    assert np.max(np.abs(voice[:, :int(0.2 * 44100)])) < 1e-3  # silence before the first note
