"""Sample-accurate gain automation with click-free raised-cosine ramps.

Each automation segment ``GainRamp(start_s, end_s, gain_db)`` changes the gain twice: at sample
``round(start_s * sr)`` a ramp of ``ramp_ms`` starts towards ``gain_db`` and ends exactly
``ramp`` samples later; at ``round(end_s * sr)`` a ramp back to 0 dB starts (or to the next
segment's gain, when one starts there). Between ramps the gain is exact. The ramp is a half
raised-cosine (Hann) window, whose slope is zero at both ends, so no step is added to the signal
that a sudden gain change would cause (zipper noise / clicks).
"""

from __future__ import annotations

import numpy as np

from ..planning.plan import GainRamp

#: Length of every gain change, ms.
RAMP_MS = 5.0


class GainCurve:
    """Linear gain over time from a list of :class:`GainRamp` (0 dB outside the segments).

    Evaluate any block with :meth:`block`; blocks may come in any order (no state).
    """

    def __init__(self, ramps: list[GainRamp], sr: int, *, ramp_ms: float = RAMP_MS):
        self.ramp = max(1, round(ramp_ms * sr / 1000.0))
        changes: dict[int, float] = {}
        for r in sorted(ramps, key=lambda r: r.start_s):
            end = round(r.end_s * sr)
            changes.setdefault(end, 1.0)  # back to 0 dB unless a segment starts here
            changes[round(r.start_s * sr)] = 10.0 ** (r.gain_db / 20.0)
        self.starts = np.array(sorted(changes), dtype=np.int64)
        self.to = np.array([changes[s] for s in self.starts], dtype=np.float64)
        self.frm = np.empty_like(self.to)
        current, last = 1.0, None
        for k, s in enumerate(self.starts):
            if last is not None:  # value reached when this change starts (previous may be mid-ramp)
                current = self._value(self.frm[k - 1], self.to[k - 1], s - last)
            self.frm[k], last = current, s

    def _value(self, frm, to, since):
        x = np.clip(np.asarray(since, dtype=np.float64) / self.ramp, 0.0, 1.0)
        return frm + (to - frm) * (0.5 - 0.5 * np.cos(np.pi * x))

    @property
    def constant(self) -> bool:
        return len(self.starts) == 0

    def block(self, start: int, length: int) -> np.ndarray:
        """Gain of samples ``start .. start + length - 1``, float32 ``(length,)``."""
        n = np.arange(start, start + length, dtype=np.int64)
        if self.constant:
            return np.ones(length, np.float32)
        k = np.searchsorted(self.starts, n, side="right") - 1
        kk = np.maximum(k, 0)
        g = self._value(self.frm[kk], self.to[kk], n - self.starts[kk])
        return np.where(k < 0, 1.0, g).astype(np.float32)
