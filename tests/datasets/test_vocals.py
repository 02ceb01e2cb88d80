"""Vocals: MusicXML of the melody, and pysinsy singing it on time."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from mixassist.datasets.song import Note, Part
from mixassist.datasets.vocals import double_take, musicxml, sing


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


def _onset_s(x: np.ndarray, sr: int, near_s: float) -> float:
    """First time within 0.1 s of ``near_s`` where |x| passes half its peak there."""
    a = int((near_s - 0.1) * sr)
    seg = np.abs(x[a:a + int(0.2 * sr)])
    return (a + int(np.argmax(seg >= 0.5 * seg.max()))) / sr


def _frequency_hz(x: np.ndarray, sr: int, start_s: float, end_s: float) -> float:
    """Mean instantaneous frequency of a tone over the middle of ``[start_s, end_s]`` (phase slope)."""
    from scipy.signal import hilbert
    a, b = int((start_s + 0.1) * sr), int((end_s - 0.1) * sr)
    phase = np.unwrap(np.angle(hilbert(x[a - 2048:b + 2048])))[2048:-2048]
    return float(np.polyfit(np.arange(len(phase)) / sr, phase, 1)[0] / (2 * np.pi))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_double_is_the_lead_moved_by_what_was_drawn(monkeypatch, seed):
    from mixassist.datasets import session
    for name, value in (("BACKING", 0.0), ("LEAD_DOUBLE", 1.0), ("NAMES", (("slot", 1.0),))):
        monkeypatch.setattr(session, name, value)
    sr = 44100
    notes = [Note(t, t + 0.8, p, 90, "ら") for t, p in ((0.5, 57), (1.75, 64), (3.0, 69))]
    lead = Part("vocals", "vocals", "melody", None, None, notes, kind="vocal")
    lead, double = session.arrange_session([lead], np.random.default_rng(seed), free_channels=[],
                                           key="C major", downbeats_s=[0.0, 2.0, 4.0])
    t = np.arange(int(4.5 * sr)) / sr
    voice = np.zeros((1, t.size), dtype=np.float32)
    for n in notes:  # the lead: a tone per note with 5 ms fades
        on = (t >= n.start_s) & (t < n.end_s)
        env = np.clip(np.minimum(t - n.start_s, n.end_s - t) / 0.005, 0, 1)
        voice[0, on] += (0.5 * env * np.sin(2 * np.pi * 440 * 2 ** ((n.pitch - 69) / 12) * t))[on]
    out = double_take(voice, sr, double.retake)
    assert out.shape == voice.shape and out.dtype == np.float32
    assert len(double.retake) == 3
    for a, b, take in zip(lead.notes, double.notes, double.retake):
        moved = _onset_s(out[0], sr, b.start_s) - _onset_s(voice[0], sr, a.start_s)
        assert moved == pytest.approx(b.start_s - a.start_s, abs=0.0005)
        assert moved == pytest.approx(take["shift_ms"] / 1000, abs=0.0005)  # 10-30 ms, drawn
        cents = 1200 * np.log2(_frequency_hz(out[0], sr, b.start_s, b.end_s)
                               / _frequency_hz(voice[0], sr, a.start_s, a.end_s))
        assert cents == pytest.approx(take["cents"], abs=0.1)


def test_unmoved_takes_add_back_to_the_voice():
    sr = 44100
    voice = np.random.default_rng(0).standard_normal((1, sr)).astype(np.float32)
    retake = [{"start_s": s, "onset_s": s, "shift_ms": 0.0, "cents": 0.0} for s in (0.0, 0.2, 0.205, 0.6)]
    assert np.max(np.abs(double_take(voice, sr, retake) - voice)) < 1e-5
