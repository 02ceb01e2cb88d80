"""Metrics of the real-music and transfer benchmarks (``benchmarks/real_music.py``, ``transfer.py``).

- **Tonal change** (:func:`tonal_change_db`): octave-band levels (63 Hz-8 kHz, power spectrum of
  the mono sum) of the output against the input after loudness matching (the output moved by the
  difference of integrated loudness, ITU-R BS.1770-4); the RMS over bands of the difference, dB.
  A change of gain alone scores 0.
- **Balance restoration** (:func:`restoration_errors`): every stem of a balanced mix is moved by a
  known perturbation ``p`` (dB); an estimate answers with a gain ``g`` per stem. The stem ends
  ``e = p + g`` away from the producer's balance; only the balance counts, so the error of a stem
  is ``|e - mean(e)|`` over the song's stems. "No change" is ``g = 0`` (the error is the
  perturbation's own spread); "equal loudness" puts every stem at one loudness
  (:func:`equal_loudness_gains`). A plan that exactly undoes the perturbation scores 0.
"""

from __future__ import annotations

import numpy as np

from .loudness import integrated_loudness

#: Octave-band centres of the tonal-change metric, Hz (IEC 61260 nominal).
OCTAVE_CENTRES_HZ = (63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
#: Stems quieter than this carry no balance and are left out of the restoration metric (LUFS).
SILENT_LUFS = -70.0


def octave_band_levels(audio: np.ndarray, sr: int, *,
                       centres: tuple[float, ...] = OCTAVE_CENTRES_HZ) -> np.ndarray:
    """Power per octave band (dB, arbitrary reference) of ``audio [shape=(channels, samples)]``.

    Welch-averaged power spectrum (4096-point Hann frames, half overlap) of the channels' sum;
    band ``fc`` covers ``fc / sqrt(2) .. fc * sqrt(2)``. Returns ``[len(centres)]``.
    """
    from scipy.signal import welch

    mono = np.asarray(audio, dtype=np.float64).sum(axis=0)
    freqs, power = welch(mono, fs=sr, nperseg=min(4096, mono.size), noverlap=None)
    levels = []
    for fc in centres:
        band = (freqs >= fc / np.sqrt(2)) & (freqs < fc * np.sqrt(2))
        levels.append(10 * np.log10(max(float(power[band].sum()), 1e-30)))
    return np.array(levels)


def tonal_change_db(before: np.ndarray, after: np.ndarray, sr: int) -> float:
    """RMS over octave bands (dB) of ``after``'s tonal balance minus ``before``'s, loudness-matched."""
    offset = integrated_loudness(before, sr) - integrated_loudness(after, sr)
    diff = octave_band_levels(after, sr) + offset - octave_band_levels(before, sr)
    return float(np.sqrt(np.mean(diff ** 2)))


def restoration_errors(perturbation_db: dict[str, float], gain_db: dict[str, float]) -> dict[str, float]:
    """``|e - mean(e)|`` per stem with ``e = perturbation + gain`` (dB); stems of both dicts only."""
    names = [n for n in perturbation_db if n in gain_db]
    e = np.array([perturbation_db[n] + gain_db[n] for n in names], dtype=float)
    return dict(zip(names, np.abs(e - e.mean()).tolist())) if names else {}


def equal_loudness_gains(loudness_lufs: dict[str, float]) -> dict[str, float]:
    """Gains (dB) that put every stem at one loudness (their mean), from each stem's LUFS."""
    mean = float(np.mean(list(loudness_lufs.values())))
    return {n: mean - v for n, v in loudness_lufs.items()}


def summarise_errors(rows: list[dict[str, float]]) -> dict:
    """Mean absolute error over every stem of ``rows`` (one dict per trial) and per stem name."""
    values = [v for r in rows for v in r.values()]
    names = sorted({n for r in rows for n in r})
    return {"mae_db": float(np.mean(values)) if values else float("nan"), "n": len(values),
            "per_stem": {n: float(np.mean([r[n] for r in rows if n in r])) for n in names}}
