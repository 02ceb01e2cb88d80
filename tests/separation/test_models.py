"""Model resolution: checkpoint files, demucs safetensors, repo folders, offline failures."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.errors import ModelError
from mixassist.separation import models as models_mod
from mixassist.separation import resolve_model, save_safetensors, separate


def _outputs(model, audio):
    return separate(audio, 44100, model=model, device="cpu", shifts=0)


def test_th_and_safetensors_load_the_same_model(tmp_path, tiny_model, tiny_checkpoint, rng):
    from demucs.hf import load_safetensors_model

    st = save_safetensors(tiny_model, tmp_path / "tiny.safetensors", extra={"note": "test"})
    by_demucs = load_safetensors_model(st)  # the demucs package itself reads our file
    audio = (0.2 * rng.standard_normal((2, 2 * 44100))).astype(np.float32)
    expected = _outputs(tiny_model, audio)
    for model in (resolve_model(tiny_checkpoint), resolve_model(st), by_demucs):
        got = _outputs(model, audio)
        assert all(np.allclose(got[k], expected[k], atol=1e-6) for k in expected)
    assert resolve_model(st).source == "file"


def test_repo_folder(tmp_path, tiny_model):
    from mixassist.separation.testing import save_th

    save_th(tiny_model, tmp_path / "abcd1234.th")
    loaded = resolve_model(tmp_path)
    assert loaded.source == "repo" and loaded.name == "abcd1234"
    assert resolve_model(f"{tmp_path}:abcd1234").sources == ["drums", "bass", "other", "vocals"]


def test_bundled_model_by_name(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setattr(models_mod, "BUNDLED_DIR", tmp_path)
    save_safetensors(tiny_model, tmp_path / "mixassist-compact.safetensors")
    assert resolve_model("mixassist-compact").source == "bundled"
    monkeypatch.setattr(models_mod, "cached_pretrained", lambda name: False)
    assert resolve_model(None).name == "mixassist-compact"  # the default when nothing is cached


def test_no_default_model_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setattr(models_mod, "BUNDLED_DIR", tmp_path)
    monkeypatch.setattr(models_mod, "cached_pretrained", lambda name: False)
    with pytest.raises(ModelError, match="models pull htdemucs"):
        resolve_model(None)


def test_offline_pretrained_fails_fast(monkeypatch):
    monkeypatch.setattr(models_mod, "cached_pretrained", lambda name: False)
    with pytest.raises(ModelError, match="offline"):
        resolve_model("htdemucs")
    with pytest.raises(ModelError, match="offline"):
        models_mod.pull("htdemucs")


@pytest.mark.parametrize("spec,words", [("no_such_model", "unknown model"),
                                        ("missing/file.th", "no such model file")])
def test_unknown_models(spec, words):
    with pytest.raises(ModelError, match=words):
        resolve_model(spec)


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "bad.th"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="not a loadable demucs checkpoint"):
        resolve_model(bad)


def test_list_models_marks_a_default(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setattr(models_mod, "BUNDLED_DIR", tmp_path)
    monkeypatch.setattr(models_mod, "cached_pretrained", lambda name: False)
    save_safetensors(tiny_model, tmp_path / "mixassist-compact.safetensors")
    rows = models_mod.list_models()
    assert [r["name"] for r in rows if r["default"]] == ["mixassist-compact"]
    assert {r["name"] for r in rows} >= {"htdemucs", "htdemucs_ft", "htdemucs_6s"}


def test_bundled_separators_are_not_the_analysis_network():
    from mixassist.resources import ANALYSIS_MODEL

    bundled = models_mod.bundled_models()
    assert models_mod.DEFAULT_BUNDLED in bundled
    assert ANALYSIS_MODEL.removesuffix(".safetensors") not in bundled
