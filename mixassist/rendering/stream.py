"""Block-wise processing with fixed, known delays: the building blocks of the renderer.

pedalboard compensates a plugin's latency itself: streamed with ``reset=False`` it withholds the
first ``latency`` output samples, so its output is aligned with its input but arrives late. A
:class:`ChainStream` turns that into a plain delay line of ``latency`` samples (one block in, one
block of the same length out), so the renderer can line every path up by delaying the faster ones
(plugin delay compensation) and trimming the total delay at the end.
"""

from __future__ import annotations

import itertools

import numpy as np
import pedalboard

from ..planning.plan import PluginSpec
from ..planning.plugins import check_params
from .compiled import BiquadCascade, CompressorStream, LINEAR_FILTERS
from .plugins import build_plugin

_PROBE_S = 1.0


class Fifo:
    """A first-in first-out sample queue ``(channels, n)`` that starts with ``delay`` zeros."""

    def __init__(self, channels: int, delay: int = 0):
        self.buffer = np.zeros((channels, delay), np.float32)

    def push_pop(self, block: np.ndarray, n: int) -> np.ndarray:
        """Append ``block`` and remove the oldest ``n`` samples."""
        self.buffer = np.concatenate([self.buffer, block], axis=1) if self.buffer.size else block
        out, self.buffer = self.buffer[:, :n], self.buffer[:, n:]
        return out


def chain_latency(board: pedalboard.Pedalboard, sr: int, channels: int = 2) -> int:
    """Latency of ``board`` in samples: how many samples it withholds from a streamed probe.

    The board is reset afterwards.
    """
    probe = max(int(_PROBE_S * sr), 1)
    withheld = 0
    while True:  # a latency over one probe needs more probes
        out = board.process(np.zeros((channels, probe), np.float32), sr, buffer_size=probe,
                            reset=False)
        withheld += probe - out.shape[1]
        if out.shape[1]:
            break
    board.reset()
    return withheld


class _BoardStage:
    """Consecutive pedalboard plugins as a delay line of their latency (measured unless
    ``latency`` is given: a board of the same plugins and parameters has the same)."""

    def __init__(self, plugins: list[pedalboard.Plugin], sr: int, channels: int, *,
                 latency: int | None = None):
        self.sr = sr
        self.board = pedalboard.Pedalboard(plugins)
        self.latency = chain_latency(self.board, sr, channels) if latency is None else latency
        self._fifo = Fifo(channels, self.latency)

    def process(self, block: np.ndarray) -> np.ndarray:
        block = np.ascontiguousarray(block)
        out = self.board.process(block, self.sr, buffer_size=block.shape[1], reset=False)
        if out.shape[1] == block.shape[1] and not self._fifo.buffer.size:
            return out
        return self._fifo.push_pop(out, block.shape[1])


def _stages(chain: list[PluginSpec], sr: int, channels: int) -> list:
    """The chain as stages: runs of linear filters become one
    :class:`~mixassist.rendering.compiled.BiquadCascade`, compressors
    :class:`~mixassist.rendering.compiled.CompressorStream` (same output, faster), every run of
    other plugins one :class:`_BoardStage`."""
    def kind(spec: PluginSpec) -> str:
        if spec.plugin in LINEAR_FILTERS:
            return "filters"
        return "compressor" if spec.plugin == "Compressor" else "board"

    stages: list = []
    for group, run in itertools.groupby(chain, key=kind):
        run = [(s.plugin, check_params(s.plugin, s.params, where=s.plugin)) for s in run]
        if group == "filters":
            stages.append(BiquadCascade(run, sr, channels=channels))
        elif group == "compressor":
            stages += [CompressorStream(params, sr, channels=channels) for _, params in run]
        else:
            stages.append(_BoardStage([build_plugin(*spec) for spec in run], sr, channels))
    return stages


class ChainStream:
    """A plugin chain streamed as a delay line: ``process(block)`` returns a block of equal length,
    delayed by ``latency + extra_delay`` samples (``extra_delay`` aligns it with slower paths).

    EQ filters and compressors are rendered by :mod:`~mixassist.rendering.compiled`, the other
    plugins by pedalboard, each run of them as a delay line of its latency, so ``latency`` is
    the sum of the runs' latencies, as for the whole chain in one pedalboard.
    """

    def __init__(self, chain: list[PluginSpec], sr: int, *, channels: int = 2):
        self.stages = _stages(chain, sr, channels)
        self.latency = sum(stage.latency for stage in self.stages)
        self.extra_delay = 0
        self._fifo = Fifo(channels, 0)
        self.channels = channels

    def set_delay(self, total: int) -> None:
        """Make the total delay ``total`` samples (at least :attr:`latency`)."""
        if total < self.latency:
            raise ValueError(f"total delay {total} is below the chain latency {self.latency}")
        self.extra_delay = total - self.latency
        self._fifo = Fifo(self.channels, self.extra_delay)

    def process(self, block: np.ndarray) -> np.ndarray:
        """``block``: np.ndarray [shape=(channels, samples), dtype=float32], not modified; the
        result is a new array unless the chain is empty and undelayed (then ``block`` itself)."""
        y = block
        for stage in self.stages:
            # compiled stages work in place on what an earlier stage made: fewer large
            # allocations, whose page faults cost as much as the filtering
            in_place = y is not block and not isinstance(stage, _BoardStage)
            y = stage.process(y, out=y) if in_place else stage.process(y)
        if not self._fifo.buffer.size:
            return y
        return self._fifo.push_pop(y, y.shape[1])
