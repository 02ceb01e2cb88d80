"""PyTorch dataset over the tiny dataset: per-stem examples."""

import pytest

from mixassist.datasets.torch_datasets import StemAnalysisDataset
from mixassist.vocab import INSTRUMENTS, ROLES, STEM_GROUPS


def test_stem_examples_carry_contract_labels(tiny_dataset):
    ds = StemAnalysisDataset(tiny_dataset, split=None, segment_s=2.0)
    assert len(ds) == sum(len(s["stems"]) for s in ds.songs)
    for i in range(len(ds)):
        item = ds[i]
        assert item["stem"].shape == item["mix"].shape == (2, 88200)
        assert 0 <= item["instrument"] < len(INSTRUMENTS) and 0 <= item["role"] < len(ROLES)
        song, stem = ds.items[i]
        assert item["name"] == stem["name"] and item["song_id"] == song["song_id"]
        assert INSTRUMENTS[item["instrument"]] == stem["instrument"]
        assert ROLES[item["role"]] == stem["role"]
        assert STEM_GROUPS[item["group"]] == stem["group"]
        assert float(item["stem"].abs().max()) > 0  # drawn inside the stem's activity


def test_unknown_split_is_a_clear_error(tiny_dataset):
    from mixassist.errors import ParameterError
    with pytest.raises(ParameterError, match="no songs in split"):
        StemAnalysisDataset(tiny_dataset, split="nope")
