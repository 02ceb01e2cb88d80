"""Batch mixing: every song of a folder through :class:`~mixassist.assistant.MixAssistant`.

A song is an audio file (separated first) or a sub-folder of stems. Songs run in parallel worker
processes (``executor="local"``) or as Ray actors (``executor="ray"``); each worker builds one
assistant and keeps it, so a separation model is loaded once per worker. The run is resumable:
a song whose ``OUT/<name>/summary.json`` is complete is skipped, result folders appear only once
complete (:func:`~mixassist.utils.atomic.atomic_dir`), and staging folders left by a killed run
are removed at start. ``OUT/summary.csv`` is rewritten atomically after every song.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import MixAssistError, ParameterError
from .options import MixOptions

#: Columns of ``summary.csv``.
COLUMNS = ["name", "input", "status", "seconds", "input_lufs", "output_lufs",
           "output_true_peak_dbtp", "target", "message"]
EXECUTORS = ("local", "ray")
SUMMARY_CSV = "summary.csv"


@dataclasses.dataclass(frozen=True)
class Song:
    """One job: ``name`` (the result folder's name) and its ``path`` (a file or a stem folder)."""

    name: str
    path: Path


def find_songs(input_dir: str | os.PathLike, *, exclude: Iterable[str | os.PathLike] = ()
               ) -> list[Song]:
    """Every song in ``input_dir``, sorted by name.

    Each audio file (:data:`mixassist.audio.io.EXTENSIONS`) and each sub-folder holding audio
    files is one song; hidden entries and the folders in ``exclude`` (e.g. the output folder) are
    left out. Raises :class:`ParameterError` when there is no song or two songs share a name.
    """
    from .audio.io import EXTENSIONS

    def is_audio(path: Path) -> bool:
        return (path.is_file() and path.suffix.lower() in EXTENSIONS
                and not path.name.startswith("."))

    folder = Path(input_dir).absolute()  # workers (Ray actors too) may run in another folder
    if not folder.is_dir():
        raise ParameterError(f"{folder}: is not a folder; batch takes a folder of songs")
    skip = {Path(p).resolve() for p in exclude}
    songs, by_name = [], {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.resolve() in skip:
            continue
        if is_audio(path):
            song = Song(path.stem, path)
        elif path.is_dir() and any(is_audio(p) for p in path.iterdir()):
            song = Song(path.name, path)
        else:
            continue
        if song.name in by_name:
            raise ParameterError(f"{by_name[song.name].path} and {song.path} would both write "
                                 f"'{song.name}/'; rename one")
        by_name[song.name] = song
        songs.append(song)
    if not songs:
        raise ParameterError(f"{folder}: holds no songs (audio files or folders of stems)")
    return sorted(songs, key=lambda s: s.name)


def finished_summary(out_dir: str | os.PathLike, name: str) -> dict | None:
    """The ``summary.json`` of a complete result ``out_dir/name/``, or None."""
    folder = Path(out_dir) / name
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    complete = (isinstance(summary, dict) and summary.get("name") == name
                and "integrated_lufs" in (summary.get("output_loudness") or {})
                and (folder / "mix.wav").is_file())
    return summary if complete else None


def clean_staging(out_dir: str | os.PathLike) -> list[Path]:
    """Remove the hidden ``.*.part`` / ``.*.old`` leftovers of a killed run; returns them."""
    removed = []
    for path in sorted(Path(out_dir).glob(".*")):
        if path.name.endswith((".part", ".old")):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _row(song: Song, status: str, *, seconds: float | None = None, summary: dict | None = None,
         message: str = "") -> dict:
    before = (summary or {}).get("input_loudness") or {}
    after = (summary or {}).get("output_loudness") or {}

    def db(value) -> str:
        return "" if value is None else f"{float(value):.2f}"

    return {"name": song.name, "input": str(song.path), "status": status,
            "seconds": "" if seconds is None else f"{seconds:.2f}",
            "input_lufs": db(before.get("integrated_lufs")),
            "output_lufs": db(after.get("integrated_lufs")),
            "output_true_peak_dbtp": db(after.get("true_peak_dbtp")),
            "target": ((summary or {}).get("target") or {}).get("name", ""),
            "message": " ".join(message.split())}


def write_summary_csv(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """Write ``rows`` (dicts with :data:`COLUMNS`) to ``path`` atomically."""
    from .utils.atomic import write_text_atomic

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, text.getvalue())


# -- the worker side: one assistant per process or actor ----------------------------------------
_assistant = None


def _die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel kill this worker when the batch process dies (even by SIGKILL),
    so an orphan never finishes a song that the rerun is processing too."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _init_worker(options: MixOptions, cache, parent_pid: int | None = None) -> None:
    """Process-pool initializer: build the worker's assistant (its models load on first use and
    stay loaded for every later song of this worker)."""
    from .assistant import MixAssistant

    global _assistant
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    _assistant = MixAssistant(options, cache=cache)


def _process(assistant, song: Song, out_dir: str) -> dict:
    """Mix one song into ``out_dir/<name>/``; any failure becomes an ``error`` row."""
    start = time.perf_counter()
    try:
        result = assistant.process(song.path, out_dir=out_dir)
    except MixAssistError as exc:
        return _row(song, "error", seconds=time.perf_counter() - start, message=str(exc))
    except Exception as exc:  # noqa: BLE001  one bad song must not stop the others
        where = f"{song.path}: " if isinstance(exc, OSError) else ""
        return _row(song, "error", seconds=time.perf_counter() - start,
                    message=f"{where}{type(exc).__name__}: {exc}")
    return _row(song, "ok", seconds=time.perf_counter() - start, summary=result.to_dict())


def _run_song(song: Song, out_dir: str) -> dict:
    return _process(_assistant, song, out_dir)


class _SongActor:
    """Ray actor: keeps one assistant (and its loaded models) for every song it is given."""

    def __init__(self, options: MixOptions, cache):
        from .assistant import MixAssistant

        _die_with_parent(os.getppid())  # its raylet: on a local cluster, it dies with the driver
        self.assistant = MixAssistant(options, cache=cache)

    def run(self, song: Song, out_dir: str) -> dict:
        return _process(self.assistant, song, out_dir)


# -- executors: yield one row per song as songs finish ------------------------------------------
def _run_local(songs: list[Song], out_dir: str, jobs: int, options: MixOptions,
               cache) -> Iterator[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(options, cache, os.getpid()))
    try:
        futures = {pool.submit(_run_song, song, out_dir): song for song in songs}
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                yield _row(futures[future], "error",
                           message="its worker process died (out of memory?); rerun to retry")
    finally:  # interrupted: start no new song, let the running ones finish (atomically)
        pool.shutdown(wait=True, cancel_futures=True)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ParameterError("--executor ray needs Ray: pip install 'mixassist[ray]'") from None
    return ray


def _run_ray(songs: list[Song], out_dir: str, jobs: int, options: MixOptions,
             cache) -> Iterator[dict]:
    from ray.util import ActorPool

    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        address = os.environ.get("RAY_ADDRESS") or None
        local = {} if address else {"num_cpus": max(jobs, os.cpu_count() or 1),
                                    "include_dashboard": False}
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR, **local)
    try:
        actor = ray.remote(num_cpus=1)(_SongActor)
        pool = ActorPool([actor.remote(options, cache) for _ in range(min(jobs, len(songs)))])
        for row in pool.map_unordered(lambda a, song: a.run.remote(song, out_dir), songs):
            yield row
    finally:
        if started:
            ray.shutdown()


@contextlib.contextmanager
def _lock(out_dir: Path) -> Iterator[None]:
    """One batch run per output folder (another would race on its staging folders)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(out_dir / ".batch.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ParameterError(f"{out_dir}: another batch run is writing there; wait for it "
                                 "or pick another output folder") from None
        yield


@dataclasses.dataclass
class BatchResult:
    """The rows of ``summary.csv`` (one per song, in name order) and where it was written."""

    rows: list[dict]
    csv_path: Path

    def count(self, status: str) -> int:
        return sum(row["status"] == status for row in self.rows)


def run_batch(input_dir: str | os.PathLike, out_dir: str | os.PathLike, *, jobs: int = 1,
              executor: str = "local", progress: Callable[[float, float], None] | None = None,
              on_row: Callable[[dict], None] | None = None, options: MixOptions | None = None,
              cache: bool | str | os.PathLike = True, **fields) -> BatchResult:
    """Mix every song of ``input_dir`` into ``out_dir/<name>/`` and write ``out_dir/summary.csv``.

    Parameters
    ----------
    jobs : number of worker processes (``local``) or Ray actors (``ray``).
    executor : ``local`` (a process pool on this machine) or ``ray`` (``RAY_ADDRESS`` names the
        cluster, else a local one is started; ``out_dir`` must then be on a shared filesystem).
    progress : ``callback(done, total)`` over songs, skipped ones included.
    on_row : called with each song's row as it finishes.
    options : the :class:`~mixassist.options.MixOptions` of every song; ``fields`` (``target``,
        ``focus``, ``amount``, ``version``, ``separation_model``, ``device``, ...) on top.
    cache : the :class:`~mixassist.assistant.MixAssistant` step cache (True, a folder, False).
    """
    if executor not in EXECUTORS:
        raise ParameterError(f"unknown executor {executor!r}; use {' or '.join(EXECUTORS)}")
    if int(jobs) < 1:
        raise ParameterError(f"jobs must be at least 1, got {jobs}")
    options = options if options is not None else MixOptions()
    options = options.replace(**fields) if fields else options  # bad options fail here, once
    if executor == "ray":
        _import_ray()
    out = Path(out_dir).absolute()
    songs = find_songs(input_dir, exclude=[out])
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict] = {}
    with _lock(out):
        clean_staging(out)

        def record(row: dict) -> None:
            rows[row["name"]] = row
            write_summary_csv(out / SUMMARY_CSV, [rows[s.name] for s in songs if s.name in rows])
            if on_row is not None:
                on_row(row)
            if progress is not None:
                progress(len(rows), len(songs))

        todo = []
        for song in songs:
            summary = finished_summary(out, song.name)
            if summary is None:
                todo.append(song)
            else:
                record(_row(song, "skipped", summary=summary, message="already done"))
        if progress is not None:
            progress(len(rows), len(songs))
        if todo:
            run = _run_local if executor == "local" else _run_ray
            for row in run(todo, str(out), int(jobs), options, cache):
                record(row)
    return BatchResult([rows[s.name] for s in songs], out / SUMMARY_CSV)
