"""The built dataset: stems sum to the mixture, labels, manifest, determinism, resume."""

import json
import os

import numpy as np
import pytest
import soundfile as sf

from mixassist.datasets.build import build_dataset, build_song, plan_songs
from mixassist.vocab import INSTRUMENTS, ROLES, STEM_GROUPS


def _songs(root):
    return json.loads((root / "manifest.json").read_text())["songs"]


def test_mixture_is_the_sum_of_stored_stems_within_minus_90_db(tiny_dataset):
    for song in _songs(tiny_dataset):
        mix, sr = sf.read(tiny_dataset / song["mixture"], dtype="float64", always_2d=True)
        assert sr == 44100 and mix.shape[1] == 2
        total = sum(sf.read(tiny_dataset / song["folder"] / s["file"], dtype="float64", always_2d=True)[0]
                    for s in song["stems"])
        error_db = 10 * np.log10((np.sum((mix - total) ** 2) + 1e-30) / np.sum(mix ** 2))
        assert error_db < -90, (song["song_id"], error_db)
        assert np.max(np.abs(mix)) == pytest.approx(10 ** (-1 / 20), abs=1e-3)  # -1 dBFS peak


def test_manifest_labels_use_contract_vocabularies(tiny_dataset, tiny_spec):
    manifest = json.loads((tiny_dataset / "manifest.json").read_text())
    assert manifest["vocabularies"] == {"group": list(STEM_GROUPS), "instrument": list(INSTRUMENTS),
                                        "role": list(ROLES)}
    assert manifest["n_songs"] == len(manifest["songs"]) >= 2
    assert manifest["hours"] * 3600 >= tiny_spec["hours"] * 3600 - 1e-6
    for song in manifest["songs"]:
        assert song["split"] in ("train", "valid", "test")
        for stem in song["stems"]:
            assert stem["instrument"] in INSTRUMENTS and stem["role"] in ROLES and stem["group"] in STEM_GROUPS
            assert (stem["group"] == "vocals") == (stem["instrument"] == "vocals")
            assert -40 < stem["level_db"] < 3
    assert (tiny_dataset / "LICENCES.md").read_text().count("|") > 20


def test_level_db_is_stem_minus_mix_loudness(tiny_dataset):
    from mixassist.loudness import integrated_loudness
    song = _songs(tiny_dataset)[0]
    mix, sr = sf.read(tiny_dataset / song["mixture"], dtype="float32", always_2d=True)
    mix_lufs = integrated_loudness(mix.T, sr)
    for stem in song["stems"]:
        audio = sf.read(tiny_dataset / song["folder"] / stem["file"], dtype="float32", always_2d=True)[0].T
        assert integrated_loudness(audio, sr) - mix_lufs == pytest.approx(stem["level_db"], abs=0.05)


def test_vocal_level_follows_the_balance_model(tiny_dataset):
    """Sung lead sits at its genre's offset below the rest, +-2 LU of taste (balance.py)."""
    from mixassist.datasets.balance import TASTE_SD_LU, VOCAL_OVER_REST_LU
    from mixassist.loudness import integrated_loudness
    song = _songs(tiny_dataset)[0]
    stems = {s["name"]: sf.read(tiny_dataset / song["folder"] / s["file"], dtype="float32")[0].T for s in song["stems"]}
    assert "vocals" in stems
    rest = sum(a for n, a in stems.items() if n != "vocals")
    offset = integrated_loudness(stems["vocals"], 44100) - integrated_loudness(rest, 44100)
    assert abs(offset - VOCAL_OVER_REST_LU[song["genre"]]) < 2 * TASTE_SD_LU + 0.1


def test_same_seed_builds_byte_identical_stems_and_rerun_skips(tiny_dataset, tiny_spec, tmp_path):
    plan = plan_songs(hours=tiny_spec["hours"], seed=tiny_spec["seed"], min_duration_s=tiny_spec["min_duration_s"],
                      max_duration_s=tiny_spec["max_duration_s"], corpus_fraction=0.0,
                      generator=tiny_spec["generator"])[0]
    build_song(plan, tmp_path)
    folder_a, folder_b = tiny_dataset / "songs" / plan.song_id, tmp_path / "songs" / plan.song_id
    files = sorted(p.relative_to(folder_a) for p in folder_a.rglob("*.flac"))
    assert len(files) >= 3
    for f in files:
        assert (folder_a / f).read_bytes() == (folder_b / f).read_bytes(), f
    stamp = os.stat(folder_b / "mixture.flac").st_mtime_ns
    build_song(plan, tmp_path)  # finished: skipped
    assert os.stat(folder_b / "mixture.flac").st_mtime_ns == stamp


def test_other_seed_builds_other_songs():
    a = plan_songs(hours=0.01, seed=1, corpus_fraction=0.0)
    b = plan_songs(hours=0.01, seed=2, corpus_fraction=0.0)
    assert a[0].seed != b[0].seed


@pytest.mark.slow
def test_parallel_jobs_do_not_change_results(tiny_dataset, tiny_spec, tmp_path):
    build_dataset(tmp_path, jobs=2, **tiny_spec)
    for song in _songs(tiny_dataset):
        for stem in song["stems"]:
            a = (tiny_dataset / song["folder"] / stem["file"]).read_bytes()
            assert a == (tmp_path / song["folder"] / stem["file"]).read_bytes()
    assert _songs(tmp_path) == _songs(tiny_dataset)


def test_no_half_written_song_folders(tiny_dataset):
    assert not [p for p in (tiny_dataset / "songs").iterdir() if p.name.startswith(".")]


def test_resuming_with_another_seed_is_refused(tiny_dataset, tiny_spec):
    from mixassist.errors import ParameterError
    with pytest.raises(ParameterError, match=r"built with another --seed; resume it with the options it was built with"):
        build_dataset(tiny_dataset, **{**tiny_spec, "seed": tiny_spec["seed"] + 1})


def test_resuming_a_folder_of_an_older_generator_is_refused(tiny_dataset, tiny_spec, tmp_path):
    import json
    import shutil

    from mixassist.errors import ParameterError
    old = tmp_path / "old"
    shutil.copytree(tiny_dataset, old)
    meta = next(old.glob("songs/*/song.json"))
    data = json.loads(meta.read_text(encoding="utf-8"))
    del data["generator_version"]  # folders of generator version 1 carried no version
    meta.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ParameterError, match=r"built with generator 1 \(this build: 2\)"):
        build_dataset(old, **tiny_spec)
