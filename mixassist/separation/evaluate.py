"""Separation quality on held-out generated songs: SDR per stem (MDX definition, :mod:`.metrics`).

Each song's references are its four group signals (stems summed by the manifest's ``group``) and
the input is their sum, at the dataset's rate (44.1 kHz). A song's SDR is computed over the whole
song or over an excerpt of ``excerpt_s`` seconds from its middle; per stem, the median and mean
over songs are reported (songs whose reference for that stem is silent are left out and counted).

    python -m mixassist.separation.evaluate --data DATASET [--data ...] [--model NAME|PATH]
        [--dsp] [--split test] [--excerpt-s 30] [-o results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..datasets.torch_datasets import load_manifest
from ..utils.atomic import write_text_atomic
from ..vocab import STEM_GROUPS
from .metrics import song_sdrs

SeparateFn = Callable[[np.ndarray, int], dict[str, np.ndarray]]


def test_songs(roots: Sequence[str | os.PathLike], split: str | None = "test", *,
               excerpt_s: float | None = None):
    """Yield ``(song_key, references {group: (2, samples)}, sr)`` for every song of ``split``
    (of every song when None)."""
    from .train import group_audio

    for root in map(Path, roots):
        manifest = load_manifest(root)
        sr = int(manifest["sample_rate"])
        for song in manifest["songs"]:
            if split is not None and song["split"] != split:
                continue
            if excerpt_s is None:
                refs = group_audio(root, song)
            else:
                frames = int(excerpt_s * sr)
                start = max(0, int(song["duration_s"] * sr / 2) - frames // 2)
                refs = group_audio(root, song, start, frames)
            yield f"{root.name}/{song['song_id']}", refs, sr


def evaluate(separate: SeparateFn, roots: Sequence[str | os.PathLike], *, split: str | None = "test",
             excerpt_s: float | None = None) -> dict:
    """SDR of ``separate`` (``(audio, sr) -> {stem: audio}``) on every song of ``split``.

    Returns ``{"songs": {key: {stem: sdr}}, "stems": {stem: {"median", "mean", "n"}},
    "mean_sdr": mean over stems of the per-stem means, "median_sdr": same with medians}``.
    """
    songs = {}
    for key, refs, sr in test_songs(roots, split, excerpt_s=excerpt_s):
        mix = sum(refs.values())
        songs[key] = {k: round(v, 3) for k, v in song_sdrs(refs, separate(mix, sr)).items()}
    return summarise(songs)


def summarise(songs: dict[str, dict[str, float]]) -> dict:
    """Per-stem median/mean over songs (NaN = silent reference, left out)."""
    stems = {}
    for stem in STEM_GROUPS:
        values = [s[stem] for s in songs.values() if not math.isnan(s[stem])]
        stems[stem] = {"median": float(np.median(values)) if values else float("nan"),
                       "mean": float(np.mean(values)) if values else float("nan"), "n": len(values)}
    return {"songs": songs, "stems": stems,
            "mean_sdr": float(np.nanmean([v["mean"] for v in stems.values()])),
            "median_sdr": float(np.nanmean([v["median"] for v in stems.values()]))}


def model_separator(model=None, **options) -> SeparateFn:
    """The streaming engine with ``model`` (see :func:`.models.resolve_model`) as a SeparateFn;
    the residual goes to ``other`` so the stems sum to the input."""
    from .engine import Separator

    separator = Separator(model, **{"device": "cpu", **options})
    return lambda audio, sr: separator.separate(audio, sr)


def all_in_other(audio: np.ndarray, sr: int) -> dict[str, np.ndarray]:
    """The trivial separator: everything in ``other``, silence elsewhere (a lower bound)."""
    return {s: (audio if s == "other" else np.zeros_like(audio)) for s in STEM_GROUPS}


def format_table(results: dict[str, dict]) -> str:
    """A plain-text table: one row per method, median (mean) SDR per stem and their average."""
    header = f"{'method':<24}" + "".join(f"{s:>18}" for s in STEM_GROUPS) + f"{'average':>18}"
    rows = [header]
    for name, r in results.items():
        cells = "".join(f"{r['stems'][s]['median']:>9.2f} ({r['stems'][s]['mean']:>5.2f})"
                        for s in STEM_GROUPS)
        rows.append(f"{name:<24}{cells}{r['median_sdr']:>9.2f} ({r['mean_sdr']:>5.2f})")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> None:
    from .dsp_baseline import dsp_separate

    parser = argparse.ArgumentParser(prog="python -m mixassist.separation.evaluate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True, help="dataset folder (repeatable)")
    parser.add_argument("--model", action="append", default=[], help="model name or path (repeatable)")
    parser.add_argument("--dsp", action="store_true", help="also evaluate the DSP baseline")
    parser.add_argument("--split", default="test")
    parser.add_argument("--excerpt-s", type=float, default=None, help="middle excerpt (default: whole songs)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("-o", "--output", default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    methods: dict[str, SeparateFn] = {"all-in-other": all_in_other}
    if args.dsp:
        methods["dsp-baseline"] = dsp_separate
    for spec in args.model:
        methods[Path(spec).stem or spec] = model_separator(spec, shifts=0)
    results = {name: evaluate(fn, args.data, split=args.split, excerpt_s=args.excerpt_s)
               for name, fn in methods.items()}
    print(f"SDR (MDX, dB), split '{args.split}', "
          f"{'whole songs' if args.excerpt_s is None else f'{args.excerpt_s:g}-s middle excerpts'}: "
          "median over songs (mean)")
    print(format_table(results))
    if args.output:
        write_text_atomic(args.output, json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
