"""The streaming engine against demucs' own apply_model, and the lossless-stems guarantee."""

from __future__ import annotations

import random
from contextlib import nullcontext

import numpy as np
import pytest
import torch
from demucs.apply import apply_model

from mixassist.errors import AudioContentError, MixAssistWarning, ParameterError
from mixassist.separation import Separator, separate


def _relative_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    return 10 * np.log10(np.sum((estimate - reference) ** 2) / np.sum(reference ** 2))


def _reference(model, audio: np.ndarray, *, shifts: int, seed: int = 0):
    """demucs' apply_model on the whole input, normalised as the engine does."""
    x = torch.from_numpy(audio)
    mono = x.mean(0)
    mean, std = mono.mean(), mono.std()
    random.seed(seed)
    out = apply_model(model, ((x - mean) / std)[None], shifts=shifts, split=True, overlap=0.25)
    return (out[0] * std + mean / len(model.sources)).numpy()


@pytest.mark.parametrize("shifts", [0, 1])
def test_streaming_equals_apply_model(tiny_model, rng, shifts):
    sr = 44100
    audio = (0.1 * rng.standard_normal((2, 10 * sr))).astype(np.float32)
    stems = Separator(tiny_model, device="cpu", shifts=shifts, seed=7, residual="separate"
                      ).separate(audio, sr)
    reference = _reference(tiny_model, audio, shifts=shifts, seed=7)
    for k, name in enumerate(tiny_model.sources):
        assert _relative_db(stems[name], reference[k]) < -60, name


@pytest.mark.parametrize("sr,channels", [(44100, 2), (22050, 1), (48000, 2), (8000, 1),
                                         (96000, 6)])
def test_stems_sum_to_input_at_input_rate_and_layout(tiny_model, rng, sr, channels):
    audio = (0.2 * rng.standard_normal((channels, int(2.3 * sr)))).astype(np.float32)
    with pytest.warns(MixAssistWarning, match="mixed down") if channels > 2 else nullcontext():
        stems = separate(audio, sr, model=tiny_model, device="cpu", shifts=0)
    assert set(stems) == {"drums", "bass", "other", "vocals"}
    out_channels = 1 if channels == 1 else 2
    for stem in stems.values():
        assert stem.shape == (out_channels, audio.shape[1]) and stem.dtype == np.float32
    from mixassist.audio import to_channels

    target = to_channels(audio, out_channels)
    error = np.max(np.abs(sum(stems.values()) - target))
    assert 20 * np.log10(error / np.max(np.abs(target))) < -90


def test_residual_kept_separately(tiny_model, rng):
    sr = 44100
    audio = (0.2 * rng.standard_normal((2, 2 * sr))).astype(np.float32)
    stems = separate(audio, sr, model=tiny_model, device="cpu", shifts=0, residual="separate")
    assert "residual" in stems
    assert np.max(np.abs(sum(stems.values()) - audio)) < 1e-5
    # a random model leaves a large residual: it must not be silently dropped
    assert np.sqrt(np.mean(stems["residual"] ** 2)) > 1e-3


def test_shifts_are_reproducible(tiny_model, rng):
    audio = (0.2 * rng.standard_normal((2, 3 * 44100))).astype(np.float32)
    a = separate(audio, 44100, model=tiny_model, device="cpu", shifts=2, seed=3)
    b = separate(audio, 44100, model=tiny_model, device="cpu", shifts=2, seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_progress_is_reported(tiny_model, rng):
    calls = []
    audio = (0.2 * rng.standard_normal((2, 3 * 44100))).astype(np.float32)
    separate(audio, 44100, model=tiny_model, device="cpu", shifts=0,
             progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == pytest.approx(calls[-1][1])
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:]))


def test_invalid_options_and_inputs(tiny_model):
    with pytest.raises(ParameterError, match="overlap"):
        Separator(tiny_model, overlap=1.0)
    with pytest.raises(ParameterError, match="longer than"):
        separate(np.full((2, 44100 * 3), 0.1, np.float32), 44100, model=tiny_model, segment=5.0,
                 device="cpu")
    with pytest.raises(AudioContentError, match="at least 1 s"):
        separate(np.zeros((2, 1000), np.float32), 44100, model=tiny_model, device="cpu")
    with pytest.raises(ParameterError, match="device"):
        separate(np.full((2, 44100), 0.1, np.float32), 44100, model=tiny_model, device="tpu")
