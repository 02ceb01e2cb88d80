"""pedalboard's EQ filters and compressor as compiled loops (numba): the renderer's fast path.

The most used plugins of a mix are simple JUCE processors that pedalboard runs one pass each,
with per-call overhead; rendered here they take about a quarter (filters) and two thirds
(compressor) of the time, with the same output:

- ``HighpassFilter`` and ``LowpassFilter`` (first order, 6 dB/octave), ``LowShelfFilter``,
  ``PeakFilter`` and ``HighShelfFilter`` (second order): a run of them is linear and
  latency-free, so it becomes one :class:`BiquadCascade`, second-order sections run sample by
  sample in float64, both channels of a pair in one loop. Coefficients are JUCE's
  (``juce::dsp::IIR::Coefficients``): the first-order pair by the prewarped bilinear transform,
  the shelves and the peak from R. Bristow-Johnson's *Audio EQ Cookbook* with
  ``A = 10^(gain_db / 40)``. Output equals pedalboard's within float32 rounding (about -100 dB).
- ``Compressor``: :class:`CompressorStream` is ``juce::dsp::Compressor<float>`` step for step in
  float32 (per channel, unlinked: a peak ballistics filter, then ``(env / threshold)^(1/ratio -
  1)`` above the threshold), so its output is bit-identical to pedalboard's.

``tests/mixing/test_compiled.py`` checks both against pedalboard.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..planning.filters import filter_sos
from ..planning.plugins import registry

#: Plugins :class:`BiquadCascade` renders.
LINEAR_FILTERS = ("HighpassFilter", "LowpassFilter", "LowShelfFilter", "PeakFilter",
                  "HighShelfFilter")
#: States below this magnitude are set to zero every :data:`_SNAP_SAMPLES` (JUCE snaps at 1e-8):
#: a filter ringing out into silence would otherwise reach float64 denormals, which are ~100x
#: slower to compute. 1e-15 is -300 dB, far below float32 resolution of any audible signal.
_SNAP_BELOW = 1e-15
_SNAP_SAMPLES = 256


def _cascade_loop(audio, sos, state, out):
    """Body of :class:`BiquadCascade`, compiled by numba: ``out = cascade(audio)`` (``out`` may
    be ``audio``), ``state`` ``(channels, sections, 2)`` updated. Transposed direct form II,
    float64; the two channels of a pair share the loop so their independent recursions overlap
    in the CPU pipeline."""
    channels, samples = audio.shape
    sections = sos.shape[0]
    z = np.empty((sections, 4))
    for first in range(0, channels, 2):
        second = min(first + 1, channels - 1)
        for s in range(sections):
            z[s, 0], z[s, 1] = state[first, s, 0], state[first, s, 1]
            z[s, 2], z[s, 3] = state[second, s, 0], state[second, s, 1]
        for start in range(0, samples, _SNAP_SAMPLES):
            for i in range(start, min(start + _SNAP_SAMPLES, samples)):
                v = np.float64(audio[first, i])
                w = np.float64(audio[second, i])
                for s in range(sections):
                    b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
                    y = b0 * v + z[s, 0]
                    z[s, 0] = b1 * v - a1 * y + z[s, 1]
                    z[s, 1] = b2 * v - a2 * y
                    u = b0 * w + z[s, 2]
                    z[s, 2] = b1 * w - a1 * u + z[s, 3]
                    z[s, 3] = b2 * w - a2 * u
                    v, w = y, u
                out[first, i] = np.float32(v)
                out[second, i] = np.float32(w)
            for s in range(sections):
                for j in range(4):
                    if abs(z[s, j]) < _SNAP_BELOW:
                        z[s, j] = 0.0
        for s in range(sections):
            state[first, s, 0], state[first, s, 1] = z[s, 0], z[s, 1]
            state[second, s, 0], state[second, s, 1] = z[s, 2], z[s, 3]


@functools.cache
def _cascade_kernel():
    """:func:`_cascade_loop` compiled (numba, cached on disk, releases the GIL so stems render
    in parallel threads); imported on first use."""
    import numba

    return numba.njit(nogil=True, cache=True)(_cascade_loop)


class BiquadCascade:
    """A run of :data:`LINEAR_FILTERS` plugins streamed block by block, like pedalboard's
    ``process(..., reset=False)`` but with no latency: ``process(block)`` returns the filtered
    block (same shape, float32).

    ``specs``: ``(plugin, params)`` pairs in chain order; ``sr``: sample rate, Hz.
    """

    latency = 0

    def __init__(self, specs: list[tuple[str, dict]], sr: int, *, channels: int = 2):
        self.sos = np.stack([filter_sos(plugin, params, sr) for plugin, params in specs])
        self.state = np.zeros((channels, len(specs), 2))

    def process(self, block: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """``block``: np.ndarray [shape=(channels, samples), dtype=float32]; ``out`` (may be
        ``block`` itself) receives the result, a new array when None."""
        out = np.empty_like(block) if out is None else out
        _cascade_kernel()(block, self.sos, self.state, out)
        return out


def _compressor_loop(audio, threshold, ratio_inverse, attack, release, envelope, out):
    """Body of :class:`CompressorStream`, compiled by numba; float32 throughout like JUCE's
    ``Compressor<float>`` and ``BallisticsFilter<float>`` (peak level); ``envelope``
    ``(channels,)`` is updated."""
    channels, samples = audio.shape
    one = np.float32(1.0)
    threshold_inverse = one / threshold
    exponent = ratio_inverse - one
    for c in range(channels):
        y = envelope[c]
        for i in range(samples):
            x = audio[c, i]
            level = abs(x)
            y = level + (attack if level > y else release) * (y - level)
            out[c, i] = x if y < threshold else (y * threshold_inverse) ** exponent * x
        envelope[c] = y


@functools.cache
def _compressor_kernel():
    """:func:`_compressor_loop` compiled like :func:`_cascade_kernel`."""
    import numba

    return numba.njit(nogil=True, cache=True)(_compressor_loop)


class CompressorStream:
    """pedalboard's ``Compressor`` (``threshold_db``, ``ratio``, ``attack_ms``, ``release_ms``;
    its defaults fill the rest) streamed block by block with no latency, like
    :class:`BiquadCascade`.

    Ballistics (JUCE): ``env = |x| + c (env - |x|)`` with ``c = exp(-2 pi 1000 / (sr t_ms))``
    for the attack while the level rises and the release while it falls (0 for times under
    1 us); gain ``(env / threshold)^(1/ratio - 1)`` while ``env`` is at or over the threshold.
    """

    latency = 0

    def __init__(self, params: dict, sr: int, *, channels: int = 2):
        p = {name: np.float32(spec.default) for name, spec in registry()["Compressor"].items()}
        p |= {name: np.float32(value) for name, value in params.items()}  # JUCE's float params
        factor = -2.0 * math.pi * 1000.0 / sr

        def coefficient(time_ms: np.float32) -> np.float32:
            if time_ms < np.float32(1e-3):
                return np.float32(0.0)
            return np.float32(math.exp(factor / float(time_ms)))

        # float32 arithmetic as in juce::Decibels::decibelsToGain<float> and Compressor::update
        self.threshold = np.float32(10.0) ** (p["threshold_db"] * np.float32(0.05))
        self.ratio_inverse = np.float32(1.0) / p["ratio"]
        self.attack = coefficient(p["attack_ms"])
        self.release = coefficient(p["release_ms"])
        self.envelope = np.zeros(channels, np.float32)

    def process(self, block: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """Like :meth:`BiquadCascade.process`."""
        out = np.empty_like(block) if out is None else out
        _compressor_kernel()(block, self.threshold, self.ratio_inverse, self.attack,
                             self.release, self.envelope, out)
        return out
