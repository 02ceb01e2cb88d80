"""Tiny random-weight demucs models for tests and benchmarks (never a default, never shipped).

Like demucs' own ``demucs_unittest``, they let the CLI and the engine run end to end without any
download; their stems are meaningless but deterministic for a given seed.
"""

from __future__ import annotations

from pathlib import Path

SOURCES = ["drums", "bass", "other", "vocals"]


def tiny_htdemucs(*, segment_s: float = 1.0, samplerate: int = 44100, seed: int = 0):
    """A seeded HTDemucs: 8 channels, depth 2, no transformer layer (about 20k weights, fast)."""
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    model = HTDemucs(sources=SOURCES, samplerate=samplerate, segment=segment_s, channels=8,
                     depth=2, t_layers=0, nfft=512, bottom_channels=0, dconv_depth=1)
    return model.eval()


def small_htdemucs(*, seed: int = 0):
    """A benchmark-sized random HTDemucs (channels 16, depth 4, one transformer layer, 7.8 s
    segments): the shape of a compact separator, for timing only."""
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    return HTDemucs(sources=SOURCES, channels=16, depth=4, t_layers=1, segment=7.8).eval()


def save_th(model, path: str | Path) -> Path:
    """Save ``model`` as a demucs ``.th`` package (class, init arguments, state)."""
    import torch

    args, kwargs = model._init_args_kwargs
    package = {"klass": type(model), "args": args, "kwargs": kwargs,
               "state": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    torch.save(package, str(path))
    return Path(path)
