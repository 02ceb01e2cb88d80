"""Section boundaries and labels from bar-synchronous features.

Boundaries: a self-similarity matrix of bar features (timbre, harmony, which stems play, level) is
scanned along its diagonal with Gaussian-tapered checkerboard kernels at two scales, and the peaks
of the summed novelty are the boundaries (Foote 2000, "Automatic audio segmentation using a
measure of audio novelty", Proc. IEEE ICME). Letters: segments are clustered by their mean
feature vectors (average-linkage on cosine distance) and every segment gets its cluster's letter
(A, B, C ... in order of first appearance, :func:`letter_segments`), primed (A') where a repeat
differs from the cluster's first occurrence. Names (:func:`name_segments`) follow the usual
pop-form heuristics, but only where the evidence holds: a sung, clearly louder repeated part is
the chorus (:data:`CHORUS_MARGIN_DB`), the other sung repeated part the verse, a short part
leading into a chorus the pre-chorus, an unrepeated part between choruses the bridge, a quiet
part where the drums drop out a breakdown, a quieter unsung unrepeated first/last part the
intro/outro.
Every other segment keeps its letter (docs/structure.md, "Section names and letters").
"""

from __future__ import annotations

from dataclasses import dataclass

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


#: A section's level (dB) or the stems playing in it that differ from its cluster's first
#: occurrence make a repeat primed (A'): the same material, noticeably varied.
PRIME_LEVEL_DB = 3.0
#: The chorus: the loudest repeated cluster, every occurrence at least this many dB (mean level
#: of the segment) above the next loudest repeated cluster's mean level, or above the mean of
#: the rest of the body where no other cluster repeats.
CHORUS_MARGIN_DB = 1.5
#: A segment is sung when a vocal stem is active over at least this fraction of it; a cluster
#: is sung when the mean over its segments is.
SUNG_MIN = 0.5
#: Intro/outro: an unrepeated, unsung first/last segment at least this many dB under the median
#: level.
END_QUIET_DB = 1.0
#: Breakdown: drums active under this fraction of a middle segment (while they play, at least
#: half the time, elsewhere), its level this many dB under the median.
DRUMS_OUT = 0.2
BREAKDOWN_QUIET_DB = 3.0


def letter(cluster: int) -> str:
    """``0 -> "A"``, ``25 -> "Z"``, ``26 -> "AA"``: the letter of a cluster id."""
    out = ""
    cluster += 1
    while cluster:
        cluster, r = divmod(cluster - 1, 26)
        out = chr(65 + r) + out
    return out


def letter_segments(clusters: np.ndarray, energy_db: np.ndarray,
                    playing: list[frozenset[str]]) -> list[str]:
    """Letters of segments in song order: their cluster's letter (ids in order of first
    appearance, :func:`cluster_segments`), with a prime (``A'``) on a repeat whose stems playing
    differ from the cluster's first occurrence or whose mean level (dB) is
    :data:`PRIME_LEVEL_DB` or more away from it."""
    first: dict[int, int] = {}
    out = []
    for i, c in enumerate(int(c) for c in clusters):
        j = first.setdefault(c, i)
        varied = j != i and (playing[i] != playing[j]
                             or abs(energy_db[i] - energy_db[j]) >= PRIME_LEVEL_DB)
        out.append(letter(c) + ("'" if varied else ""))
    return out


@dataclass(frozen=True)
class Naming:
    """A segment's section name (None: it keeps its letter) and why, in words."""

    name: str | None
    reason: str


def name_segments(clusters: np.ndarray, energy_db: np.ndarray, bars: np.ndarray,
                  drums_active: np.ndarray, sung: np.ndarray) -> list[Naming]:
    """Section names, where the evidence holds, from cluster ids, mean level (dB), length in
    bars, drum activity and vocal activity (fractions 0..1) of each segment, in song order.

    intro/outro: an unrepeated, unsung first/last segment :data:`END_QUIET_DB` under the median
    level; chorus: the loudest repeated cluster of the rest, sung (:data:`SUNG_MIN`), every
    occurrence :data:`CHORUS_MARGIN_DB` louder than the next loudest repeated cluster's mean (than
    the rest of the body where none other repeats); verse: the next loudest repeated cluster,
    sung, where there is a chorus; pre-chorus: a part of at most 8 bars leading into a chorus;
    bridge: an unrepeated part between the first and the last chorus; breakdown: a middle part
    where the drums drop out (:data:`DRUMS_OUT`), :data:`BREAKDOWN_QUIET_DB` under the median.
    Every other segment keeps its letter, with the reason no name fits.
    """
    n = len(clusters)
    clusters = np.asarray(clusters, dtype=int)
    energy_db = np.asarray(energy_db, dtype=float)
    sung = np.asarray(sung, dtype=float)
    if n < 2:
        return [Naming(None, "one section: nothing to compare")] * n
    names: list[str | None] = [None] * n
    why = [""] * n
    med = float(np.median(energy_db))
    counts = np.bincount(clusters)
    for i, end in ((0, "intro"), (n - 1, "outro")):
        if (counts[clusters[i]] == 1 and sung[i] < SUNG_MIN
                and energy_db[i] < med - END_QUIET_DB):
            names[i] = end
            why[i] = (f"{end}: heard once, unsung, at the {'start' if i == 0 else 'end'}, "
                      f"{med - energy_db[i]:.1f} dB under the median level")
    body = [i for i in range(n) if names[i] is None]
    level = {c: float(np.mean(energy_db[clusters == c])) for c in set(clusters[body].tolist())}
    repeated = sorted((c for c in level if counts[c] > 1), key=lambda c: -level[c])
    chorus, margin, song_reason = _chorus(repeated, level, clusters, energy_db, sung, body)
    verse = None
    if chorus is not None and len(repeated) > 1 and _sung(repeated[1], clusters, sung):
        verse = repeated[1]
    choruses = [i for i in body if clusters[i] == chorus]
    drums_play = np.mean(np.asarray(drums_active) >= 0.5) >= 0.5
    for i in body:
        c = int(clusters[i])
        if c == chorus:
            names[i] = "chorus"
            why[i] = (f"chorus: the loudest repeated part, sung, {margin:.1f} dB above the "
                      f"{'next repeated part' if len(repeated) > 1 else 'rest'}")
        elif c == verse:
            names[i] = "verse"
            why[i] = (f"verse: the next loudest repeated part, sung, "
                      f"{level[chorus] - level[c]:.1f} dB under the chorus")
        elif (chorus is not None and i + 1 < n and clusters[i + 1] == chorus and bars[i] <= 8
              and i > 0 and clusters[i - 1] != chorus):
            names[i] = "pre-chorus"
            why[i] = f"pre-chorus: {int(bars[i])} bars leading into the chorus"
        elif (drums_play and drums_active[i] < DRUMS_OUT and 0 < i < n - 1
              and energy_db[i] < med - BREAKDOWN_QUIET_DB):
            names[i] = "breakdown"
            why[i] = (f"breakdown: the drums drop out, {med - energy_db[i]:.1f} dB under the "
                      "median level")
        elif choruses and counts[c] == 1 and choruses[0] < i < choruses[-1]:
            names[i] = "bridge"
            why[i] = "bridge: a part heard once, between choruses"
        else:
            why[i] = song_reason or "no section name fits this part: lettered"
    return [Naming(name, reason) for name, reason in zip(names, why)]


def _sung(cluster: int, clusters: np.ndarray, sung: np.ndarray) -> bool:
    return float(np.mean(sung[clusters == cluster])) >= SUNG_MIN


def _chorus(repeated: list[int], level: dict[int, float], clusters: np.ndarray,
            energy_db: np.ndarray, sung: np.ndarray, body: list[int]
            ) -> tuple[int | None, float, str]:
    """``(chorus cluster, its margin in dB, "")``, or ``(None, margin, why)`` when the evidence
    names no chorus (hence no verse, pre-chorus or bridge either)."""
    if not np.any(sung >= SUNG_MIN):
        return None, 0.0, "no sung part: sections lettered"
    if not repeated:
        return None, 0.0, "no repeated part: sections lettered"
    top = repeated[0]
    quietest = float(np.min(energy_db[clusters == top]))
    if len(repeated) > 1:
        margin, than = quietest - level[repeated[1]], letter(repeated[1])
    else:
        others = [energy_db[i] for i in body if clusters[i] != top]
        margin, than = (quietest - float(np.mean(others)) if others else 0.0), "the rest"
    if margin < CHORUS_MARGIN_DB:
        return None, margin, (f"no clearly louder repeated part (the quietest {letter(top)} is "
                              f"{margin:.1f} dB above {than}, a chorus needs "
                              f"{CHORUS_MARGIN_DB:g} dB): sections lettered")
    if not _sung(top, clusters, sung):
        return None, margin, (f"the loudest repeated part ({letter(top)}) is not sung: "
                              "sections lettered")
    return top, margin, ""
