"""Rendering: alignment, edits, pan law, width, automation, blocks, amount, errors."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.errors import PlanError
from mixassist.rendering.automation import GainCurve
from mixassist.rendering.master import master_chain
from mixassist.planning.plan import BusPlan, GainRamp, MasterPlan, Plan, PluginSpec, StemPlan
from mixassist.planning.plugins import registry
from mixassist.rendering.render import pan_gains, render
from mixassist.planning.targets import PRESETS
from tests.conftest import sine

TARGET = PRESETS["spotify"]


def db(x) -> float:
    return 20 * np.log10(np.max(np.abs(x)))


def rms_db(x) -> float:
    return 10 * np.log10(max(np.mean(np.square(x, dtype=np.float64)), 1e-30))


def plan_for(stems: dict[str, StemPlan], sr: int, **kwargs) -> Plan:
    return Plan(sample_rate=sr, target=TARGET, stems=stems, **kwargs)


def random_chain(rng: np.random.Generator, sr: int) -> list[PluginSpec]:
    """1-4 plugins drawn from the registry, with settings that keep a dry path (so an impulse
    still has an onset) but include every kind of latency: lookahead limiters, delays, filters."""
    pool = [
        lambda: PluginSpec("HighpassFilter", {"cutoff_frequency_hz": float(rng.uniform(20, 400))}),
        lambda: PluginSpec("LowpassFilter", {"cutoff_frequency_hz": float(rng.uniform(2e3, 0.4 * sr))}),
        lambda: PluginSpec("PeakFilter", {"cutoff_frequency_hz": float(rng.uniform(100, 5e3)),
                                          "gain_db": float(rng.uniform(-9, 9)), "q": 1.0}),
        lambda: PluginSpec("LowShelfFilter", {"gain_db": float(rng.uniform(-6, 6))}),
        lambda: PluginSpec("HighShelfFilter", {"cutoff_frequency_hz": 6e3, "gain_db": 3.0}),
        lambda: PluginSpec("Compressor", {"threshold_db": float(rng.uniform(-30, 0)), "ratio": 4.0}),
        lambda: PluginSpec("Gain", {"gain_db": float(rng.uniform(-6, 6))}),
        lambda: PluginSpec("BrickwallLimiter", {"ceiling_db": -3.0,
                                                "lookahead_ms": float(rng.uniform(0.5, 15)),
                                                "true_peak": bool(rng.integers(2))}),
        lambda: PluginSpec("Limiter", {"threshold_db": -6.0}),
        lambda: PluginSpec("Delay", {"delay_seconds": 0.05, "mix": 0.3}),
        lambda: PluginSpec("Chorus", {"mix": 0.3}),
        lambda: PluginSpec("Phaser", {"mix": 0.3}),
        lambda: PluginSpec("Reverb", {"wet_level": 0.2, "dry_level": 0.8}),
        lambda: PluginSpec("Distortion", {"drive_db": 6.0}),
        lambda: PluginSpec("Clipping", {"threshold_db": -3.0}),
        lambda: PluginSpec("NoiseGate", {"threshold_db": -80.0}),
        lambda: PluginSpec("Bitcrush", {"bit_depth": 16.0}),
        lambda: PluginSpec("Invert", {}),
    ]
    assert {make().plugin for make in pool} == set(registry())  # the whole registry is covered
    return [pool[i]() for i in rng.integers(len(pool), size=rng.integers(1, 5))]


def onset(x: np.ndarray) -> int:
    """First sample where any channel exceeds 1e-4 of the peak."""
    return int(np.flatnonzero(np.max(np.abs(x), axis=0) > 1e-4 * np.max(np.abs(x)))[0])


@pytest.mark.parametrize("seed", range(8))
def test_impulse_arrives_on_the_same_sample_everywhere(seed):
    rng = np.random.default_rng(seed)
    sr = [22_050, 44_100, 48_000, 96_000][seed % 4]
    n, at = sr, int(0.3 * sr)
    stems, plans = {}, {}
    for i in range(4):
        x = np.zeros((1 + i % 2, n), np.float32)
        x[:, at] = 0.5
        stems[f"s{i}"] = x
        plans[f"s{i}"] = StemPlan(gain_db=float(rng.uniform(-6, 0)), pan=float(rng.uniform(-1, 1)),
                                  chain=random_chain(rng, sr),
                                  sends={"verb": -10.0} if i % 2 else {"echo": -8.0})
    buses = {"verb": BusPlan([PluginSpec("BrickwallLimiter", {"lookahead_ms": 7.0}),
                              PluginSpec("Reverb", {"wet_level": 1.0, "dry_level": 0.0})]),
             "echo": BusPlan([PluginSpec("Delay", {"delay_seconds": 0.1, "mix": 1.0})])}
    plan = plan_for(plans, sr, buses=buses, master=MasterPlan(
        [PluginSpec("BrickwallLimiter", {"lookahead_ms": 3.0})] + master_chain(TARGET)))
    result = render(plan, stems, sr, block_s=0.13)
    for name, y in result.stems_processed.items():
        assert y.shape == (2, n)
        assert onset(y) == at, name
    assert onset(result.mix) == at
    assert result.mix.shape == (2, n)


@pytest.mark.parametrize("sr", [22_050, 44_100, 96_000])
@pytest.mark.parametrize("channels", [1, 2])
def test_editing_one_gain_changes_only_that_stem_by_that_much(sr, channels):
    stems = {name: sine(f, sr, 1.0, channels=channels) for name, f in
             (("a", 220.0), ("b", 440.0), ("c", 880.0))}
    chain = [PluginSpec("Compressor", {"threshold_db": -30.0, "ratio": 4.0}),
             PluginSpec("PeakFilter", {"cutoff_frequency_hz": 1000.0, "gain_db": 4.0})]
    plan = plan_for({n: StemPlan(chain=chain, pan=0.2, sends={"verb": -12.0}) for n in stems}, sr,
                    buses={"verb": BusPlan([PluginSpec("Reverb", {"wet_level": 1.0, "dry_level": 0.0})])})
    before = render(plan, stems, sr)
    plan.stems["b"].gain_db = -4.5
    after = render(plan, stems, sr)
    for name in ("a", "c"):
        np.testing.assert_array_equal(after.stems_processed[name], before.stems_processed[name])
    change = rms_db(after.stems_processed["b"]) - rms_db(before.stems_processed["b"])
    assert change == pytest.approx(-4.5, abs=1e-3)


@pytest.mark.parametrize("sr", [22_050, 48_000])
@pytest.mark.parametrize("channels", [1, 2])
def test_constant_power_pan(sr, channels):
    x = sine(1000.0, sr, 0.5, channels=channels)
    x[:] = x[0]  # the same signal on every channel
    levels = {}
    for pan in (-1.0, 0.0, 1.0, 0.4):
        out = render(plan_for({"s": StemPlan(pan=pan)}, sr), {"s": x}, sr).stems_processed["s"]
        levels[pan] = [rms_db(out[0]), rms_db(out[1])]
    edge = levels[-1.0][0]
    assert levels[0.0][0] == pytest.approx(edge - 3.01, abs=0.01)  # -3 dB at centre
    assert levels[0.0][1] == pytest.approx(edge - 3.01, abs=0.01)
    assert levels[1.0][1] == pytest.approx(edge, abs=0.01)          # full level at the edges
    assert max(levels[-1.0][1], levels[1.0][0]) < edge - 100        # nothing on the other side
    power = 10 ** (np.array(levels[0.4]) / 10)
    assert 10 * np.log10(power.sum()) == pytest.approx(edge, abs=0.01)  # constant power
    assert pan_gains(0.0) == pytest.approx((1.0, 1.0))


def test_width_zero_is_mono_and_one_is_unchanged():
    sr = 44_100
    x = np.stack([sine(300.0, sr, 0.5)[0], sine(700.0, sr, 0.5)[0]])
    mono = render(plan_for({"s": StemPlan(width=0.0)}, sr), {"s": x}, sr).stems_processed["s"]
    np.testing.assert_allclose(mono[0], mono[1], atol=1e-7)
    same = render(plan_for({"s": StemPlan()}, sr), {"s": x}, sr).stems_processed["s"]
    np.testing.assert_array_equal(same, x)


@pytest.mark.parametrize("sr", [16_000, 44_100, 96_000])
def test_automation_is_sample_accurate_and_click_free(sr):
    x = sine(1000.0, sr, 2.0, channels=1, amp=0.5)
    # every change on a crest of the sine, where a sudden step would click the most
    ramps = [GainRamp(0.50025, 1.00025, -12.0), GainRamp(1.00025, 1.25075, 3.0)]
    out = render(plan_for({"s": StemPlan(automation=ramps)}, sr), {"s": x}, sr).stems_processed["s"][0]
    gain = out / np.where(np.abs(x[0]) > 1e-3, x[0], np.nan)
    ramp = GainCurve(ramps, sr).ramp
    start, end = round(0.50025 * sr), round(1.00025 * sr)
    held = gain[start + ramp:end]
    assert np.nanmax(np.abs(20 * np.log10(held) + 12.0)) < 1e-4      # exact from start + ramp
    assert np.nanmax(np.abs(20 * np.log10(gain[:start + 1]))) < 1e-4  # untouched before
    assert np.nanmax(np.abs(20 * np.log10(gain[round(1.25075 * sr) + ramp:]))) < 1e-4  # back to 0 dB
    # click test: no sample step larger than the signal itself has at the largest gain used
    max_gain = 10 ** (3.0 / 20)
    assert np.max(np.abs(np.diff(out))) <= 1.02 * max_gain * np.max(np.abs(np.diff(x[0])))


def test_gain_curve_hard_cases():
    sr = 1000
    curve = GainCurve([GainRamp(0.0, 0.001, -6.0), GainRamp(0.0015, 0.1, -20.0)], sr, ramp_ms=5.0)
    g = curve.block(0, 200)
    assert np.all(np.isfinite(g)) and g[0] == 1.0
    assert np.max(np.abs(np.diff(g))) < 0.5  # a segment shorter than the ramp still ramps
    assert 20 * np.log10(g[90]) == pytest.approx(-20.0, abs=1e-5)
    assert g[199] == 1.0
    np.testing.assert_array_equal(curve.block(40, 60), g[40:100])  # any block, same values


def test_block_rendering_equals_one_shot():
    sr = 44_100
    rng = np.random.default_rng(7)
    stems = {"a": (0.2 * rng.standard_normal((2, 3 * sr))).astype(np.float32),
             "b": sine(150.0, sr, 3.0, channels=1)}
    chain = [PluginSpec("Compressor", {"threshold_db": -20.0, "ratio": 3.0}),
             PluginSpec("BrickwallLimiter", {"lookahead_ms": 5.0, "ceiling_db": -6.0}),
             PluginSpec("Delay", {"delay_seconds": 0.2, "mix": 0.3})]
    plan = plan_for({n: StemPlan(chain=chain, sends={"verb": -6.0},
                                 automation=[GainRamp(1.0, 2.0, -6.0)]) for n in stems}, sr,
                    buses={"verb": BusPlan([PluginSpec("Reverb", {"wet_level": 1.0, "dry_level": 0.0})])},
                    master=MasterPlan(master_chain(TARGET)))
    whole = render(plan, stems, sr, block_s=10.0)
    blocks = render(plan, stems, sr, block_s=0.29)
    for name in stems:
        np.testing.assert_allclose(blocks.stems_processed[name], whole.stems_processed[name], atol=1e-6)
    np.testing.assert_allclose(blocks.mix, whole.mix, atol=1e-5)


def test_amount_zero_leaves_stems_untouched_and_one_is_the_plan():
    sr = 44_100
    stems = {"a": sine(220.0, sr, 1.0), "b": sine(330.0, sr, 1.0, channels=1)}
    plan = plan_for({"a": StemPlan(gain_db=-6.0, pan=0.7, width=0.5, sends={"v": -3.0},
                                   chain=[PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 500.0})]),
                     "b": StemPlan(mute=True)}, sr,
                    buses={"v": BusPlan([PluginSpec("Reverb", {})])})
    plan.amount = 0.0
    result = render(plan, stems, sr)
    np.testing.assert_array_equal(result.stems_processed["a"], stems["a"])
    np.testing.assert_array_equal(result.stems_processed["b"], np.repeat(stems["b"], 2, axis=0))
    assert result.plan.amount == 0.0  # the plan as rendered keeps its amount
    plan.amount = 0.5
    half = render(plan, stems, sr).stems_processed["b"]
    assert rms_db(half) - rms_db(np.repeat(stems["b"], 2, axis=0)) == pytest.approx(-6.02, abs=0.01)
    plan.amount = 1.0
    full = render(plan, stems, sr)
    assert np.max(np.abs(full.stems_processed["b"])) == 0.0  # muted


def test_progress_reaches_the_total():
    sr = 22_050
    calls = []
    render(plan_for({"s": StemPlan()}, sr), {"s": sine(440.0, sr, 2.0)}, sr, block_s=0.5,
           progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1] == (2.0, 2.0)


def test_render_errors():
    sr = 44_100
    plan = plan_for({"a": StemPlan(), "b": StemPlan()}, sr)
    with pytest.raises(PlanError, match="b have no audio"):
        render(plan, {"a": sine(440.0, sr, 0.5)}, sr)
    with pytest.raises(PlanError, match="c are not in the plan"):
        render(plan, {n: sine(440.0, sr, 0.5) for n in "abc"}, sr)
    with pytest.raises(PlanError, match="48000 Hz"):
        render(plan, {n: sine(440.0, 48_000, 0.5) for n in "ab"}, 48_000)


def test_render_does_not_change_the_plan_and_records_the_loudness_stage():
    sr = 44_100
    plan = plan_for({"a": StemPlan(gain_db=-3.0)}, sr, master=MasterPlan(master_chain(TARGET), ["glue"]))
    text = plan.to_json()
    result = render(plan, {"a": sine(440.0, sr, 1.0)}, sr)
    assert plan.to_json() == text
    assert result.plan.master.reasons[0] == "glue"
    assert result.plan.master.reasons[1].startswith("loudness:")
    again = render(result.plan, {"a": sine(440.0, sr, 1.0)}, sr)  # re-render replaces, not appends
    assert len(again.plan.master.reasons) == len(result.plan.master.reasons)
