"""``mixassist mix`` / ``MixAssistant`` end to end on a synthetic stem folder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mixassist.assistant import MixAssistant
from mixassist.audio import load_audio, save_audio
from mixassist.errors import ModelError, ParameterError
from mixassist.loudness import integrated_loudness, true_peak_dbtp
from mixassist.testing import synthetic_stems

SR = 44100
ANALYSIS_FIELDS = ["version", "sample_rate", "duration_s", "tempo_bpm", "beats_s", "downbeats_s",
                   "key", "sections", "loudness", "stems"]
STEM_FIELDS = ["name", "instrument", "instrument_probs", "role", "role_probs", "activity",
               "loudness_lufs", "level_db", "target_level_db", "confidence"]
PLAN_FIELDS = ["version", "sample_rate", "target", "stems", "buses", "master", "arrangement"]


def _stem_folder(path, seconds: float = 12.0):
    path.mkdir()
    for name, audio in synthetic_stems(seconds, SR).items():
        save_audio(path / f"{name}.wav", audio, SR)
    return path


@pytest.mark.slow
def test_mix_stem_folder_writes_every_output(tmp_path):
    song = _stem_folder(tmp_path / "song")
    result = MixAssistant(target="apple", focus="vocals").process(song, out_dir=tmp_path / "out")
    folder = tmp_path / "out" / "song"
    assert result.folder == folder
    assert result.analysis.sources["separation"] == "none"  # a stem folder is not separated
    mix, sr = load_audio(folder / "mix.wav")
    assert sr == SR
    assert integrated_loudness(mix, sr) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(mix, sr) <= -1.0 + 0.05
    assert sorted(p.name for p in (folder / "stems").iterdir()) == [
        "bass.wav", "drums.wav", "keys.wav", "vocals.wav"]
    analysis = json.loads((folder / "analysis.json").read_text())
    assert all(field in analysis for field in ANALYSIS_FIELDS)
    assert all(field in stem for stem in analysis["stems"] for field in STEM_FIELDS)
    plan = json.loads((folder / "plan.json").read_text())
    assert all(field in plan for field in PLAN_FIELDS)
    assert all(stem["reasons"] for stem in plan["stems"].values())
    report = (folder / "report.html").read_text()
    assert "Mix check of the input" in report and "data:image/png;base64," in report
    assert 'href="input.wav"' in report and 'href="mix.wav"' in report  # unmatched downloads
    assert 'src="preview/before.wav"' in report and 'src="preview/after.wav"' in report  # A/B
    before, _ = load_audio(folder / "input.wav")
    stems_in = [load_audio(p)[0] for p in sorted(song.iterdir())]
    assert np.allclose(before, sum(stems_in), atol=1e-6)
    # the quiet vocal was raised, and the reason quotes the measured level
    assert plan["stems"]["vocals"]["gain_db"] > 1  # part of the way: as far as the evidence goes
    assert "LU below the" in plan["stems"]["vocals"]["reasons"][0]  # the measured level, quoted
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_amount_zero_only_reaches_loudness(tmp_path):
    song = _stem_folder(tmp_path / "song", seconds=6.0)
    result = MixAssistant(amount=0.0, target="spotify").process(song)
    assert result.folder is None
    assert integrated_loudness(result.mix, SR) == pytest.approx(-14.0, abs=0.5)


def test_song_without_separation_model_fails_clearly(tmp_path, monkeypatch):
    from mixassist.separation import models

    monkeypatch.setattr(models, "BUNDLED_DIR", tmp_path)
    monkeypatch.setattr(models, "cached_pretrained", lambda name: False)
    song = save_audio(tmp_path / "song.wav", np.zeros((2, 2 * SR), np.float32) + 0.1, SR)
    with pytest.raises(ModelError, match="no separation model"):
        MixAssistant().process(song, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_options():
    with pytest.raises(ParameterError, match="amount"):
        MixAssistant(amount=2)
    with pytest.raises(ParameterError, match="version"):
        MixAssistant(version="remix")
    with pytest.raises(ParameterError, match="spotify"):
        MixAssistant(target="nowhere")


def test_rerun_with_other_options_skips_analysis(tmp_path, monkeypatch):
    song = _stem_folder(tmp_path / "song", seconds=6.0)
    first = MixAssistant(cache=tmp_path / "cache", target="spotify").process(song)

    def fail(*args, **kwargs):
        raise AssertionError("analysis ran again despite the cache")

    monkeypatch.setattr("mixassist.analysis.analyze.analyze", fail)
    second = MixAssistant(cache=tmp_path / "cache", target="apple").process(song)
    assert second.analysis.to_dict() == first.analysis.to_dict()
    assert integrated_loudness(second.mix, SR) == pytest.approx(-16.0, abs=0.5)
    # a changed stem is a different song: analysed again
    save_audio(song / "vocals.wav", np.zeros((2, 6 * SR), np.float32) + 0.01, SR)
    with pytest.raises(AssertionError, match="analysis ran again"):
        MixAssistant(cache=tmp_path / "cache").process(song)


def test_separated_song_is_cached(tmp_path, tiny_checkpoint, monkeypatch):
    t = np.arange(4 * SR) / SR
    song = save_audio(tmp_path / "song.wav",
                      np.stack([0.2 * np.sin(2 * np.pi * 110 * t)] * 2).astype(np.float32), SR)
    options = {"separation_model": str(tiny_checkpoint), "device": "cpu",
               "cache": tmp_path / "cache"}
    first = MixAssistant(**options).process(song)
    assert sorted(first.stems) == ["bass", "drums", "other", "vocals"]
    assert first.analysis.sources["separation"] == f"{tiny_checkpoint.stem} (file)"

    def fail(*args, **kwargs):
        raise AssertionError("separated again despite the cache")

    monkeypatch.setattr("mixassist.separation.engine.Separator.separate", fail)
    second = MixAssistant(target="apple", **options).process(song)
    assert sorted(second.stems) == sorted(first.stems)
    assert second.analysis.sources["separation"] == first.analysis.sources["separation"]


def test_leakage_is_judged_on_separated_songs_only(tmp_path, monkeypatch):
    # A separator that leaves the vocal stem of this instrumental with the rest 46 dB down.
    parts = {k: v for k, v in synthetic_stems(8.0, SR).items() if k != "vocals"}
    stems = parts | {"vocals": (0.005 * sum(parts.values())).astype(np.float32)}
    monkeypatch.setattr("mixassist.separation.engine.Separator.separate",
                        lambda self, audio, sr, **kwargs: stems)
    assistant = MixAssistant(cache=False)
    song = save_audio(tmp_path / "song.wav", sum(stems.values()), SR)
    separated = assistant.process(song)
    assert separated.analysis.stem("vocals").extra["leakage"] is True
    assert separated.plan.stems["vocals"].gain_db == 0.0
    # The same stems handed over as a folder are the producer's own: a buried part, raised.
    folder = tmp_path / "stems"
    folder.mkdir()
    for name, audio in stems.items():
        save_audio(folder / f"{name}.wav", audio, SR)
    given = assistant.process(folder)
    assert "leakage" not in given.analysis.stem("vocals").extra
    assert given.plan.stems["vocals"].gain_db > 1


def test_changed_analysis_code_invalidates_the_cache(tmp_path, monkeypatch):
    song = _stem_folder(tmp_path / "song", seconds=6.0)
    MixAssistant(cache=tmp_path / "cache").process(song)

    def fail(*args, **kwargs):
        raise AssertionError("analysis ran again")

    monkeypatch.setattr("mixassist.analysis.analyze.analyze", fail)
    monkeypatch.setattr("mixassist.assistant.code_digest", lambda: "0" * 16)
    with pytest.raises(AssertionError, match="analysis ran again"):
        MixAssistant(cache=tmp_path / "cache").process(song)


@pytest.mark.slow
def test_streaming_through_files_gives_the_in_memory_result(tmp_path):
    """With an output folder every stage streams through files; without one it all stays in
    memory. On the demo both give the same plan gains and final loudness (issue 20: <= 0.05 dB),
    and the written mix is the in-memory mix."""
    from pathlib import Path

    demo = Path(__file__).resolve().parents[1] / "data" / "demo"
    assistant = MixAssistant(cache=False)
    streamed = assistant.process(demo, out_dir=tmp_path / "out")
    in_memory = assistant.process(demo)
    for name, stem in in_memory.plan.stems.items():
        assert streamed.plan.stems[name].gain_db == pytest.approx(stem.gain_db, abs=0.05), name
    assert streamed.output_loudness["integrated_lufs"] == pytest.approx(
        in_memory.output_loudness["integrated_lufs"], abs=0.05)
    assert streamed.input_loudness["integrated_lufs"] == pytest.approx(
        in_memory.input_loudness["integrated_lufs"], abs=0.01)
    written, _ = load_audio(streamed.folder / "mix.wav")
    assert written.shape == in_memory.mix.shape
    assert np.max(np.abs(written - in_memory.mix)) < 1e-3
    assert streamed.mix.shape == in_memory.mix.shape  # the result reads the written file
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_a_full_disk_is_a_clear_error(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from mixassist.errors import DiskSpaceError

    song = _stem_folder(tmp_path / "song", seconds=2.0)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))
    with pytest.raises(DiskSpaceError, match="not enough free disk space.*GB"):
        MixAssistant(cache=False).process(song, out_dir=tmp_path / "out")
    assert not (tmp_path / "out" / "song").exists()


def test_a_chosen_analysis_network_is_used_and_keys_the_cache(tmp_path):
    """``analysis_model`` replaces the bundled network (its untrained, temperature-flattened
    probabilities show in analysis.json) and is part of the cache key; a missing file is a clear
    error when the options are made."""
    import torch

    from mixassist.analysis.network import AnalysisNet, save_model

    torch.manual_seed(0)
    net = AnalysisNet(channels=8, hidden=16)
    net.temperature = {"instrument": 1000.0, "role": 1000.0}  # near-uniform probabilities
    save_model(tmp_path / "net.safetensors", net)
    song = _stem_folder(tmp_path / "song", seconds=4.0)
    cache = tmp_path / "cache"
    bundled = MixAssistant(cache=cache).analysed(song)[3]
    chosen = MixAssistant(cache=cache, analysis_model=str(tmp_path / "net.safetensors")).analysed(song)[3]
    assert max(s.confidence for s in bundled.stems) > 0.5
    assert all(s.confidence < 1.5 / 11 for s in chosen.stems)
    with pytest.raises(ParameterError, match="nowhere.safetensors: analysis model file not found"):
        MixAssistant(analysis_model=str(tmp_path / "nowhere.safetensors"))
