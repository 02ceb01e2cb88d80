"""Content-addressed cache of the slow, option-independent steps: separation and analysis.

A song's key is the SHA-256 of its bytes (a stem folder: of every file's name and bytes) together
with what the result depends on: the separation model, the analysis model, mixassist's version
and the code that computes the result (:func:`code_digest`, a hash of the sources of the
separation and analysis stages), so a change to that code invalidates what it cached. Re-running ``mix`` with another target, focus, amount or version then skips
separation and analysis. Entries are folders written atomically under
``$MIXASSIST_CACHE`` (default ``$XDG_CACHE_HOME/mixassist``, else ``~/.cache/mixassist``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from .audio.signal import FileSignal, as_signal, write_signal
from .audio.stems import stem_files
from .utils.atomic import atomic_dir

_CHUNK = 1 << 20
#: The parts of the package (folders and modules, relative to it) whose code makes the cached
#: separation and analysis.
CACHED_CODE = ("audio", "separation", "analysis", "loudness.py", "vocab.py", "errors.py")


def default_dir() -> Path:
    """The cache folder from the environment."""
    if os.environ.get("MIXASSIST_CACHE"):
        return Path(os.environ["MIXASSIST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mixassist"


def _file_digest(path: Path, digest) -> None:
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)


def content_key(source: Path, *depends: str) -> str:
    """SHA-256 (hex) of a file's or a folder's audio files' content, plus ``depends`` strings."""

    digest = hashlib.sha256()
    if source.is_dir():
        for name, path in sorted(stem_files(source).items()):
            digest.update(f"\0stem:{name}{path.suffix.lower()}\0".encode())
            _file_digest(path, digest)
    else:
        _file_digest(source, digest)
    for item in depends:
        digest.update(f"\0dep:{item}".encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def code_digest(parts: tuple[str, ...] = CACHED_CODE, root: str | os.PathLike | None = None) -> str:
    """SHA-256 (hex, first 16 digits) of the Python sources of ``parts`` of the package at
    ``root`` (default: this mixassist), each file's relative path and bytes."""
    base = Path(root) if root is not None else Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for part in parts:
        path = base / part
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(f"\0file:{file.relative_to(base).as_posix()}\0".encode())
            _file_digest(file, digest)
    return digest.hexdigest()[:16]


def file_identity(path: str | os.PathLike | None) -> str:
    """A cheap identity of a model file (path, size, mtime), or the spec itself."""
    if path is None:
        return "none"
    p = Path(path)
    if p.is_file():
        st = p.stat()
        return f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    return str(path)


class StepCache:
    """Cached stems and analysis of songs, by content key."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else default_dir()

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def load(self, key: str) -> tuple[dict[str, FileSignal] | None, dict] | None:
        """``(stems or None, analysis dict)`` cached for ``key``, or None when absent; the stems
        are read from the entry block by block (:class:`~mixassist.audio.signal.FileSignal`)."""

        entry = self._entry(key)
        meta_file = entry / "entry.json"
        if not meta_file.is_file():
            return None
        meta = json.loads(meta_file.read_text())
        stems = ({name: FileSignal(entry / f"{name}.wav") for name in meta["stems"]}
                 if meta["stems"] is not None else None)
        return stems, json.loads((entry / "analysis.json").read_text())

    def store(self, key: str, analysis, *, stems: dict | None = None,
              sr: int | None = None) -> None:
        """Write (or replace) the entry for ``key``: the analysis, and separated ``stems``
        (arrays at ``sr`` or signals, copied block by block into 32-bit float WAV, lossless)
        when the input had to be separated."""

        with atomic_dir(self._entry(key)) as tmp:
            for name, audio in (stems or {}).items():
                write_signal(tmp / f"{name}.wav", as_signal(audio, sr))
            (tmp / "analysis.json").write_text(analysis.to_json() + "\n", encoding="utf-8")
            (tmp / "entry.json").write_text(json.dumps(
                {"stems": None if stems is None else list(stems)}) + "\n")
