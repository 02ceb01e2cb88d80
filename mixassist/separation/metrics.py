"""Separation quality: SDR as defined by the Music Demixing Challenge.

Mitsufuji et al. 2022, "Music Demixing Challenge 2021", eq. 1: per song and source,
``SDR = 10 log10((sum s^2 + delta) / (sum (s - s_hat)^2 + delta))`` over all channels and
samples, ``delta = 1e-7``; a source's score over a test set is the median (MDX) or mean over songs.
"""

from __future__ import annotations

import numpy as np

#: The MDX regulariser (keeps the ratio finite for silent references or perfect estimates).
DELTA = 1e-7
#: References quieter than this (RMS, dBFS) are "absent": their SDR is undefined (museval gives
#: NaN too) and they are left out of per-stem aggregates.
SILENT_RMS_DB = -60.0


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """MDX SDR in dB of one source of one song.

    reference, estimate : np.ndarray [shape=(channels, samples)] (or any equal shapes)
    """
    reference = np.asarray(reference, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    if reference.shape != estimate.shape:
        raise ValueError(f"reference {reference.shape} and estimate {estimate.shape} differ in shape")
    num = np.sum(reference ** 2) + DELTA
    den = np.sum((reference - estimate) ** 2) + DELTA
    return float(10 * np.log10(num / den))


def is_silent(reference: np.ndarray) -> bool:
    """True when the reference's RMS is below :data:`SILENT_RMS_DB` (SDR undefined)."""
    rms = float(np.sqrt(np.mean(np.asarray(reference, dtype=np.float64) ** 2)))
    return rms < 10 ** (SILENT_RMS_DB / 20)


def song_sdrs(references: dict[str, np.ndarray], estimates: dict[str, np.ndarray]) -> dict[str, float]:
    """SDR per source of one song; sources with a silent reference get NaN."""
    return {name: (float("nan") if is_silent(ref) else sdr(ref, estimates[name]))
            for name, ref in references.items()}
