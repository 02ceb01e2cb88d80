"""The plugin registry: names and parameters as pedalboard spells them, ranges enforced."""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest

from mixassist.errors import PlanError
from mixassist.planning.plugins import blend_params, check_params, registry
from mixassist.rendering.plugins import build_plugin

REQUIRED = ["HighpassFilter", "LowpassFilter", "PeakFilter", "LowShelfFilter", "HighShelfFilter",
            "Compressor", "Gain", "Reverb", "Delay", "Chorus", "Distortion", "Limiter",
            "BrickwallLimiter", "NoiseGate", "Phaser", "Clipping"]


def test_registry_has_the_required_plugins():
    assert set(REQUIRED) <= set(registry())


@pytest.mark.parametrize("name", sorted(registry()))
def test_defaults_build_and_match_pedalboard(name):
    params = {p.name: p.default for p in registry()[name].values()}
    plugin = build_plugin(name, params)
    assert type(plugin) is getattr(pedalboard, name)
    for key, value in params.items():  # pedalboard stores what we passed (float32 rounding)
        assert getattr(plugin, key) == pytest.approx(value, rel=1e-6, abs=1e-6)
    out = plugin(np.zeros((2, 1024), np.float32), 44_100)
    assert out.shape == (2, 1024)


def test_units_are_in_the_names():
    params = registry()
    assert "cutoff_frequency_hz" in params["HighpassFilter"]
    assert {"threshold_db", "ratio", "attack_ms", "release_ms"} <= set(params["Compressor"])
    assert {"ceiling_db", "release_ms", "lookahead_ms", "true_peak"} <= set(params["BrickwallLimiter"])


@pytest.mark.parametrize("plugin, params", [
    ("Compressor", {"ratio": 0.9}),
    ("Reverb", {"room_size": 1.01}),
    ("PeakFilter", {"gain_db": float("nan")}),
    ("HighpassFilter", {"frequency": 100.0}),
    ("Tremolo", {}),
])
def test_invalid_params_raise(plugin, params):
    with pytest.raises(PlanError):
        check_params(plugin, params, where="test")


def test_blend_moves_to_neutral():
    comp = {"threshold_db": -24.0, "ratio": 5.0, "attack_ms": 3.0, "release_ms": 80.0}
    assert blend_params("Compressor", comp, 1.0, sample_rate=44_100) == comp
    neutral = blend_params("Compressor", comp, 0.0, sample_rate=44_100)
    assert neutral["threshold_db"] == 0.0 and neutral["ratio"] == 1.0
    half = blend_params("Compressor", comp, 0.5, sample_rate=44_100)
    assert half["ratio"] == 3.0 and half["threshold_db"] == -12.0
    hp = blend_params("HighpassFilter", {"cutoff_frequency_hz": 500.0}, 0.5, sample_rate=44_100)
    assert hp["cutoff_frequency_hz"] == pytest.approx(np.sqrt(500.0 * 5.0))
    lp = blend_params("LowpassFilter", {"cutoff_frequency_hz": 5_000.0}, 0.5, sample_rate=44_100)
    assert lp["cutoff_frequency_hz"] < 0.5 * 44_100
