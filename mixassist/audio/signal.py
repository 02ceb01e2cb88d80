"""Audio read in blocks, wherever it lives: one interface for arrays in memory and files on disk.

A :class:`Signal` has a sample rate ``sr`` (Hz), ``channels`` and a length ``samples``, and
:meth:`Signal.read` returns any span of it as float32 ``(channels, n)``, silence outside
``[0, samples)``. Every stage that walks a song block by block (analysis, rendering, mastering,
writing) takes signals, so an hour-long song costs the memory of a few blocks whether its stems
are arrays (:class:`ArraySignal`) or files (:class:`FileSignal`, e.g. the separator's output);
:class:`MixSignal` sums stems on the fly, so a mix or "the rest of the mix" is never stored.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from ..errors import AudioContentError, AudioFileError
from .convert import as_audio, check_sample_rate, to_channels

#: Default block length (samples) of :meth:`Signal.blocks` and :func:`write_signal`: 2^18,
#: about 6 s at 44.1 kHz (2 MB per stereo float32 block).
BLOCK = 1 << 18


class Signal:
    """Audio of ``channels`` x ``samples`` at ``sr`` Hz, read in spans (subclasses define
    :meth:`_read` for spans inside the signal)."""

    sr: int
    channels: int
    samples: int

    @property
    def duration_s(self) -> float:
        return self.samples / self.sr

    @property
    def shape(self) -> tuple[int, int]:
        """``(channels, samples)``, as of the array it stands for."""
        return self.channels, self.samples

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(signal)``: the whole signal in memory (:meth:`to_array`)."""
        audio = self.to_array()
        return audio if dtype is None else audio.astype(dtype)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start..stop`` as float32 ``(channels, stop - start)``; zeros outside the
        signal (``start`` may be negative, ``stop`` past the end). Do not modify the result: it
        may be a view of the signal's own array."""
        start, stop = int(start), int(stop)
        if stop <= start:
            return np.zeros((self.channels, 0), np.float32)
        lo, hi = max(start, 0), min(stop, self.samples)
        if lo == start and hi == stop:
            return self._read(lo, hi)
        out = np.zeros((self.channels, stop - start), np.float32)
        if hi > lo:
            out[:, lo - start:hi - start] = self._read(lo, hi)
        return out

    def _read(self, start: int, stop: int) -> np.ndarray:
        raise NotImplementedError

    def blocks(self, size: int = BLOCK, *, start: int = 0,
               stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(first sample, block)`` for consecutive blocks of ``size`` samples over
        ``start..stop`` (default: the whole signal); the last block may be shorter."""
        stop = self.samples if stop is None else stop
        for first in range(start, stop, size):
            yield first, self.read(first, min(first + size, stop))

    def to_array(self) -> np.ndarray:
        """The whole signal in memory, float32 ``(channels, samples)``."""
        return self.read(0, self.samples)


class ArraySignal(Signal):
    """A ``(channels, samples)`` array as a signal; reads are views of it."""

    def __init__(self, audio: np.ndarray, sr: int, *, name: str | None = None):
        self.audio = as_audio(audio, name=name)
        self.sr = check_sample_rate(sr, name=name)
        self.channels, self.samples = self.audio.shape

    def _read(self, start: int, stop: int) -> np.ndarray:
        return self.audio[:, start:stop]

    def to_array(self) -> np.ndarray:
        return self.audio


class FileSignal(Signal):
    """An audio file (any format libsndfile reads; our stems are float32 WAV) read by seeking,
    so only the span asked for is in memory. Reads check that the samples are finite and are
    safe from several threads (one handle, locked)."""

    def __init__(self, path: str | os.PathLike):
        import soundfile as sf

        self.path = Path(path)
        try:
            info = sf.info(str(self.path))
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise AudioFileError(f"cannot be read block by block ({str(exc).splitlines()[0]})",
                                 self.path) from None
        self.sr = check_sample_rate(int(info.samplerate), name=str(self.path))
        self.channels, self.samples = int(info.channels), int(info.frames)
        self._file = None
        self._lock = threading.Lock()

    def _read(self, start: int, stop: int) -> np.ndarray:
        import soundfile as sf

        with self._lock:
            try:
                if self._file is None or self._file.closed:
                    self._file = sf.SoundFile(str(self.path))
                if self._file.tell() != start:
                    self._file.seek(start)
                block = self._file.read(stop - start, dtype="float32", always_2d=True).T
            except (RuntimeError, sf.LibsndfileError) as exc:
                raise AudioFileError(f"cannot be read at {start / self.sr:.2f} s "
                                     f"({str(exc).splitlines()[0]})", self.path) from None
        if block.shape[1] < stop - start:
            raise AudioFileError(f"is truncated: it ends at {block.shape[1] + start} of "
                                 f"{self.samples} samples", self.path)
        if not np.isfinite(block).all():
            raise AudioContentError(f"contains NaN or infinite samples near "
                                    f"{start / self.sr:.2f} s", self.path)
        return np.ascontiguousarray(block)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()

    def __getstate__(self) -> dict:  # picklable for process pools: the handle reopens
        return self.__dict__ | {"_file": None, "_lock": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _lock=threading.Lock())


class LayoutSignal(Signal):
    """``signal`` shown with ``channels`` channels (:func:`~.convert.to_channels`: mono
    duplicated, more folded down) and ``samples`` long (silence past its end)."""

    def __init__(self, signal: Signal, channels: int, samples: int):
        self.base, self.sr = signal, signal.sr
        self.channels, self.samples = int(channels), int(samples)

    def _read(self, start: int, stop: int) -> np.ndarray:
        block = self.base.read(start, stop)
        return block if block.shape[0] == self.channels else to_channels(block, self.channels)


class MixSignal(Signal):
    """The sum of ``signals`` (one rate, one channel count, one length), each scaled by its
    ``gains`` entry (linear, default 1): a mix, or the rest of a mix without one stem, computed
    block by block and never stored."""

    def __init__(self, signals: Mapping[str, Signal] | list[Signal],
                 gains: Mapping[str, float] | None = None):
        items = dict(signals) if isinstance(signals, Mapping) else dict(enumerate(signals))
        if not items:
            raise ValueError("a mix needs at least one signal")
        first = next(iter(items.values()))
        if any((s.sr, s.channels, s.samples) != (first.sr, first.channels, first.samples)
               for s in items.values()):
            raise ValueError("mixed signals need one sample rate, channel count and length "
                             "(see aligned_signals)")
        gains = dict(gains or {})
        self.parts = [(s, float(gains.get(k, 1.0))) for k, s in items.items()
                      if gains.get(k, 1.0) != 0.0]
        self.sr, self.channels, self.samples = first.sr, first.channels, first.samples

    def _read(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros((self.channels, stop - start), np.float32)
        for signal, gain in self.parts:
            block = signal.read(start, stop)
            if gain == 1.0:
                out += block
            else:
                out += np.float32(gain) * block
        return out


def as_signal(audio, sr: int | None = None, *, name: str | None = None) -> Signal:
    """``audio`` as a :class:`Signal`: a signal itself, or an array at ``sr`` Hz."""
    if isinstance(audio, Signal):
        if sr is not None and audio.sr != sr:
            raise ValueError(f"{name or 'signal'} is at {audio.sr} Hz, not {sr} Hz")
        return audio
    if sr is None:
        raise ValueError(f"{name or 'audio'}: an array needs its sample rate")
    return ArraySignal(audio, sr, name=name)


def aligned_signals(stems: Mapping, sr: int | None = None, *,
                    channels: int | None = 2) -> dict[str, Signal]:
    """The stems (arrays at ``sr`` or signals) as signals of one length (the longest; shorter
    ones continue in silence) and ``channels`` channels (None: the most any stem has, so
    mono stems stay mono only when all are); like :func:`.stems.aligned`, without copying."""
    signals = {k: as_signal(v, sr, name=f"stem {k!r}") for k, v in stems.items()}
    if len({s.sr for s in signals.values()}) > 1:
        raise ValueError("stems at different sample rates: "
                         + ", ".join(f"{k} {s.sr} Hz" for k, s in signals.items()))
    length = max((s.samples for s in signals.values()), default=0)
    layout = channels if channels is not None else max(
        (s.channels for s in signals.values()), default=1)
    return {k: s if (s.samples, s.channels) == (length, layout) else LayoutSignal(s, layout, length)
            for k, s in signals.items()}


def write_signal(path: str | os.PathLike, signal: Signal, *, block: int = BLOCK,
                 subtype: str = "FLOAT", gain: float = 1.0) -> Path:
    """Write ``signal`` (scaled by the linear ``gain``) to the WAV ``path`` block by block,
    atomically (:class:`~.io.AudioWriter`)."""
    from .io import AudioWriter

    with AudioWriter(path, signal.sr, signal.channels, subtype=subtype,
                     frames=signal.samples) as writer:
        for _, chunk in signal.blocks(block):
            writer.write(chunk if gain == 1.0 else chunk * np.float32(gain))
    return Path(path)


def write_resampled(blocks: Iterable[np.ndarray], sr_in: int, sr: int, channels: int,
                    path: str | os.PathLike) -> FileSignal:
    """``(channels, n)`` blocks at ``sr_in`` Hz resampled to ``sr`` (soxr HQ,
    :class:`~.convert.StreamResampler`) into the float32 WAV ``path``; constant memory."""
    from .convert import StreamResampler
    from .io import AudioWriter

    resampler = StreamResampler(sr_in, sr, channels)
    with AudioWriter(path, sr, channels) as writer:
        for block in blocks:
            writer.write(resampler.process(block))
        writer.write(resampler.flush())
    return FileSignal(path)


def resample_to_file(signal: Signal, sr: int, path: str | os.PathLike) -> Signal:
    """``signal`` resampled to ``sr`` Hz into the float32 WAV ``path`` (:func:`write_resampled`);
    the signal itself when it is at ``sr`` already."""
    if signal.sr == sr:
        return signal
    return write_resampled((block for _, block in signal.blocks()), signal.sr, sr,
                           signal.channels, path)
