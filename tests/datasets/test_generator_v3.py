"""``data build --generator 3``: variety v3 and mixassist's synthesis voices in a built dataset;
versions are not mixed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from mixassist.errors import ParameterError

V3 = {"hours": 50 / 3600, "seed": 31, "min_duration_s": 20.0, "max_duration_s": 26.0,
      "corpus_fraction": 0.0, "sources": "training-v3", "generator": 3}


@pytest.fixture(scope="module")
def v3_dataset(tmp_path_factory, system_packages):
    from mixassist.datasets import build_dataset

    root = tmp_path_factory.mktemp("v3_dataset")
    build_dataset(root, jobs=1, **V3)
    return root


def test_a_v3_dataset_sums_labels_and_says_its_version(v3_dataset):
    manifest = json.loads((v3_dataset / "manifest.json").read_text())
    assert manifest["version"] == 3 and manifest["palette"] == "training-v3"
    sources = set()
    for song in manifest["songs"]:
        data = json.loads((v3_dataset / song["annotations"]).read_text())
        assert data["generator_version"] == 3 and "feel" in data
        mix = sf.read(v3_dataset / song["mixture"], dtype="float64", always_2d=True)[0]
        total = sum(sf.read(v3_dataset / song["folder"] / s["file"], dtype="float64",
                            always_2d=True)[0] for s in song["stems"])
        error_db = 10 * np.log10((np.sum((mix - total) ** 2) + 1e-30) / np.sum(mix ** 2))
        assert error_db < -90, (song["song_id"], error_db)
        for stem in song["stems"]:
            assert stem["instrument"] and stem["role"] and stem["group"] and stem["source"]
            sources.add(stem["source"])
    assert any(s.startswith("mixassist-synth:") for s in sources), sources  # synth voices play
    assert any(not s.startswith("mixassist-synth:") for s in sources)  # and soundfonts too


def test_a_v3_build_is_deterministic_whatever_the_jobs_and_a_rerun_skips_finished_songs(v3_dataset, tmp_path):
    from mixassist.datasets import build_dataset

    build_dataset(tmp_path / "again", jobs=2, **V3)
    flacs = sorted((v3_dataset / "songs").rglob("*.flac"))
    for path in flacs:
        again = tmp_path / "again" / path.relative_to(v3_dataset)
        assert again.read_bytes() == path.read_bytes(), path
    stamps = {p: p.stat().st_mtime_ns for p in flacs}
    build_dataset(v3_dataset, jobs=1, **V3)
    assert {p: p.stat().st_mtime_ns for p in flacs} == stamps


def test_versions_are_not_mixed(v3_dataset):
    from mixassist.datasets import build_dataset
    from mixassist.datasets.torch_datasets import load_manifest

    with pytest.raises(ParameterError, match=r"built with generator 3 \(this build: 2\)"):
        build_dataset(v3_dataset, jobs=1, **{**V3, "generator": 2})
    with pytest.raises(ParameterError, match="a generator version 3 dataset; this reader expects "
                                             "version 2"):
        load_manifest(v3_dataset, versions=(2,))
    assert load_manifest(v3_dataset)["version"] == 3


def test_a_v3_folder_of_an_earlier_revision_is_refused(v3_dataset, tmp_path):
    import shutil

    from mixassist.datasets import build_dataset
    from mixassist.datasets.build import V3_REVISION

    old = tmp_path / "old"
    shutil.copytree(v3_dataset, old)
    meta = next(old.glob("songs/*/song.json"))
    data = json.loads(meta.read_text(encoding="utf-8"))
    assert data["generator_revision"] == V3_REVISION
    del data["generator_revision"]  # built before revisions were recorded
    meta.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ParameterError, match=rf"built with revision 1 of generator 3, whose draws this code no longer makes \(revision {V3_REVISION}\)"):
        build_dataset(old, jobs=1, **V3)


def test_a_version_2_folder_is_refused_by_generator_3_and_by_a_version_3_reader(tiny_dataset, tiny_spec):
    from mixassist.datasets import build_dataset
    from mixassist.datasets.torch_datasets import load_manifest

    with pytest.raises(ParameterError, match=r"built with generator 2 \(this build: 3\); --sources training \(this build: training-v3\)"):
        build_dataset(tiny_dataset, jobs=1, **{**tiny_spec, "generator": 3})
    with pytest.raises(ParameterError, match="a generator version 2 dataset; this reader expects version 3 "
                                             r"\(build one with `mixassist data build --generator 3`\)"):
        load_manifest(tiny_dataset, versions=(3,))
    assert load_manifest(tiny_dataset, versions=(2, 3))["version"] == 2


def test_an_unknown_generator_version_is_refused(tmp_path):
    from mixassist.datasets import build_dataset

    with pytest.raises(ParameterError, match="--generator 4: use one of 2, 3"):
        build_dataset(tmp_path / "x", jobs=1, **{**V3, "generator": 4})
