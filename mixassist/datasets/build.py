"""Build a dataset folder of songs rendered into labelled stems.

Layout::

    OUT/manifest.json            songs, stems, labels, splits, label histogram, licences
    OUT/LICENCES.md              every source and its licence
    OUT/songs/<song_id>/mixture.flac, stems/<stem>.flac, song.json, song.mid

Audio is 44.1 kHz stereo FLAC, 24-bit. Every stem is quantised to 24 bits first and the mixture is
the exact sum of the quantised stems (then quantised itself), so the stored mixture equals the sum
of the stored stems to within 2^-23 (< -130 dB re full scale). The mix is normalised to a
-1 dBFS sample peak (stems share that gain and all peak below 0 dBFS).

Each song's seed derives from the global seed and its index (``SeedSequence([seed, index])``),
so the songs do not depend on ``--jobs`` or on which songs were already built; a song folder
appears atomically, and a rerun skips finished songs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import CorpusError, MixAssistWarning, ParameterError
from ..utils.atomic import atomic_dir, write_text_atomic
from .balance import SILENT_LUFS, balance, draw_engineer, loudness_lufs
from .compose import compose_song
from .corpora import CorpusItem, available_corpora, load_corpus_song
from .drumkits import render_notes
from .patches import render_part as render_patch
from .instruments import GROUPS, INSTRUMENTS, ROLES
from .licences import licence_markdown, licence_table
from .midifile import write_midi
from .production import apply_chain, produce
from .render import render_channels
from .session import arrange_session
from .song import Song
from .sources import VOICE, palette
from .synth import patch_from_json, render_part
from .vocals import double_take, sing

SAMPLE_RATE = 44100
SUBTYPE = "PCM_24"
#: Generator versions ``data build`` writes: 2 (the first shipped models' data) and 3 (the
#: variety of :func:`.compose.compose_song` ``variety="v3"``, sessions, production variety,
#: synthesis voices, sampled kits and patches; docs/datasets.md). A folder is of one version:
#: its songs and manifest say which.
GENERATOR_VERSIONS = (2, 3)
#: Revision of generator 3's draws, recorded in its song.json (``generator_revision``; songs
#: without one are revision 1); a folder resumes only with the revision it was built with. Raised
#: whenever a change moves what a v3 seed builds (2: synth layers, doubles of every kind,
#: recorder names, engineer style, seven training Hydrogen kits).
V3_REVISION = 2
#: What ``data build`` makes unless told: generator 3 with its training palette (:func:`default_sources`).
DEFAULT_GENERATOR = 3
PEAK_DBFS = -1.0


@dataclasses.dataclass(frozen=True)
class SongPlan:
    """What song ``index`` will be: its id, seed, target length, score (``corpus_item``; ``None``:
    procedural) and the palette of sound sources it is played with (:func:`.sources.palette`)."""

    index: int
    song_id: str
    seed: int
    split: str
    target_duration_s: float
    corpus_item: CorpusItem | None
    sources: str
    generator: int


def default_sources(generator: int) -> str:
    """The palette a generator plays unless told: ``training-v3`` for 3, ``training`` before."""
    return "training-v3" if generator >= 3 else "training"


def song_seed(seed: int, index: int) -> int:
    """Per-song seed derived from the global ``seed`` and the song's ``index``."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def plan_songs(*, hours: float, seed: int, corpus_fraction: float = 0.15,
               min_duration_s: float = 100.0, max_duration_s: float = 240.0,
               sources: str | None = None, generator: int = DEFAULT_GENERATOR) -> list[SongPlan]:
    """Plan songs until their estimated total length reaches ``hours`` (``sources`` None: the
    generator's own palette, :func:`default_sources`).

    Each song is composed (or loaded) to know its length: ~25 ms per procedural song.
    """
    if hours <= 0:
        raise ParameterError(f"--hours must be positive, got {hours}")
    if generator not in GENERATOR_VERSIONS:
        raise ParameterError(f"--generator {generator}: use one of "
                             f"{', '.join(map(str, GENERATOR_VERSIONS))}")
    # a clear error for an unknown palette, and one spelling of it
    sources = palette(sources or default_sources(generator)).name
    corpora = available_corpora() if corpus_fraction > 0 else []
    plans, total = [], 0.0
    while total < hours * 3600:
        index = len(plans)
        s = song_seed(seed, index)
        rng = np.random.default_rng(s)
        split = "train" if (u := rng.random()) < 0.8 else ("valid" if u < 0.9 else "test")
        target = float(rng.uniform(min_duration_s, max_duration_s))
        item = None
        if corpora and rng.random() < corpus_fraction:  # a corpus first, so chorales do not dominate
            names = sorted({c.corpus for c in corpora})
            pool = [c for c in corpora if c.corpus == names[int(rng.integers(len(names)))]]
            item = pool[int(rng.integers(len(pool)))]
        plan = SongPlan(index, f"{index:05d}", s, split, target, item, sources, generator)
        try:
            song = make_song(plan)
        except CorpusError as exc:  # the same item fails for every build: the plan stays seeded
            warnings.warn(f"{exc}; song {plan.song_id} is composed instead", MixAssistWarning)
            plan = dataclasses.replace(plan, corpus_item=None)
            song = make_song(plan)
        total += song.duration_s
        plans.append(plan)
    return plans


def make_song(plan: SongPlan) -> Song:
    """The composed (or loaded) song of ``plan``, before rendering."""
    sources = palette(plan.sources)
    if plan.corpus_item is None:
        song = compose_song(plan.seed, target_duration_s=plan.target_duration_s, song_id=plan.song_id,
                            sources=sources, variety="v3" if plan.generator >= 3 else "v2")
        if plan.generator >= 3:  # the parts as the tracks of a session, from their own stream
            used = {p.channel for p in song.parts}
            song.parts = arrange_session(song.parts, np.random.default_rng([plan.seed, 4]),
                                         free_channels=[c for c in range(16) if c not in used],
                                         key=song.key, sections=song.sections,
                                         downbeats_s=song.downbeats_s, synths=sources.synths)
            song.engineer = draw_engineer(np.random.default_rng([plan.seed, 5]))  # the mix engineer's style
        return song
    return load_corpus_song(plan.corpus_item, seed=plan.seed, song_id=plan.song_id,
                            max_duration_s=plan.target_duration_s, sources=sources)


def render_song(song: Song, *, seed: int, sr: int = SAMPLE_RATE,
                variety: str = "v2") -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """Render, produce and balance ``song``; returns stems ``{name: (2, n)}`` and per-stem info.
    ``variety``: the production variety (:func:`.production.produce`), v3 for generator 3."""
    rng = np.random.default_rng([seed, 1])
    midi_parts = [p for p in song.parts if p.kind == "midi"]
    channels = render_channels(song.midi_events(), {p.channel: p.setup for p in midi_parts}, song.duration_s, sr=sr)
    raw = {p.name: channels[p.channel] for p in midi_parts}
    n = int(round(song.duration_s * sr))
    for p in song.parts:
        if p.kind == "sampled":
            raw[p.name] = render_notes(p.notes, p.sample_kit, sr, duration_s=song.duration_s)
        if p.kind == "patch":
            raw[p.name] = render_patch(p.notes, p.setup.program, sr, duration_s=song.duration_s)
        if p.kind == "synth":
            raw[p.name] = render_part(p.notes, p.synth["voice"], patch_from_json(p.synth["patch"]),
                                      sr, duration_s=song.duration_s)
        if p.kind == "vocal" and p.double_of:
            raw[p.name] = double_take(raw[p.double_of], sr, p.retake)
        elif p.kind == "vocal":
            raw[p.name] = sing(p.notes, tempo_bpm=song.tempo_bpm, t0_s=song.downbeats_s[0],
                               n_bars=len(song.downbeats_s) - 1, duration_s=song.duration_s, sr=sr,
                               time_signature=song.time_signature)
        if p.kind == "room":  # the kit as rendered, before its pieces' production
            raw[p.name] = sum(raw[q.name] for q in _kit_of(song, p))
    stems, info, lufs = {}, {}, {}
    for p in song.parts:
        if p.chain is not None:  # chosen by the session (a room mic)
            audio, chain = apply_chain(raw[p.name], sr, p.chain), p.chain
        else:
            audio, chain = produce(raw[p.name], sr, instrument=p.instrument, role=p.role, rng=rng,
                                   variety=variety, tempo_bpm=song.tempo_bpm, pan=p.pan)
        if p.under_lu is not None:  # a room under its kit, a double under its lead, a layer under
            # the part it layers, as produced
            ref = ([q.name for q in _kit_of(song, p)] if p.kind == "room"
                   else [p.double_of or p.layer_of])
            ref = [name for name in ref if name in stems]
            if not ref:  # what it would be heard under is silent
                continue
            own = loudness_lufs(audio[:, :n], sr)
            if own > SILENT_LUFS:  # (a silent one is left out below)
                target = loudness_lufs(sum(stems[name] for name in ref), sr) - p.under_lu
                audio = audio * np.float32(10 ** ((target - own) / 20))
        lufs[p.name] = loudness_lufs(audio[:, :n], sr)
        if lufs[p.name] <= -69.0:  # nothing audible (e.g. keys missing from a kit)
            continue
        stems[p.name] = audio[:, :n]
        info[p.name] = {"name": p.name, "instrument": p.instrument, "role": p.role, "group": p.group,
                        "kind": p.kind, "channel": p.channel,
                        "source": _source(p), "soundfont": _source(p),
                        "bank": p.setup.bank if p.setup else None, "program": p.setup.program if p.setup else None,
                        "program_name": p.program_name, "chain": chain,
                        **{k: getattr(p, k) for k in ("slot", "piece", "side", "harmony", "sings",
                                                      "double_of", "retake", "layer_of", "transpose",
                                                      "under_lu")
                           if getattr(p, k)}}
    stems, gains = balance(stems, sr, rng=rng if song.source == "procedural" else None, loudness=lufs,
                           genre=song.genre, vocal_names=tuple(n for n in stems if info[n]["kind"] == "vocal"
                                                               and info[n]["role"] != "harmony"
                                                               and "double_of" not in info[n]),
                           backing_names=tuple(n for n in stems if info[n]["kind"] == "vocal"
                                               and info[n]["role"] == "harmony"),
                           slots={p.name: p.slot for p in song.parts if p.slot},
                           follow={n: info[n]["double_of"] for n in stems if "double_of" in info[n]},
                           engineer=song.engineer)
    for name in stems:
        info[name]["balance_gain_db"] = round(gains[name], 3)
        info[name]["loudness_lufs"] = lufs[name] + gains[name]
    return stems, info


def _kit_of(song: Song, room) -> list:
    """The tracks of a room mic's slot that it hears (all but itself and other rooms)."""
    return [q for q in song.parts if q.slot == room.slot and q.kind != "room"]


def _source(part) -> str:
    """The sound source that played ``part``: its soundfont, patch set, synthesis voice, sampled
    kit or the singer (a room mic: its kit's)."""
    if part.kind == "synth":
        return part.synth["voice"]
    if part.sample_kit:
        return part.sample_kit
    return part.setup.soundfont if part.setup else VOICE


def _quantise(audio: np.ndarray) -> np.ndarray:
    """Round to the 24-bit grid exactly as libsndfile stores it (x * 2^23, clipped)."""
    scale = float(2 ** 23)
    return (np.clip(np.round(audio.astype(np.float64) * scale), -scale, scale - 1) / scale).astype(np.float32)


def _resume_differences(data: dict, plan: SongPlan) -> list[str]:
    """What a built song's ``song.json`` ``data`` records that ``plan`` would build otherwise."""
    generator, palette = data.get("generator_version", 1), data.get("palette", "training")
    revision, wanted = data.get("generator_revision", 1), V3_REVISION if plan.generator >= 3 else 1
    differs = ["another --seed"] if data.get("seed") != plan.seed else []
    if generator != plan.generator:
        differs.append(f"generator {generator} (this build: {plan.generator})")
    if palette != plan.sources:
        differs.append(f"--sources {palette} (this build: {plan.sources})")
    if generator == plan.generator and revision != wanted:
        differs.append(f"revision {revision} of generator {generator}, whose draws this code no longer "
                       f"makes (revision {wanted})")
    return differs


def build_song(plan: SongPlan, out_dir: str | os.PathLike) -> dict:
    """Build one song folder under ``out_dir/songs`` (atomically) and return its ``song.json`` data."""
    folder = Path(out_dir) / "songs" / plan.song_id
    if (folder / "song.json").is_file():
        data = json.loads((folder / "song.json").read_text(encoding="utf-8"))
        differs = _resume_differences(data, plan)
        if differs:
            raise ParameterError(f"{folder}: built with {'; '.join(differs)}; resume it with the options "
                                 "it was built with, or build into a new --out folder")
        return data
    song = make_song(plan)
    stems, info = render_song(song, seed=plan.seed, variety="v3" if plan.generator >= 3 else "v2")
    mix = np.sum([s.astype(np.float64) for s in stems.values()], axis=0)
    peak = max([float(np.max(np.abs(mix)))] + [float(np.max(np.abs(s))) for s in stems.values()])
    gain = 10 ** (PEAK_DBFS / 20) / max(peak, 1e-9)
    stems = {name: _quantise(s * gain) for name, s in stems.items()}
    mix = np.sum([s.astype(np.float64) for s in stems.values()], axis=0).astype(np.float32)
    mix_lufs = loudness_lufs(mix, SAMPLE_RATE)
    records = []
    with atomic_dir(folder) as tmp:
        (tmp / "stems").mkdir()
        sf.write(tmp / "mixture.flac", mix.T, SAMPLE_RATE, subtype=SUBTYPE)
        for name, audio in stems.items():
            sf.write(tmp / "stems" / f"{name}.flac", audio.T, SAMPLE_RATE, subtype=SUBTYPE)
            # loudness scales exactly with gain (BS.1770 gating is relative), so no re-measurement
            stem_lufs = info[name]["loudness_lufs"] + 20 * np.log10(gain)
            records.append({**info[name], "file": f"stems/{name}.flac", "loudness_lufs": round(stem_lufs, 3),
                            "level_db": round(stem_lufs - mix_lufs, 3),
                            "activity": _activity(audio, SAMPLE_RATE)})
        write_midi(tmp / "song.mid", song)
        revision = {"generator_revision": V3_REVISION} if plan.generator >= 3 else {}
        data = {**song.annotations(), "generator_version": plan.generator, **revision, "split": plan.split,
                "palette": plan.sources, "sound_sources": sorted({r["source"] for r in records}),
                "index": plan.index, "sample_rate": SAMPLE_RATE, "mixture": "mixture.flac", "midi": "song.mid",
                "loudness_lufs": round(mix_lufs, 3), "stems": records}
        (tmp / "song.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return data


def _activity(audio: np.ndarray, sr: int, *, hop_s: float = 0.1, threshold_db: float = -40.0,
              min_gap_s: float = 0.5) -> list[dict]:
    """Regions where the stem's 100 ms RMS is within ``threshold_db`` of its loudest block."""
    hop = int(hop_s * sr)
    n = audio.shape[1] // hop
    if n == 0:
        return []
    rms = np.sqrt(np.mean(audio[:, :n * hop].reshape(audio.shape[0], n, hop).astype(np.float64) ** 2, axis=(0, 2)))
    on = 20 * np.log10(rms + 1e-12) > 20 * np.log10(rms.max() + 1e-12) + threshold_db
    regions, start = [], None
    for i, flag in enumerate(np.append(on, False)):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if regions and start * hop_s - regions[-1][1] < min_gap_s:
                regions[-1][1] = i * hop_s
            else:
                regions.append([start * hop_s, i * hop_s])
            start = None
    return [{"start_s": round(a, 3), "end_s": round(b, 3)} for a, b in regions]


def _build_one(args: tuple[SongPlan, str]) -> dict:
    return build_song(*args)


def build_dataset(out_dir: str | os.PathLike, *, hours: float, seed: int = 0, jobs: int = 1,
                  corpus_fraction: float = 0.15, min_duration_s: float = 100.0, max_duration_s: float = 240.0,
                  sources: str | None = None, generator: int = DEFAULT_GENERATOR,
                  progress: Callable[[float, float], None] | None = None) -> dict:
    """Build (or resume) a dataset of about ``hours`` of songs in ``out_dir``; returns the manifest.

    ``sources``: the palette the songs are played with (:func:`.sources.palette`): ``training-v3``
    (the default of generator 3), ``held-out-v3`` (sources no shipped model heard), ``training``
    and ``held-out`` (generator 2's, its default ``training``) or a comma-separated list.

    ``generator``: the generator version (:data:`GENERATOR_VERSIONS`): 3 (default: meters,
    feels, sessions, production variety; with the v3 palettes also mixassist's synthesis voices,
    recorded kits and patches) or 2 (the data the first shipped models were trained on).

    ``jobs`` worker processes render songs in parallel; results do not depend on it.
    ``progress(done, total)`` is called with the number of songs finished (resumed ones count).
    """
    if jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    out = Path(out_dir)
    plans = plan_songs(hours=hours, seed=seed, corpus_fraction=corpus_fraction,
                       min_duration_s=min_duration_s, max_duration_s=max_duration_s, sources=sources,
                       generator=generator)
    total = float(len(plans))
    songs: dict[int, dict] = {}
    done = 0
    if progress:
        progress(0, total)
    if jobs == 1:
        for plan in plans:
            songs[plan.index] = build_song(plan, out)
            done += 1
            if progress:
                progress(done, total)
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_build_one, (plan, str(out))): plan for plan in plans}
            for future in as_completed(futures):
                songs[futures[future].index] = future.result()
                done += 1
                if progress:
                    progress(done, total)
    manifest = make_manifest([songs[p.index] for p in plans], seed=seed, sources=plans[0].sources,
                             generator=generator)
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
    write_text_atomic(out / "LICENCES.md", licence_markdown())
    return manifest


def _manifest_stem(stem: dict, generator: int) -> dict:
    """A stem's manifest entry: its file, labels, measured level and sound source."""
    entry = {**{k: stem[k] for k in ("name", "file", "instrument", "role", "group", "level_db")},
             "source": stem.get("source", stem["soundfont"])}  # songs built before `source`
    if generator >= 3:
        entry["processing"] = [stage["plugin"] for stage in stem.get("chain", [])]
    return entry


def make_manifest(songs: list[dict], *, seed: int, sources: str, generator: int) -> dict:
    """The dataset manifest: songs with their stems and labels, splits, histograms and licences;
    from generator 3 each stem also lists its ``processing`` (the plugins of its chain, in order;
    their settings are in ``song.json``)."""
    hist = {k: Counter() for k in ("instrument", "role", "group")}
    for song in songs:
        for stem in song["stems"]:
            for key in hist:
                hist[key][stem[key]] += 1
    entries = []
    for song in songs:
        entry = {k: song[k] for k in ("song_id", "split", "source", "licence", "title", "genre", "tempo_bpm",
                                      "key", "duration_s", "loudness_lufs")}
        entry.update({"folder": f"songs/{song['song_id']}", "annotations": f"songs/{song['song_id']}/song.json",
                      "mixture": f"songs/{song['song_id']}/{song['mixture']}",
                      "has_vocals": any(s["instrument"] == "vocals" for s in song["stems"]),
                      "sound_sources": song.get("sound_sources") or sorted({s["soundfont"] for s in song["stems"]}),
                      "stems": [_manifest_stem(s, generator) for s in song["stems"]]})
        entries.append(entry)
    return {
        "version": generator, "seed": seed, "palette": sources, "sample_rate": SAMPLE_RATE,
        "format": f"FLAC {SUBTYPE}",
        "vocabularies": {"group": list(GROUPS), "instrument": list(INSTRUMENTS), "role": list(ROLES)},
        "n_songs": len(entries), "hours": round(sum(s["duration_s"] for s in songs) / 3600, 4),
        "splits": dict(Counter(e["split"] for e in entries)),
        "vocal_fraction": round(sum(e["has_vocals"] for e in entries) / max(1, len(entries)), 4),
        "histogram": {k: {name: hist[k].get(name, 0) for name in vocab}
                      for k, vocab in (("instrument", INSTRUMENTS), ("role", ROLES), ("group", GROUPS))},
        "licences": licence_table(), "songs": entries,
    }
