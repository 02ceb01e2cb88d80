"""Generated room impulse responses for the convolution reverb of production v3.

A room is exponentially decaying noise after a few early reflections, the standard statistical
model of a diffuse late field (Schroeder 1962, "Frequency-correlation functions of frequency
responses in rooms", JASA 34; Moorer 1979, "About this reverberation business", CMJ 3(2)): the
energy of the tail falls 60 dB in ``decay_s`` (the RT60), faster above ``crossover_hz`` (air and
wall absorption; a 4th-order Butterworth band split), and the two channels draw independent
noise, so the reverb is decorrelated stereo. Everything is drawn from ``rng``: ``room_ir(np.random.default_rng(seed), sr, **params)``
regenerates the same room, which is how a production chain records one (``seed`` + parameters).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from ..errors import ParameterError

SPEED_OF_SOUND_M_S = 343.0
#: Share of the IR's energy in its early reflections (the rest is the diffuse tail).
EARLY_ENERGY = 0.2
#: The IR runs until the mid-frequency tail is this far down (dB), 10 % past the RT60.
TAIL_DB = 66.0


def room_ir(rng: np.random.Generator, sr: int, *, size_m: float, decay_s: float, hf_damping: float = 0.6,
            predelay_ms: float = 10.0, crossover_hz: float = 4000.0) -> np.ndarray:
    """A stereo room impulse response ``np.ndarray [shape=(2, samples)]`` float32, wet only.

    ``size_m``: the room's typical dimension (3-30 m): early reflections arrive within
    ``3 * size_m / 343`` s after ``predelay_ms`` and the diffuse tail builds up over that time.
    ``decay_s``: RT60 of the tail below ``crossover_hz`` (0.1-5 s; the ISO 3382 mid-frequency
    reverberation time); above it the RT60 is ``decay_s * hf_damping`` (0.1-1).
    Each channel has unit energy, so a wet level of 1 keeps a noise-like input's RMS.
    """
    if not 0.1 <= decay_s <= 5.0:
        raise ParameterError(f"decay_s={decay_s}: use an RT60 of 0.1-5 s")
    if not 1.0 <= size_m <= 100.0:
        raise ParameterError(f"size_m={size_m}: use a room dimension of 1-100 m")
    if not 0.1 <= hf_damping <= 1.0:
        raise ParameterError(f"hf_damping={hf_damping}: use 0.1 (dull) .. 1 (bright)")
    if not 0 < crossover_hz < sr / 2:
        raise ParameterError(f"crossover_hz={crossover_hz}: use 0 < crossover_hz < sr / 2")
    t0 = max(0.0, predelay_ms) / 1000
    early_s = min(max(3 * size_m / SPEED_OF_SOUND_M_S, 0.01), 0.15)
    n = int(np.ceil((t0 + decay_s * TAIL_DB / 60) * sr))
    t = np.maximum(np.arange(n) / sr - t0, 0.0)
    rate = 3 * np.log(10) / decay_s  # amplitude exp(-rate t): energy -60 dB at decay_s
    onset = (np.arange(n) / sr >= t0) * -np.expm1(-t / (early_s / 3))  # diffuse build-up
    noise = rng.standard_normal((2, n))
    low = signal.sosfilt(signal.butter(4, crossover_hz, "low", fs=sr, output="sos"), noise, axis=1)
    high = signal.sosfilt(signal.butter(4, crossover_hz, "high", fs=sr, output="sos"), noise, axis=1)
    tail = onset * (low * np.exp(-rate * t) + high * np.exp(-rate / hf_damping * t))
    n_early = int(np.clip(round(4 + size_m / 2), 6, 20))
    ir = np.empty((2, n))
    for ch in range(2):
        times = t0 + np.sort(rng.uniform(0.0, early_s, n_early))
        amps = rng.choice([-1.0, 1.0], n_early) * rng.uniform(0.3, 1.0, n_early) * np.exp(-rate * (times - t0))
        early = np.zeros(n)
        np.add.at(early, np.minimum((times * sr).astype(int), n - 1), amps)
        tail_e = float(np.sum(tail[ch] ** 2))
        early *= np.sqrt(EARLY_ENERGY / (1 - EARLY_ENERGY) * tail_e / max(float(np.sum(early ** 2)), 1e-30))
        ir[ch] = early + tail[ch]
        ir[ch] /= np.sqrt(np.sum(ir[ch] ** 2))
    return ir.astype(np.float32)


def schroeder_rt60(ir: np.ndarray, sr: int, *, band_hz: tuple[float, float] | None = (707.0, 1414.0),
                   range_db: tuple[float, float] = (-5.0, -25.0)) -> float:
    """RT60 (s) of a mono ``ir`` from its Schroeder energy decay curve (ISO 3382-1 T20 by default):
    the EDC's least-squares slope between ``range_db`` extrapolated to 60 dB, in the octave band
    ``band_hz`` (1 kHz; ``None``: broadband)."""
    x = np.asarray(ir, dtype=np.float64)
    if band_hz is not None:
        x = signal.sosfiltfilt(signal.butter(3, band_hz, "bandpass", fs=sr, output="sos"), x)
    edc = np.cumsum((x ** 2)[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0] + 1e-300)
    hi, lo = range_db
    sel = (edc_db <= hi) & (edc_db >= lo)
    slope = np.polyfit(np.flatnonzero(sel) / sr, edc_db[sel], 1)[0]
    return float(-60.0 / slope)
