"""``mixassist separate`` and ``mixassist models`` end to end with a tiny checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mixassist.audio import load_audio, save_audio
from tests.audio.test_io import BAD, _bad_inputs
from tests.conftest import sine


def test_separate_writes_stems_that_sum_to_the_input(tmp_path, tiny_checkpoint, cli):
    audio = sine(220, 48000, 3.0, channels=1) + sine(3000, 48000, 3.0, channels=1, amp=0.1)
    song = save_audio(tmp_path / "song one.flac", audio, 48000)
    code, _, err = cli(["separate", song, "-o", tmp_path / "out", "--model", tiny_checkpoint,
                             "--device", "cpu"])
    assert code == 0, err
    folder = tmp_path / "out" / "song one"
    info = json.loads((folder / "separation.json").read_text())
    assert info["stems"] == ["drums", "bass", "other", "vocals"]
    assert info["sample_rate"] == 48000 and info["duration_s"] == pytest.approx(3.0)
    assert info["model"] == "tiny"
    total = 0
    for stem in info["stems"]:
        data, sr = load_audio(folder / f"{stem}.wav")
        assert sr == 48000 and data.shape == audio.shape  # input's rate and layout (mono)
        total = total + data
    original, _ = load_audio(song)
    assert 20 * np.log10(np.max(np.abs(total - original)) / np.max(np.abs(original))) < -90
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["song one"]  # no temp left


@pytest.mark.parametrize("case", BAD)
def test_bad_inputs_give_one_line_and_no_output(tmp_path, tiny_checkpoint, cli, case):
    if case == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    path, words = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    code, _, err = cli(["separate", path, "-o", out, "--model", tiny_checkpoint])
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code != 0 and "Traceback" not in err
    assert len(errors) == 1, err
    assert str(path) in errors[0] and words.lower() in errors[0].lower()
    assert not out.exists() or not any(out.iterdir())


def test_missing_model_is_one_line(tmp_path, cli):
    song = save_audio(tmp_path / "a.wav", sine(440, 44100, 2.0), 44100)
    code, _, err = cli(["separate", song, "-o", tmp_path / "o", "--model",
                             tmp_path / "nope.th"])
    assert code == 1 and err.count("\n") == 1 and "nope.th" in err
    assert not (tmp_path / "o").exists()


def test_models_lists_json(cli):
    code, out, _ = cli(["models", "--json"])
    assert code == 0
    rows = json.loads(out)
    assert "htdemucs" in {row["name"] for row in rows}


def test_models_say_what_each_was_trained_on_and_how_it_measured(cli):
    """Every listed model, and every bundled weights file, has its facts; a bundled model's card
    is shipped beside it."""
    from mixassist.resources import models_dir

    code, out, _ = cli(["models", "--json"])
    rows = {row["name"]: row for row in json.loads(out)}
    bundled = {p.stem for p in models_dir().glob("*.safetensors")}
    assert bundled <= set(rows)
    for name, row in rows.items():
        assert row["trained_on"] and row["measured"], name
        if name in bundled:
            assert (models_dir() / row["card"]).is_file(), name
    code, out, _ = cli(["models"])
    assert code == 0 and "trained on: generated songs only" in out


def test_real_entry_point_version_and_help():
    exe = [sys.executable, "-m", "mixassist"]
    version = subprocess.run([*exe, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("mixassist ")
    for verb in ("separate", "models"):
        help_ = subprocess.run([*exe, verb, "--help"], capture_output=True, text=True)
        assert help_.returncode == 0 and "Usage" in help_.stdout
