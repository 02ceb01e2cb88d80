"""Mastering: every target preset on ten varied mixes, within +-0.5 LU and under the ceiling,
or the reasons say why not."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.loudness import integrated_loudness, true_peak_dbtp
from mixassist.mixing.master import MISSED, master_chain, reach_target, split_limiter
from mixassist.mixing.plan import MasterPlan, Plan, PluginSpec
from mixassist.mixing.targets import PRESETS, Target
from tests.mixing.signals import pink_noise, varied_mixes

SR = 44_100


@pytest.fixture(scope="module")
def mixes():
    return varied_mixes(SR, 5.0)


@pytest.mark.slow
@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_is_reached_or_explained(preset, mixes):
    target = PRESETS[preset]
    missed = []
    for name, mix in mixes.items():
        out, result = reach_target(mix, SR, target)
        lufs, peak = integrated_loudness(out, SR), true_peak_dbtp(out, SR)  # measured afresh
        assert peak <= target.true_peak_dbtp, (name, peak)
        assert np.isfinite(out).all() and out.dtype == np.float32
        reached = abs(lufs - target.lufs) <= 0.5
        explained = any(r.startswith(MISSED) for r in result.reasons)
        assert reached != explained, (name, lufs, result.reasons)
        assert result.reached == reached and result.integrated_lufs == pytest.approx(lufs, abs=1e-6)
        if not reached:
            missed.append(name)
    # streaming targets are within reach of these mixes with 6 dB of limiting, except the
    # drum loop whose crest factor is too high for -14 LUFS at -1 dBTP
    if target.lufs <= -15:
        assert missed == []


def test_the_limit_on_limiting_is_configurable(mixes):
    drums, spotify = mixes["drum_loop"], PRESETS["spotify"]  # sparse peaks: needs ~8 dB
    _, capped = reach_target(drums, SR, spotify, max_limiting_db=3.0)
    assert not capped.reached and "3 dB" in capped.reasons[-1]
    assert capped.limiting_db == pytest.approx(3.0)
    out, free = reach_target(drums, SR, spotify, max_limiting_db=15.0)
    assert free.reached and abs(integrated_loudness(out, SR) - spotify.lufs) <= 0.5
    assert 3.0 < free.limiting_db < 15.0


def test_quiet_passages_that_cross_the_absolute_gate_are_measured_not_predicted():
    rng = np.random.default_rng(5)
    loud = 10 ** (-71 / 20) * rng.standard_normal((2, 3 * SR))   # about -65 LUFS
    quiet = 10 ** (-78 / 20) * rng.standard_normal((2, 3 * SR))  # about -72 LUFS: gated out
    mix = np.concatenate([loud, quiet], axis=1).astype(np.float32)
    out, result = reach_target(mix, SR, PRESETS["spotify"])
    assert result.reached and abs(integrated_loudness(out, SR) + 14.0) <= 0.5


def test_silence_is_explained_not_amplified():
    silent = np.zeros((2, SR), np.float32)
    out, result = reach_target(silent, SR, PRESETS["spotify"])
    assert not result.reached and result.reasons[0].startswith(MISSED)
    assert np.max(np.abs(out)) == 0.0


def test_quiet_target_is_reached_without_limiting():
    rng = np.random.default_rng(4)
    mix = (0.3 * rng.standard_normal((2, 3 * SR))).astype(np.float32)
    out, result = reach_target(mix, SR, PRESETS["broadcast"])
    assert result.limiting_db == 0.0
    assert integrated_loudness(out, SR) == pytest.approx(-23.0, abs=0.1)


def test_master_chain_is_a_valid_plan_chain_ending_in_a_brickwall_limiter():
    target = Target("test", -10.0, -0.5)
    chain = master_chain(target, mix_lufs=-18.0)
    before, limiter = split_limiter(chain)
    assert limiter is not None and limiter.plugin == "BrickwallLimiter"
    assert limiter.params["ceiling_db"] < target.true_peak_dbtp
    assert all(s.plugin != "Limiter" for s in before)
    assert isinstance(chain[0], PluginSpec)
    for sr in (8_000, 16_000, 44_100):  # valid in a plan at every rate
        Plan(sample_rate=sr, target=target,
             master=MasterPlan(master_chain(target, sample_rate=sr))).validate()
