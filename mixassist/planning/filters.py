"""pedalboard's EQ filters as numbers: their coefficients, their response, and an EQ that makes a
wanted octave-band correction.

Coefficients are JUCE's (``juce::dsp::IIR::Coefficients``, what pedalboard runs): the first-order
high/low-pass by the prewarped bilinear transform, the shelves and the peak from R.
Bristow-Johnson's *Audio EQ Cookbook* with ``A = 10^(gain_db / 40)``. The renderer's compiled
path (:mod:`mixassist.rendering.compiled`) runs these sections; the planner uses their response
to design :func:`matching_eq`, the graphic EQ of reference matching.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .plan import PluginSpec
from .plugins import registry

#: Q of a one-octave-wide peak (bandwidth N octaves: ``Q = sqrt(2^N) / (2^N - 1)``).
OCTAVE_Q = math.sqrt(2.0)
#: Filters are only placed below this fraction of the sample rate (0.5 is the Nyquist frequency).
MAX_FILTER_FRACTION = 0.45
#: Band gains of :func:`matching_eq` smaller than this (dB) are left out.
MIN_BAND_DB = 0.2
#: Frequencies per octave band at which :func:`band_response_db` averages the power response.
_GRID = 16


def _section(b0: float, b1: float, b2: float, a0: float, a1: float, a2: float) -> np.ndarray:
    return np.array([b0, b1, b2, a0, a1, a2]) / a0


def filter_sos(plugin: str, params: dict, sr: int) -> np.ndarray:
    """Second-order section ``[b0 b1 b2 1 a1 a2]`` (``np.ndarray [shape=(6,)]``) of one
    pedalboard filter plugin with keyword arguments ``params`` (pedalboard's defaults fill the
    rest) at ``sr`` Hz."""

    p = {name: spec.default for name, spec in registry()[plugin].items()} | params
    frequency = float(p["cutoff_frequency_hz"])
    if plugin in ("HighpassFilter", "LowpassFilter"):  # first order: b2 = a2 = 0
        n = math.tan(math.pi * frequency / sr)
        if plugin == "HighpassFilter":
            return _section(1.0, -1.0, 0.0, n + 1.0, n - 1.0, 0.0)
        return _section(n, n, 0.0, n + 1.0, n - 1.0, 0.0)
    a = 10.0 ** (float(p["gain_db"]) / 40.0)
    omega = 2.0 * math.pi * frequency / sr
    cos_omega = math.cos(omega)
    if plugin == "PeakFilter":
        alpha = math.sin(omega) / (2.0 * float(p["q"]))
        return _section(1.0 + alpha * a, -2.0 * cos_omega, 1.0 - alpha * a,
                        1.0 + alpha / a, -2.0 * cos_omega, 1.0 - alpha / a)
    beta = math.sin(omega) * math.sqrt(a) / float(p["q"])
    am, ap = a - 1.0, a + 1.0
    if plugin == "LowShelfFilter":
        return _section(a * (ap - am * cos_omega + beta), 2.0 * a * (am - ap * cos_omega),
                        a * (ap - am * cos_omega - beta), ap + am * cos_omega + beta,
                        -2.0 * (am + ap * cos_omega), ap + am * cos_omega - beta)
    if plugin == "HighShelfFilter":
        return _section(a * (ap + am * cos_omega + beta), -2.0 * a * (am + ap * cos_omega),
                        a * (ap + am * cos_omega - beta), ap - am * cos_omega + beta,
                        2.0 * (am - ap * cos_omega), ap - am * cos_omega - beta)
    raise ValueError(f"{plugin} is not a linear EQ filter")


def power_response(chain: Sequence[PluginSpec], freqs_hz: np.ndarray, sr: int) -> np.ndarray:
    """``|H(f)|^2`` of a chain of EQ filters at ``freqs_hz`` (``np.ndarray``, same shape)."""
    z = np.exp(-2j * np.pi * np.asarray(freqs_hz, dtype=np.float64) / sr)
    power = np.ones(z.shape)
    for spec in chain:
        b0, b1, b2, _, a1, a2 = filter_sos(spec.plugin, spec.params, sr)
        power *= np.abs((b0 + b1 * z + b2 * z * z) / (1.0 + a1 * z + a2 * z * z)) ** 2
    return power


def band_response_db(chain: Sequence[PluginSpec], centres_hz: Sequence[float],
                     sr: int) -> np.ndarray:
    """Change (dB) of each octave band's power ``centre/sqrt(2)..centre*sqrt(2)`` that ``chain``
    makes on a signal of equal power per fraction of an octave (pink noise):
    ``np.ndarray [shape=(bands,)]``; bands above Nyquist read 0."""
    out = np.zeros(len(centres_hz))
    steps = (np.arange(_GRID) + 0.5) / _GRID - 0.5
    for i, centre in enumerate(centres_hz):
        freqs = centre * 2.0 ** steps
        freqs = freqs[freqs < 0.5 * sr]
        if freqs.size:
            out[i] = 10.0 * math.log10(float(power_response(chain, freqs, sr).mean()))
    return out


def matching_eq(correction_db: Sequence[float], centres_hz: Sequence[float], sr: int, *,
                iterations: int = 8) -> list[PluginSpec]:
    """A graphic EQ whose octave-band response is ``correction_db`` (dB per band at
    ``centres_hz``): one ``PeakFilter`` of one octave (Q :data:`OCTAVE_Q`) per band below
    :data:`MAX_FILTER_FRACTION` of ``sr``, its gains solved so that the bands' summed responses
    (neighbouring peaks overlap) meet the correction (fixed-point iteration on
    :func:`band_response_db`; within about 0.1 dB for corrections of a few dB). Bands whose gain
    stays under :data:`MIN_BAND_DB` are left out. Returns the chain, low to high."""
    wanted = np.asarray(correction_db, dtype=np.float64)
    usable = [i for i, c in enumerate(centres_hz) if c < MAX_FILTER_FRACTION * sr]
    gains = wanted.copy()

    def chain(g: np.ndarray) -> list[PluginSpec]:
        return [PluginSpec("PeakFilter", {"cutoff_frequency_hz": float(centres_hz[i]),
                                          "gain_db": round(float(g[i]), 2), "q": OCTAVE_Q})
                for i in usable if abs(g[i]) >= MIN_BAND_DB]

    for _ in range(iterations):
        gains[usable] += (wanted - band_response_db(chain(gains), centres_hz, sr))[usable]
    return chain(gains)
