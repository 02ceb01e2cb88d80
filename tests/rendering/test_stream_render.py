"""Rendering to files: stems read from files and the outputs streamed to WAVs equal the
in-memory render; edits read as signals; long mixes mastered on excerpts reach the target."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.audio.io import save_audio
from mixassist.audio.signal import ArraySignal, FileSignal
from mixassist.loudness import integrated_loudness, true_peak_dbtp
from mixassist.planning.edits import EditList, Segment
from mixassist.planning.plan import BusPlan, GainRamp, MasterPlan, Plan, PluginSpec, StemPlan
from mixassist.planning.targets import Target
from mixassist.rendering import master
from mixassist.rendering.master import master_chain, reach_target
from mixassist.rendering.render import render
from mixassist.testing import synthetic_stems
from tests.rendering.signals import at_lufs, drum_loop

SR = 22_050
LOUD = Target("loud", -12.0, -1.0)


def _plan(stems, **kwargs) -> Plan:
    """An EQ and a compressor on every stem, a limiter (latency) on one, automation on two, a
    reverb send, a master chain."""
    eq = [PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 40.0}),
          PluginSpec("PeakFilter", {"cutoff_frequency_hz": 800.0, "gain_db": 3.0, "q": 1.0})]
    comp = PluginSpec("Compressor", {"threshold_db": -18.0, "ratio": 3.0})
    plans = {name: StemPlan(chain=eq + [comp], sends={"verb": -9.0}) for name in stems}
    plans["drums"].chain.append(PluginSpec("BrickwallLimiter", {"ceiling_db": -3.0,
                                                                "lookahead_ms": 5.0}))  # latency
    plans["bass"].automation = [GainRamp(5.0, 12.0, -4.0)]
    plans["vocals"].automation = [GainRamp(20.0, 25.0, 6.0)]
    return Plan(sample_rate=SR, target=LOUD, stems=plans,
                buses={"verb": BusPlan([PluginSpec("Reverb", {"wet_level": 1.0,
                                                              "dry_level": 0.0})])},
                master=MasterPlan(master_chain(LOUD, sample_rate=SR, mix_lufs=-20.0)), **kwargs)


def _files(stems, folder) -> dict[str, FileSignal]:
    folder.mkdir()
    return {name: FileSignal(save_audio(folder / f"{name}.wav", audio, SR))
            for name, audio in stems.items()}


def _same(memory, files, tmp_path) -> None:
    assert isinstance(files.mix, FileSignal) and files.mix.path == tmp_path / "out" / "mix.wav"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mix.wav", "stems"]
    for name, audio in memory.stems_processed.items():
        assert files.stems_processed[name].path == tmp_path / "out" / "stems" / f"{name}.wav"
        np.testing.assert_allclose(files.stems_processed[name].to_array(), audio, atol=1e-5)
    np.testing.assert_allclose(files.mix.to_array(), memory.mix, atol=1e-5)
    assert files.loudness["integrated_lufs"] == pytest.approx(
        memory.loudness["integrated_lufs"], abs=0.05)
    assert files.to_dict()["duration_s"] == memory.to_dict()["duration_s"]


def test_rendering_files_to_files_equals_rendering_arrays(tmp_path):
    stems = synthetic_stems(30.0, SR, vocal_amp=0.1)
    plan = _plan(stems)
    memory = render(plan, stems, SR)
    assert isinstance(memory.mix, np.ndarray) and memory.mix.shape == (2, 30 * SR)
    files = render(plan, _files(stems, tmp_path / "in"), SR, out_dir=tmp_path / "out")
    _same(memory, files, tmp_path)
    assert files.plan.master.chain == memory.plan.master.chain


def test_an_edited_render_equals_on_both_paths(tmp_path):
    stems = synthetic_stems(30.0, SR, vocal_amp=0.1)
    edits = EditList(sr=SR, segments=[Segment(0, 8 * SR), Segment(16 * SR, 24 * SR, ["drums", "bass"]),
                                      Segment(4 * SR, 12 * SR)],
                     crossfade_ms=30.0, loop=True, fade_in_ms=200.0)
    plan = _plan(stems)
    plan.arrangement.edits = edits
    memory = render(plan, stems, SR)
    assert memory.mix.shape == (2, edits.length)
    files = render(plan, _files(stems, tmp_path / "in"), SR, out_dir=tmp_path / "out")
    _same(memory, files, tmp_path)


def _long_drums(seconds: float, sr: int) -> np.ndarray:
    """Drums with a quieter middle and a loud last third: uneven material for the excerpts."""
    rng = np.random.default_rng(3)
    n = int(seconds * sr)
    x = drum_loop(rng, sr, n)[0] + 0.05 * rng.standard_normal(n)
    x[n // 3:n // 2] *= 0.3
    x[2 * n // 3:] *= 1.5
    return at_lufs(x[None], sr, -20.0)


def test_a_long_mix_mastered_on_excerpts_reaches_the_target(monkeypatch):
    sr = 8_000
    mix = _long_drums(180.0, sr)
    spans = []
    original = master.excerpt_spans
    monkeypatch.setattr(master, "excerpt_spans",
                        lambda signal: spans.extend(original(signal)) or spans)
    target = Target("loud", -13.5, -1.0)  # needs peak control
    out, result = reach_target(mix, sr, target)
    assert len(spans) == master.EXCERPTS  # searched on excerpts
    lufs, peak = integrated_loudness(out, sr), true_peak_dbtp(out, sr)
    assert abs(lufs - target.lufs) <= 0.5 and peak <= target.true_peak_dbtp
    assert result.reached and result.peak_control is not None
    assert result.integrated_lufs == pytest.approx(lufs, abs=1e-3)  # the whole mix's numbers
    assert result.true_peak_dbtp == pytest.approx(peak, abs=1e-3)
    assert f"to {lufs:.1f} LUFS" in result.reasons[0]
    _, whole = reach_target(mix, sr, target, search_s=None)
    assert result.integrated_lufs == pytest.approx(whole.integrated_lufs, abs=0.1)


def test_excerpts_cover_the_highest_peak_and_the_loudest_parts():
    sr = 8_000
    mix = _long_drums(120.0, sr)
    mix[:, 30 * sr + 5] = 4.0  # the one highest peak, in the quiet middle
    spans = master.excerpt_spans(ArraySignal(mix, sr))
    length = int(master.EXCERPT_S * sr)
    assert len(spans) == master.EXCERPTS and all(b - a == length for a, b in spans)
    assert any(a <= 30 * sr + 5 < b for a, b in spans)
    assert sum(a >= 80 * sr for a, _ in spans) >= master.EXCERPTS // 4 + 1  # the loud third
    assert sum(a < 40 * sr for a, _ in spans) >= 2  # and a spread of the rest


def test_mastering_a_file_writes_the_file(tmp_path):
    mix = _long_drums(20.0, SR)
    memory, first = reach_target(mix, SR, LOUD)
    path = save_audio(tmp_path / "pre.wav", mix, SR)
    out, second = reach_target(FileSignal(path), SR, LOUD, out=tmp_path / "mix.wav")
    assert isinstance(out, FileSignal) and out.path == tmp_path / "mix.wav"
    np.testing.assert_array_equal(out.to_array(), memory)
    assert second.loudness == first.loudness
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix.wav", "pre.wav"]  # no leftovers
