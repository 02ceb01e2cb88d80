"""Cheap pitch range and monophony from the power spectrum already computed for the bands.

Per frame, the salience of each f0 candidate (semitone grid, A1 = 55 Hz .. A6 = 1760 Hz) is the
weighted sum of the magnitude spectrum at its first :data:`HARMONICS` harmonics, weights
``0.85^(h-1)`` — harmonic summation after Klapuri (2006), "Multiple fundamental frequency
estimation by summing harmonic amplitudes" (ISMIR), without its iterative cancellation. The
frame's f0 is the most salient candidate whose fundamental is present; its *harmonicity* is the
share of the frame's power (55 Hz .. 5 kHz) lying within one bin of that f0's harmonics. One voice explains most of its
frame (harmonicity near 1); a chord of three notes explains about a third. A stem's monophony is
the median harmonicity over its active frames; its pitch range the 5th-95th percentile of f0 over
its voiced frames. Coarse by design (23 ms frames, 21.5 Hz bins at 44.1 kHz): a description, not a
transcription.
"""

from __future__ import annotations

import numpy as np

HARMONICS = 8
F0_MIN_HZ = 55.0
F0_MAX_HZ = 1760.0
#: A candidate's fundamental must be within this of the frame's strongest bin (dB).
FUNDAMENTAL_DB = -20.0
#: A frame is voiced when its best f0 explains at least this share of its power.
VOICED_HARMONICITY = 0.3
_CANDIDATES_HZ = F0_MIN_HZ * 2.0 ** (np.arange(0, 12 * np.log2(F0_MAX_HZ / F0_MIN_HZ) + 1) / 12)
#: Harmonics and power are counted in this band (Hz).
PITCH_BAND_HZ = (55.0, 5000.0)


def salience_matrix(freqs_hz: np.ndarray, harmonics: int = HARMONICS) -> np.ndarray:
    """Harmonic-summation weights [shape=(bins, candidates)] (linear interpolation between bins).

    Harmonics above ``freqs_hz[-1]`` are left out, so pass the bins up to the top of
    :data:`PITCH_BAND_HZ`.
    """
    step = freqs_hz[1] - freqs_hz[0]
    out = np.zeros((freqs_hz.size, _CANDIDATES_HZ.size), np.float32)
    for h in range(1, harmonics + 1):
        pos = h * _CANDIDATES_HZ / step
        lo = np.floor(pos).astype(int)
        frac = pos - lo
        ok = lo + 1 < freqs_hz.size
        cols = np.nonzero(ok)[0]
        weight = 0.85 ** (h - 1)
        np.add.at(out, (lo[ok], cols), weight * (1.0 - frac[ok]))
        np.add.at(out, (lo[ok] + 1, cols), weight * frac[ok])
    return out


def frame_pitch(power: np.ndarray, freqs_hz: np.ndarray, salience: np.ndarray,
                fundamental: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best f0 (Hz) and its harmonicity (0..1) per frame, both [shape=(frames,)].

    ``power`` [shape=(frames, bins)] is the power spectrum; ``salience`` and ``fundamental``
    are :func:`salience_matrix` for the same ``freqs_hz`` with all and with one harmonic. A
    candidate needs its fundamental within :data:`FUNDAMENTAL_DB` of the frame's strongest bin,
    so a major triad (harmonics 4:5:6 of a silent root) is not read as one low note.
    """
    mag = np.sqrt(power)
    strong = (mag @ fundamental) >= mag.max(axis=1, keepdims=True) * 10 ** (FUNDAMENTAL_DB / 20)
    best = np.argmax(np.where(strong, mag @ salience, -1.0), axis=1)
    f0 = _CANDIDATES_HZ[best]
    step = freqs_hz[1] - freqs_hz[0]
    band = (freqs_hz >= PITCH_BAND_HZ[0]) & (freqs_hz <= PITCH_BAND_HZ[1])
    total = power[:, band].sum(axis=1)
    explained = np.zeros(power.shape[0], np.float64)
    rows = np.arange(power.shape[0])
    for h in range(1, HARMONICS + 1):
        centre = np.rint(h * f0 / step).astype(int)
        for offset in (-1, 0, 1):
            idx = centre + offset
            ok = (idx >= 0) & (idx < freqs_hz.size)
            idx = np.clip(idx, 0, freqs_hz.size - 1)
            inside = band[idx]
            explained += np.where(ok & inside, power[rows, idx], 0.0)
    harmonicity = np.where(total > 0, explained / np.maximum(total, 1e-30), 0.0)
    return f0.astype(np.float32), np.minimum(harmonicity, 1.0).astype(np.float32)


def pitch_summary(f0_hz: np.ndarray, harmonicity: np.ndarray, active: np.ndarray, *,
                  min_voiced: float = 0.1) -> dict:
    """Pitch range and monophony of a stem.

    Returns ``monophony`` (median harmonicity over the active frames, 0..1; None when none is
    active), ``voiced_fraction`` (share of the active frames with harmonicity >=
    :data:`VOICED_HARMONICITY`), and ``pitch_low_hz``/``pitch_high_hz`` (5th and 95th percentile
    of f0 over the voiced active frames; None when under ``min_voiced`` of them are voiced).
    """
    if not active.any():
        return {"pitch_low_hz": None, "pitch_high_hz": None, "monophony": None,
                "voiced_fraction": 0.0}
    voiced = active & (harmonicity >= VOICED_HARMONICITY)
    fraction = float(voiced.sum() / active.sum())
    monophony = float(np.median(harmonicity[active]))
    if fraction < min_voiced:
        return {"pitch_low_hz": None, "pitch_high_hz": None, "monophony": monophony,
                "voiced_fraction": fraction}
    low, high = np.percentile(f0_hz[voiced], [5, 95])
    return {"pitch_low_hz": float(low), "pitch_high_hz": float(high), "monophony": monophony,
            "voiced_fraction": fraction}
