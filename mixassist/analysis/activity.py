"""Where a stem plays: gated frame loudness with hysteresis and minimum durations.

BS.1770 short-term loudness (3 s window) smears onsets by up to 1.5 s, too coarse for "the vocal
enters at 12.3 s", so activity uses the K-weighted frame power of :mod:`.spectrum` (46 ms frames,
23 ms hop) smoothed over ``smooth_s``, expressed in LUFS like BS.1770 (-0.691 + 10 log10 power).
A frame switches on above ``on`` and off below ``on - hysteresis_db``, where ``on`` is
``relative_db`` under the stem's loud level (95th percentile of its frame loudness above the
absolute gate) but never below
the BS.1770 absolute gate of -70 LUFS. Gaps shorter than ``min_gap_s`` are bridged, then regions
shorter than ``min_active_s`` dropped.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

ABSOLUTE_GATE_LUFS = -70.0  # ITU-R BS.1770-4 absolute gate
#: A stem whose power while it plays is this far under the mix's is separation leakage (dB):
#: what a separator leaves in the stem of an instrument the song lacks. Measured on 24 separated
#: development songs (:func:`is_leakage`'s statistic): 17 stems of absent parts 29-42 dB under
#: the mix and one 23.5 dB, stems of parts that play 1-21 dB under; no true stem of the generated
#: datasets lower than 23 dB under (docs/structure.md).
LEAKAGE_DB = -25.0


def frame_loudness(k_power: np.ndarray, hop_s: float, *, smooth_s: float = 0.1) -> np.ndarray:
    """Smoothed frame loudness in LUFS [shape=(frames,)] from K-weighted frame power."""
    n = max(1, int(round(smooth_s / hop_s)))
    smooth = uniform_filter1d(k_power.astype(np.float64), n, mode="constant")
    return -0.691 + 10.0 * np.log10(np.maximum(smooth, 1e-30))


def hysteresis(values: np.ndarray, on: float, off: float) -> np.ndarray:
    """Boolean mask [shape=values.shape]: True from a rise above ``on`` until a fall below ``off``.

    Vectorised: each frame takes the state of the last frame that crossed either threshold.
    """
    state = np.where(values > on, 1, np.where(values < off, 0, -1))
    idx = np.where(state >= 0, np.arange(values.size), 0)
    np.maximum.accumulate(idx, out=idx)
    first = state[0] if state[0] >= 0 else 0
    return np.where(state[idx] >= 0, state[idx], first).astype(bool)


def mask_to_regions(mask: np.ndarray, hop_s: float, *, min_active_s: float = 0.5,
                    min_gap_s: float = 0.5, duration_s: float | None = None,
                    ) -> list[tuple[float, float]]:
    """Turn a frame mask into ``[(start_s, end_s), ...]``; frame ``i`` covers ``i*hop_s`` +- hop/2.

    Gaps under ``min_gap_s`` are bridged first, then regions under ``min_active_s`` dropped
    (under half the signal's duration for clips shorter than ``2 * min_active_s``). Regions end
    at ``duration_s`` at the latest (default: the end of the last frame's hop).
    """
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    regions: list[list[int]] = []
    for a, b in zip(starts, stops):
        if regions and (a - regions[-1][1]) * hop_s < min_gap_s:
            regions[-1][1] = b
        else:
            regions.append([a, b])
    last = mask.size * hop_s if duration_s is None else duration_s
    min_active_s = min(min_active_s, 0.5 * last)
    out = []
    for a, b in regions:
        start, end = max(0.0, (a - 0.5) * hop_s), min(last, (b - 0.5) * hop_s)
        if end - start >= min_active_s:
            out.append((start, end))
    return out


def activity_mask(k_power: np.ndarray, hop_s: float, *, relative_db: float = 30.0,
                  hysteresis_db: float = 6.0, smooth_s: float = 0.1) -> np.ndarray:
    """Frames where a stem plays [shape=(frames,)] (see the module docstring)."""
    loud = frame_loudness(k_power, hop_s, smooth_s=smooth_s)
    gated = loud[loud > ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return np.zeros(loud.size, dtype=bool)
    ref = float(np.percentile(gated, 95))
    on = max(ref - relative_db, ABSOLUTE_GATE_LUFS)
    return hysteresis(loud, on, on - hysteresis_db)


def is_leakage(stem_power: np.ndarray, mix_power: np.ndarray, active: np.ndarray, *,
               threshold_db: float = LEAKAGE_DB) -> bool:
    """Whether a stem is leakage rather than a part: its mean power over the frames where it is
    active lies more than ``-threshold_db`` dB under the mix's mean power over the same frames.

    Averaging over the stem's own active frames keeps a sparse part (one riser, a few crashes)
    from reading as leakage: what counts is how loud it is against the mix when it plays.

    Parameters
    ----------
    stem_power, mix_power : np.ndarray [shape=(frames,)] linear frame power of the stem and the
        mix on the same frame grid.
    active : np.ndarray [shape=(frames,)] bool, the stem's activity mask.
    """
    if not np.any(active):
        return False
    return bool(np.mean(stem_power[active]) < np.mean(mix_power[active]) * 10 ** (threshold_db / 10))


def overlap_fraction(regions, start_s: float, end_s: float) -> float:
    """Fraction of ``[start_s, end_s]`` covered by ``regions`` (``[(start_s, end_s), ...]``)."""
    total = sum(max(0.0, min(b, end_s) - max(a, start_s)) for a, b in regions)
    return total / max(end_s - start_s, 1e-9)


def playing_stems(activity: dict[str, list[tuple[float, float]]], start_s: float, end_s: float,
                  *, min_fraction: float = 0.5) -> list[str]:
    """Stems (in ``activity``'s order) active over at least ``min_fraction`` of a time span:
    the stems of a section, from the activity regions of :func:`activity_mask`."""
    return [n for n, regions in activity.items()
            if overlap_fraction(regions, start_s, end_s) >= min_fraction]
