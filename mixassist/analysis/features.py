"""Measured features of a stem (or a mix): spectral balance, dynamics and stereo image.

Every function takes what one STFT pass produced (:func:`.spectrum.band_spectrogram`) and returns
plain numbers; nothing here depends on a trained model. The feature set
follows the descriptors used to analyse multitrack mixes by De Man, Leonard, King & Reiss (2014),
"An analysis and evaluation of audio features for multitrack music mixtures" (ISMIR): loudness,
spectral centroid and balance, crest factor, loudness range, stereo width and balance.
"""

from __future__ import annotations

import numpy as np

from .spectrum import OCTAVE_CENTRES_HZ, BandSpectrogram

FLOOR_DB = -120.0
WIDTH_MAX = 100.0  # side/mid ratio reported for (nearly) pure out-of-phase material
_EPS = 1e-12


def to_db(power: np.ndarray | float, *, floor_db: float = FLOOR_DB) -> np.ndarray | float:
    """``10 log10(power)``, floored at ``floor_db``."""
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), floor_db)


def active_mean(values: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Mean over the active frames (axis 0), or over all frames when none is active."""
    return values[active].mean(axis=0) if active.any() else values.mean(axis=0)


def spectral_balance(spec: BandSpectrogram, active: np.ndarray) -> dict:
    """Spectral shape of a stem while it plays.

    Returns
    -------
    dict with
      ``octave_db`` : list[float] (10) — ISO octave-band level re the stem's total power, dB;
      ``bark_db`` : list[float] (24) — critical-band level re the total power, dB;
      ``centroid_hz`` : float — power-weighted mean frequency (20 Hz .. 20 kHz);
      ``tilt_db_per_octave`` : float — least-squares slope of ``octave_db`` against log2 of the
      band centre over the bands within 60 dB of the strongest one (0 for silence).
    Band levels are relative, so they do not change with the stem's gain.
    """
    octave = active_mean(spec.octave, active).astype(np.float64)
    bark = active_mean(spec.bark, active).astype(np.float64)
    total = max(float(active_mean(spec.power, active)), _EPS)
    octave_db = to_db(octave / total)
    bark_db = to_db(bark / total)
    band = (spec.freqs_hz >= 20.0) & (spec.freqs_hz <= 20_000.0)
    weight = spec.long_term[band]
    centroid = float((spec.freqs_hz[band] * weight).sum() / weight.sum()) if weight.sum() > 0 \
        else 0.0
    usable = (octave_db > octave_db.max() - 60.0) & (octave > 0) \
        & (OCTAVE_CENTRES_HZ < spec.freqs_hz[-1])
    tilt = float(np.polyfit(np.log2(OCTAVE_CENTRES_HZ[usable]), octave_db[usable], 1)[0]) \
        if usable.sum() >= 2 else 0.0
    return {"octave_db": octave_db.tolist(), "bark_db": bark_db.tolist(),
            "centroid_hz": centroid, "tilt_db_per_octave": tilt}


def dynamics(spec: BandSpectrogram, active: np.ndarray) -> dict:
    """Peak and crest factor of a stem.

    Returns ``peak_dbfs`` (sample peak, ``spec.peak``), ``rms_dbfs`` (RMS over the active frames, per channel
    average, so a full-scale sine reads -3.01) and ``crest_db`` = peak minus RMS (a sine reads
    3.01 dB, a drum loop 15-20 dB). Loudness range comes from :mod:`mixassist.loudness`.
    """
    peak = spec.peak
    ms = float(active_mean(spec.power, active)) / spec.channels
    peak_db = float(to_db(peak ** 2))
    rms_db = float(to_db(ms))
    return {"peak_dbfs": peak_db, "rms_dbfs": rms_db,
            "crest_db": peak_db - rms_db if peak > 0 else 0.0}


def stereo_image(spec: BandSpectrogram) -> dict:
    """Stereo width, correlation and balance from the long-term left, right and cross spectra.

    ``width`` is the side-to-mid energy ratio ``E[S^2] / E[M^2]`` with ``M = (L + R) / 2`` and
    ``S = (L - R) / 2``: 0 for mono, 1 for uncorrelated channels of equal level, large for
    out-of-phase material (capped at ``WIDTH_MAX``). ``correlation`` is the zero-lag normalised
    cross-correlation of L and R (-1 .. 1), ``balance_db`` is ``10 log10(E[L^2] / E[R^2])``
    (positive: left-heavy). Energies come from the STFT (Parseval), so no extra pass over the
    samples. Mono input reads width 0, correlation 1, balance 0; silence width 0, correlation 0.
    """
    ll, rr, lr = (float(v) for v in spec.channel_power.sum(axis=1))
    if ll + rr <= 0.0:
        return {"width": 0.0, "correlation": 0.0, "balance_db": 0.0}
    mid, side = ll + rr + 2 * lr, max(ll + rr - 2 * lr, 0.0)  # 4 E[M^2] and 4 E[S^2]
    return {"width": min(side / max(mid, 1e-30), WIDTH_MAX),
            "correlation": lr / np.sqrt(ll * rr) if ll > 0 and rr > 0 else 0.0,
            "balance_db": float(np.clip(to_db(ll) - to_db(rr), -120.0, 120.0))}
