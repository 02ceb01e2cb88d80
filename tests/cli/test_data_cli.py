"""``mixassist data build`` and ``mixassist data real`` from the command line."""

from __future__ import annotations

import json

import pytest



def test_data_build_help(cli):
    code, out, _ = cli(["data", "build", "--help"])
    assert code == 0 and "--hours" in out and "--jobs" in out and "--seed" in out


def test_data_build_rejects_bad_options_in_one_line(tmp_path, cli):
    code, _, err = cli(["data", "build", "--hours", "0", "--out", tmp_path / "d"])
    assert code == 1 and err.strip().startswith("error:") and "--hours" in err and len(err.strip().splitlines()) == 1
    for option, words in (("--jobs", "--jobs must be at least 1"), ("--generator", "--generator 0: use one of")):
        code, _, err = cli(["data", "build", "--hours", "0.01", "--out", tmp_path / "d", option, "0"])
        assert code == 1 and words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "d").exists()


@pytest.mark.slow
def test_data_build_writes_a_dataset(tmp_path, cli):
    code, _, err = cli(["data", "build", "--hours", "0.001", "--out", tmp_path / "d", "--seed", "4"])
    assert code == 0, err
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["n_songs"] >= 1 and manifest["seed"] == 4
    # the default is generator 3 with its training palette, each stem with its processing listed
    assert manifest["version"] == 3 and manifest["palette"] == "training-v3"
    assert all(isinstance(st["processing"], list) for song in manifest["songs"] for st in song["stems"])
    assert "songs" in err and "manifest.json" in err


def test_data_real_refuses_reserved_and_unknown_packages_in_one_line(tmp_path, cli):
    for name, words in (("warzone2100-music", "reserved for independent evaluation"),
                        ("no-such-music", "unknown real-music package")):
        code, _, err = cli(["data", "real", "--out", tmp_path / "corpus", "--package", name])
        assert code != 0 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "corpus").exists()


def test_data_build_refuses_an_unknown_sound_source(tmp_path, cli):
    code, _, err = cli(["data", "build", "--hours", "0.01", "--out", tmp_path / "ds", "--sources", "Nope"])
    assert code != 0 and "unknown sound source" in err
    assert not (tmp_path / "ds").exists()
