"""Mastering to a loudness target: the loudness stage (the master chain in plan form, and the
parts of a chain that are the loudness stage's, are :mod:`mixassist.planning.mastering`).

The loudness stage is gain into a brick-wall limiter (``pedalboard.BrickwallLimiter``: lookahead,
no makeup gain, configurable ceiling; not ``pedalboard.Limiter``, which adds makeup gain and
hard-clips, pedalboard issue 369), repeated until the integrated loudness (ITU-R BS.1770-4) is
within ``tolerance_lu`` of the target and the true peak (BS.1770-4 Annex 2) is at or below the
ceiling: measure, gain, limit, re-measure.

Loud targets need the limiter to shave peaks; how much is measured as *peak limiting*, the
peak of the gained signal as the limiter's detector sees it (sample peak, or true peak once the
stage has switched the detector on because inter-sample peaks got through) above its ceiling
(dB), and it is capped at ``max_limiting_db``. Transient-heavy mixes (drums) have a
peak-to-loudness ratio (PLR, sample peak dBFS minus integrated LUFS) too high for a loud target
within that cap. A mastering engineer then lowers the PLR before the limiter; the stage does the
same with *peak control*: a fast ``Compressor`` (:data:`PEAK_CONTROL`: near-instant attack,
4:1, short release) right before the limiter, whose threshold is found by bisection on the
measured PLR of the compressed mix. Its own budget is ``max_peak_control_db``, the gain
reduction its static curve applies to the mix's highest sample peak, ``(peak - threshold)
(1 - 1/ratio)`` dB. ``benchmarks/master_distortion.py`` measures what it costs: on a sine 26 dB
under a drum loop pushed 1.5-3 LU louder than the limiter alone gets, the sine's harmonics stay
58-70 dB under it and the gain riding (pumping) is 5-8 dB lower than with the limiter alone.
Hard clipping (``pedalboard.Clipping``) to the same PLR was as clean on the sine but the
limiter after it stopped 0.2-1.2 LU short of the compressor's loudness.

When the target needs more than both budgets, the stage stops there and says so in its reasons
with the numbers (``"loudness: target missed: ..."``). Output is float and never clipped; its
true peak is verified after limiting.

Every pass streams: the pre-master is read block by block (an array or a file signal), through
peak control, gain and the limiter (streamed with ``reset=False``, its latency compensated),
into a :class:`~mixassist.loudness.LoudnessMeter` and, on the whole mix, into the output (an
array or a WAV file), so memory does not grow with the song. A mix up to :data:`SEARCH_S` long
is searched whole, pass for pass as before. A longer one is searched on :data:`EXCERPTS`
excerpts of :data:`EXCERPT_S` (the highest peak, the loudest parts and a spread of the rest,
each with a :data:`WARMUP_S` warm-up), aiming at the target shifted by their loudness
difference from the whole mix; the attempt chosen then runs on the whole mix, which is measured
and corrected (gain, ceiling or detector, as in the search) until it is within :data:`_AIM_LU`,
so the result and its reasons are the whole mix's numbers. On a 3-min drum-heavy mix that
needs peak control (``benchmarks/master_speed.py``) that is 4.3x faster than searching the
whole mix in memory, with the same loudness within 0.01 LU.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pedalboard

from ..audio.signal import BLOCK, ArraySignal, FileSignal, Signal, as_signal
from ..audio.io import AudioWriter
from ..loudness import (BLOCK_HOP_S, MOMENTARY_WINDOW_S, SHORT_TERM_WINDOW_S, LoudnessCache,
                        LoudnessMeter)
from ..planning.mastering import (  # noqa: F401  (the plan side of mastering, re-exported)
    CEILING_MARGIN_DB, LOUDNESS_REASON, MISSED, PEAK_CONTROL, PEAK_CONTROL_MAX_ATTACK_MS,
    is_loudness_reason, is_peak_control, limiter_spec, master_chain, peak_control_spec,
    split_limiter, split_loudness_stage)
from ..planning.plan import PluginSpec
from ..planning.targets import Target
from .compiled import CompressorStream
from .plugins import build_plugin
from .stream import _BoardStage, chain_latency

#: Default largest peak limiting (dB) the loudness stage may apply before giving up on the target.
MAX_LIMITING_DB = 6.0
#: Default largest gain reduction (dB) of the peak-control compressor on the mix's highest peak.
MAX_PEAK_CONTROL_DB = 6.0
#: Tolerance on the integrated loudness (LU), CONTRACT-level promise.
TOLERANCE_LU = 0.5
#: A sample-peak limiter whose output overshoots the true-peak ceiling by more than this (dB)
#: switches to its true-peak detector.
MAX_SAMPLE_PEAK_OVERSHOOT_DB = 0.3
#: Loudness iterations aim this close (LU), well inside the tolerance.
_AIM_LU = 0.05
_MAX_ITERATIONS = 6
#: Rounds of (loudness passes, then one full measurement with the true peak).
_ROUNDS = 3
#: PLR (dB) the peak-control search first leaves for the loudness the limiter itself takes away.
_LIMITER_LOSS_DB = 1.0
#: Peak-control attempts: each searches again for a PLR lower by the last attempt's shortfall
#: (LU) over the loudness won per dB of PLR so far (secant), by at least :data:`_MIN_STEP_DB`.
_PEAK_CONTROL_TRIES = 3
_MIN_STEP_DB = 0.25
#: Peak control is searched (again) while the result is this far (LU) or more below the target.
_RETRY_LU = 0.2
#: Bisection steps of the peak-control threshold search (resolution: the depth range / 2^steps).
_SEARCH_STEPS = 7
#: Inputs up to this long (s) are searched whole; longer ones on :data:`EXCERPTS` excerpts of
#: :data:`EXCERPT_S` (:func:`excerpt_spans`), then measured whole and corrected.
SEARCH_S = 60.0
EXCERPT_S = 3.0
EXCERPTS = 8
#: Each excerpt is processed from this long (s) before it, so that the peak control (30 ms
#: release) and the limiter (100 ms release) have settled when it starts.
WARMUP_S = 0.5
_SPECS = ((MOMENTARY_WINDOW_S, BLOCK_HOP_S), (SHORT_TERM_WINDOW_S, BLOCK_HOP_S))


@dataclass
class MasterResult:
    """What the loudness stage did: gain, peak limiting and peak control (dB), the result, why.

    ``loudness`` is :func:`mixassist.loudness.measure_loudness` of the mastered audio.
    ``peak_control`` is the compressor the stage put before the limiter (None: not needed) and
    ``peak_control_db`` its gain reduction on the mix's highest sample peak (dB).
    ``iterations`` counts the gain-and-limit passes, on excerpts and on the whole mix.
    """

    target: Target
    gain_db: float
    limiting_db: float
    ceiling_db: float
    integrated_lufs: float
    true_peak_dbtp: float
    iterations: int
    reached: bool
    reasons: list[str] = field(default_factory=list)
    loudness: dict = field(default_factory=dict)
    peak_control: PluginSpec | None = None
    peak_control_db: float = 0.0
    limiter: PluginSpec | None = None

    def rendered_chain(self, chain: list[PluginSpec]) -> list[PluginSpec]:
        """``chain`` (the plan's master chain this result was rendered with) with the stage's
        decisions written in, so that rendering the returned chain reproduces the mastered mix:
        the peak control inserted before the final limiter, and the limiter's detector set as
        used (``true_peak``; its ceiling is left to the target, which the stage lowers again
        from the measured overshoot)."""
        before, limiter = split_limiter(chain)
        before = list(before) + ([self.peak_control] if self.peak_control is not None else [])
        if self.limiter is None:
            return before + ([limiter] if limiter is not None else [])
        used = self.limiter.params.get("true_peak", False)
        if limiter is None:
            return before + [PluginSpec(self.limiter.plugin, self.limiter.params
                                        | {"ceiling_db": self.target.true_peak_dbtp
                                           - CEILING_MARGIN_DB})]
        return before + [PluginSpec(limiter.plugin, limiter.params | {"true_peak": used})]


@dataclass(frozen=True)
class _Setting:
    """One way through the loudness stage: peak control at ``threshold_db`` (None: none), then
    ``gain_db``, the ``limiter`` as used (None: skipped) and ``trim_db`` of plain gain."""

    threshold_db: float | None = None
    gain_db: float = 0.0
    limiter: PluginSpec | None = None
    trim_db: float = 0.0


@functools.lru_cache(maxsize=16)
def _latency(plugin: str, params: tuple, sr: int, channels: int) -> int:
    """Latency (samples) of one plugin with ``params`` (``dict.items()``), measured once."""
    return chain_latency(pedalboard.Pedalboard([build_plugin(plugin, dict(params))]), sr, channels)


class _Chain:
    """A :class:`_Setting` streamed: ``process(block)`` returns a new block of the same length,
    ``latency`` samples late (the limiter's lookahead)."""

    def __init__(self, setting: _Setting, sr: int, channels: int):
        self.compressor = None if setting.threshold_db is None else CompressorStream(
            peak_control_spec(setting.threshold_db).params, sr, channels=channels)
        self.gain = np.float32(10.0 ** (setting.gain_db / 20.0))
        self.trim = np.float32(10.0 ** (setting.trim_db / 20.0))
        self.limiter, self.latency = None, 0
        if setting.limiter is not None:
            plugin, params = setting.limiter.plugin, setting.limiter.params
            self.latency = _latency(plugin, tuple(sorted(params.items())), sr, channels)
            self.limiter = _BoardStage([build_plugin(plugin, params)], sr, channels,
                                       latency=self.latency)

    def process(self, block: np.ndarray) -> np.ndarray:
        y = block if self.compressor is None else self.compressor.process(block)
        y = y * self.gain
        if self.limiter is not None:
            y = self.limiter.process(y)
        return y if self.trim == 1.0 else y * self.trim


def _processed(signal: Signal, setting: _Setting, start: int, stop: int,
               warmup: int = 0) -> Iterator[np.ndarray]:
    """Consecutive blocks of ``signal[start:stop]`` through ``setting`` (float32 ``(channels,
    n)``), the chain run from ``start - warmup`` and on past ``stop`` to flush its latency."""
    chain = _Chain(setting, signal.sr, signal.channels)
    end = stop + chain.latency
    for lo in range(max(start - warmup, 0), end, BLOCK):
        hi = min(lo + BLOCK, end)
        y = chain.process(signal.read(lo, hi))
        at = lo - chain.latency  # the timeline sample of y[:, 0]
        a, b = max(at, start), min(at + y.shape[1], stop)
        if b > a:
            yield y[:, a - at:b - at]


class _Outputs:
    """Where the passes over a whole signal put their results: arrays (``path`` None), or WAV
    files in a temporary folder beside ``path``, the one kept moved there (:meth:`keep`)."""

    def __init__(self, signal: Signal, path: str | os.PathLike | None = None):
        self.signal, self.path = signal, None if path is None else Path(path)
        self.folder = None if path is None else Path(tempfile.mkdtemp(
            prefix=".master-", dir=self.path.parent))
        self._count = 0

    def new(self):
        """A writer (``write(block)``, ``close() -> Signal``) for one pass."""
        s = self.signal
        if self.folder is None:
            return _ArrayWriter(s.sr, s.channels, s.samples)
        self._count += 1
        path = self.folder / f"pass{self._count}.wav"
        return _FileWriter(AudioWriter(path, s.sr, s.channels, frames=s.samples), path)

    def discard(self, out: Signal | None) -> None:
        if isinstance(out, FileSignal):
            out.close()
            out.path.unlink(missing_ok=True)

    def keep(self, out: Signal) -> np.ndarray | FileSignal:
        """The result: its array, or its file moved to ``path``."""
        if isinstance(out, ArraySignal):
            return out.audio
        out.close()
        os.replace(out.path, self.path)
        return FileSignal(self.path)

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


class _ArrayWriter:
    def __init__(self, sr: int, channels: int, samples: int):
        self.sr, self.audio, self.done = sr, np.empty((channels, samples), np.float32), 0

    def write(self, block: np.ndarray) -> None:
        self.audio[:, self.done:self.done + block.shape[1]] = block
        self.done += block.shape[1]

    def close(self) -> Signal:
        return ArraySignal(self.audio, self.sr)


class _FileWriter:
    def __init__(self, writer: AudioWriter, path: Path):
        self.writer, self.path = writer, path
        self.write = writer.write

    def close(self) -> Signal:
        self.writer.close()
        return FileSignal(self.path)


class _Material:
    """The pre-master signal as the loudness stage searches it: the whole of it (``spans``
    None; with ``outputs``, passes keep their results there), or the excerpts ``spans``
    (``[(start, stop)]`` samples, each run from :data:`WARMUP_S` before its start).

    Excerpts are measured as one: their loudness from the 400 ms blocks of all of them, their
    peaks the highest of any."""

    def __init__(self, signal: Signal, spans: list[tuple[int, int]] | None = None,
                 outputs: _Outputs | None = None):
        self.signal, self.spans, self.outputs = signal, spans, outputs
        self.whole = spans is None
        self.samples = signal.samples if self.whole else sum(b - a for a, b in spans)
        self._measured: dict[tuple, dict] = {}

    def _parts(self, setting: _Setting) -> Iterator[tuple[int, Iterator[np.ndarray]]]:
        if self.whole:
            yield self.signal.samples, _processed(self.signal, setting, 0, self.signal.samples)
            return
        warmup = int(WARMUP_S * self.signal.sr)
        for a, b in self.spans:
            yield b - a, _processed(self.signal, setting, a, b, warmup)

    def _run(self, setting: _Setting, *, full: bool, true_peak: bool, writer=None) -> dict:
        """Figures of ``setting``'s output: ``integrated_lufs``, ``sample_peak_dbfs`` and, with
        ``true_peak`` or ``full``, ``true_peak_dbtp``; ``full`` on the whole signal: every
        figure of :func:`~mixassist.loudness.measure_loudness`."""
        sr, channels = self.signal.sr, self.signal.channels
        report = full and self.whole
        meter = LoudnessMeter(sr, channels, self.samples,
                              specs=_SPECS if report else _SPECS[:1], peaks=report)
        peak, best = 0.0, 0.0
        for length, blocks in self._parts(setting):
            part = None if report or not (full or true_peak) else LoudnessMeter(
                sr, channels, length, specs=[], peaks=True)
            for y in blocks:
                meter.add(y)
                if part is not None:
                    part.add(y)
                if not report:
                    peak = max(peak, float(np.abs(y).max()) if y.size else 0.0)
                if writer is not None:
                    writer.write(y)
            if part is not None:
                best = max(best, part.finish().true_peak_amplitude())
        meter.finish()
        if report:
            return LoudnessCache.from_meter(meter).report()
        out = {"integrated_lufs": meter.integrated_lufs(),
               "sample_peak_dbfs": 20.0 * math.log10(peak) if peak > 0 else -math.inf}
        if full or true_peak:
            out["true_peak_dbtp"] = 20.0 * math.log10(best) if best > 0 else -math.inf
        return out

    def measure(self, threshold_db: float | None = None, *, true_peak: bool = False) -> dict:
        """Loudness and peaks of the signal through peak control at ``threshold_db`` (None: the
        signal itself), as :meth:`_run` gives them; measured once."""
        for key in ((threshold_db, True), (threshold_db, true_peak)):
            if key in self._measured:
                return self._measured[key]
        self._measured[key] = self._run(_Setting(threshold_db), full=False, true_peak=true_peak)
        return self._measured[key]

    def render(self, setting: _Setting) -> tuple[dict, Signal | None]:
        """Every figure of ``setting``'s output (``full``, :meth:`_run`) and the output itself
        where it is kept (the whole signal with ``outputs``), else None."""
        if not self.whole or self.outputs is None:
            return self._run(setting, full=True, true_peak=True), None
        writer = self.outputs.new()
        try:
            report = self._run(setting, full=True, true_peak=True, writer=writer)
        finally:
            out = writer.close()
        return report, out

    def discard(self, out: Signal | None) -> None:
        if self.outputs is not None:
            self.outputs.discard(out)


def excerpt_spans(signal: Signal, count: int = EXCERPTS,
                  length_s: float = EXCERPT_S) -> list[tuple[int, int]]:
    """``count`` spans ``(start, stop)`` (samples, sorted) of ``length_s`` seconds that stand for
    ``signal`` in the loudness stage's search: the one with the highest sample peak, the
    ``count // 4`` loudest (where the limiter works hardest), and a spread of the rest by
    loudness (the middle one of equal-count strata), so their loudness follows the song's.
    One pass; every span when there are no more than ``count``."""
    length = max(1, int(length_s * signal.sr))
    meter = LoudnessMeter(signal.sr, signal.channels, signal.samples,
                          specs=[(length_s, length_s)], peaks=False)
    peaks = []
    for _, block in signal.blocks(length):
        meter.add(block)
        peaks.append(max(float(block.max()), -float(block.min())))
    [(_, powers)] = meter.finish().window_powers()
    powers = np.pad(powers, (0, len(peaks) - len(powers)), constant_values=-1.0)
    spans = [(k * length, min((k + 1) * length, signal.samples)) for k in range(len(peaks))]
    if len(spans) <= count:
        return spans
    chosen = [int(np.argmax(peaks))]
    for k in np.argsort(-powers, kind="stable"):
        if len(chosen) > count // 4:
            break
        if k not in chosen:
            chosen.append(int(k))
    rest = [int(k) for k in np.argsort(powers, kind="stable") if k not in chosen]
    spread = count - len(chosen)
    chosen += [rest[int((j + 0.5) * len(rest) / spread)] for j in range(spread)]
    return [spans[k] for k in sorted(chosen)]


def _loudness_loop(material, threshold, target, spec, ceiling, gain, source_peak,
                   predicted_lufs, max_limiting_db):
    """Gain and limit until the loudness is within :data:`_AIM_LU` of the target or the limiting
    cap is hit, stepping the gain by the secant of the last two passes (LU per dB, 0.2..1); a
    limiter that limits all the time stops getting louder, so the pass closest to
    the target is kept (the others' outputs are discarded). Returns ``(out, setting, lufs,
    capped, report, passes)``; when the limiter has nothing to do, ``lufs`` is predicted as
    ``predicted_lufs + gain`` (BS.1770 loudness moves with a plain gain, up to the absolute
    gate)."""
    best, last = None, None
    for passes in range(1, _MAX_ITERATIONS + 1):
        capped = source_peak + gain - ceiling > max_limiting_db
        if capped:
            gain = ceiling + max_limiting_db - source_peak
        limited = source_peak + gain > ceiling or spec.params.get("true_peak", False)
        setting = _Setting(threshold, gain, PluginSpec(spec.plugin, spec.params
                                                       | {"ceiling_db": ceiling})
                           if limited else None)
        report, out = material.render(setting)
        lufs = report["integrated_lufs"] if limited else predicted_lufs + gain
        if best is None or abs(target.lufs - lufs) < abs(target.lufs - best[2]):
            if best is not None:
                material.discard(best[0])
            best = (out, setting, lufs, capped, report)
        else:
            material.discard(out)
        if capped or abs(target.lufs - lufs) <= _AIM_LU:
            break
        # secant step: a limiter at work gives back less than 1 LU per dB of gain
        slope = 1.0 if last is None or abs(gain - last[0]) < 0.01 else \
            min(1.0, max(0.2, (lufs - last[1]) / (gain - last[0])))
        last = (gain, lufs)
        gain += (target.lufs - lufs) / slope
    return (*best, passes)


@dataclass
class _Run:
    """One gain-and-limit attempt on one input (:func:`_gain_and_limit`): its ``setting`` and
    its output ``out`` (None where not kept); ``limiter`` is the limiter as used (its ceiling
    and detector), ``detector_peak_db`` the input's peak as that detector sees it (dBFS; the
    true peak when ``true_peak`` is on)."""

    out: Signal | None
    setting: _Setting
    limiter: PluginSpec
    capped: bool
    passes: int
    source_lufs: float
    detector_peak_db: float
    report: dict

    @property
    def gain_db(self) -> float:
        return self.setting.gain_db + self.setting.trim_db

    @property
    def lufs(self) -> float:
        return self.report["integrated_lufs"]

    @property
    def ceiling_db(self) -> float:
        return self.limiter.params["ceiling_db"]

    @property
    def limiting_db(self) -> float:
        return max(0.0, self.detector_peak_db + self.gain_db - self.ceiling_db)


def _detector_peak_db(material: _Material, threshold: float | None, spec: PluginSpec) -> float:
    """The peak of the limiter's input as ``spec`` detects it: true peak or sample peak, dB."""
    if spec.params.get("true_peak", False):
        return material.measure(threshold, true_peak=True)["true_peak_dbtp"]
    return material.measure(threshold)["sample_peak_dbfs"]


def _gain_and_limit(material, threshold, target, spec, ceiling, max_limiting_db, *,
                    gain=None) -> _Run:
    """Gain and limit ``material`` (through peak control at ``threshold``) to ``target``,
    starting from ``gain`` (dB; None: the loudness difference). When the limiter let an
    inter-sample peak through, a sample-peak limiter that overshot by more than
    :data:`MAX_SAMPLE_PEAK_OVERSHOOT_DB` switches to its true-peak detector (BS.1770-4 Annex 2
    oversampling; lowering its ceiling instead would spend the limiting budget on the
    overshoot), otherwise the ceiling is lowered by the overshoot, and the round is repeated
    (at most :data:`_ROUNDS` rounds after the switch, then plain gain down, which cannot raise a
    peak)."""
    detector_peak = _detector_peak_db(material, threshold, spec)
    source_lufs = material.measure(threshold)["integrated_lufs"]
    gain = target.lufs - source_lufs if gain is None else gain
    passes, bias, rounds, out = 0, 0.0, 0, None
    while rounds < _ROUNDS:
        rounds += 1
        material.discard(out)
        out, setting, lufs, capped, report, n = _loudness_loop(
            material, threshold, target, spec, ceiling, gain, detector_peak, source_lufs + bias,
            max_limiting_db)
        gain = setting.gain_db
        passes += n
        peak, measured = report["true_peak_dbtp"], report["integrated_lufs"]
        if peak > target.true_peak_dbtp + MAX_SAMPLE_PEAK_OVERSHOOT_DB \
                and not spec.params.get("true_peak", False):
            spec = PluginSpec(spec.plugin, spec.params | {"true_peak": True})
            detector_peak, rounds = _detector_peak_db(material, threshold, spec), 0
        elif peak > target.true_peak_dbtp:
            ceiling -= peak - target.true_peak_dbtp + 0.05  # inter-sample overshoot
        elif (abs(measured - lufs) > _AIM_LU and abs(target.lufs - measured) > _AIM_LU
              and not capped):
            bias += measured - lufs  # plain gain moved blocks across the -70 LUFS gate
            gain += target.lufs - measured
        else:
            break
    if peak > target.true_peak_dbtp:
        material.discard(out)
        setting = replace(setting, trim_db=target.true_peak_dbtp - peak - 0.01)
        report, out = material.render(setting)
    limiter = PluginSpec(spec.plugin, spec.params | {"ceiling_db": float(ceiling)})
    return _Run(out, setting, limiter, capped, passes, source_lufs, detector_peak, report)


class _PeakControl(NamedTuple):
    """A peak-control threshold (dBFS), its gain reduction on the highest sample peak (dB), and
    the peak-to-loudness ratio (dB) and loudness (LUFS) of the compressed mix."""

    threshold_db: float
    reduction_db: float
    plr_db: float
    lufs: float


def _plr(material: _Material, threshold: float | None) -> tuple[float, float]:
    """Peak-to-loudness ratio (sample peak dBFS minus integrated LUFS, dB) and the loudness."""
    m = material.measure(threshold)
    return m["sample_peak_dbfs"] - m["integrated_lufs"], m["integrated_lufs"]


def _search_peak_control(material, goal_plr_db, max_peak_control_db) -> _PeakControl | None:
    """The highest peak-control threshold (least gain reduction) that brings the PLR of
    ``material`` to ``goal_plr_db`` or below, by bisection on the threshold's depth under the
    sample peak; the deepest threshold within ``max_peak_control_db`` when none does. None
    when no threshold within the budget and the plugin's -80..0 dBFS range exists."""
    peak = material.measure()["sample_peak_dbfs"]
    slope = 1.0 - 1.0 / PEAK_CONTROL["ratio"]
    lo, hi = max(0.0, peak), min(max_peak_control_db / slope, peak + 80.0)
    if hi <= lo:
        return None

    def trial(depth: float):  # the threshold in the plan is rounded up to 0.01 dB
        threshold = min(0.0, math.ceil((peak - depth) * 100.0) / 100.0)
        return (peak - threshold, *_plr(material, threshold))

    best = trial(hi)
    if best[1] <= goal_plr_db:
        for _ in range(_SEARCH_STEPS):
            mid = trial(0.5 * (lo + hi))
            if mid[1] <= goal_plr_db:
                best, hi = mid, mid[0]
            else:
                lo = mid[0]
    depth, plr, lufs = best
    return _PeakControl(peak - depth, depth * slope, plr, lufs)


def _lufs_per_plr_db(points: list[tuple[float, float]]) -> float:
    """LU of loudness won per dB of PLR taken off before the limiter, from the last two
    ``(plr_db, lufs)`` attempts (secant), within 0.25..1 (1 without two attempts: the limiter
    takes part of every dB back, so the true figure is smaller)."""
    if len(points) < 2 or points[-2][0] - points[-1][0] <= 0.05:
        return 1.0
    slope = (points[-1][1] - points[-2][1]) / (points[-2][0] - points[-1][0])
    return min(1.0, max(0.25, slope))


def _search(material, target, spec, ceiling, max_limiting_db, max_peak_control_db):
    """The attempts on ``material`` (:func:`reach_target`'s search): ``[( _Run, _PeakControl
    | None)]``, the limiter alone first when it may get there, then peak control; and whether
    peak control was tried and found no threshold in range."""
    source_plr, source_lufs = _plr(material, None)
    room = ceiling + max_limiting_db - target.lufs  # the largest PLR the limiter budget fits

    def missed(run: _Run) -> bool:  # short enough to try peak control (again)
        return target.lufs - run.lufs > _RETRY_LU

    runs: list[tuple[_Run, _PeakControl | None]] = []
    if source_plr <= room or max_peak_control_db <= 0:  # the limiter alone may get there
        runs.append((_gain_and_limit(material, None, target, spec, ceiling, max_limiting_db),
                     None))
    points = [(source_plr, runs[0][0].lufs)] if runs else []  # (PLR into the limiter, LUFS)
    goal = room - _LIMITER_LOSS_DB
    if runs:  # the limiter alone fell short: lower the PLR by that shortfall
        goal = min(goal, source_plr) - max(_MIN_STEP_DB, target.lufs - runs[0][0].lufs)
    out_of_range = False
    while (not runs or missed(runs[-1][0])) and len(runs) < 1 + _PEAK_CONTROL_TRIES \
            and max_peak_control_db > 0:
        found = _search_peak_control(material, goal, max_peak_control_db)
        out_of_range = found is None
        if found is None or (runs and runs[-1][1] is not None
                             and found.threshold_db == runs[-1][1].threshold_db):
            break  # no threshold within the budget, or the same one again
        run = _gain_and_limit(material, found.threshold_db, target,
                              runs[-1][0].limiter if runs else spec, ceiling, max_limiting_db)
        runs.append((run, found))
        points.append((found.plr_db, run.lufs))
        goal = found.plr_db - max(_MIN_STEP_DB,
                                  (target.lufs - run.lufs) / _lufs_per_plr_db(points))
    if not runs:
        runs.append((_gain_and_limit(material, None, target, spec, ceiling, max_limiting_db),
                     None))
    return runs, out_of_range


def _on_whole(whole: _Material, run: _Run, found: _PeakControl | None, target: Target,
              max_limiting_db: float) -> tuple[_Run, _PeakControl | None]:
    """An attempt found on excerpts, replayed on the whole signal and corrected there (gain
    stepped again while the loudness misses by more than :data:`_AIM_LU`, the ceiling or the
    detector changed while the true peak is over); the peak control's figures re-measured."""
    threshold = None if found is None else found.threshold_db
    final = _gain_and_limit(whole, threshold, target, run.limiter, run.ceiling_db,
                            max_limiting_db, gain=run.setting.gain_db)
    if found is not None:
        found = found._replace(**dict(zip(("plr_db", "lufs"), _plr(whole, threshold))))
    return final, found


def reach_target(audio: np.ndarray | Signal, sr: int, target: Target, *,
                 limiter: PluginSpec | None = None, max_limiting_db: float = MAX_LIMITING_DB,
                 tolerance_lu: float = TOLERANCE_LU,
                 max_peak_control_db: float = MAX_PEAK_CONTROL_DB,
                 out: str | os.PathLike | None = None, search_s: float | None = SEARCH_S,
                 ) -> tuple[np.ndarray | FileSignal, MasterResult]:
    """Bring ``audio`` to ``target`` loudness with its true peak at or below the target ceiling.

    Gain into the limiter first; when the target needs more than ``max_limiting_db`` of peak
    limiting (or the limiter stops getting louder), peak control (module docstring) lowers the
    peak-to-loudness ratio before the limiter: the threshold is searched so that the PLR leaves
    the limiter its budget less :data:`_LIMITER_LOSS_DB` for the loudness limiting takes away,
    and searched again with the shortfall added when the target is still missed. The attempt
    nearest the target is kept (the one with less processing on a tie). Peak limiting is
    measured on sample peaks (the limiter's own detector unless its ``true_peak`` is on).

    Every pass reads ``audio`` block by block (peak control, gain and limiter streamed, the
    limiter's latency compensated) and measures with a
    :class:`~mixassist.loudness.LoudnessMeter`, so memory does not grow with the duration when
    ``audio`` is a file and ``out`` is given. An input longer than ``search_s`` is searched on
    excerpts (:func:`excerpt_spans`; the target shifted by their loudness difference from the
    whole), then the attempt chosen runs on the whole signal, is measured there and corrected
    while it misses by more than :data:`_AIM_LU`; the result and the reasons carry the whole
    signal's numbers.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, samples), dtype=float32] or a
        :class:`~mixassist.audio.signal.Signal`, the mix before the limiter.
    sr : sample rate, Hz.
    target : integrated loudness (LUFS) and true-peak ceiling (dBTP).
    limiter : the ``BrickwallLimiter`` spec to use (its ``ceiling_db`` is lowered to the target
        ceiling minus :data:`CEILING_MARGIN_DB` when above it); None uses :func:`limiter_spec`.
    max_limiting_db : most peak limiting (dB) allowed; the loudness stops short of the target
        there, and the reasons say so.
    tolerance_lu : the target is reached when the result is within this many LU.
    max_peak_control_db : most gain reduction (dB) of peak control on the highest sample peak;
        0 turns peak control off.
    out : a WAV path (float32, written atomically) for the mastered audio; None: an array.
    search_s : the longest input (s) searched whole; None: every input is.

    Returns
    -------
    mastered : np.ndarray [shape=(channels, samples), dtype=float32], or the
        :class:`~mixassist.audio.signal.FileSignal` of ``out``.
    result : :class:`MasterResult`; ``result.rendered_chain(chain)`` writes its decisions into
        the plan's master chain.
    """
    signal = as_signal(audio, sr)
    spec = limiter or limiter_spec(target)
    ceiling = min(float(spec.params.get("ceiling_db", 0.0)),
                  target.true_peak_dbtp - CEILING_MARGIN_DB)
    outputs = _Outputs(signal, out)
    try:
        whole = _Material(signal, outputs=outputs)
        mastered, result = _master(whole, target, spec, ceiling, max_limiting_db, tolerance_lu,
                                   max_peak_control_db, search_s)
        return outputs.keep(mastered), result
    finally:
        outputs.close()


def _master(whole: _Material, target, spec, ceiling, max_limiting_db, tolerance_lu,
            max_peak_control_db, search_s) -> tuple[Signal, MasterResult]:
    """:func:`reach_target` on ``whole``: the mastered signal and the result."""
    source_plr, source_lufs = _plr(whole, None)
    if not math.isfinite(source_lufs):
        report, out = whole.render(_Setting())
        reason = (f"{MISSED} the mix is silent (below the -70 LUFS gate), so no gain can reach "
                  f"{target.lufs:g} LUFS")
        return out, MasterResult(target, 0.0, 0.0, ceiling, source_lufs,
                                 report["true_peak_dbtp"], 0, False, [reason], report)
    material = whole
    if search_s is not None and whole.signal.duration_s > search_s:
        excerpts = _Material(whole.signal, excerpt_spans(whole.signal))
        if math.isfinite(excerpts.measure()["integrated_lufs"]):
            material = excerpts
    # the search aims where the material is as far from the target as the whole signal is
    shift = material.measure()["integrated_lufs"] - source_lufs
    aim = Target(target.name, target.lufs + shift, target.true_peak_dbtp)
    runs, out_of_range = _search(material, aim, spec, ceiling, max_limiting_db,
                                 max_peak_control_db)
    tried = any(found is not None for _, found in runs) or out_of_range
    run, found = min(runs, key=lambda r: (round(abs(aim.lufs - r[0].lufs), 2),
                                          0.0 if r[1] is None else r[1].reduction_db))
    for other, _ in runs:
        if other is not run:
            whole.discard(other.out)
    passes = sum(r.passes for r, _ in runs)
    if material is not whole:
        run, found = _on_whole(whole, run, found, target, max_limiting_db)
        passes += run.passes
    report, lufs = run.report, run.lufs
    peak = report["true_peak_dbtp"]
    reached = abs(target.lufs - lufs) <= tolerance_lu
    detector = "true-peak" if run.limiter.params.get("true_peak", False) else "sample-peak"
    reasons = [f"{LOUDNESS_REASON} {run.gain_db:+.1f} dB gain and {run.limiting_db:.1f} dB of peak "
               f"limiting ({detector} detector, ceiling {run.ceiling_db:.2f} dBFS) bring the "
               f"mix from {source_lufs:.1f} to {lufs:.1f} LUFS (target {target.name}: "
               f"{target.lufs:g} LUFS), true peak {peak:.1f} dBTP (ceiling "
               f"{target.true_peak_dbtp:g} dBTP)"]
    peak_control, peak_control_db = None, 0.0
    if found is not None:
        threshold, peak_control_db, plr, _ = found
        peak_control = peak_control_spec(threshold)
        reasons.append(
            f"{LOUDNESS_REASON} peak control before the limiter: Compressor at {threshold:.1f} dBFS, "
            f"{PEAK_CONTROL['ratio']:g}:1, {PEAK_CONTROL['attack_ms']:g} ms attack, "
            f"{PEAK_CONTROL['release_ms']:g} ms release ({peak_control_db:.1f} dB gain reduction "
            f"on the highest peak, budget {max_peak_control_db:g} dB) lowers the "
            f"peak-to-loudness ratio from {source_plr:.1f} to {plr:.1f} dB, so that "
            f"{target.lufs:g} LUFS fits under the {ceiling:.1f} dBFS ceiling with at most "
            f"{max_limiting_db:g} dB of peak limiting. It is part of reaching the loudness "
            "target, so it applies at every amount, 0 included")
    if not reached:
        if found is not None:
            control = (f" after {peak_control_db:.1f} dB of peak control (budget "
                       f"{max_peak_control_db:g} dB)")
        elif out_of_range:
            control = (f" (peak control within {max_peak_control_db:g} dB would need a "
                       f"threshold above 0 dBFS: the mix peaks at {source_plr + source_lufs:+.1f}"
                       " dBFS; turn the mix down)")
        elif tried:
            control = " (peak control was tried and got no closer)"
        else:
            control = ""
        after = f", {found.plr_db:.1f} dB after peak control" if found is not None else ""
        if run.capped:
            reasons.append(
                f"{MISSED} {target.lufs:g} LUFS needs more than the allowed {max_limiting_db:g} "
                f"dB of peak limiting{control}; stopped there at {lufs:.1f} LUFS "
                f"({lufs - target.lufs:+.1f} LU; peak-to-loudness ratio {source_plr:.1f} dB"
                f"{after}). Allow more limiting, compress the mix harder, or choose "
                "a quieter target")
        else:
            reasons.append(
                f"{MISSED} the limiter stopped getting louder at {lufs:.1f} LUFS "
                f"({lufs - target.lufs:+.1f} LU; {run.limiting_db:.1f} dB of peak limiting"
                f"{control}): it is limiting all the time. Compress the mix harder or choose a "
                "quieter target")
    return run.out, MasterResult(target, run.gain_db, run.limiting_db, run.ceiling_db, lufs,
                                 peak, passes, reached, reasons, report, peak_control,
                                 peak_control_db, run.limiter)
