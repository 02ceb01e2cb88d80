"""A corpus of real recorded music from Debian ``main``, split by package (``mixassist data real``).

Music made by people is the measuring stick the generated songs are not: the benchmarks
(``benchmarks/real_music.py``) run on it, and training may use its ``train`` split (DATA.md).
Each package is fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` (nothing is
installed), its music files (in folders or in a game's zip archive) are copied out, and
``manifest.json`` lists every file with its package, licence (from the package's ``copyright``),
duration and codec. The split is **by package**, so a test song's composers and production are
never seen in training. Layout::

    OUT/manifest.json                    packages, songs, hours per split
    OUT/audio/<package>/<file>           the music files, as shipped (Ogg Vorbis)
    OUT/copyright/<package>              each package's Debian copyright file

Reserved packages (DATA.md) and tracker modules are refused; files shorter than 30 s (jingles,
sound effects) and byte-identical copies are skipped. A rerun skips finished packages.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import ParameterError
from ..utils.atomic import atomic_dir, write_text_atomic
from .licences import RESERVED_EXTENSIONS, check_source

AUDIO_EXTENSIONS = (".ogg", ".oga", ".opus", ".flac", ".wav", ".mp3")
MIN_DURATION_S = 30.0
MANIFEST_VERSION = 1
SPLITS = ("train", "dev", "test")


@dataclasses.dataclass(frozen=True)
class RealPackage:
    """A Debian package of recorded music: its ``split``, the ``music`` globs of its files
    (relative to the unpacked root; ``ARCHIVE:MEMBER-GLOB`` reaches into a zip archive), a short
    ``style``, and the ``licence`` where its copyright file is not machine-readable (DEP-5)."""

    name: str
    split: str
    music: tuple[str, ...]
    style: str
    licence: str | None = None


PACKAGES = (
    # test: never seen in training or tuning
    RealPackage("hedgewars-data", "test", ("usr/share/games/hedgewars/Data/Music/*",),
                "game soundtrack: orchestral, rock, folk, electronic; several composers"),
    RealPackage("flare-game", "test", ("usr/share/games/flare/mods/*/music/*",),
                "fantasy RPG soundtrack: orchestral, ambient (several composers)"),
    RealPackage("xmoto-data", "test", ("usr/share/games/xmoto/Textures/Musics/*",),
                "game soundtrack: rock, electronic"),
    RealPackage("lincity-ng-data", "test", ("usr/share/games/lincity-ng/music/*/*",),
                "city-builder soundtrack: electronic, ambient"),
    # dev: checkpoint selection and rule tuning
    RealPackage("nexuiz-music", "dev", ("usr/share/games/nexuiz/data/music.pk3:sound/cdtracks/*",),
                "arena-shooter soundtrack: electronic, industrial, metal", licence="GPL-2.0-or-later"),
    RealPackage("openclonk-data", "dev", ("usr/share/games/openclonk/Music.ocg/*",),
                "game soundtrack: orchestral, folk, ambient",
                licence="ISC, CC-BY-3.0 or CC0 (openclonk-data copyright: game content under one of these)"),
    RealPackage("extremetuxracer-data", "dev", ("usr/share/games/etr/music/*",),
                "racing-game soundtrack: rock, pop, electronic"),
    RealPackage("scorched3d-data", "dev", ("usr/share/games/scorched3d/data/globalmods/none/data/music/*",),
                "game soundtrack: electronic, orchestral"),
    # train
    RealPackage("wesnoth-1.16-music", "train", ("usr/share/games/wesnoth/1.16/data/core/music/*",),
                "fantasy strategy soundtrack: orchestral, folk (many composers)", licence="GPL-2.0-or-later"),
    RealPackage("supertux-data", "train", ("usr/share/games/supertux2/music/*/*",),
                "platformer soundtrack: chiptune, pop, rock, ambient (several composers)"),
    RealPackage("drascula-music", "train", ("usr/share/scummvm/drascula/audio/*",),
                "adventure-game soundtrack: orchestral, rock, jazz"),
    RealPackage("megaglest-data", "train", ("usr/share/games/megaglest/techs/megapack/factions/*/music/*",
                                            "usr/share/games/megaglest/data/core/menu/music/*"),
                "strategy soundtrack: orchestral, world (several composers)"),
)


def packages(names: list[str] | None = None) -> list[RealPackage]:
    """The corpus packages, or those named (unknown or reserved names are an error)."""
    if not names:
        return list(PACKAGES)
    known = {p.name: p for p in PACKAGES}
    for name in names:
        check_source(name)
        if name not in known:
            raise ParameterError(f"unknown real-music package {name!r}; use some of {', '.join(known)}")
    return [known[n] for n in names]


def build_real_corpus(out_dir: str | os.PathLike, *, names: list[str] | None = None,
                      debs: str | os.PathLike | None = None, table: tuple[RealPackage, ...] | None = None,
                      progress: Callable[[float, float], None] | None = None) -> dict:
    """Fetch, unpack and catalogue the corpus into ``out_dir``; returns the manifest.

    ``debs``: a folder of already downloaded ``.deb`` files to use instead of ``apt-get download``.
    ``table``: the packages to use instead of :data:`PACKAGES` (tests).
    """
    out = Path(out_dir)
    chosen = list(table) if table is not None else packages(names)
    for tool in ("dpkg-deb",) + (("apt-get",) if debs is None else ()):
        if shutil.which(tool) is None:
            raise ParameterError(f"{tool} not found: the real-music corpus needs Debian's package tools")
    for i, package in enumerate(chosen):
        if progress:
            progress(i, len(chosen))
        _package(package, out, debs=None if debs is None else Path(debs))
    if progress:
        progress(len(chosen), len(chosen))
    # every package in the folder, not only those of this call (a rerun with --package adds one)
    order = {p.name: i for i, p in enumerate(PACKAGES)}
    done = sorted((json.loads(f.read_text(encoding="utf-8")) for f in (out / "audio").glob("*/package.json")),
                  key=lambda e: (order.get(e["package"], len(order)), e["package"]))
    manifest = make_manifest(done)
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest


def corpus_songs(corpus: str | os.PathLike, split: str, *, per_package: int = 0) -> list[dict]:
    """The manifest entries of the songs of ``split`` in a built corpus (at most ``per_package``
    of each package when > 0), in manifest order; ``file`` is relative to ``corpus``.

    Raises ParameterError naming the folder when it holds no manifest or ``split`` no songs."""
    path = Path(corpus) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{path}: not a real-music corpus manifest (`mixassist data real --out "
                             f"{corpus}` builds one): {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("songs"), list):
        raise ParameterError(f"{path}: not a real-music corpus manifest (no list of songs)")
    songs, count = [], {}
    for song in manifest["songs"]:
        if song.get("split") != split:
            continue
        count[song["package"]] = count.get(song["package"], 0) + 1
        if per_package <= 0 or count[song["package"]] <= per_package:
            songs.append(song)
    if not songs:
        present = sorted({s.get("split") for s in manifest["songs"]} - {None})
        raise ParameterError(f"{corpus}: no songs in split {split!r} (it has {', '.join(present) or 'none'})")
    return songs


def middle_excerpt(audio: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    """The middle ``seconds`` of ``audio`` ``[channels, samples]`` at ``sr`` Hz (all of it when
    shorter, or when ``seconds`` <= 0): the benchmarks' excerpt of a corpus song."""
    n = int(seconds * sr)
    if n <= 0 or n >= audio.shape[1]:
        return audio
    start = (audio.shape[1] - n) // 2
    return np.ascontiguousarray(audio[:, start:start + n])


def make_manifest(entries: list[dict]) -> dict:
    """The corpus manifest from per-package entries (``package``, ``songs``...)."""
    songs = [s for e in entries for s in e["songs"]]
    hours = {split: round(sum(s["duration_s"] for s in songs if s["split"] == split) / 3600, 3)
             for split in SPLITS}
    return {"version": MANIFEST_VERSION, "n_packages": len(entries), "n_songs": len(songs),
            "hours": round(sum(s["duration_s"] for s in songs) / 3600, 3), "hours_per_split": hours,
            "packages": [{k: v for k, v in e.items() if k != "songs"} for e in entries], "songs": songs}


def _package(package: RealPackage, out: Path, *, debs: Path | None) -> None:
    """Fetch one package into ``audio/<package>/`` with its entry ``package.json`` (skipped when
    that exists: the folder appears only once complete)."""
    check_source(package.name)
    folder = out / "audio" / package.name
    done = folder / "package.json"
    if done.is_file():
        return
    with tempfile.TemporaryDirectory(prefix=f"mixassist-real-{package.name}-") as tmp:
        root = Path(tmp) / "root"
        deb = _deb(package.name, Path(tmp), debs)
        run = subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True)
        if run.returncode != 0:
            raise ParameterError(f"{deb}: dpkg-deb could not unpack it ({run.stderr.strip()})")
        field = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True)
        version = field.stdout.strip() if field.returncode == 0 else "unknown"
        copyright_file = root / "usr/share/doc" / package.name / "copyright"
        copyright_text = copyright_file.read_text(encoding="utf-8", errors="replace") \
            if copyright_file.is_file() else ""
        stanzas = dep5_stanzas(copyright_text)
        if package.licence is None and not stanzas:
            raise ParameterError(f"{package.name}: its copyright file is not machine-readable; "
                                 "give the package a licence in the table")
        write_text_atomic(out / "copyright" / package.name, copyright_text)  # before the package counts as done
        songs, seen = [], set()
        with atomic_dir(folder) as staging:
            for source_path, data in _music_files(root, package.music):
                if source_path.lower().endswith(RESERVED_EXTENSIONS):
                    continue
                digest = hashlib.sha256(data).hexdigest()
                if digest in seen:
                    continue
                seen.add(digest)
                target = staging / _unique_name(staging, Path(source_path).name)
                target.write_bytes(data)
                try:
                    info = sf.info(str(target))
                except (RuntimeError, sf.LibsndfileError):
                    target.unlink()
                    continue
                if info.duration < MIN_DURATION_S:
                    target.unlink()
                    continue
                licence, licence_from = (package.licence, "curated from the copyright file") \
                    if package.licence else dep5_licence(stanzas, source_path)
                songs.append({"song_id": f"{package.name}/{target.stem}", "package": package.name,
                              "split": package.split, "file": f"audio/{package.name}/{target.name}",
                              "source_path": "/" + source_path, "licence": licence,
                              "licence_from": licence_from, "duration_s": round(info.duration, 3),
                              "codec": f"{info.format}/{info.subtype}", "sample_rate": info.samplerate,
                              "channels": info.channels, "sha256": digest})
            if not songs:
                raise ParameterError(f"{package.name}: no music file of {MIN_DURATION_S:g} s or more "
                                     f"matched {', '.join(package.music)}")
            entry = {"package": package.name, "version": version, "split": package.split,
                     "style": package.style, "n_songs": len(songs),
                     "hours": round(sum(s["duration_s"] for s in songs) / 3600, 3),
                     "licences": sorted({s["licence"] for s in songs}),
                     "copyright": f"copyright/{package.name}", "songs": songs}
            (staging / "package.json").write_text(json.dumps(entry, indent=1, ensure_ascii=False),
                                                  encoding="utf-8")


def _deb(name: str, tmp: Path, debs: Path | None) -> Path:
    """The ``.deb`` of package ``name``: from ``debs`` or downloaded into ``tmp`` by apt-get."""
    if debs is not None:
        found = sorted(debs.glob(f"{name}_*.deb"))
        if not found:
            raise ParameterError(f"{debs}: no {name}_*.deb in this folder")
        return found[-1]
    run = subprocess.run(["apt-get", "download", name], cwd=tmp, capture_output=True, text=True)
    found = sorted(tmp.glob(f"{name}_*.deb"))
    if run.returncode != 0 or not found:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise ParameterError(f"{name}: apt-get download failed ({last}); run `apt-get update` first, "
                             "or pass --debs with the downloaded .deb files")
    return found[-1]


def _music_files(root: Path, patterns: tuple[str, ...]):
    """Yield ``(path relative to root, bytes)`` of the audio files matching ``patterns``."""
    for pattern in patterns:
        archive, _, member = pattern.partition(":")
        for path in sorted(root.glob(archive)):
            if member:
                try:
                    z = zipfile.ZipFile(path)
                except zipfile.BadZipFile:
                    raise ParameterError(f"{path.name}: not a readable zip archive") from None
                with z:
                    for name in sorted(z.namelist()):
                        if fnmatch.fnmatch(name, member) and name.lower().endswith(AUDIO_EXTENSIONS):
                            yield f"{path.relative_to(root)}:{name}", z.read(name)
            elif path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS:
                yield str(path.relative_to(root)), path.read_bytes()


def _unique_name(folder: Path, name: str) -> str:
    """``name`` in ``folder``, numbered when a file of the same stem exists (the stem is the id)."""
    stem, suffix, k = Path(name).stem, Path(name).suffix.lower(), 1
    candidate = stem
    while any(p.stem == candidate for p in folder.iterdir()):
        k += 1
        candidate = f"{stem}-{k}"
    return candidate + suffix


def dep5_stanzas(text: str) -> list[tuple[list[str], str]]:
    """``[(file patterns, licence)]`` of a machine-readable (DEP-5) copyright file, in order."""
    if not text.startswith("Format:"):
        return []
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        files = re.search(r"^Files:\s*((?:.+\n?)(?:[ \t]+.+\n?)*)", block, flags=re.M)
        licence = re.search(r"^License:\s*(.+)$", block, flags=re.M)
        if files and licence:
            stanzas.append((files.group(1).split(), licence.group(1).strip()))
    return stanzas


def dep5_licence(stanzas: list[tuple[list[str], str]], installed: str) -> tuple[str, str]:
    """The licence of ``installed`` (a path in the unpacked package) and the stanza that gave it.

    DEP-5 patterns name paths in the *source* tree, which installs elsewhere: a pattern matches when
    it, or its trailing part from a named folder on (``data/music/*`` -> ``music/*``), matches a
    trailing part of the installed path. The last matching stanza wins (DEP-5).
    """
    parts = installed.replace(":", "/").split("/")
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    best = None
    for patterns, licence in stanzas:
        forms = [f for p in patterns for f in _pattern_tails(p)]
        if any(fnmatch.fnmatchcase(tail, f) for f in forms for tail in tails) and (
                patterns != ["*"] or best is None):
            best = (licence, f"copyright stanza Files: {' '.join(patterns)}")
    if best is None:
        raise ParameterError(f"{installed}: no Files stanza of the copyright file covers it")
    return best


def _pattern_tails(pattern: str) -> list[str]:
    """``pattern`` and its trailing parts that still start with a named folder."""
    forms = [pattern]
    while "/" in pattern and not any(c in pattern.split("/", 1)[1].split("/", 1)[0] for c in "*?["):
        pattern = pattern.split("/", 1)[1]
        if "/" not in pattern:
            break
        forms.append(pattern)
    return forms
