"""PyTorch datasets over a built dataset folder (see :mod:`.build`).

- :class:`StemAnalysisDataset`: one example per (song, stem): a segment of the stem and of its
  mix, with the stem's instrument, role, group and ``level_db`` labels.

Items are drawn from ``np.random.default_rng([seed, epoch, index])`` so a dataset index is
reproducible; call :meth:`set_epoch` for fresh draws each epoch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ..errors import ParameterError
from .instruments import GROUPS, INSTRUMENTS, ROLES


#: Generator versions the readers here understand (the layout of song folders and manifests; a
#: manifest without a ``version`` is version 1's).
READS_VERSIONS = (1, 2, 3)


def load_manifest(root: str | os.PathLike, *, versions: tuple[int, ...] = READS_VERSIONS) -> dict:
    """The manifest of the dataset at ``root``; a :class:`ParameterError` when it was written by a
    generator version not in ``versions`` (a reader that expects version 2 passes ``(2,)``)."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise ParameterError(f"{path}: no manifest; build the dataset first with `mixassist data build`")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    version = manifest.get("version", 1)
    if version not in versions:
        raise ParameterError(f"{path}: a generator version {version} dataset; this reader expects "
                             f"version {' or '.join(map(str, versions))} (build one with "
                             f"`mixassist data build --generator {versions[-1]}`)")
    return manifest


def _read(path: Path, start: int, frames: int) -> np.ndarray:
    """``(2, frames)`` float32 from ``start``, zero-padded past the end."""
    with sf.SoundFile(path) as f:
        f.seek(min(start, f.frames))
        data = f.read(frames, dtype="float32", always_2d=True).T
    if data.shape[1] < frames:
        data = np.pad(data, ((0, 0), (0, frames - data.shape[1])))
    return data


class StemAnalysisDataset(torch.utils.data.Dataset):
    """Per-stem examples for the analysis network: a dict with ``stem`` and ``mix`` segments
    ``[2, T]``, integer ``instrument``/``role``/``group`` labels (CONTRACT.md order) and
    ``level_db`` (stem loudness minus mix loudness, BS.1770-4, over the whole song).

    Segments start inside the stem's activity when it has any.
    """

    def __init__(self, root: str | os.PathLike, split: str | None = "train", *, segment_s: float = 10.0,
                 seed: int = 0):
        self.root = Path(root)
        manifest = load_manifest(root)
        self.sr = int(manifest["sample_rate"])
        self.songs = [s for s in manifest["songs"] if split is None or s["split"] == split]
        if not self.songs:
            raise ParameterError(f"{self.root}: no songs in split {split!r}")
        self.segment = int(round(segment_s * self.sr))
        self.seed, self.epoch = seed, 0
        self.items = [(s, stem) for s in self.songs for stem in s["stems"]]
        self._activity: dict[str, list[dict]] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])

    def _start(self, song: dict, rng: np.random.Generator) -> int:
        frames = int(song["duration_s"] * self.sr)
        return int(rng.integers(0, max(1, frames - self.segment)))

    def __len__(self) -> int:
        return len(self.items)

    def _regions(self, song: dict, name: str) -> list[dict]:
        key = f"{song['song_id']}/{name}"
        if key not in self._activity:
            data = json.loads((self.root / song["annotations"]).read_text(encoding="utf-8"))
            for stem in data["stems"]:
                self._activity[f"{song['song_id']}/{stem['name']}"] = stem["activity"]
        return self._activity.get(key, [])

    def __getitem__(self, index: int) -> dict:
        song, stem = self.items[index]
        rng = self._rng(index)
        regions = self._regions(song, stem["name"])
        if regions:
            region = regions[int(rng.integers(len(regions)))]
            start = int(rng.uniform(region["start_s"], max(region["start_s"], region["end_s"] - 1.0)) * self.sr)
            start = max(0, min(start, int(song["duration_s"] * self.sr) - self.segment))
        else:
            start = self._start(song, rng)
        folder = self.root / song["folder"]
        return {"stem": torch.from_numpy(_read(folder / stem["file"], start, self.segment)),
                "mix": torch.from_numpy(_read(self.root / song["mixture"], start, self.segment)),
                "instrument": INSTRUMENTS.index(stem["instrument"]), "role": ROLES.index(stem["role"]),
                "group": GROUPS.index(stem["group"]), "level_db": float(stem["level_db"]),
                "song_id": song["song_id"], "name": stem["name"]}
