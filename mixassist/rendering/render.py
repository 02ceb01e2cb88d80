"""Render a plan: stems in, processed stems and the mastered mix out.

Signal flow of one stem (all stereo float32): insert chain -> fader (``gain_db`` and sample-
accurate automation) -> width (mid/side) -> constant-power pan -> post-fader sends. The stems and
the bus returns are summed, go through the master chain and then the loudness stage
(:mod:`mixassist.rendering.master`).

Everything is rendered in blocks (pedalboard's ``reset=False`` streaming; EQ filters and
compressors by the compiled, output-identical :mod:`~mixassist.rendering.compiled`), so memory beyond
the inputs and outputs does not grow with the song. Plugin delay compensation: every chain's latency
is measured once (:func:`~mixassist.rendering.stream.chain_latency`); faster paths are delayed to
match the slowest and the total delay is trimmed at the end, so an impulse in any stem comes out
on the same sample in every processed stem and in the mix. Outputs are as long as the inputs.

Stems may be arrays or :class:`~mixassist.audio.signal.Signal` s (e.g. files): every stem is read
block by block (through :class:`~mixassist.rendering.edits.EditedSignal` when the plan has
arrangement edits). With ``out_dir`` the processed stems, the pre-master mix (a temporary file)
and the mastered mix stream to float32 WAV files, so memory does not grow with the song.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.convert import validate_audio
from ..audio.io import AudioWriter
from ..audio.signal import FileSignal, Signal, aligned_signals
from ..errors import PlanError
from ..planning.amount import blend_plan
from ..planning.plan import Plan, StemPlan
from .automation import GainCurve
from .edits import EditedSignal
from .master import MAX_LIMITING_DB, MasterResult, is_loudness_reason, reach_target, split_limiter
from .stream import ChainStream, Fifo

#: Render block length, seconds: large blocks keep the per-call overhead of pedalboard small.
BLOCK_S = 4.0
#: Share of the progress bar for the block rendering; the loudness stage takes the rest.
_RENDER_SHARE = 0.8

Progress = Callable[[float, float], None]


@dataclass
class RenderResult:
    """A rendered plan.

    ``mix`` and every ``stems_processed`` entry: np.ndarray [shape=(2, samples), dtype=float32]
    at ``sr`` Hz, as long as the input stems, or, rendered with ``out_dir``, the
    :class:`~mixassist.audio.signal.FileSignal` of its WAV file. ``plan`` is the plan as rendered (its
    ``master.reasons`` tell what the loudness stage did); ``loudness`` is
    :func:`mixassist.loudness.measure_loudness` of the mix.
    """

    mix: np.ndarray | Signal
    stems_processed: dict[str, np.ndarray | Signal]
    sr: int
    plan: Plan
    mastering: MasterResult
    loudness: dict

    def to_dict(self) -> dict:
        """Summary without audio: the plan, the loudness figures and the mastering numbers."""
        m = self.mastering
        samples = self.mix.samples if isinstance(self.mix, Signal) else self.mix.shape[1]
        return {"sample_rate": self.sr, "duration_s": samples / self.sr,
                "stems": list(self.stems_processed), "loudness": self.loudness,
                "mastering": {"gain_db": m.gain_db, "limiting_db": m.limiting_db,
                              "ceiling_db": m.ceiling_db, "reached": m.reached,
                              "iterations": m.iterations},
                "plan": self.plan.to_dict()}


def pan_gains(pan: float) -> tuple[float, float]:
    """Left and right gains of the constant-power sine/cosine pan law, unity at centre.

    ``theta = (pan + 1) pi / 4``; gains ``sqrt(2) cos(theta)``, ``sqrt(2) sin(theta)``: the power
    ``L^2 + R^2`` is the same at every position, so a centred source sits 3 dB below its level
    hard-panned to one side (the -3 dB law; Roads, *The Computer Music Tutorial*, 1996, ch. 10).
    """
    theta = (pan + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


def stem_matrix(stem: StemPlan) -> np.ndarray:
    """2x2 matrix of fader gain, width and pan applied to a stereo ``(L, R)`` block.

    Width scales the side signal ``S = (L - R) / 2`` against the mid ``M = (L + R) / 2``
    (``L' = M + width S``, ``R' = M - width S``); pan then weights ``L'`` and ``R'``, so on a
    stereo stem it acts as a balance control (hard right drops ``L'``; narrow the stem with
    ``width`` first to keep both channels' content).
    """
    w = stem.width
    widen = np.array([[1 + w, 1 - w], [1 - w, 1 + w]]) / 2.0
    left, right = pan_gains(stem.pan)
    fader = 0.0 if stem.mute else 10.0 ** (stem.gain_db / 20.0)
    return (fader * np.diag([left, right]) @ widen).astype(np.float32)


def _apply(matrix: np.ndarray, y: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """``matrix @ y`` for a 2x2 matrix and a (2, n) block, as elementwise float32 arithmetic
    (a diagonal matrix, i.e. width 1, costs one multiply, done in ``y`` when ``in_place``)."""
    if matrix[0, 1] == 0.0 and matrix[1, 0] == 0.0:
        if in_place:
            y *= matrix.diagonal()[:, None]
            return y
        return y * matrix.diagonal()[:, None]
    out = np.empty_like(y)
    np.multiply(y[0], matrix[0, 0], out=out[0])
    out[0] += matrix[0, 1] * y[1]
    np.multiply(y[0], matrix[1, 0], out=out[1])
    out[1] += matrix[1, 1] * y[1]
    return out


class _StemPath:
    """One stem's insert chain, fader, width, pan and sends, processed block by block."""

    def __init__(self, name: str, signal: Signal, stem: StemPlan, sr: int):
        self.name, self.signal, self.stem = name, signal, stem
        self.chain = ChainStream(stem.chain, sr)
        self.curve = GainCurve(stem.automation, sr)
        self.matrix = stem_matrix(stem)
        self.sends = {bus: np.float32(10.0 ** (db / 20.0)) for bus, db in stem.sends.items()}

    def process(self, start: int, length: int) -> np.ndarray:
        if self.stem.mute:
            return np.zeros((2, length), np.float32)
        block = self.signal.read(start, start + length)  # past the end: silence flushes the chain
        y = self.chain.process(block)
        y = _apply(self.matrix, y, in_place=y is not block)  # never write into the stem
        if not self.curve.constant:
            # the fader follows the chain, so its automation is timed at the chain's output
            y *= self.curve.block(start - self.chain.latency - self.chain.extra_delay, length)
        return y


def _edited(stems: dict[str, Signal], plan: Plan, sr: int) -> dict[str, Signal]:
    """Apply the plan's arrangement edits (radio, extended, loop, ...): source -> output timeline."""
    edits = plan.arrangement.edits
    if edits is None:
        return stems
    if edits.sr != sr:
        raise PlanError(f"arrangement.edits are for {edits.sr} Hz audio but the stems are {sr} Hz")
    return {name: EditedSignal(signal, sr, edits, name) for name, signal in stems.items()}


def _prepare_stems(plan: Plan, stems: Mapping, sr: int) -> dict[str, Signal]:
    """Validate the stems against the plan; return them as stereo signals of one length."""
    if plan.sample_rate != sr:
        raise PlanError(f"plan is for {plan.sample_rate} Hz audio but the stems are {sr} Hz; "
                        f"resample the stems or set the plan's sample_rate to {sr}")
    plan.check_stems(stems)
    if not stems:
        raise PlanError("plan has no stems to render")
    return aligned_signals({name: a if isinstance(a, Signal) else
                            validate_audio(a, sr, name=f"stem {name}")
                            for name, a in stems.items()}, sr)


class _Track:
    """One output of the renderer (a processed stem, the pre-master mix): timeline blocks
    placed ``delay`` samples earlier and cut to ``samples``, into an array, or (with ``path``)
    appended to a float32 WAV (written atomically by :meth:`close`)."""

    def __init__(self, samples: int, delay: int, sr: int, path: Path | None = None):
        self.samples, self.delay, self.path = samples, delay, path
        self.audio = np.zeros((2, samples), np.float32) if path is None else None
        self.writer = None if path is None else AudioWriter(path, sr, 2, frames=samples)

    def place(self, block: np.ndarray, start: int) -> None:
        """Put ``block`` (timeline samples ``start..``; blocks come in order)."""
        lo = start - self.delay
        a, b = max(lo, 0), min(lo + block.shape[1], self.samples)
        if b <= a:
            return
        if self.writer is None:
            self.audio[:, a:b] = block[:, a - lo:b - lo]
        else:
            self.writer.write(block[:, a - lo:b - lo])

    def close(self, *, discard: bool = False) -> np.ndarray | FileSignal | None:
        """The track: its array, or the :class:`FileSignal` of its file (None if discarded)."""
        if self.writer is None:
            return self.audio
        self.writer.close(discard=discard)
        return None if discard else FileSignal(self.path)


def render(plan: Plan, stems: Mapping[str, np.ndarray | Signal], sr: int, *,
           out_dir: str | os.PathLike | None = None, progress: Progress | None = None,
           block_s: float = BLOCK_S, max_limiting_db: float = MAX_LIMITING_DB,
           workers: int | None = None) -> RenderResult:
    """Render ``plan`` on ``stems``.

    Parameters
    ----------
    plan : the mix plan; its stems must be exactly the keys of ``stems``.
    stems : ``{name: np.ndarray [shape=(channels, samples)]}`` or
        :class:`~mixassist.audio.signal.Signal` s, mono or stereo (more channels are folded
        down), one sample rate; shorter stems are padded with silence.
    sr : sample rate of the stems, Hz; must equal ``plan.sample_rate``.
    out_dir : a folder (created if missing) to stream the outputs to: ``stems/<name>.wav`` and
        ``mix.wav`` (float32); the result then holds their :class:`FileSignal` s. None: arrays.
    progress : called as ``progress(done_s, total_s)`` (seconds of audio).
    block_s : render block length, seconds.
    max_limiting_db : most peak limiting the loudness stage may apply (:mod:`.master`).
    workers : threads for the stems (pedalboard releases the GIL); None: one per CPU core.

    Returns
    -------
    :class:`RenderResult`
    """
    plan = copy.deepcopy(plan).validate()
    stems = _edited(_prepare_stems(plan, stems, sr), plan, sr)
    live = blend_plan(plan, sample_rate=sr)
    samples = next(iter(stems.values())).samples
    total_s = samples / sr
    folder = None if out_dir is None else Path(out_dir)
    if folder is not None:
        (folder / "stems").mkdir(parents=True, exist_ok=True)

    paths = [_StemPath(name, stems[name], live.stems[name], sr) for name in live.stems]
    used = {bus for p in paths if not p.stem.mute for bus in p.sends}
    buses = {bus: ChainStream(live.buses[bus].chain, sr) for bus in sorted(used)}
    pre_master, limiter = split_limiter(live.master.chain)
    master = ChainStream(pre_master, sr)

    stem_delay = max(p.chain.latency for p in paths)
    for p in paths:
        p.chain.set_delay(stem_delay)
    bus_delay = max((b.latency for b in buses.values()), default=0)
    for b in buses.values():
        b.set_delay(bus_delay)
    dry = Fifo(2, bus_delay)
    total_delay = stem_delay + bus_delay + master.latency

    processed = {p.name: _Track(samples, stem_delay, sr,
                                None if folder is None else folder / "stems" / f"{p.name}.wav")
                 for p in paths}
    premaster_path = None if folder is None else _temporary_wav(folder)
    mix = None
    try:
        premaster = _Track(samples, total_delay, sr, premaster_path)
        try:
            _mix_blocks(paths, buses, dry, master, processed, premaster, samples + total_delay,
                        max(1, int(block_s * sr)), workers, progress, total_s)
        except BaseException:
            for track in (*processed.values(), premaster):
                track.close(discard=True)
            raise
        stems_processed = {name: track.close() for name, track in processed.items()}
        mix = premaster.close()
        mastered, result = reach_target(
            mix, sr, live.target, limiter=limiter, max_limiting_db=max_limiting_db,
            out=None if folder is None else folder / "mix.wav")
    finally:
        if premaster_path is not None:
            if isinstance(mix, FileSignal):
                mix.close()
            premaster_path.unlink(missing_ok=True)
    plan.master.chain = result.rendered_chain(plan.master.chain)
    plan.master.reasons = [r for r in plan.master.reasons if not is_loudness_reason(r)]
    plan.master.reasons += result.reasons
    if progress is not None:
        progress(total_s, total_s)
    return RenderResult(mix=mastered, stems_processed=stems_processed, sr=sr, plan=plan,
                        mastering=result, loudness=result.loudness)


def _temporary_wav(folder: Path) -> Path:
    """A fresh name for a temporary WAV in ``folder``."""
    handle, name = tempfile.mkstemp(prefix=".premaster-", suffix=".wav", dir=folder)
    os.close(handle)
    return Path(name)


def _mix_blocks(paths, buses, dry, master, processed, premaster, end, block, workers, progress,
                total_s) -> None:
    """The block loop: every stem path, the sends into the buses, the master chain; the
    processed stems and the pre-master mix go to their tracks."""
    starts = range(0, end, block)
    mix_buffer, scratch = np.empty((2, block), np.float32), np.empty((2, block), np.float32)
    send_buffers = {bus: np.empty((2, block), np.float32) for bus in buses}
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        def submit(start: int) -> list:
            return [pool.submit(p.process, start, min(block, end - start)) for p in paths]

        pending = submit(0)
        for k, start in enumerate(starts):
            length = min(block, end - start)
            outs = [f.result() for f in pending]
            if k + 1 < len(starts):  # the next block's stems run while this one is mixed
                pending = submit(starts[k + 1])
            # sums in buffers reused block after block (fresh ones page-fault)
            mix, scaled = mix_buffer[:, :length], scratch[:, :length]
            sends = {bus: buffer[:, :length] for bus, buffer in send_buffers.items()}
            for buffer in (mix, *sends.values()):
                buffer.fill(0.0)
            for p, y in zip(paths, outs):
                processed[p.name].place(y, start)
                mix += y
                for bus, level in p.sends.items():
                    if bus in sends:
                        sends[bus] += np.multiply(y, level, out=scaled)
            mix = dry.push_pop(mix, length)
            for bus, stream in buses.items():
                mix += stream.process(sends[bus])
            premaster.place(master.process(mix), start)
            if progress is not None:
                progress(min(start + length, end) / end * total_s * _RENDER_SHARE, total_s)
