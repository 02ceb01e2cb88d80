"""Plan prediction from a measured analysis: balance, focus, reasons, a renderable plan."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mixassist.analysis.measure import measure_stems
from mixassist.errors import ParameterError
from mixassist.planning.plan import Plan
from mixassist.analysis.result import StemAnalysis
from mixassist.analysis.analyze import target_range
from mixassist.planning.predict import (DEFAULT_TARGET_STD_DB, FOCUS_DB, balance_gain, balance_offset,
                                        level_evidence, predict_plan, stem_gain)

SR = 22_050


def song(rng: np.random.Generator, *, vocal_amp: float = 0.03, seconds: float = 6.0
         ) -> dict[str, np.ndarray]:
    """Drums (noise hits), bass (55 Hz), keys (chord), guitar (mono 300 Hz tone), vocals."""
    t = np.arange(int(seconds * SR)) / SR
    hits = (t % 0.5) < 0.06
    chord = sum(np.sin(2 * np.pi * f * t) for f in (262.0, 330.0, 392.0))
    return {
        "drums": (0.15 * rng.standard_normal((2, t.size)) * hits).astype(np.float32),
        "bass": np.tile(0.15 * np.sin(2 * np.pi * 55 * t), (2, 1)).astype(np.float32),
        "keys": (0.05 * np.stack([chord, 0.9 * chord])
                 + 0.01 * rng.standard_normal((2, t.size))).astype(np.float32),
        "guitar": np.tile(0.02 * np.sin(2 * np.pi * 300 * t), (2, 1)).astype(np.float32),
        "vocals": np.tile(vocal_amp * np.sin(2 * np.pi * 440 * t) * (1 + 0.3 * np.sin(
            2 * np.pi * 3 * t)), (2, 1)).astype(np.float32),
    }


@pytest.fixture(scope="module")
def stems():
    return song(np.random.default_rng(3))


@pytest.fixture(scope="module")
def analysis(stems):
    return measure_stems(stems, SR)


def test_quiet_vocal_is_raised_and_reason_states_measured_lu(analysis):
    plan = predict_plan(analysis)
    vocals = analysis.stem("vocals")
    rest = vocals.features.level_vs_rest_db
    assert rest < -6.0  # the test song's vocal is far too quiet
    offset = balance_offset(analysis)
    low, high = (edge + offset for edge in target_range(vocals.target_level_db))
    assert vocals.level_db < low - 3  # far under its target range
    expected = (low - vocals.level_db) * vocals.confidence * level_evidence(DEFAULT_TARGET_STD_DB)
    assert plan.stems["vocals"].gain_db == pytest.approx(expected, abs=0.01)
    assert plan.stems["vocals"].gain_db > 0.5
    reason = plan.stems["vocals"].reasons[0]
    assert reason.startswith(f"vocals {plan.stems['vocals'].gain_db:+.1f} dB")
    assert f"{abs(rest):.1f} LU below the rest of the mix" in reason
    assert "3 LU below the rest" in reason
    assert f"corrected by {vocals.confidence:.2f} (label confidence)" in reason


def test_loud_vocal_is_lowered(stems):
    plan = predict_plan(measure_stems({**stems, "vocals": stems["vocals"] * 30}, SR))
    assert plan.stems["vocals"].gain_db < 0
    assert "over its range" in plan.stems["vocals"].reasons[0]


def test_leakage_stem_is_left_alone(stems):
    # A separated vocal stem of an instrumental holds only leakage, here 40 dB under the rest:
    # raising it to a vocal's target level would turn separation artefacts into a lead.
    rest = {k: v for k, v in stems.items() if k != "vocals"}
    leak = 0.01 * np.sum(list(rest.values()), axis=0)
    plan = predict_plan(measure_stems({**rest, "vocals": leak}, SR, separated=True))
    assert plan.stems["vocals"].gain_db == 0.0
    assert "separation leakage" in plan.stems["vocals"].reasons[0]


def test_focus_gets_priority(analysis):
    plain = predict_plan(analysis)
    focused = predict_plan(analysis, focus="guitar")
    assert focused.stems["guitar"].gain_db == pytest.approx(
        plain.stems["guitar"].gain_db + FOCUS_DB, abs=0.01)
    # the keys chord masks the quiet 300 Hz guitar: keys get a cut in the guitar's band
    cuts = [c for c in focused.stems["keys"].chain if c.plugin == "PeakFilter"]
    assert cuts and all(c.params["gain_db"] < 0 for c in cuts)
    assert any(200 <= c.params["cutoff_frequency_hz"] <= 400 for c in cuts)
    assert any("masks guitar" in r for r in focused.stems["keys"].reasons)
    # without the focus the quiet guitar is no focus stem: no cut on the keys for its sake
    plain_cuts = [c for c in plain.stems["keys"].chain if c.plugin == "PeakFilter"]
    assert not any(200 <= c.params["cutoff_frequency_hz"] <= 400 and c.params["gain_db"] < 0
                   for c in plain_cuts)
    assert not any("masks guitar" in r for r in plain.stems["keys"].reasons)
    with pytest.raises(ParameterError, match="matches no stem"):
        predict_plan(analysis, focus="kazoo")


def test_every_stem_has_reasons_with_numbers(analysis):
    plan = predict_plan(analysis)
    assert set(plan.stems) == {s.name for s in analysis.stems}
    for name, stem in plan.stems.items():
        assert stem.reasons and all(r.startswith(name) for r in stem.reasons)
        assert any(re.search(r"\d", r) for r in stem.reasons)
        assert stem.chain[0].plugin == "HighpassFilter"
    assert plan.stems["bass"].pan == 0.0 and plan.stems["drums"].pan == 0.0
    assert plan.stems["vocals"].pan == 0.0 and "delay" in plan.stems["vocals"].sends
    assert plan.master.chain and plan.master.reasons


def test_plan_is_deterministic_and_round_trips(analysis):
    plan = predict_plan(analysis, target="apple", amount=0.5)
    assert plan.target.lufs == -16.0 and plan.amount == 0.5
    assert predict_plan(analysis, target="apple", amount=0.5) == plan
    assert Plan.from_json(plan.to_json()) == plan
    with pytest.raises(ParameterError):
        predict_plan(analysis, amount=2.0)


def test_plan_renders_to_target(stems, analysis):
    from mixassist.loudness import integrated_loudness
    from mixassist.rendering.render import render

    result = render(predict_plan(analysis, target="spotify"), stems, SR)
    assert np.isfinite(result.mix).all()
    assert integrated_loudness(result.mix, SR) == pytest.approx(-14.0, abs=0.5)


def test_compression_follows_measured_crest_factor(stems):
    sr = SR
    clicks = np.zeros_like(stems["bass"])
    clicks[:, ::sr // 4] = 0.5  # four clicks a second: crest factor ~ 20 log10(0.5 / rms) >> 20 dB
    analysis = measure_stems({**stems, "perc": clicks}, sr, labels={"perc": "percussion"})
    assert analysis.stem("perc").features.crest_db > 30.0
    plan = predict_plan(analysis)
    [comp] = [c for c in plan.stems["perc"].chain if c.plugin == "Compressor"]
    assert comp.params["ratio"] > 2.0
    assert any(f"crest factor {analysis.stem('perc').features.crest_db:.1f} dB" in r
               for r in plan.stems["perc"].reasons)
    # a steady sine (crest factor 3 dB) is left alone
    assert not any(c.plugin == "Compressor" for c in plan.stems["bass"].chain)
    assert any(r.startswith("bass: no compression: crest factor 3.0 dB")
               for r in plan.stems["bass"].reasons)


def _stem(level_db: float, target_db: float, confidence: float, **fields) -> StemAnalysis:
    return StemAnalysis(name="bass", instrument="bass", instrument_probs={"bass": confidence},
                        role="low_end", role_probs={"low_end": 1.0}, activity=[], loudness_lufs=-20.0,
                        level_db=level_db, target_level_db=target_db, confidence=confidence,
                        source="network", target_level_source="network",
                        target_range_db=[target_db - 2.0, target_db + 2.0], **fields)


def test_the_policy_leaves_a_stem_inside_its_range_alone():
    for level in (-11.9, -10.0, -8.1):  # range -12 .. -8
        gain, reasons = stem_gain(_stem(level, -10.0, 1.0))
        assert gain == 0.0 and "inside its target range" in reasons[0]
    assert balance_gain(-8.0, -12.0, -8.0, 1.0) == 0.0


def test_the_correction_goes_to_the_range_edge_scaled_by_confidence():
    exact = {"target_level_std_db": 0.0}  # a target known exactly: full level evidence
    sure = stem_gain(_stem(-20.0, -10.0, 1.0, extra=exact))[0]
    half = stem_gain(_stem(-20.0, -10.0, 0.5, extra=exact))[0]
    assert sure == pytest.approx(8.0)  # to the lower edge -12, not to the target -10
    assert half == pytest.approx(sure / 2)
    assert stem_gain(_stem(0.0, -10.0, 1.0, extra=exact))[0] == pytest.approx(-8.0)
    reason = stem_gain(_stem(-20.0, -10.0, 0.55))[1][0]
    assert "bass (possibly; 0.55" in reason and "8.0 dB under its range" in reason


def test_a_vaguer_target_level_moves_the_stem_less():
    sharp = stem_gain(_stem(-20.0, -10.0, 1.0, extra={"target_level_std_db": 0.5}))[0]
    vague = stem_gain(_stem(-20.0, -10.0, 1.0, extra={"target_level_std_db": 2.0}))[0]
    assert 0 < vague < sharp < 8.0
    assert level_evidence(0.0) == 1.0 and level_evidence(1.0) < level_evidence(0.5)


def test_a_finished_mix_gets_small_moves():
    """The demo's stems at the generator's reference balance (its rough-mix faults undone) are a
    finished mix: the shipped network and the policy leave every gain within 1 dB."""
    import json
    from pathlib import Path

    from mixassist.analysis.analyze import analyze
    from mixassist.audio.io import load_audio

    demo = Path(__file__).resolve().parents[2] / "data"
    info = json.loads((demo / "demo.json").read_text())
    stems, sr = {}, None
    for stem in info["stems"]:
        audio, sr = load_audio(demo / "demo" / f"{stem['name']}.flac")
        stems[stem["name"]] = audio * np.float32(10 ** (-info["rough_balance_db"].get(stem["group"], 0.0) / 20))
    plan = predict_plan(analyze(stems, sr))
    gains = {n: s.gain_db for n, s in plan.stems.items()}
    assert max(abs(g) for g in gains.values()) <= 1.0, gains


def test_a_stem_that_may_be_a_kick_keeps_its_low_end(analysis):
    import copy
    uncertain = copy.deepcopy(analysis)
    keys = uncertain.stem("keys")
    keys.instrument, keys.instrument_probs = "keys", {"keys": 0.6, "drums": 0.4}
    plan = predict_plan(uncertain)
    hp = plan.stems["keys"].chain[0]
    assert hp.plugin == "HighpassFilter" and hp.params["cutoff_frequency_hz"] <= 30.0
    assert any("may be drums (0.40)" in r for r in plan.stems["keys"].reasons)


def test_a_focused_stem_inside_its_range_gets_the_focus_boost_and_says_so():
    gain, reasons = stem_gain(_stem(-10.0, -10.0, 1.0), focused=True)
    assert gain == pytest.approx(FOCUS_DB)
    assert "inside its target range" in reasons[0] and f"+{FOCUS_DB:.1f} dB as the focus" in reasons[0]
    assert "; ;" not in reasons[0] and "under its range" not in reasons[0]


def test_a_sure_backing_vocal_keeps_its_higher_high_pass(analysis):
    import copy
    backing = copy.deepcopy(analysis)
    vocals = backing.stem("vocals")
    vocals.role, vocals.instrument_probs = "harmony", {"vocals": 0.9, "keys": 0.1}
    hp = predict_plan(backing).stems["vocals"].chain[0]
    assert hp.params["cutoff_frequency_hz"] == pytest.approx(150.0)


def test_the_lead_is_cut_for_only_where_the_balance_finds_it_under_its_range(stems):
    """Keys with a 440 Hz line mask the 440 Hz vocal. Far too quiet, the vocal is raised and the
    keys get a cut in its band; at its level (inside its range) the masking is measured still, but
    the finished balance is left alone: no cut, and the vocal's reasons say why."""
    t = np.arange(stems["keys"].shape[1]) / SR
    keys = stems["keys"] + np.tile(0.4 * np.sin(2 * np.pi * 440 * t), (2, 1)).astype(np.float32)
    quiet = predict_plan(measure_stems({**stems, "keys": keys}, SR))
    assert quiet.stems["vocals"].gain_db > 0.5
    assert any(c.plugin == "PeakFilter" and 400 <= c.params["cutoff_frequency_hz"] <= 500
               for c in quiet.stems["keys"].chain)
    placed = measure_stems({**stems, "keys": keys, "vocals": stems["vocals"] * 4}, SR)
    assert any(m.masker == "keys" and m.target == "vocals" and m.bands for m in placed.masking)
    plan = predict_plan(placed)
    assert plan.stems["vocals"].gain_db == 0.0
    assert not any(c.plugin == "PeakFilter" for c in plan.stems["keys"].chain)
    assert any("no masking cuts on the other stems for it" in r for r in plan.stems["vocals"].reasons)
    focused = predict_plan(placed, focus="vocals")  # asked for: cut for it all the same
    assert any(c.plugin == "PeakFilter" for c in focused.stems["keys"].chain)

