"""``mixassist analysis train`` on two tiny synthetic datasets (never the shipped weights)."""

from __future__ import annotations

from mixassist.analysis.network import read_metadata

from ..analysis.test_network import write_dataset


def test_analysis_train_takes_several_datasets(tmp_path, cli):
    first = write_dataset(tmp_path / "ds1")
    second = write_dataset(tmp_path / "ds2", splits=("train", "valid", "test"), seed=5)
    out = tmp_path / "run"
    code, _, err = cli(["analysis", "train", first, second, "--out", out, "--steps", "1",
                        "--batch-size", "4", "--cache", tmp_path / "c1", "--cache", tmp_path / "c2"])
    assert code == 0, err
    meta = read_metadata(out / "best.safetensors")
    assert meta["step"] == 1 and meta["data"] == [str(first), str(second)]
    assert (meta["train_songs"], meta["valid_songs"]) == (2, {"valid": 2})
    assert sorted(p.name for p in (tmp_path / "c2").glob("*.npz")) == ["00000.npz", "00001.npz",
                                                                       "00002.npz"]
