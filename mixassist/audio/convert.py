"""Sample-rate and channel-layout conversion, and checks on decoded audio.

The one audio convention of mixassist: ``float32`` numpy arrays shaped ``(channels, samples)``,
with the sample rate (Hz, int) passed alongside. Conversions happen only at the edges.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import soxr

from ..errors import AudioContentError, MixAssistWarning, ParameterError

MIN_SR = 8_000
MAX_SR = 192_000
MAX_CHANNELS = 8
SILENCE_DBFS = -120.0


def as_audio(audio: np.ndarray, *, name: str | None = None) -> np.ndarray:
    """Return ``audio`` as C-contiguous float32 ``(channels, samples)``; 1-D input becomes mono."""
    arr = np.asarray(audio)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise AudioContentError(
            f"audio must be shaped (channels, samples), got shape {arr.shape}", name)
    if arr.shape[0] > arr.shape[1] and arr.shape[0] > MAX_CHANNELS:
        raise AudioContentError(
            f"audio shaped {arr.shape} looks like (samples, channels); pass audio.T", name)
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_sample_rate(sr: int, *, name: str | None = None) -> int:
    """Validate a sample rate in Hz (8 kHz to 192 kHz) and return it as an int."""
    if not float(sr).is_integer() or not MIN_SR <= int(sr) <= MAX_SR:
        raise AudioContentError(
            f"sample rate {sr} Hz is outside the supported {MIN_SR}-{MAX_SR} Hz", name)
    return int(sr)


def validate_audio(audio: np.ndarray, sr: int, *, name: str | None = None,
                   min_duration_s: float = 0.0) -> np.ndarray:
    """Check decoded audio and return it in the mixassist convention.

    Raises :class:`AudioContentError` for no samples, too many channels, NaN/Inf samples or a
    duration under ``min_duration_s``; warns (:class:`MixAssistWarning`) when it is all silent.
    """
    audio = as_audio(audio, name=name)
    check_sample_rate(sr, name=name)
    channels, samples = audio.shape
    if samples == 0 or channels == 0:
        raise AudioContentError("contains no audio samples", name)
    if channels > MAX_CHANNELS:
        raise AudioContentError(f"has {channels} channels; at most {MAX_CHANNELS} are supported", name)
    # two reductions, no full-length temporaries: max and min are NaN if any sample is NaN
    peak = max(float(audio.max()), -float(audio.min()))
    if not math.isfinite(peak):
        bad = int((~np.isfinite(audio)).sum())
        raise AudioContentError(f"contains {bad} NaN or infinite samples", name)
    duration = samples / sr
    if duration < min_duration_s:
        raise AudioContentError(
            f"is {duration:.3f} s long; at least {min_duration_s:g} s is needed", name)
    if peak == 0.0 or 20 * np.log10(peak) < SILENCE_DBFS:
        warnings.warn(f"{name or 'audio'}: input is silent (peak below {SILENCE_DBFS:g} dBFS)",
                      MixAssistWarning, stacklevel=2)
    return audio


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``(channels, samples)`` float32 audio from ``sr_in`` to ``sr_out`` Hz (soxr HQ)."""
    audio = as_audio(audio)
    if sr_in == sr_out:
        return audio
    out = soxr.resample(audio.T, sr_in, sr_out, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


class StreamResampler:
    """Resample a stream of ``(channels, n)`` blocks with constant memory (soxr HQ).

    Blocks come out delay-compensated: after :meth:`flush`, the concatenated output equals
    :func:`resample` of the concatenated input up to soxr's rounding of the final length.
    """

    def __init__(self, sr_in: int, sr_out: int, channels: int):
        self.identity = sr_in == sr_out
        self._stream = None if self.identity else soxr.ResampleStream(
            sr_in, sr_out, channels, dtype="float32", quality="HQ")
        self.channels = channels

    def process(self, block: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Resample one block; pass ``last=True`` with the final block (it may be empty)."""
        if self.identity:
            return block
        out = self._stream.resample_chunk(np.ascontiguousarray(block.T), last=last)
        return np.ascontiguousarray(out.T, dtype=np.float32).reshape(self.channels, -1)

    def flush(self) -> np.ndarray:
        """Return what is left in the resampler once the input has ended."""
        return self.process(np.zeros((self.channels, 0), np.float32), last=True)


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Convert between channel layouts: mono is duplicated, more channels are averaged down.

    ``channels`` is 1 or 2. A 6-channel file is taken as 5.1 (L R C LFE Ls Rs) and folded down
    with the ITU-R BS.775 coefficients (C and surrounds at -3 dB, LFE dropped), normalised so a
    full-scale signal stays in range; other layouts put odd channels (1, 3, ...) on the left and
    even ones on the right, averaged. A mono target averages every channel.
    """
    audio = as_audio(audio)
    have = audio.shape[0]
    if have == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    if channels != 2:
        raise ParameterError(f"can only convert to 1 or 2 channels, not {channels}")
    if have == 1:
        return np.repeat(audio, 2, axis=0)
    if have == 6:
        g = np.float32(np.sqrt(0.5))
        norm = np.float32(1.0 / (1.0 + 2.0 * g))
        left = (audio[0] + g * audio[2] + g * audio[4]) * norm
        right = (audio[1] + g * audio[2] + g * audio[5]) * norm
    else:
        left = audio[0::2].mean(axis=0)
        right = audio[1::2].mean(axis=0)
    return np.stack([left, right]).astype(np.float32)


def downmix_warning(channels: int, *, name: str | None = None) -> None:
    """Warn that a file with more than 2 channels is mixed down to stereo for processing."""
    warnings.warn(f"{name or 'audio'}: {channels} channels mixed down to stereo for separation; "
                  "stems are written in stereo", MixAssistWarning, stacklevel=3)
