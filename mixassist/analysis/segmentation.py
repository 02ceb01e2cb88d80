"""Section boundaries and labels from bar-synchronous features.

Boundaries: a self-similarity matrix of bar features (timbre, harmony, which stems play, level) is
scanned along its diagonal with Gaussian-tapered checkerboard kernels at two scales, and the peaks
of the summed novelty are the boundaries (Foote 2000, "Automatic audio segmentation using a
measure of audio novelty", Proc. IEEE ICME). Labels: segments are clustered by their mean feature
vectors (average-linkage on cosine distance), and clusters are named by repetition, energy and
position, following the usual pop-form heuristics (the most energetic repeated part is the chorus,
the other repeated part the verse, a short part leading into a chorus the pre-chorus, a quiet
part without drums a breakdown, an unrepeated middle part the bridge, quiet ends intro/outro).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

SECTION_LABELS = ("intro", "verse", "pre-chorus", "chorus", "bridge", "breakdown", "outro")


def standardize_groups(groups: list[np.ndarray]) -> np.ndarray:
    """Stack feature groups ``[shape=(dims_g, bars)]`` after z-scoring each row and scaling each
    group by ``1/sqrt(dims_g)``, so every group weighs the same. Returns [shape=(dims, bars)]."""
    out = []
    for g in groups:
        g = np.atleast_2d(np.asarray(g, dtype=float))
        sd = g.std(axis=1, keepdims=True)
        z = np.divide(g - g.mean(axis=1, keepdims=True), sd, out=np.zeros_like(g), where=sd > 1e-9)
        out.append(z / np.sqrt(g.shape[0]))
    return np.concatenate(out, axis=0)


def self_similarity(features: np.ndarray) -> np.ndarray:
    """Cosine self-similarity of the columns of ``features`` [shape=(dims, n)], [shape=(n, n)]."""
    norms = np.linalg.norm(features, axis=0)
    unit = np.divide(features, norms, out=np.zeros_like(features), where=norms > 1e-12)
    return unit.T @ unit


def checkerboard_kernel(half_width: int) -> np.ndarray:
    """Foote's Gaussian-tapered checkerboard kernel, [shape=(2*half_width, 2*half_width)]."""
    x = np.arange(-half_width, half_width) + 0.5
    taper = np.exp(-0.5 * (x / (0.5 * half_width)) ** 2)
    sign = np.sign(x)
    return np.outer(sign, sign) * np.outer(taper, taper)


def novelty(ssm: np.ndarray, half_width: int) -> np.ndarray:
    """Novelty at each bar boundary ``i`` (between bar ``i-1`` and bar ``i``), [shape=(n+1,)].

    The kernel is truncated at the matrix edges and normalised by the weight that remains, so the
    ends of the song are not favoured or suppressed.
    """
    n = ssm.shape[0]
    kernel = checkerboard_kernel(half_width)
    out = np.zeros(n + 1)
    for i in range(1, n):
        lo, hi = max(0, i - half_width), min(n, i + half_width)
        k = kernel[lo - i + half_width:hi - i + half_width, lo - i + half_width:hi - i + half_width]
        out[i] = (k * ssm[lo:hi, lo:hi]).sum() / np.abs(k).sum()
    return out


def pick_boundaries(nov: np.ndarray, *, min_bars: int = 2, rel_threshold: float = 0.35) -> list[int]:
    """Bar indices of novelty peaks: local maxima within ``min_bars`` that exceed
    ``rel_threshold`` of the way from the median to the maximum novelty."""
    n = len(nov)
    if n < 3:
        return []
    inner = nov[1 + min_bars:n - 1 - min_bars]
    if len(inner) == 0:
        return []
    thr = np.median(inner) + rel_threshold * (inner.max() - np.median(inner))
    peaks = []
    for i in range(1 + min_bars, n - 1 - min_bars):
        lo, hi = max(1, i - min_bars), min(n - 1, i + min_bars + 1)
        if nov[i] >= thr and nov[i] == nov[lo:hi].max() and nov[i] > 0:
            if not peaks or i - peaks[-1] > min_bars:
                peaks.append(i)
    return peaks


def cluster_segments(descriptors: np.ndarray, *, max_distance: float = 0.35) -> np.ndarray:
    """Cluster ids (0, 1, ... in order of first appearance) of segment descriptors
    [shape=(dims, segments)] by average-linkage clustering on cosine distance."""
    n = descriptors.shape[1]
    if n < 2:
        return np.zeros(n, dtype=int)
    norms = np.linalg.norm(descriptors, axis=0)
    if np.any(norms < 1e-12):
        descriptors = descriptors + 1e-6
    raw = fcluster(linkage(descriptors.T, method="average", metric="cosine"),
                   t=max_distance, criterion="distance")
    ids, order = {}, []
    for r in raw:
        ids.setdefault(r, len(ids))
        order.append(ids[r])
    return np.array(order)


def name_segments(clusters: np.ndarray, energy_db: np.ndarray, bars: np.ndarray,
                  drums_active: np.ndarray) -> list[str]:
    """Section labels from cluster ids, mean level (dB), length in bars and drum activity
    (fraction 0..1) of each segment, in song order."""
    n = len(clusters)
    if n == 0:
        return []
    if n == 1:
        return ["verse"]
    labels = [""] * n
    med = float(np.median(energy_db))
    counts = np.bincount(clusters)
    if energy_db[0] < med - 1.0 and counts[clusters[0]] == 1:
        labels[0] = "intro"
    if energy_db[-1] < med - 1.0 and counts[clusters[-1]] == 1:
        labels[-1] = "outro"
    body = [i for i in range(n) if not labels[i]]
    repeated = sorted({int(clusters[i]) for i in body if counts[clusters[i]] > 1},
                      key=lambda c: -np.mean(energy_db[clusters == c]))
    chorus = repeated[0] if repeated else None
    verse = repeated[1] if len(repeated) > 1 else None
    if chorus is not None and verse is None:
        # One repeated part: it is the chorus when it is the loudest part, else the verse.
        if np.mean(energy_db[clusters == chorus]) < max(energy_db[i] for i in body) - 1.0:
            chorus, verse = None, chorus
    for i in body:
        if clusters[i] == chorus:
            labels[i] = "chorus"
        elif clusters[i] == verse:
            labels[i] = "verse"
    for i in body:
        if labels[i]:
            continue
        before_chorus = i + 1 < n and labels[i + 1] == "chorus"
        if before_chorus and bars[i] <= 8 and i > 0 and labels[i - 1] != "chorus":
            labels[i] = "pre-chorus"
        elif drums_active[i] < 0.2 and energy_db[i] < med - 3.0 and 0 < i < n - 1:
            labels[i] = "breakdown"
        elif i == 0:
            labels[i] = "intro"
        elif i == n - 1:
            labels[i] = "outro"
        elif counts[clusters[i]] > 1 and chorus is None:
            labels[i] = "chorus"
        else:
            labels[i] = "bridge"
    return labels
