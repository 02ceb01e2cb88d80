"""Per-stem production: stereo placement law and chain description."""

import numpy as np
import pedalboard
import pytest

from mixassist.datasets.production import pan, produce

SR = 44100


@pytest.mark.parametrize("position", [-1.0, -0.5, 0.0, 0.5, 1.0])
def test_pan_is_constant_power_and_unity_at_centre(position):
    x = np.ones((2, 100), dtype=np.float32)
    y = pan(x, position)
    power = float(np.sum(y[:, 0] ** 2))
    assert power == pytest.approx(2.0, rel=1e-6)  # constant power = two unity channels
    if position == 0.0:
        assert y[0, 0] == pytest.approx(1.0) and y[1, 0] == pytest.approx(1.0)
    if position == -1.0:
        assert y[1, 0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("channels", [1, 2])
def test_produce_returns_stereo_with_a_readable_chain(channels):
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    x = np.tile(0.3 * np.sin(2 * np.pi * 440 * t, dtype=np.float64).astype(np.float32), (channels, 1))
    y, chain = produce(x, SR, instrument="guitar", role="harmony", rng=rng)
    assert y.shape == (2, SR) and y.dtype == np.float32 and np.all(np.isfinite(y))
    for stage in chain:
        if stage["plugin"] != "Pan":
            getattr(pedalboard, stage["plugin"])(**stage["params"])  # valid class and keyword arguments
    y2, chain2 = produce(x, SR, instrument="guitar", role="harmony", rng=np.random.default_rng(0))
    assert chain2 == chain and np.array_equal(y, y2)


def test_low_end_is_not_high_passed_above_40_hz():
    for seed in range(20):
        _, chain = produce(np.zeros((2, 1000), np.float32), SR, instrument="bass", role="low_end",
                           rng=np.random.default_rng(seed))
        assert chain[0]["plugin"] == "HighpassFilter" and chain[0]["params"]["cutoff_frequency_hz"] <= 40
        pans = [s["params"]["pan"] for s in chain if s["plugin"] == "Pan"]
        assert pans == [0.0]  # the bass stays in the centre
