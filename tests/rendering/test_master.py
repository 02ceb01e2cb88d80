"""Mastering: every target preset on ten varied mixes, within +-0.5 LU and under the ceiling,
or the reasons say why not; peak control before the limiter for transient-heavy mixes."""

from __future__ import annotations

import numpy as np
import pytest

import pedalboard

from mixassist.loudness import integrated_loudness, true_peak_dbtp
from mixassist.planning.amount import blend_plan
from mixassist.rendering.master import (MISSED, MAX_PEAK_CONTROL_DB, PEAK_CONTROL_MAX_ATTACK_MS,
                                        master_chain, reach_target, split_limiter,
                                        split_loudness_stage)
from mixassist.planning.plan import MasterPlan, Plan, PluginSpec, StemPlan
from mixassist.rendering.render import render
from mixassist.planning.targets import PRESETS, Target
from tests.rendering.signals import at_lufs, drum_loop, varied_mixes

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
    # every streaming target is within reach of these mixes with 6 dB of limiting and 6 dB of
    # peak control, the drum loop included (its peak-to-loudness ratio is 16 dB)
    if target.lufs <= -14:
        assert missed == []


def test_the_limit_on_limiting_is_configurable(mixes):
    drums, spotify = mixes["drum_loop"], PRESETS["spotify"]  # sparse peaks: needs ~8 dB
    _, capped = reach_target(drums, SR, spotify, max_limiting_db=3.0, max_peak_control_db=0.0)
    assert not capped.reached and "3 dB" in capped.reasons[-1]
    assert capped.limiting_db == pytest.approx(3.0) and capped.peak_control is None
    out, free = reach_target(drums, SR, spotify, max_limiting_db=15.0, max_peak_control_db=0.0)
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
    chain = master_chain(target, mix_lufs=-18.0, sample_rate=SR)
    before, limiter = split_limiter(chain)
    assert limiter is not None and limiter.plugin == "BrickwallLimiter"
    assert limiter.params["ceiling_db"] < target.true_peak_dbtp
    assert all(s.plugin != "Limiter" for s in before)
    assert isinstance(chain[0], PluginSpec)
    for sr in (8_000, 16_000, 44_100):  # valid in a plan at every rate
        Plan(sample_rate=sr, target=target,
             master=MasterPlan(master_chain(target, sample_rate=sr))).validate()
    # without the rate, nothing rate-dependent: the air shelf is left out
    assert "HighShelfFilter" not in [s.plugin for s in master_chain(target)]
    assert split_loudness_stage(chain) == (chain[:-1], chain[-1:])  # glue compressor is slow


def _drums(seconds: float = 5.0, lufs: float = -20.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    return at_lufs(drum_loop(rng, SR, int(seconds * SR)), SR, lufs)


LOUD = Target("loud", -13.0, -1.0)  # out of reach of the drums with 6 dB of limiting alone


def test_peak_control_reaches_a_loud_target_on_drums_within_both_budgets():
    drums = _drums()
    _, alone = reach_target(drums, SR, LOUD, max_peak_control_db=0.0)
    assert not alone.reached and alone.reasons[-1].startswith(MISSED)
    out, result = reach_target(drums, SR, LOUD)
    assert result.reached and abs(integrated_loudness(out, SR) - LOUD.lufs) <= 0.5
    assert true_peak_dbtp(out, SR) <= LOUD.true_peak_dbtp
    assert out.dtype == np.float32 and np.isfinite(out).all()
    spec = result.peak_control
    assert spec.plugin == "Compressor" and spec.params["attack_ms"] <= PEAK_CONTROL_MAX_ATTACK_MS
    assert 0.0 < result.peak_control_db <= MAX_PEAK_CONTROL_DB
    assert result.limiting_db <= 6.0 + 1e-6
    # the threshold sits that far under the mix's sample peak, on the 4:1 static curve
    peak = 20 * np.log10(np.max(np.abs(drums)))
    ratio = spec.params["ratio"]
    assert (peak - spec.params["threshold_db"]) * (1 - 1 / ratio) == pytest.approx(
        result.peak_control_db)
    assert any("peak control" in r and f"{spec.params['threshold_db']:.1f} dBFS" in r
               for r in result.reasons)


def test_peak_control_stops_at_its_budget_and_says_so():
    club = PRESETS["club"]  # -8 LUFS at -0.3 dBTP: too loud for a 16 dB crest within 1 + 6 dB
    out, result = reach_target(_drums(), SR, club, max_peak_control_db=1.0)
    assert not result.reached and result.peak_control_db <= 1.0 + 1e-9
    assert true_peak_dbtp(out, SR) <= club.true_peak_dbtp
    missed = [r for r in result.reasons if r.startswith(MISSED)]
    assert len(missed) == 1 and "budget 1 dB" in missed[0] and "peak-to-loudness" in missed[0]


def test_peak_control_is_left_out_when_the_limiter_is_enough(mixes):
    for name in ("sine", "pink_noise", "very_loud"):
        _, result = reach_target(mixes[name], SR, PRESETS["spotify"])
        assert result.reached and result.peak_control is None and result.peak_control_db == 0.0
        assert not any("peak control" in r for r in result.reasons)


def test_peak_control_keeps_a_sine_under_drums_clean():
    """Polarity inversion: the stage's processing replayed on drums + sine and drums - sine;
    half the difference is the sine as processed. Its harmonics stay 50 dB under it."""
    drums = _drums(seconds=4.0)[0]
    f0 = 1_001.0  # between the 2 Hz lines of the 120 bpm loop
    sine = 0.05 * np.sin(2 * np.pi * f0 * np.arange(drums.size) / SR)
    plus, minus = (np.stack([drums + x] * 2).astype(np.float32) for x in (sine, -sine))
    _, result = reach_target(plus, SR, Target("louder", -12.0, -1.0))
    assert result.peak_control is not None

    def replay(x):
        y = pedalboard.Compressor(**result.peak_control.params)(x, SR)
        y = y * np.float32(10 ** (result.gain_db / 20))
        return pedalboard.BrickwallLimiter(**result.limiter.params)(y, SR)

    processed = 0.5 * (replay(plus) - replay(minus))[0]
    spec = np.abs(np.fft.rfft(processed * np.hanning(processed.size))) ** 2
    hz = SR / processed.size

    def line(f):
        k = int(round(f / hz))
        return spec[k - 2:k + 3].sum()

    thd_db = 10 * np.log10(sum(line(k * f0) for k in range(2, 11)) / line(f0))
    assert thd_db < -50.0


def _drum_plan(amount: float) -> tuple[Plan, dict]:
    stems = {"drums": _drums(), "pad": 0.05 * _drums()[:, ::-1].copy()}
    plan = Plan(sample_rate=SR, target=LOUD, amount=amount,
                stems={name: StemPlan() for name in stems},
                master=MasterPlan(master_chain(LOUD, sample_rate=SR, mix_lufs=-20.0)))
    return plan, stems


def test_a_rendered_plan_with_its_peak_control_re_renders_the_same_mix():
    plan, stems = _drum_plan(1.0)
    first = render(plan, stems, SR)
    assert first.mastering.reached and first.mastering.peak_control is not None
    again_plan = Plan.from_json(first.plan.to_json())
    again_plan.master.chain = first.mastering.rendered_chain(plan.master.chain)
    assert again_plan.master.chain[-2] == first.mastering.peak_control
    assert again_plan.master.chain[-1].params["true_peak"] == \
        first.mastering.limiter.params["true_peak"]
    again = render(again_plan.validate(), stems, SR)
    assert again.mastering.peak_control is None  # nothing more to add
    assert again.loudness["integrated_lufs"] == pytest.approx(first.loudness["integrated_lufs"],
                                                              abs=0.1)
    diff = np.sqrt(np.mean((again.mix - first.mix) ** 2) / np.mean(first.mix ** 2))
    assert 20 * np.log10(diff + 1e-12) < -30.0


def test_amount_zero_keeps_peak_control_as_part_of_the_loudness_target():
    plan, stems = _drum_plan(0.0)
    fast = PluginSpec("Compressor", {"threshold_db": -9.0, "ratio": 4.0, "attack_ms": 0.01,
                                     "release_ms": 30.0})
    plan.master.chain.insert(-1, fast)
    live = blend_plan(plan, sample_rate=SR)
    assert live.master.chain == [fast, plan.master.chain[-1]]  # glue and filters dropped
    plan.master.chain.remove(fast)
    result = render(plan, stems, SR)
    assert result.mastering.reached and result.mastering.peak_control is not None
    assert any("applies at every amount, 0 included" in r for r in result.plan.master.reasons)
