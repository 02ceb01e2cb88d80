"""Key and mode of chord-sine progressions in known keys."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.structure.analysis import analyze_structure
from mixassist.structure.tonality import PITCH_CLASSES, estimate_key, key_names, key_scores

# Triads as semitone offsets from the tonic (diatonic progressions).
PROGRESSIONS = {
    "major": [(0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14),
              (0, 4, 7)],
    "minor": [(0, 3, 7), (5, 8, 12), (7, 11, 14), (0, 3, 7), (8, 12, 15), (5, 8, 12), (7, 11, 14),
              (0, 3, 7)],
}


def chord_progression(tonic: str, mode: str, sr: int, *, chord_s: float = 1.5):
    """Sine triads (with a bass root an octave down), one chord every ``chord_s`` seconds."""
    root = 48 + PITCH_CLASSES.index(tonic)  # MIDI note in octave 3
    n = int(chord_s * sr)
    t = np.arange(n) / sr
    env = np.minimum(1, t / 0.02) * np.exp(-t / 2.0)
    out = []
    for chord in PROGRESSIONS[mode] * 2:
        notes = [root + c for c in chord] + [root + chord[0] - 12]
        freqs = [440.0 * 2 ** ((m - 69) / 12) for m in notes]
        out.append(sum(np.sin(2 * np.pi * f * t) for f in freqs) * env * 0.1)
    return np.concatenate(out)[None, :].astype(np.float32)


@pytest.mark.parametrize("key", ["C major", "A minor", "F# major", "D minor", "G# minor", "A# major"])
def test_key_of_chord_progression(key):
    tonic, mode = key.split()
    sr = 22050
    s = analyze_structure({"keys": chord_progression(tonic, mode, sr)}, sr)
    assert s.key == key
    assert s.key_confidence > 0.5


def test_profiles_find_their_own_key():
    for profile in ("krumhansl", "temperley"):
        names = key_names()
        from mixassist.structure.tonality import PROFILES
        major, minor = PROFILES[profile]
        assert names[int(np.argmax(key_scores(np.roll(major, 5), profile=profile)))] == "F major"
        assert names[int(np.argmax(key_scores(np.roll(minor, 9), profile=profile)))] == "A minor"


def test_no_pitch_content_gives_no_key():
    assert estimate_key(np.zeros((12, 10))) == ("", 0.0)
