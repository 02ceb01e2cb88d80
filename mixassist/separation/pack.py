"""Compact training packs: the train and valid songs of generated datasets, excerpted, summed into
the four separation groups and Opus-coded, small enough to travel to a GPU machine (the device
tool carries 64 MiB).

A pack is itself a dataset folder in the ``mixassist data build`` layout (``manifest.json``, one
stem file per group, ``group`` set), so :mod:`.train` reads it like any dataset. Each train song
becomes ``chunks`` excerpts spread evenly over the song (``train_s`` seconds in all); each valid
song one excerpt of ``valid_s`` seconds from its middle. Test songs are never packed.

Opus codes each group at about 26 kb/s at the default ``compression`` (0.97; SDR of the coded
group against the original 11-17 dB, measured on ds1). The mixture the trainer builds is the sum
of the decoded groups, so the separation problem stays exact.

    python -m mixassist.separation.pack OUT --data DATASET [--data DATASET2 ...]
        [--train-s 48] [--chunks 2] [--valid-s 16] [--compression 0.97]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..datasets.torch_datasets import load_manifest
from ..errors import ParameterError
from ..utils.atomic import atomic_dir
from ..vocab import STEM_GROUPS
from .train import group_audio

#: Opus codes at 8, 12, 16, 24 or 48 kHz; 24 kHz keeps the band of a 22.05 kHz model.
PACK_RATE_HZ = 24000


def _excerpts(song: dict, sr: int, seconds: float, chunks: int) -> list[tuple[int, int]]:
    """``(start, frames)`` of ``chunks`` excerpts of ``seconds`` in all, spread evenly over ``song``."""
    total = int(song["duration_s"] * sr)
    frames = min(int(seconds / chunks * sr), total // chunks)
    centres = [(k + 0.5) * total / chunks for k in range(chunks)]
    return [(int(min(max(0, c - frames / 2), total - frames)), frames) for c in centres]


def pack(datasets: Sequence[str | os.PathLike], out: str | os.PathLike, *, train_s: float = 48.0,
         chunks: int = 2, valid_s: float = 16.0, compression: float = 0.97) -> dict:
    """Write a pack of ``datasets``' train and valid songs to ``out`` (atomically); returns its
    manifest."""
    import soundfile as sf
    import soxr

    if not datasets:
        raise ParameterError("no dataset given; pass --data DATASET (a `mixassist data build` folder)")
    if train_s <= 0 or valid_s <= 0 or chunks < 1:
        raise ParameterError("train_s and valid_s must be positive and chunks at least 1")
    if not 0 <= compression <= 1:
        raise ParameterError(f"compression must be in [0, 1], got {compression}")
    entries = []
    with atomic_dir(out) as tmp:
        for root in map(Path, datasets):
            manifest = load_manifest(root)
            sr = int(manifest["sample_rate"])
            for song in manifest["songs"]:
                if song["split"] == "train":
                    spans = _excerpts(song, sr, train_s, chunks)
                elif song["split"] == "valid":
                    spans = _excerpts(song, sr, valid_s, 1)
                else:
                    continue
                for k, (start, frames) in enumerate(spans):
                    song_id = f"{root.name}-{song['song_id']}-{k}"
                    folder = tmp / "songs" / song_id
                    folder.mkdir(parents=True)
                    groups = group_audio(root, song, start, frames)
                    for group in STEM_GROUPS:
                        audio = soxr.resample(groups[group].T, sr, PACK_RATE_HZ).astype(np.float32)
                        with sf.SoundFile(folder / f"{group}.opus", "w", PACK_RATE_HZ, 2, format="OGG",
                                          subtype="OPUS", compression_level=compression) as f:
                            f.write(audio)
                    entries.append({
                        "song_id": song_id, "split": song["split"], "folder": f"songs/{song_id}",
                        "duration_s": round(frames / sr, 6), "source": f"{root.name}/{song['song_id']}",
                        "licence": song.get("licence", "see the source dataset"),
                        "stems": [{"name": g, "file": f"{g}.opus", "group": g} for g in STEM_GROUPS]})
        manifest = {"version": 1, "kind": "separation-pack", "sample_rate": PACK_RATE_HZ, "format": "opus",
                    "compression_level": compression, "datasets": [str(Path(d).resolve()) for d in datasets],
                    "hours": round(sum(e["duration_s"] for e in entries) / 3600, 4),
                    "n_songs": len(entries), "songs": entries}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mixassist.separation.pack",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--data", action="append", default=[], help="dataset folder (repeatable)")
    parser.add_argument("--train-s", type=float, default=48.0, help="seconds kept per train song")
    parser.add_argument("--chunks", type=int, default=2, help="excerpts per train song")
    parser.add_argument("--valid-s", type=float, default=16.0, help="seconds kept per valid song")
    parser.add_argument("--compression", type=float, default=0.97, help="Opus compression level 0-1")
    args = parser.parse_args(argv)
    manifest = pack(args.data, args.out, train_s=args.train_s, chunks=args.chunks, valid_s=args.valid_s,
                    compression=args.compression)
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    print(f"{args.out}: {manifest['n_songs']} excerpts, {manifest['hours']:.2f} h, {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
