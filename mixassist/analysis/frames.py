"""Frame levels of the structure analysis: per-stem RMS frames, the frame mask the segmentation
uses as a feature, and the song's energy/density curve.

In :func:`level_mask` a frame counts when its RMS level is within ``threshold_db`` of the stem's
own loud level (95th percentile of frame levels) and above an absolute floor; short gaps are
closed and short blips dropped (morphological closing then opening on the frame mask). It feeds
the segmentation (which bars a stem fills) and the structure analysis' own choices (which drum
stems drive the beat tracker). Where a stem plays in the analysis document, and so which stems
play in a section, is the one activity rule of :mod:`.activity`.
"""

from __future__ import annotations

import numpy as np

#: Frame levels below this are silence whatever the stem's own level, dBFS.
FLOOR_DBFS = -70.0


def frame_rms_db(y: np.ndarray, frame_length: int) -> np.ndarray:
    """RMS level of non-overlapping frames in dBFS, [shape=(ceil(samples / frame_length),)]."""
    n = int(np.ceil(len(y) / frame_length)) * frame_length
    padded = np.zeros(n, dtype=np.float64)
    padded[:len(y)] = y
    ms = np.mean(padded.reshape(-1, frame_length) ** 2, axis=1)
    return 10.0 * np.log10(np.maximum(ms, 1e-14))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def level_mask(level_db: np.ndarray, *, threshold_db: float = 30.0, frame_s: float,
                  min_gap_s: float = 1.0, min_active_s: float = 0.3) -> np.ndarray:
    """Boolean activity per frame from frame levels (see module docstring).

    Parameters
    ----------
    level_db : np.ndarray [shape=(frames,)] frame RMS in dBFS.
    threshold_db : how far below the stem's 95th-percentile level a frame still counts as active.
    frame_s : frame duration in seconds.
    min_gap_s : silent gaps shorter than this inside activity are filled.
    min_active_s : active runs shorter than this (after filling) are dropped.
    """
    if len(level_db) == 0:
        return np.zeros(0, dtype=bool)
    ref = np.percentile(level_db, 95)
    mask = level_db > max(ref - threshold_db, FLOOR_DBFS)
    for start, end in _runs(~mask):
        if start > 0 and end < len(mask) and (end - start) * frame_s < min_gap_s:
            mask[start:end] = True
    for start, end in _runs(mask):
        if (end - start) * frame_s < min_active_s:
            mask[start:end] = False
    return mask


def mask_to_intervals(mask: np.ndarray, frame_s: float, duration_s: float) -> list[tuple[float, float]]:
    """Active runs of a frame mask as ``(start_s, end_s)`` pairs clipped to the duration."""
    return [(round(float(a * frame_s), 4), round(float(min(b * frame_s, duration_s)), 4))
            for a, b in _runs(mask)]


def onset_density(onset_times_s: np.ndarray, times_s: np.ndarray, *, window_s: float = 2.0) -> np.ndarray:
    """Onsets per second in a centred window around each time, [shape=times_s.shape]."""
    onset_times_s = np.sort(onset_times_s)
    lo = np.searchsorted(onset_times_s, times_s - window_s / 2)
    hi = np.searchsorted(onset_times_s, times_s + window_s / 2)
    return (hi - lo) / window_s
