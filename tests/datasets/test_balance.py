"""Reference balance: drawn levels and the sung lead over the rest."""

import numpy as np
import pytest

from mixassist.datasets.balance import balance, loudness_lufs

SR = 44100


def _noise(seed, gain):
    return (gain * np.random.default_rng(seed).standard_normal((2, 3 * SR))).astype(np.float32)


def test_vocal_sits_relative_to_the_rest_as_drawn():
    stems = {"drums": _noise(1, 0.3), "bass": _noise(2, 0.05), "comp": _noise(3, 0.2), "vocals": _noise(4, 0.01)}
    lufs = {n: loudness_lufs(a, SR) for n, a in stems.items()}
    offsets = []
    for seed in range(40):
        out, gains = balance(stems, SR, rng=np.random.default_rng(seed), loudness=lufs)
        rest = out["drums"] + out["bass"] + out["comp"]
        offsets.append(loudness_lufs(out["vocals"], SR) - loudness_lufs(rest, SR))
        assert loudness_lufs(out["bass"], SR) - lufs["bass"] == pytest.approx(gains["bass"], abs=0.01)
    assert all(-8.05 <= o <= 2.05 for o in offsets)
    assert np.mean(offsets) == pytest.approx(-3.0, abs=1.0)  # N(-3, 2) over 40 draws
    assert 1.0 < np.std(offsets) < 3.0


def test_corpus_balance_is_kept():
    stems = {"a": _noise(1, 0.3), "b": _noise(2, 0.05)}
    out, gains = balance(stems, SR, rng=None, loudness={})
    assert gains == {"a": 0.0, "b": 0.0} and out["a"] is stems["a"]


def test_loudness_of_silence_is_floored():
    assert loudness_lufs(np.zeros((2, SR), np.float32), SR) == -70.0
