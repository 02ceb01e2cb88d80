"""PyTorch datasets over the tiny dataset: separation segments and per-stem examples."""

import numpy as np
import pytest
import torch

from mixassist.datasets.torch_datasets import SeparationDataset, StemAnalysisDataset
from mixassist.vocab import INSTRUMENTS, ROLES, STEM_GROUPS


def test_aligned_segments_sum_to_the_stored_mixture(tiny_dataset):
    import soundfile as sf
    ds = SeparationDataset(tiny_dataset, split=None, segment_s=2.0, remix=False, seed=3)
    mix, sources = ds[0]
    assert mix.shape == (2, 88200) and sources.shape == (4, 2, 88200) and mix.dtype == torch.float32
    assert torch.allclose(sources.sum(0), mix)
    # the same segment of the stored mixture (the rng draws the start first)
    song = ds.songs[0]
    start = ds._start(song, ds._rng(0), ds.shift)
    stored = sf.read(tiny_dataset / song["mixture"], start=start, frames=88200, dtype="float32")[0].T
    assert np.max(np.abs(stored - mix.numpy())) < 1e-5


def test_remix_augmentation_mixes_across_songs_and_is_reproducible(tiny_dataset):
    ds = SeparationDataset(tiny_dataset, split=None, segment_s=1.0, remix=True, items_per_epoch=8, seed=1)
    assert len(ds) == 8
    a_mix, a_src = ds[3]
    b_mix, b_src = ds[3]
    assert torch.equal(a_mix, b_mix) and torch.allclose(a_src.sum(0), a_mix)
    ds.set_epoch(1)
    assert not torch.equal(ds[3][0], a_mix)


def test_stem_examples_carry_contract_labels(tiny_dataset):
    ds = StemAnalysisDataset(tiny_dataset, split=None, segment_s=2.0)
    assert len(ds) == sum(len(s["stems"]) for s in ds.songs)
    for i in range(len(ds)):
        item = ds[i]
        assert item["stem"].shape == item["mix"].shape == (2, 88200)
        assert 0 <= item["instrument"] < len(INSTRUMENTS) and 0 <= item["role"] < len(ROLES)
        assert STEM_GROUPS[item["group"]] in STEM_GROUPS
        assert float(item["stem"].abs().max()) > 0  # drawn inside the stem's activity


def test_unknown_split_is_a_clear_error(tiny_dataset):
    from mixassist.errors import ParameterError
    with pytest.raises(ParameterError, match="no songs in split"):
        SeparationDataset(tiny_dataset, split="nope")
