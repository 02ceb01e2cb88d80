"""Checks shared by the tests of built v3 songs (``session_song``): the mixture is the sum of the
stems, and a rebuild from the same seed is the same bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def read_stem(folder: Path, stem: dict) -> np.ndarray:
    """A built stem as float64 ``(channels, samples)``."""
    return sf.read(folder / stem["file"], dtype="float64", always_2d=True)[0].T


def assert_mixture_is_the_sum(folder: Path, data: dict) -> None:
    mix = sf.read(folder / "mixture.flac", dtype="float64", always_2d=True)[0].T
    total = sum(read_stem(folder, s) for s in data["stems"])
    assert 10 * np.log10((np.sum((mix - total) ** 2) + 1e-30) / np.sum(mix ** 2)) < -90


def assert_same_bytes(built: tuple[Path, dict], again: tuple[Path, dict]) -> None:
    (folder, data), (folder_again, data_again) = built, again
    assert data_again == data
    files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert len(files) == len(data["stems"]) + 3  # stems, mixture, song.json, song.mid
    for path in files:
        assert (folder_again / path).read_bytes() == (folder / path).read_bytes(), path
