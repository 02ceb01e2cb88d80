"""Loading a folder of stems and writing a mix folder."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from mixassist.audio.io import save_audio
from mixassist.errors import AudioContentError, AudioFileError, MixAssistWarning
from mixassist.audio.stems import load_stems, save_mix_folder
from tests.conftest import sine


def test_load_stems_names_from_files_and_one_rate(tmp_path):
    save_audio(tmp_path / "bass.wav", sine(110.0, 44_100, 0.5, channels=1), 44_100)
    save_audio(tmp_path / "vocals.flac", sine(440.0, 48_000, 0.5), 48_000)
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.warns(MixAssistWarning, match="resampled to 48000 Hz"):
        stems, sr = load_stems(tmp_path)
    assert sr == 48_000 and sorted(stems) == ["bass", "vocals"]
    assert stems["bass"].shape == (1, 24_000) and stems["vocals"].shape == (2, 24_000)
    stems, sr = load_stems(tmp_path, sr=22_050)
    assert sr == 22_050 and stems["vocals"].shape == (2, 11_025)


def test_load_stems_errors(tmp_path):
    with pytest.raises(AudioFileError, match="not a folder"):
        load_stems(tmp_path / "missing")
    with pytest.raises(AudioFileError, match="holds no audio files"):
        load_stems(tmp_path)
    save_audio(tmp_path / "drums.wav", sine(80.0, 22_050, 0.2), 22_050)
    save_audio(tmp_path / "drums.flac", sine(80.0, 22_050, 0.2), 22_050)
    with pytest.raises(AudioFileError, match="several files for stem"):
        load_stems(tmp_path)


def test_save_mix_folder_replaces_stems_and_keeps_other_files(tmp_path):
    sr = 22_050
    out = tmp_path / "song"
    out.mkdir()
    (out / "report.html").write_text("<html></html>")
    save_mix_folder(out, sine(440.0, sr, 0.1), {"old": sine(220.0, sr, 0.1)}, sr, "{}")
    mix = sine(330.0, sr, 0.1)
    save_mix_folder(out, mix, {"a": mix, "b": mix}, sr, '{"version": 1}')
    assert sorted(p.name for p in out.iterdir()) == ["mix.wav", "plan.json", "report.html", "stems"]
    assert sorted(p.name for p in (out / "stems").iterdir()) == ["a.wav", "b.wav"]
    np.testing.assert_array_equal(sf.read(out / "mix.wav", dtype="float32")[0].T, mix)
    assert (out / "plan.json").read_text() == '{"version": 1}\n'


def test_save_mix_folder_error_leaves_the_folder_as_it_was(tmp_path):
    sr = 22_050
    out = tmp_path / "song"
    save_mix_folder(out, sine(440.0, sr, 0.1), {"a": sine(220.0, sr, 0.1)}, sr, "{}")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = {"a": sine(220.0, sr, 0.1), "b": np.zeros((2, 2, 10), np.float32)}  # not (ch, n)
    with pytest.raises(AudioContentError):
        save_mix_folder(out, sine(330.0, sr, 0.1), bad, sr, '{"new": 1}')
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
