"""Reference balance: the level of every stem in the song's reference mix.

Model (procedural songs). Instrumental stems get loudness offsets drawn per part slot from normal
distributions (LU, relative to one another); the sung lead is then placed relative to the sum of
all other stems, ``N(-3, 2)`` LU, clipped to [-8, +2]. This follows the published analyses of
professional multitrack mixes: the lead vocal sits a few LU below the accompaniment with a spread
of about 2 LU (Pestana & Reiss 2014, "Intelligent audio production strategies informed by best
practices", AES 53rd Conf.; De Man, Leonard, King & Reiss 2014, "An analysis and evaluation of
audio features for multitrack music mixtures", ISMIR; Zafrin & Harrison 2016), and drums and bass
carry most of the accompaniment's loudness. The per-slot means below are mixassist's own
approximation of those qualitative findings, not values taken from one table.

``level_db`` (CONTRACT.md) is always *measured* afterwards: integrated loudness of the stem minus
that of the mix, ITU-R BS.1770-4 (:func:`mixassist.loudness.integrated_loudness`).
"""

from __future__ import annotations

import numpy as np

from ..loudness import integrated_loudness

#: (mean, standard deviation) in LU of each part slot, relative to the other instrumental parts.
SLOT_LEVELS_LU = {"drums": (0.0, 1.5), "bass": (-1.5, 2.0), "percussion": (-8.0, 2.5), "comp": (-4.0, 2.5),
                  "comp2": (-6.0, 2.5), "brass": (-6.0, 2.5), "pad": (-8.0, 3.0), "arp": (-7.0, 2.5),
                  "lead": (-2.0, 2.0), "counter": (-6.0, 2.0), "fx": (-10.0, 3.0)}
VOCAL_OVER_REST_LU = (-3.0, 2.0)
#: Loudness given to silence (-inf: nothing passes the BS.1770-4 absolute gate).
SILENT_LUFS = -70.0


def loudness_lufs(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness (ITU-R BS.1770-4, gated) of ``(channels, samples)`` audio, floored at -70."""
    value = integrated_loudness(np.asarray(audio, dtype=np.float32), sr)
    return float(max(value, SILENT_LUFS)) if np.isfinite(value) else SILENT_LUFS


def draw_targets(slots: list[str], rng: np.random.Generator) -> dict[str, float]:
    """Relative loudness (LU) for each instrumental slot (vocals are placed by :func:`balance`)."""
    out = {}
    for slot in slots:
        mean, sd = SLOT_LEVELS_LU.get(slot, (-6.0, 2.5))
        out[slot] = float(np.clip(rng.normal(mean, sd), mean - 2.5 * sd, mean + 2.5 * sd))
    return out


def balance(stems: dict[str, np.ndarray], sr: int, *, rng: np.random.Generator | None,
            loudness: dict[str, float], vocal_names: tuple[str, ...] = ("vocals",),
            ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Scale ``stems`` to a drawn reference balance (``rng``), or keep their levels (``rng=None``,
    MIDI corpora keep their authors' balance). ``loudness`` is each stem's integrated loudness (LUFS).
    Returns the scaled stems and the gain (dB) applied to each."""
    if rng is None:
        return stems, {name: 0.0 for name in stems}
    bed_names = [n for n in stems if n not in vocal_names]
    targets = draw_targets(bed_names, rng)
    gains = {n: targets[n] - loudness[n] - 20.0 for n in bed_names}
    out = {n: stems[n] * np.float32(10 ** (gains[n] / 20)) for n in bed_names}
    for name in vocal_names:
        if name in stems:
            bed = sum(out.values()) if out else np.zeros_like(stems[name])
            mean, sd = VOCAL_OVER_REST_LU
            offset = float(np.clip(rng.normal(mean, sd), -8.0, 2.0))
            gains[name] = loudness_lufs(bed, sr) + offset - loudness[name]
            out[name] = stems[name] * np.float32(10 ** (gains[name] / 20))
    return {n: out[n] for n in stems}, gains
