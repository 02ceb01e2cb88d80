"""Atomic output: nothing half-written is ever left under its final name.

Files and folders are written under a hidden temporary name in the same directory and moved into
place with :func:`os.replace` only when complete; on any error the temporary is removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` when the block succeeds.

    ``suffix`` defaults to the target's suffix so writers that pick a format by extension work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=(path.suffix if suffix is None else suffix) + ".part",
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes 0600 (and some writers recreate the file so); give it the usual mode
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``path``; it replaces ``path`` when the block succeeds.

    An existing ``path`` is replaced as a whole (moved aside, then removed), so readers never see a
    mixture of old and new files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


#: Name prefix of work folders: ``.mixassist-work-<pid>-<random>``.
WORK_PREFIX = ".mixassist-work-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_work(out_dir: str | os.PathLike) -> None:
    """Remove the work folders in ``out_dir`` of processes that no longer run (a job killed
    half-way, by a signal or a power cut, leaves its temporary stems behind)."""
    for path in Path(out_dir).glob(f"{WORK_PREFIX}*"):
        pid = path.name[len(WORK_PREFIX):].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def work_folder(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden temporary folder inside ``out_dir`` for a job's intermediate files (one
    file system with its outputs, so a disk-space check covers both), removed afterwards
    (work folders that killed jobs left there are removed first, :func:`remove_stale_work`);
    an ``out_dir`` the job created and left empty (it failed) is removed too."""
    out_dir = Path(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_work(out_dir)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{os.getpid()}-",
                                         dir=out_dir) as work:
            yield Path(work)
    finally:
        if created and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
