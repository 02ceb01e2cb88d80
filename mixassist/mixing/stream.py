"""Block-wise processing with fixed, known delays: the building blocks of the renderer.

pedalboard compensates a plugin's latency itself: streamed with ``reset=False`` it withholds the
first ``latency`` output samples, so its output is aligned with its input but arrives late. A
:class:`ChainStream` turns that into a plain delay line of ``latency`` samples (one block in, one
block of the same length out), so the renderer can line every path up by delaying the faster ones
(plugin delay compensation) and trimming the total delay at the end.
"""

from __future__ import annotations

import numpy as np
import pedalboard

from .plan import PluginSpec
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


class ChainStream:
    """A plugin chain streamed as a delay line: ``process(block)`` returns a block of equal length,
    delayed by ``latency + extra_delay`` samples (``extra_delay`` aligns it with slower paths).
    """

    def __init__(self, chain: list[PluginSpec], sr: int, *, channels: int = 2):
        self.sr = sr
        self.board = pedalboard.Pedalboard([build_plugin(s.plugin, s.params) for s in chain])
        self.latency = chain_latency(self.board, sr, channels) if chain else 0
        self.extra_delay = 0
        self._fifo: Fifo | None = None
        self.channels = channels

    def set_delay(self, total: int) -> None:
        """Make the total delay ``total`` samples (at least :attr:`latency`)."""
        if total < self.latency:
            raise ValueError(f"total delay {total} is below the chain latency {self.latency}")
        self.extra_delay = total - self.latency
        self._fifo = None

    def process(self, block: np.ndarray) -> np.ndarray:
        if self._fifo is None:
            self._fifo = Fifo(self.channels, self.latency + self.extra_delay)
        if len(self.board):
            out = self.board.process(block, self.sr, buffer_size=block.shape[1], reset=False)
        else:
            out = block
        if out.shape[1] == block.shape[1] and not self._fifo.buffer.size:
            return out
        return self._fifo.push_pop(out, block.shape[1])
