"""Reference balance: the level of every stem in the song's reference mix.

Model (procedural songs, generator version 2): one consistent *house style*, the way a single
mix engineer balances. Every instrumental part slot has a loudness (LU, relative to the other
instrumental parts) that depends on the slot and the genre; the engineer's per-song taste moves
it by ``N(0, 1)`` LU (clipped to +-2). The sung lead is then placed relative to the sum of all
other stems at a genre-dependent offset (a few LU below the accompaniment, closer in ballads and
hip-hop, further in rock and metal), again with ``N(0, 1)`` LU of taste. The slot means follow the
published analyses of professional multitrack mixes (Pestana & Reiss 2014, "Intelligent audio
production strategies informed by best practices", AES 53rd Conf.; De Man, Leonard, King & Reiss
2014, ISMIR; Zafrin & Harrison 2016): drums and bass carry most of the accompaniment's loudness,
the lead vocal sits a few LU below it. The numbers are mixassist's approximation of those
qualitative findings, not values taken from one table.

Version 1 drew every slot with a 1.5-3 LU spread and no genre dependence: a spread between
engineers, which nothing audible in a single song carries, so no model could restore it (the
analysis model card's *Level restoration study*). Version 2 models one engineer's repeatable
choices, which a listener can learn from the song's genre and parts.

Version 3 keeps that house style as the mean and adds an *engineer style* per song
(:func:`draw_engineer`): a few offsets on which mix engineers differ, each moving a group of
stems together: the sung lead over the rest (vocal-forward or buried), the bass, the drums
(kit and percussion), the ambience parts (pads, fx). Comparisons of several engineers' mixes of
the same multitracks (De Man et al. 2014, ISMIR) show such differences in the relative levels
of the sources; the SDs (:data:`ENGINEER_SD_LU`) are mixassist's choice informed by them, not
figures from the paper. The style is recorded in ``song.json`` (``engineer``), so a model or a
benchmark can see it or ignore it.

``level_db`` (CONTRACT.md) is always *measured* afterwards: integrated loudness of the stem minus
that of the mix, ITU-R BS.1770-4 (:func:`mixassist.loudness.integrated_loudness`).
"""

from __future__ import annotations

import numpy as np

from ..loudness import integrated_loudness

#: Loudness (LU) of each part slot relative to the other instrumental parts, in any genre.
SLOT_LEVELS_LU = {"drums": 0.0, "bass": -1.5, "percussion": -8.0, "comp": -4.0, "comp2": -6.0, "brass": -6.0,
                  "pad": -8.0, "arp": -7.0, "lead": -2.0, "counter": -6.0, "fx": -10.0}
#: Genre adjustments (LU) of the slot levels: e.g. a loud kick and bass in EDM and hip-hop, pads
#: and piano up front in ambient music and ballads, guitars up in rock and metal.
GENRE_SLOT_OFFSETS_LU = {
    "pop": {},
    "rock": {"comp": 2.0, "comp2": 1.0, "bass": -1.0, "lead": 1.0},
    "edm": {"drums": 1.0, "bass": 1.5, "pad": -1.0, "arp": 1.5, "fx": 2.0},
    "hiphop": {"drums": 1.5, "bass": 2.0, "comp": -1.0, "pad": -1.0},
    "funk": {"bass": 1.0, "comp": 1.0, "brass": 1.5, "percussion": 1.5},
    "ballad": {"drums": -3.0, "bass": -1.0, "comp": 2.5, "pad": 2.0, "counter": 1.0},
    "metal": {"comp": 2.5, "comp2": 1.5, "bass": -1.5, "drums": 1.0},
    "ambient": {"drums": -3.0, "pad": 4.0, "arp": 2.0, "fx": 4.0, "percussion": -1.0},
    "reggae": {"bass": 2.0, "drums": -1.0, "comp": -1.0, "brass": 1.0},
}
#: The sung lead over the rest (LU), per genre.
VOCAL_OVER_REST_LU = {"pop": -2.0, "rock": -3.5, "edm": -3.0, "hiphop": -1.5, "funk": -3.0, "ballad": -1.5,
                      "metal": -4.5, "ambient": -4.0, "reggae": -2.5}
#: Backing vocals (generator v3 sessions) under the sung lead (LU), in any genre, before taste.
BACKING_UNDER_LEAD_LU = -6.0
#: Spread (LU, standard deviation) of the engineer's per-song taste around every target; clipped at 2 SD.
TASTE_SD_LU = 1.0
#: Engineer style (generator v3): SD (LU) of each per-song offset, drawn ``N(0, SD)`` clipped at
#: 2 SD, on top of the house style and the taste. ``vocals_lu`` moves the sung lead over the rest
#: (its backing vocals and double follow the lead); the others move the slots of
#: :data:`ENGINEER_SLOTS`. The vocal and the ambience get the wider spread: engineers disagree most
#: on how far forward the voice sits and how much space a mix has (mixassist's choice).
ENGINEER_SD_LU = {"vocals_lu": 1.5, "bass_lu": 1.0, "drums_lu": 1.0, "ambience_lu": 1.5}
#: The instrumental slots each engineer offset moves (a split kit's pieces and its room mic are
#: the ``drums`` slot, balanced as one: the kick moves with the kit, not with the bass).
ENGINEER_SLOTS = {"bass_lu": ("bass",), "drums_lu": ("drums", "percussion"), "ambience_lu": ("pad", "fx")}
#: Loudness given to silence (-inf: nothing passes the BS.1770-4 absolute gate).
SILENT_LUFS = -70.0


def loudness_lufs(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness (ITU-R BS.1770-4, gated) of ``(channels, samples)`` audio, floored at -70."""
    value = integrated_loudness(np.asarray(audio, dtype=np.float32), sr)
    return float(max(value, SILENT_LUFS)) if np.isfinite(value) else SILENT_LUFS


def _clipped_normal(rng: np.random.Generator, sd: float) -> float:
    """``N(0, sd)`` clipped at 2 SD."""
    return float(np.clip(rng.normal(0.0, sd), -2 * sd, 2 * sd))


def draw_taste(rng: np.random.Generator) -> float:
    """The engineer's per-song taste (LU) around one target: :data:`TASTE_SD_LU`, clipped at 2 SD."""
    return _clipped_normal(rng, TASTE_SD_LU)


def draw_engineer(rng: np.random.Generator) -> dict[str, float]:
    """An engineer style: each offset of :data:`ENGINEER_SD_LU` (LU, rounded to 0.01 so that the
    recorded style is the applied one). Generator v3 draws it from the song's own stream
    (``default_rng([seed, 5])``), so the other draws of a seed do not move."""
    return {name: round(_clipped_normal(rng, sd), 2) for name, sd in ENGINEER_SD_LU.items()}


def slot_level_lu(slot: str, genre: str, engineer: dict[str, float] | None = None) -> float:
    """Loudness (LU, before taste) of an instrumental ``slot`` in ``genre``: the house style, plus
    the ``engineer`` style's offsets that move the slot (:data:`ENGINEER_SLOTS`)."""
    style = sum((engineer or {}).get(name, 0.0) for name, moved in ENGINEER_SLOTS.items() if slot in moved)
    return SLOT_LEVELS_LU.get(slot, -6.0) + GENRE_SLOT_OFFSETS_LU.get(genre, {}).get(slot, 0.0) + style


def vocal_over_rest_lu(genre: str, engineer: dict[str, float] | None = None) -> float:
    """Level (LU, before taste) of the sung lead over the rest in ``genre``: the house style, plus
    the ``engineer`` style's ``vocals_lu``."""
    return VOCAL_OVER_REST_LU.get(genre, -3.0) + (engineer or {}).get("vocals_lu", 0.0)


def draw_targets(slots: list[str], genre: str, rng: np.random.Generator,
                 engineer: dict[str, float] | None = None) -> dict[str, float]:
    """Relative loudness (LU) of each instrumental slot in ``genre`` with the ``engineer`` style
    (vocals are placed by :func:`balance`)."""
    return {slot: slot_level_lu(slot, genre, engineer) + draw_taste(rng) for slot in slots}


def balance(stems: dict[str, np.ndarray], sr: int, *, rng: np.random.Generator | None,
            loudness: dict[str, float], genre: str = "pop", vocal_names: tuple[str, ...] = ("vocals",),
            slots: dict[str, str] | None = None, backing_names: tuple[str, ...] = (),
            follow: dict[str, str] | None = None,
            engineer: dict[str, float] | None = None) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Scale ``stems`` to a drawn reference balance (``rng``), or keep their levels (``rng=None``,
    MIDI corpora keep their authors' balance). ``loudness`` is each stem's integrated loudness (LUFS).
    ``slots`` names each stem's slot (default: its name); the stems of one slot (drum pieces, a
    double) are scaled together, their sum to the slot's level. ``backing_names`` (backing vocals)
    are each placed :data:`BACKING_UNDER_LEAD_LU` (+ taste) under the first of ``vocal_names``
    present (or where a lead would sit without one), after the leads. ``follow`` maps a stem to the
    one whose gain it takes (a lead's double, leveled under the lead beforehand: generator v3).
    ``engineer``: an engineer style (:func:`draw_engineer`, generator v3) on top of the house
    style; None (v2): the house style alone. Returns the scaled stems and the gain (dB) applied to each."""
    if rng is None:
        return stems, {name: 0.0 for name in stems}
    slots, follow = slots or {}, follow or {}
    members: dict[str, list[str]] = {}
    for n in stems:
        if n not in vocal_names and n not in backing_names and n not in follow:
            members.setdefault(slots.get(n, n), []).append(n)
    targets = draw_targets(list(members), genre, rng, engineer)
    gains = {}
    for slot, names in members.items():
        level = loudness[names[0]] if len(names) == 1 else loudness_lufs(sum(stems[n] for n in names), sr)
        gains.update({n: targets[slot] - level - 20.0 for n in names})
    bed_names = [n for names in members.values() for n in names]
    out = {n: stems[n] * np.float32(10 ** (gains[n] / 20)) for n in bed_names}
    for name in vocal_names:
        if name in stems:
            bed = sum(out.values()) if out else np.zeros_like(stems[name])
            offset = vocal_over_rest_lu(genre, engineer) + draw_taste(rng)
            gains[name] = loudness_lufs(bed, sr) + offset - loudness[name]
            out[name] = stems[name] * np.float32(10 ** (gains[name] / 20))
    leads = [n for n in vocal_names if n in stems]
    for name in backing_names:
        if name in stems:
            if leads:  # loudness scales exactly with gain (BS.1770 gating is relative)
                lead_lufs = loudness[leads[0]] + gains[leads[0]]
            else:
                bed = sum(out[n] for n in bed_names) if bed_names else np.zeros_like(stems[name])
                lead_lufs = loudness_lufs(bed, sr) + vocal_over_rest_lu(genre, engineer)
            gains[name] = lead_lufs + BACKING_UNDER_LEAD_LU + draw_taste(rng) - loudness[name]
            out[name] = stems[name] * np.float32(10 ** (gains[name] / 20))
    for name, leader in follow.items():
        if name in stems:
            gains[name] = gains[leader]
            out[name] = stems[name] * np.float32(10 ** (gains[name] / 20))
    return {n: out[n] for n in stems}, gains
