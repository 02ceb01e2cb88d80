"""Annotations match the audio: kicks on the annotated downbeats, vocals on their notes,
arrangement changes at section boundaries."""

import json

import numpy as np
import scipy.signal as ss
import soundfile as sf


def _load(root, song, name):
    return sf.read(root / "songs" / song["song_id"] / "stems" / f"{name}.flac", dtype="float64", always_2d=True)[0].T


def _envelope(audio, sr, *, cutoff_hz=None):
    x = audio.mean(axis=0)
    if cutoff_hz:
        x = ss.sosfiltfilt(ss.butter(4, cutoff_hz, "lowpass", fs=sr, output="sos"), x)
    return np.abs(x)


def _onset_near(env, sr, t, *, window_s=0.04, fraction=0.1):
    """First time in [t - window, t + window] where env reaches ``fraction`` of its maximum there,
    or None when no attack happens (the maximum is not 4x above the level at the window start)."""
    a, b = int((t - window_s) * sr), int((t + window_s) * sr)
    seg = env[max(a, 0):b]
    if seg.size == 0 or seg.max() < 4 * (seg[:int(0.002 * sr)].max() + 1e-9):
        return None
    return (max(a, 0) + int(np.argmax(seg >= fraction * seg.max()))) / sr


def _midi_starts(path, *, keep):
    """Absolute note-on times (s) of song.mid messages for which ``keep(msg)`` holds."""
    import mido
    t, out = 0.0, []
    for msg in mido.MidiFile(path, charset="utf-8"):
        t += msg.time
        if keep(msg):
            out.append(t)
    return out


def test_kick_onsets_fall_within_10_ms_of_annotated_downbeats(tiny_dataset):
    """Every annotated downbeat on which the score has a kick (GM key 36) shows a kick attack in
    the drums stem (below 120 Hz) within 10 ms."""
    folder = tiny_dataset / "songs" / "00000"
    song = json.loads((folder / "song.json").read_text())
    kicks = _midi_starts(folder / "song.mid", keep=lambda m: m.type == "note_on" and m.channel == 9 and m.note == 36)
    beats = [d for d in song["downbeats_s"] if min((abs(k - d) for k in kicks), default=1) < 0.02]
    assert len(beats) >= 4
    env = _envelope(_load(tiny_dataset, song, "drums"), 44100, cutoff_hz=120)
    errors_ms = []
    for d in beats:
        onset = _onset_near(env, 44100, d)
        assert onset is not None, f"no kick near downbeat {d:.3f} s"
        errors_ms.append(1000 * (onset - d))
    assert np.max(np.abs(errors_ms)) <= 10, errors_ms


def test_vocal_notes_start_where_annotated(tiny_dataset):
    """Sung notes start at their annotated times: Sinsy's audible onset follows the note time by
    the consonant, measured 4-52 ms for voiced syllables (up to ~100 ms for a soft sibilant)."""
    folder = tiny_dataset / "songs" / "00000"
    song = json.loads((folder / "song.json").read_text())
    starts = _midi_starts(folder / "song.mid", keep=lambda m: m.type == "lyrics")
    beat = 60 / song["tempo_bpm"]
    phrase_starts = [s for i, s in enumerate(starts) if i == 0 or s - starts[i - 1] > 2 * beat]
    assert phrase_starts
    env = _envelope(_load(tiny_dataset, song, "vocals"), 44100)
    env = np.convolve(env, np.ones(220) / 220, mode="same")  # 5 ms smoothing
    lags_ms = []
    for s in phrase_starts:
        onset = _onset_near(env, 44100, s, window_s=0.12)
        assert onset is not None, f"no sung onset near {s:.3f} s"
        lags_ms.append(1000 * (onset - s))
    assert all(-20 <= lag <= 110 for lag in lags_ms), lags_ms
    assert np.median(lags_ms) <= 60, lags_ms


def test_section_boundaries_are_arrangement_changes(tiny_dataset):
    """At every section boundary some stem's level changes by more than 10 dB between the bar
    before and the bar after (50 ms guard on each side)."""
    for folder in sorted((tiny_dataset / "songs").iterdir()):
        song = json.loads((folder / "song.json").read_text())
        bar = 240 / song["tempo_bpm"]
        stems = {s["name"]: _load(tiny_dataset, song, s["name"]) for s in song["stems"] if s["name"] != "fx"}
        for section in song["sections"][1:]:
            b = section["start_s"]
            changes = []
            for name, audio in stems.items():
                def rms(lo, hi):
                    seg = audio[:, int(lo * 44100):int(hi * 44100)]
                    return 10 * np.log10(np.mean(seg ** 2) + 1e-12)
                changes.append(abs(rms(b - bar, b - 0.05) - rms(b + 0.05, b + bar)))
            assert max(changes) > 10, (song["song_id"], section, changes)
