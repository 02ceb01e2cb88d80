"""Masking between stems per critical band and over time: who masks whom, where and when.

The measure follows the masker-to-signal-ratio approach of Hafezi & Reiss (2015), "Autonomous
multitrack equalization based on masking reduction" (JAES 63(5)), which derives each track's
masking threshold with a perceptual-coder model and compares it with the other tracks' energy.
Here the threshold model is the classic one of Johnston (1988), "Transform coding of audio signals
using perceptual noise criteria" (IEEE JSAC 6(2)):

1. power in the 24 critical bands of Zwicker (1961) (:mod:`.spectrum`);
2. spread across bands with the spreading function of Schroeder, Atal & Hall (1979),
   ``SF(dz) = 15.81 + 7.5 (dz + 0.474) - 17.5 sqrt(1 + (dz + 0.474)^2)`` dB, ``dz`` = maskee
   minus masker band in Bark (shallow towards high frequencies, steep towards low ones);
3. lowered by the offset ``O(z) = a (14.5 + z) + (1 - a) 5.5`` dB, with the tonality ``a`` from
   the frame's spectral flatness, ``a = min(SFM_dB / -60, 1)`` (a tone masks less than noise).

Stem A masks stem B in band z of frame t when A's threshold exceeds B's power there
(masker-to-signal ratio ``MSR = T_A / P_B > 0 dB``). Only cells where B is present count: B is
active in that frame (:mod:`.activity`) and the band is within ``presence_db`` of B's loudest band
in the frame. A pair is summarised by the fraction of B's present cells that A masks, per band
and overall, the mean excess (MSR in dB over the masked cells) and the time regions where A masks
at least half of B's present bands.
"""

from __future__ import annotations

import numpy as np

from .activity import mask_to_regions
from .spectrum import BARK_CENTRES_HZ, BARK_EDGES_HZ, BandSpectrogram

_EPS = 1e-20


def spreading_matrix(n_bands: int = 24) -> np.ndarray:
    """Linear spreading weights [shape=(masker band, maskee band)] (Schroeder et al. 1979)."""
    dz = np.arange(n_bands)[None, :] - np.arange(n_bands)[:, None] + 0.474
    sf_db = 15.81 + 7.5 * dz - 17.5 * np.sqrt(1.0 + dz ** 2)
    return (10.0 ** (sf_db / 10.0)).astype(np.float32)


def masking_threshold(bark: np.ndarray, flatness: np.ndarray) -> np.ndarray:
    """Masking threshold [shape=(frames, 24)] (linear power) of a masker (Johnston 1988).

    Parameters
    ----------
    bark : np.ndarray [shape=(frames, 24)] — critical-band power of the masker.
    flatness : np.ndarray [shape=(frames,)] — its spectral flatness (0..1).
    """
    excitation = bark @ spreading_matrix(bark.shape[1])
    sfm_db = 10.0 * np.log10(np.maximum(flatness, _EPS))
    alpha = np.clip(sfm_db / -60.0, 0.0, 1.0)[:, None]
    z = np.arange(1, bark.shape[1] + 1)[None, :]
    offset_db = alpha * (14.5 + z) + (1.0 - alpha) * 5.5
    return excitation * 10.0 ** (-offset_db / 10.0)


def presence(bark: np.ndarray, active: np.ndarray, *, presence_db: float = 30.0) -> np.ndarray:
    """Cells [shape=(frames, 24)] where a stem is present: active frame, band within range."""
    loudest = bark.max(axis=1, keepdims=True)
    return active[:, None] & (bark > loudest * 10.0 ** (-presence_db / 10.0)) & (bark > _EPS)


def masker_to_signal_db(threshold: np.ndarray, bark: np.ndarray) -> np.ndarray:
    """Masker-to-signal ratio in dB [shape=(frames, 24)]: masker threshold over target power."""
    return 10.0 * np.log10(np.maximum(threshold, _EPS) / np.maximum(bark, _EPS))


def pair_masking(threshold: np.ndarray, target: BandSpectrogram, present: np.ndarray, *,
                 min_band_fraction: float = 0.1, min_region_s: float = 0.5,
                 duration_s: float | None = None) -> dict | None:
    """Summarise how much a masker (given by its threshold) masks ``target``.

    Returns None when the target is never present, else a dict with ``masked_fraction`` (0..1
    of the target's present cells), ``mean_excess_db``, ``bands`` (each band masked in at least
    ``min_band_fraction`` of the frames where the target is present at all: ``band``, ``low_hz``,
    ``high_hz``, ``centre_hz``, ``masked_fraction``, ``excess_db``) and ``regions``
    (``[(start_s, end_s)]`` where at least half the target's present bands are masked).
    """
    if not present.any():
        return None
    msr = masker_to_signal_db(threshold, target.bark)
    masked = present & (msr > 0.0)
    n_masked = masked.sum(axis=0)
    excess = np.where(masked, msr, 0.0).sum(axis=0) / np.maximum(n_masked, 1)
    band_fraction = n_masked / max(int(present.any(axis=1).sum()), 1)
    bands = [{"band": int(b), "low_hz": float(BARK_EDGES_HZ[b]),
              "high_hz": float(BARK_EDGES_HZ[b + 1]), "centre_hz": float(BARK_CENTRES_HZ[b]),
              "masked_fraction": float(band_fraction[b]), "excess_db": float(excess[b])}
             for b in np.nonzero((band_fraction >= min_band_fraction) & (n_masked > 0))[0]]
    per_frame = masked.sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    regions = mask_to_regions((per_frame >= 0.5) & present.any(axis=1), target.hop_s,
                              min_active_s=min_region_s, min_gap_s=min_region_s,
                              duration_s=duration_s)
    total_masked = int(n_masked.sum())
    return {"masked_fraction": total_masked / int(present.sum()),
            "mean_excess_db": float(np.where(masked, msr, 0.0).sum() / max(total_masked, 1)),
            "bands": bands, "regions": regions}


def masking_matrix(spectra: dict[str, BandSpectrogram], active: dict[str, np.ndarray], *,
                   presence_db: float = 30.0, min_fraction: float = 0.01,
                   duration_s: float | None = None) -> list[dict]:
    """Masking for every ordered pair of stems (masker, target).

    Parameters
    ----------
    spectra : name -> :class:`BandSpectrogram` of each stem (same frame grid).
    active : name -> activity mask [shape=(frames,)].
    min_fraction : pairs whose overall masked fraction is below this are left out.
    duration_s : length of the stems; regions end there at the latest.

    Returns ``[{"masker", "target", **pair_masking(...)}]`` sorted by decreasing masked fraction.
    """
    thresholds = {n: masking_threshold(s.bark, s.flatness) for n, s in spectra.items()}
    present = {n: presence(s.bark, active[n], presence_db=presence_db) for n, s in spectra.items()}
    out = []
    for masker, threshold in thresholds.items():
        for target, spec in spectra.items():
            if target == masker:
                continue
            pair = pair_masking(threshold, spec, present[target], duration_s=duration_s)
            if pair is not None and pair["masked_fraction"] >= min_fraction:
                out.append({"masker": masker, "target": target, **pair})
    out.sort(key=lambda p: (-p["masked_fraction"], p["masker"], p["target"]))
    return out
