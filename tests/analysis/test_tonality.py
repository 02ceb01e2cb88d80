"""Key and mode of chord-sine progressions in known keys (major, minor and modal), and the fit of
key profiles to songs with known keys."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.errors import ParameterError
from mixassist.analysis.structure import analyze_structure
from mixassist.analysis.tonality import (PROFILES, estimate_key, fit_key_profiles,
                                         fitted_key_scores, key_names, key_scores, pitch_class,
                                         spell_key)

# Triads as semitone offsets from the tonic (diatonic progressions).
PROGRESSIONS = {
    "major": [(0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14),
              (0, 4, 7)],
    "minor": [(0, 3, 7), (5, 8, 12), (7, 11, 14), (0, 3, 7), (8, 12, 15), (5, 8, 12), (7, 11, 14),
              (0, 3, 7)],
    # i-IV-i-bVII: the major IV marks dorian; its notes are those of the major key a tone below.
    "dorian": [(0, 3, 7), (5, 9, 12), (0, 3, 7), (10, 14, 17), (0, 3, 7), (5, 9, 12), (10, 14, 17),
               (0, 3, 7)],
}


def chord_progression(tonic: str, mode: str, sr: int, *, chord_s: float = 1.5):
    """Sine triads (with a bass root an octave down), one chord every ``chord_s`` seconds."""
    root = 48 + pitch_class(tonic)  # MIDI note in octave 3
    n = int(chord_s * sr)
    t = np.arange(n) / sr
    env = np.minimum(1, t / 0.02) * np.exp(-t / 2.0)
    out = []
    for chord in PROGRESSIONS[mode] * 2:
        notes = [root + c for c in chord] + [root + chord[0] - 12]
        freqs = [440.0 * 2 ** ((m - 69) / 12) for m in notes]
        out.append(sum(np.sin(2 * np.pi * f * t) for f in freqs) * env * 0.1)
    return np.concatenate(out)[None, :].astype(np.float32)


@pytest.mark.parametrize("key", ["C major", "A minor", "Gb major", "D minor", "G# minor", "Bb major",
                                 "Eb minor"])
def test_key_of_chord_progression(key):
    tonic, mode = key.split()
    sr = 22050
    s = analyze_structure({"keys": chord_progression(tonic, mode, sr)}, sr)
    assert s.key == key
    assert s.key_confidence > 0.5


@pytest.mark.parametrize("tonic", ["D", "G#", "B"])
def test_dorian_progression_reads_as_its_tonic_minor(tonic):
    """A modal song is scored by its tonic and the quality of its third (MIREX convention), not
    as the major key that shares its pitch classes (C major for D dorian)."""
    sr = 22050
    s = analyze_structure({"keys": chord_progression(tonic, "dorian", sr)}, sr)
    assert s.key == f"{tonic} minor"


def test_fit_recovers_keys_of_synthetic_profiles():
    """Songs whose two views are noisy rotations of known profiles: profiles fitted on 60 songs
    find the key of 60 new ones."""
    rng = np.random.default_rng(0)
    major, minor = (np.asarray(p) - np.mean(p) for p in PROFILES["temperley"])
    bass = np.zeros(12)
    bass[[0, 7]] = (3.0, 1.0)  # the bass sits on the tonic, sometimes the fifth
    names = key_names()

    def songs(n):
        keys = [names[i] for i in rng.integers(0, 24, n)]
        views = []
        for k in keys:
            tonic = pitch_class(k.split()[0])
            harmonic = major if k.endswith("major") else minor
            v = np.stack([np.roll(harmonic, tonic), np.roll(bass, tonic)])
            v = v + rng.normal(0, 1.0, v.shape)
            views.append((v - v.mean(axis=1, keepdims=True)) / v.std(axis=1, keepdims=True))
        return np.stack(views), keys

    train_views, train_keys = songs(60)
    profiles = fit_key_profiles(train_views, train_keys, l2=1.0)
    test_views, test_keys = songs(60)
    hits = [names[int(np.argmax(fitted_key_scores(v, profiles)))] == k
            for v, k in zip(test_views, test_keys)]
    assert np.mean(hits) >= 0.9


def test_keys_are_spelled_as_musicians_spell_them():
    names = key_names()
    assert names[:12] == ["C major", "Db major", "D major", "Eb major", "E major", "F major",
                          "Gb major", "G major", "Ab major", "A major", "Bb major", "B major"]
    assert names[12:] == ["C minor", "C# minor", "D minor", "Eb minor", "E minor", "F minor",
                          "F# minor", "G minor", "G# minor", "A minor", "Bb minor", "B minor"]
    # keys written with sharps only (analyses made before) still read back
    assert spell_key("D# major") == "Eb major" and spell_key("A# minor") == "Bb minor"
    assert spell_key("Db major") == "Db major" and spell_key("C# major") == "Db major"
    with pytest.raises(ParameterError):
        spell_key("H major")


def test_fit_rejects_mismatched_inputs():
    with pytest.raises(ParameterError):
        fit_key_profiles(np.zeros((3, 2, 12)), ["C major"])
    with pytest.raises(ParameterError):
        fit_key_profiles(np.zeros((1, 2, 12)), ["C dorian"])


def test_profiles_find_their_own_key():
    for profile in ("krumhansl", "temperley"):
        names = key_names()
        major, minor = PROFILES[profile]
        assert names[int(np.argmax(key_scores(np.roll(major, 5), profile=profile)))] == "F major"
        assert names[int(np.argmax(key_scores(np.roll(minor, 9), profile=profile)))] == "A minor"


def test_no_pitch_content_gives_no_key():
    assert estimate_key(np.zeros((12, 10))) == ("", 0.0)
    assert estimate_key(np.zeros((12, 10)), bass_chroma=np.zeros((12, 10))) == ("", 0.0)
    assert estimate_key(np.zeros((12, 10)), profile="krumhansl") == ("", 0.0)
