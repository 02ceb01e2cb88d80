"""Streaming Demucs separation: bounded memory whatever the input's duration.

``demucs.apply.apply_model`` holds the whole input and allocates the whole output (sources x
channels x samples float32: about 5 GB for one hour of stereo audio; demucs issues 463, 498, 580).
This engine reproduces its ``split=True`` computation chunk by chunk — the same segment length,
stride, triangular cross-fade weights, context padding (``TensorChunk.padded``) and shift trick —
and hands every finished block of stems to a sink as soon as no later chunk can touch it, so peak
memory is a few segments. The per-chunk model call is ``apply_model(..., split=False, shifts=0)``
itself, so model-specific padding rules stay demucs'.

Around that core: input read in blocks at its own rate and layout, mixed to stereo and resampled to
the model's rate (soxr, streaming); normalisation by the mean and standard deviation of the whole
track's mono mix, measured in a first streaming pass (demucs' ``Separator`` does the same per call,
which chunked processing must not change); stems resampled back to the input's rate and layout;
the residual (input minus the sum of stems) added to ``other`` or kept as its own stem, so the stems
sum back to the input.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..audio.convert import (StreamResampler, check_sample_rate, downmix_warning, to_channels,
                             validate_audio)
from ..audio.io import AudioReader, AudioWriter
from ..errors import AudioContentError, ModelError, ParameterError
from .models import LoadedModel, resolve_model

Progress = Callable[[float, float], None]
BLOCK_FRAMES = 1 << 16
MIN_DURATION_S = 1.0


def probe_input(path: str | Path) -> tuple[int, int, int]:
    """Check that ``path`` is a decodable song of at least 1 s; return (sr, channels, frames)."""
    with AudioReader(path) as reader:
        sr, channels, frames = reader.sr, reader.channels, reader.frames
    if frames / sr < MIN_DURATION_S:
        raise AudioContentError(
            f"is {frames / sr:.3f} s long; at least {MIN_DURATION_S:g} s is needed", path)
    return sr, channels, frames


def resolve_device(device: str | None) -> str:
    """``"auto"``/None -> cuda, then mps, then cpu; other names are checked to exist."""
    import torch

    device = (device or "auto").lower()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError("device 'cuda' requested but no CUDA GPU is available; use --device cpu")
    if device == "mps" and not (getattr(torch.backends, "mps", None)
                                and torch.backends.mps.is_available()):
        raise ParameterError("device 'mps' requested but MPS is not available; use --device cpu")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise ParameterError(f"unknown device '{device}'; use cpu, cuda, mps or auto")
    return device


@dataclasses.dataclass
class _Input:
    """Where the native-rate input comes from: ``open()`` yields blocks ``(channels, n)``."""

    open: Callable[[], Iterator[np.ndarray]]
    sr: int
    channels: int
    frames: int
    name: str


class _ModelRateSource:
    """The input as normalised stereo at the model's rate, readable inside a sliding window."""

    def __init__(self, inp: _Input, sr_model: int, length: int, mean: float, std: float):
        self._blocks = inp.open()
        self._resampler = StreamResampler(inp.sr, sr_model, 2)
        self.length, self._mean, self._std = length, mean, std
        self._buf = np.zeros((2, 0), np.float32)
        self._start = 0
        self._ended = False

    def _append(self, block: np.ndarray) -> None:
        have = self._start + self._buf.shape[1]
        block = block[:, : max(0, self.length - have)]
        block = (block - self._mean) / self._std
        self._buf = np.concatenate([self._buf, block.astype(np.float32)], axis=1)

    def _fill(self, stop: int) -> None:
        stop = min(stop, self.length)
        while self._start + self._buf.shape[1] < stop:
            if self._ended:
                missing = stop - self._start - self._buf.shape[1]
                self._append(np.full((2, missing), self._mean, np.float32))
                break
            block = next(self._blocks, None)
            if block is None:
                self._ended = True
                self._append(self._resampler.flush())
            else:
                self._append(self._resampler.process(to_channels(block, 2)))

    def get(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` as ``(2, stop - start)``, zero outside ``[0, length)``."""
        self._fill(stop)
        out = np.zeros((2, stop - start), np.float32)
        lo, hi = max(start, 0), min(stop, self.length)
        if hi > lo:
            if lo < self._start:
                raise RuntimeError("separation source read behind its window")  # engine bug
            out[:, lo - start:hi - start] = self._buf[:, lo - self._start:hi - self._start]
        return out

    def release(self, before: int) -> None:
        """Forget samples before ``before``."""
        drop = min(max(0, before - self._start), self._buf.shape[1])
        if drop:
            self._buf = self._buf[:, drop:]
            self._start += drop


class _Pass:
    """One shift of the shift trick: ``apply_model(split=True)`` on the input delayed by ``delay``.

    The delayed signal is ``z[t] = x[t - delay]`` with length ``len(x) + delay``; its separated
    output, from sample ``delay`` on, lines up with ``x``.
    """

    def __init__(self, delay: int, length: int, segment: int, stride: int, context: int,
                 weight, n_sources: int):
        self.delay, self.total = delay, length + delay
        self.segment, self.stride, self.context, self.weight = segment, stride, context, weight
        self._offsets = list(range(0, self.total, stride))
        self._next = 0
        self._acc = np.zeros((n_sources, 2, 0), np.float32)
        self._wsum = np.zeros(0, np.float32)
        self._acc_start = 0  # z index of _acc[..., 0]
        self._emitted = 0  # z index up to which output was handed out

    @property
    def done(self) -> bool:
        return self._next >= len(self._offsets)

    @property
    def needed_from(self) -> int:
        """Earliest x index a later chunk of this pass can still read."""
        if self.done:
            return 1 << 62
        return self._offsets[self._next] - self.context - self.delay

    def step(self, source: _ModelRateSource, apply_chunk) -> None:
        from demucs.apply import TensorChunk
        import torch

        offset = self._offsets[self._next]
        self._next += 1
        lo = max(0, offset - self.context)
        hi = min(self.total, offset + self.segment + self.context)
        window = torch.from_numpy(source.get(lo - self.delay, hi - self.delay))[None]
        chunk = TensorChunk(window, offset - lo, self.segment)
        out = apply_chunk(chunk)[0].numpy()  # (sources, 2, n)
        n = out.shape[-1]
        grow = offset + n - (self._acc_start + self._acc.shape[-1])
        if grow > 0:
            self._acc = np.concatenate(
                [self._acc, np.zeros((*self._acc.shape[:2], grow), np.float32)], axis=-1)
            self._wsum = np.concatenate([self._wsum, np.zeros(grow, np.float32)])
        at = offset - self._acc_start
        w = self.weight[:n]
        self._acc[..., at:at + n] += w * out
        self._wsum[at:at + n] += w

    def pop(self) -> np.ndarray:
        """Finished output in x coordinates (sources, 2, n), in order."""
        final = self.total if self.done else self._offsets[self._next]
        n = final - self._acc_start
        block = self._acc[..., :n] / self._wsum[:n]
        self._acc, self._wsum = self._acc[..., n:], self._wsum[n:]
        self._acc_start = final
        skip = max(0, self.delay - self._emitted)
        self._emitted = final
        return block[..., skip:]


class Separator:
    """Separate songs into stems with a Demucs model, streaming, at the input's rate and layout.

    Parameters
    ----------
    model : None (default model), a name or path (see :func:`resolve_model`), a
        :class:`LoadedModel`, or a demucs model / ``BagOfModels`` instance.
    device : "auto" (default: cuda, mps, cpu), "cpu", "cuda", "mps"; resolved when separating.
    segment : chunk length in seconds (default: the model's own).
    overlap : fraction of a chunk shared with the next (demucs default 0.25).
    shifts : random time shifts averaged (demucs' shift trick; 0 disables it).
    seed : seed for the shifts, so results are reproducible.
    residual : "other" adds input minus the sum of stems to ``other``; "separate" keeps it as a
        ``residual`` stem; in both cases the stems sum back to the input.
    """

    def __init__(self, model=None, *, device: str = "auto", segment: float | None = None,
                 overlap: float = 0.25, shifts: int = 1, seed: int = 0, residual: str = "other"):
        if not 0.0 <= overlap < 1.0:
            raise ParameterError(f"overlap must be in [0, 1), got {overlap}")
        if shifts < 0:
            raise ParameterError(f"shifts must be >= 0, got {shifts}")
        if residual not in ("other", "separate"):
            raise ParameterError(f"residual must be 'other' or 'separate', got {residual!r}")
        if segment is not None and segment <= 0:
            raise ParameterError(f"segment must be positive seconds, got {segment}")
        if isinstance(model, LoadedModel):
            self.loaded = model
        elif model is None or isinstance(model, (str, Path)):
            self.loaded = resolve_model(model)
        else:
            self.loaded = LoadedModel(model, type(model).__name__, "object")
        self.device, self.segment, self.overlap = device, segment, overlap
        self.shifts, self.seed, self.residual = shifts, seed, residual
        model = self.loaded.model
        if getattr(model, "audio_channels", 2) != 2:
            raise ModelError(f"model '{self.loaded.name}' expects {model.audio_channels} channels; "
                             "only stereo demucs models are supported")

    @property
    def stem_names(self) -> list[str]:
        names = self.loaded.sources
        return names + ["residual"] if self.residual == "separate" else names

    # -- public entry points -------------------------------------------------------------------
    def separate(self, audio: np.ndarray, sr: int, *, progress: Progress | None = None,
                 name: str = "audio") -> dict[str, np.ndarray]:
        """Separate in-memory audio ``(channels, samples)`` at ``sr`` Hz -> {stem: audio}.

        Stems keep the input's rate; mono input gives mono stems, stereo and more give stereo.
        """
        audio = validate_audio(audio, check_sample_rate(sr), name=name,
                               min_duration_s=MIN_DURATION_S)

        def blocks() -> Iterator[np.ndarray]:
            for start in range(0, audio.shape[1], BLOCK_FRAMES):
                yield audio[:, start:start + BLOCK_FRAMES]

        inp = _Input(blocks, sr, audio.shape[0], audio.shape[1], name)
        parts: dict[str, list[np.ndarray]] = {s: [] for s in self.stem_names}
        self._run(inp, lambda stems: [parts[k].append(v) for k, v in stems.items()], progress)
        return {k: np.concatenate(v, axis=1) for k, v in parts.items()}

    def separate_file(self, path: str | Path, out_dir: str | Path, *,
                      progress: Progress | None = None) -> dict:
        """Separate ``path`` into ``out_dir/<stem>.wav`` (32-bit float WAV at the input's rate).

        Files are written block by block and appear only when complete. Returns the
        ``separation.json`` document (model, sample_rate, duration_s, stems, ...).
        """
        path = Path(path)
        sr, channels, frames = probe_input(path)

        def blocks() -> Iterator[np.ndarray]:
            with AudioReader(path) as reader:
                yield from reader.blocks(BLOCK_FRAMES)

        out_dir = Path(out_dir)
        out_channels = 1 if channels == 1 else 2
        writers = {s: AudioWriter(out_dir / f"{s}.wav", sr, out_channels, frames=frames)
                   for s in self.stem_names}
        try:
            peak = self._run(_Input(blocks, sr, channels, frames, str(path)),
                             lambda stems: [writers[k].write(v) for k, v in stems.items()], progress)
        except BaseException:
            for w in writers.values():
                w.close(discard=True)
            raise
        for w in writers.values():
            w.close()
        return {"model": self.loaded.name, "model_source": self.loaded.source,
                "sample_rate": sr, "duration_s": frames / sr, "channels": out_channels,
                "input": path.name, "stems": self.stem_names,
                "files": {s: f"{s}.wav" for s in self.stem_names},
                "residual": self.residual, "shifts": self.shifts, "overlap": self.overlap,
                "segment_s": self._segment_s(), "model_sample_rate": self.loaded.samplerate,
                "peak_dbfs": peak}

    # -- the streaming core --------------------------------------------------------------------
    def _segment_s(self) -> float:
        model = self.loaded.model
        subs = getattr(model, "models", [model])
        own = min(float(m.segment) for m in subs)
        if self.segment is None:
            return own
        htdemucs = [float(m.segment) for m in subs if type(m).__name__ == "HTDemucs"]
        if htdemucs and self.segment > min(htdemucs):
            raise ParameterError(f"segment {self.segment} s is longer than this HTDemucs model "
                                 f"allows ({min(htdemucs):g} s)")
        return float(self.segment)

    def _stats(self, inp: _Input) -> tuple[float, float]:
        """Mean and standard deviation of the whole input's mono mix (float64 accumulators)."""
        total = total_sq = 0.0
        n = 0
        for block in inp.open():
            mono = to_channels(to_channels(block, 2), 1)[0].astype(np.float64)
            total += mono.sum()
            total_sq += np.dot(mono, mono)
            n += mono.size
        mean = total / n
        var = max(total_sq - n * mean * mean, 0.0) / max(n - 1, 1)
        std = float(np.sqrt(var))
        return float(mean), (std if std > 1e-8 else 1.0)

    def _run(self, inp: _Input, sink: Callable[[dict[str, np.ndarray]], None],
             progress: Progress | None) -> float:
        import torch
        from demucs.apply import apply_model

        if inp.channels > 2:
            downmix_warning(inp.channels, name=inp.name)
        device = resolve_device(self.device)
        model = self.loaded.model.to(device).eval()
        sr_model = self.loaded.samplerate
        sources = self.loaded.sources
        mean, std = self._stats(inp)
        length = int(round(inp.frames * sr_model / inp.sr))
        segment_s = self._segment_s()
        seg = int(sr_model * segment_s)
        stride = int((1 - self.overlap) * seg)
        subs = getattr(model, "models", [model])
        context = max(seg, *(m.valid_length(seg) for m in subs if hasattr(m, "valid_length")))
        half = seg // 2
        weight = np.concatenate([np.arange(1, half + 1), np.arange(seg - half, 0, -1)])
        weight = (weight / weight.max()).astype(np.float32)
        max_shift = int(0.5 * sr_model)
        rng = random.Random(self.seed)
        delays = [max_shift - rng.randint(0, max_shift) for _ in range(self.shifts)] or [0]
        passes = [_Pass(d, length, seg, stride, context, weight, len(sources)) for d in delays]
        source = _ModelRateSource(inp, sr_model, length, mean, std)
        segment_arg = self.segment

        def apply_chunk(chunk):
            with torch.no_grad():
                return apply_model(model, chunk, shifts=0, split=False, segment=segment_arg,
                                   device=device).float().cpu()

        out_resampler = StreamResampler(sr_model, inp.sr, len(sources) * 2)
        native = _NativeAssembler(inp, sources, self.residual, sink)
        queues: list[list[np.ndarray]] = [[] for _ in passes]
        total_chunks = sum(len(p._offsets) for p in passes)
        done_chunks = 0
        while not all(p.done for p in passes):
            for p, queue in zip(passes, queues):
                if not p.done:
                    p.step(source, apply_chunk)
                    queue.append(p.pop())
                    done_chunks += 1
            source.release(min(p.needed_from for p in passes))
            block = _take_common(queues)
            if block is not None:
                block = block * std + mean / len(sources)
                native.push(out_resampler.process(block.reshape(len(sources) * 2, -1)))
            if progress is not None:
                progress(done_chunks / total_chunks * inp.frames / inp.sr, inp.frames / inp.sr)
        native.push(out_resampler.flush())
        return native.finish()


def _take_common(queues: list[list[np.ndarray]]) -> np.ndarray | None:
    """Average the part every pass has finished; keep the rest queued."""
    avail = [sum(b.shape[-1] for b in q) for q in queues]
    n = min(avail)
    if n == 0:
        return None
    total = 0.0
    for q in queues:
        joined = np.concatenate(q, axis=-1)
        total = total + joined[..., :n]
        q[:] = [joined[..., n:]]
    return (total / len(queues)).astype(np.float32)


class _NativeAssembler:
    """Stems at the input's rate: layout conversion, exact length, residual, handed to a sink."""

    def __init__(self, inp: _Input, sources: list[str], residual: str, sink):
        self.sources, self.residual, self.sink = sources, residual, sink
        self.frames = inp.frames
        self.out_channels = 1 if inp.channels == 1 else 2
        self._reference = inp.open()
        self._ref_buf = np.zeros((self.out_channels, 0), np.float32)
        self._pending = np.zeros((len(sources) * 2, 0), np.float32)
        self.written = 0
        self.peak = 0.0

    def _reference_frames(self, n: int) -> np.ndarray:
        while self._ref_buf.shape[1] < n:
            block = next(self._reference)
            self._ref_buf = np.concatenate([self._ref_buf, to_channels(block, self.out_channels)], 1)
        out, self._ref_buf = self._ref_buf[:, :n], self._ref_buf[:, n:]
        return out

    def push(self, block: np.ndarray) -> None:
        block = block[:, : self.frames - self.written - self._pending.shape[1]]
        self._pending = np.concatenate([self._pending, block], axis=1)
        if self._pending.shape[1] >= BLOCK_FRAMES:
            self._emit(self._pending)
            self._pending = self._pending[:, :0]

    def _emit(self, block: np.ndarray) -> None:
        n = block.shape[1]
        if n == 0:
            return
        stems = block.reshape(len(self.sources), 2, n)
        stems = {s: to_channels(stems[i], self.out_channels) for i, s in enumerate(self.sources)}
        reference = self._reference_frames(n)
        residual = reference - sum(stems.values())
        if self.residual == "separate":
            stems["residual"] = residual
        else:
            stems["other"] = stems["other"] + residual
        self.peak = max(self.peak, max(float(np.abs(v).max()) for v in stems.values()))
        self.sink(stems)
        self.written += n

    def finish(self) -> float:
        """Flush, pad to the exact input length, and return the stems' peak in dBFS."""
        missing = self.frames - self.written - self._pending.shape[1]
        pending = np.concatenate(
            [self._pending, np.zeros((self._pending.shape[0], max(missing, 0)), np.float32)], 1)
        self._emit(pending)
        self._pending = pending[:, :0]
        return float(20 * np.log10(self.peak)) if self.peak > 0 else float("-inf")


def separate(audio: np.ndarray, sr: int, model=None, **options) -> dict[str, np.ndarray]:
    """Separate ``(channels, samples)`` audio at ``sr`` Hz into stems at the same rate.

    ``model`` as for :class:`Separator`; ``options`` are its keyword arguments (``device``,
    ``segment``, ``overlap``, ``shifts``, ``seed``, ``residual``) plus ``progress``.
    """
    progress = options.pop("progress", None)
    return Separator(model, **options).separate(audio, sr, progress=progress)
