"""Reference balance: the house-style levels per slot and genre, and the sung lead over the rest."""

import numpy as np
import pytest

from mixassist.datasets.balance import (GENRE_SLOT_OFFSETS_LU, SLOT_LEVELS_LU, TASTE_SD_LU, VOCAL_OVER_REST_LU,
                                        balance, loudness_lufs)

SR = 44100


def _noise(seed, gain):
    return (gain * np.random.default_rng(seed).standard_normal((2, 3 * SR))).astype(np.float32)


def _draws(stems, genre, n=40):
    lufs = {n: loudness_lufs(a, SR) for n, a in stems.items()}
    for seed in range(n):
        yield balance(stems, SR, rng=np.random.default_rng(seed), loudness=lufs, genre=genre)


@pytest.mark.parametrize("genre", ["pop", "metal"])
def test_vocal_sits_relative_to_the_rest_at_the_genre_offset(genre):
    stems = {"drums": _noise(1, 0.3), "bass": _noise(2, 0.05), "comp": _noise(3, 0.2), "vocals": _noise(4, 0.01)}
    offsets = []
    for out, gains in _draws(stems, genre):
        rest = out["drums"] + out["bass"] + out["comp"]
        offsets.append(loudness_lufs(out["vocals"], SR) - loudness_lufs(rest, SR))
    mean = VOCAL_OVER_REST_LU[genre]
    assert all(mean - 2 * TASTE_SD_LU - 0.05 <= o <= mean + 2 * TASTE_SD_LU + 0.05 for o in offsets)
    assert np.mean(offsets) == pytest.approx(mean, abs=0.5)
    assert 0.5 * TASTE_SD_LU < np.std(offsets) < 1.5 * TASTE_SD_LU


def test_slot_levels_follow_slot_and_genre():
    stems = {"drums": _noise(1, 0.3), "pad": _noise(2, 0.05)}
    lufs = {n: loudness_lufs(a, SR) for n, a in stems.items()}
    for genre in ("pop", "ambient"):
        diffs = []
        for out, gains in _draws(stems, genre):
            assert loudness_lufs(out["pad"], SR) - lufs["pad"] == pytest.approx(gains["pad"], abs=0.01)
            diffs.append(loudness_lufs(out["pad"], SR) - loudness_lufs(out["drums"], SR))
        offsets = GENRE_SLOT_OFFSETS_LU[genre]
        expected = (SLOT_LEVELS_LU["pad"] + offsets.get("pad", 0.0)) - (SLOT_LEVELS_LU["drums"]
                                                                        + offsets.get("drums", 0.0))
        assert np.mean(diffs) == pytest.approx(expected, abs=0.6), genre


def test_corpus_balance_is_kept():
    stems = {"a": _noise(1, 0.3), "b": _noise(2, 0.05)}
    out, gains = balance(stems, SR, rng=None, loudness={})
    assert gains == {"a": 0.0, "b": 0.0} and out["a"] is stems["a"]


def test_loudness_of_silence_is_floored():
    assert loudness_lufs(np.zeros((2, SR), np.float32), SR) == -70.0
