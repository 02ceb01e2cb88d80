"""Workers that run queued jobs: ``MixAssistant.process`` into ``DATA/jobs/<id>/out``.

Each worker is a separate process (the report draws with matplotlib's pyplot, which is not
thread-safe), started with the ``spawn`` method and kept alive, so loaded models are reused from
job to job. Workers claim jobs from the SQLite store and write their progress there; the web
server only reads it. On shutdown a worker stops at its next progress step and its job goes back
to the queue, so it resumes when the service starts again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .jobs import JobStore

if TYPE_CHECKING:
    from ..options import MixOptions

log = logging.getLogger("mixassist.server")

#: The name every job's input and output folder gets (``input/song[.ext]``, ``out/song/``).
SONG_NAME = "song"
_POLL_S = 0.25
_PROGRESS_EVERY_S = 0.3
_MONITOR_S = 1.0


class _Stopped(Exception):
    """Raised inside a job when the service shuts down; the job is re-queued."""


def job_dir(data_dir: Path, job_id: str) -> Path:
    return Path(data_dir) / "jobs" / job_id


def job_input(data_dir: Path, job: dict) -> Path:
    """The input the server saved for ``job``: a song file or a folder of stems."""
    folder = job_dir(data_dir, job["id"]) / "input"
    if job["kind"] == "stems":
        return folder / SONG_NAME
    return next(folder.glob(f"{SONG_NAME}.*"))


def job_output(data_dir: Path, job_id: str) -> Path:
    """The finished result folder of a job (``mix.wav``, ``stems/``, ``report.html``, ...)."""
    return job_dir(data_dir, job_id) / "out" / SONG_NAME


def job_options(data_dir: Path, job: dict) -> MixOptions:
    """The job's :class:`~mixassist.options.MixOptions`, its references (stored relative to the
    job's folder, ``input/references/<k>/<name>``) resolved to paths."""
    from ..options import MixOptions

    options = MixOptions.from_dict(job["options"])
    if not options.references:
        return options
    folder = job_dir(data_dir, job["id"])
    return options.replace(references=tuple(str(folder / ref) for ref in options.references))


def run_job(data_dir: Path, store: JobStore, job: dict, stop=None) -> None:
    """Process one claimed job and record its outcome; user errors become the job's message."""
    from ..assistant import MixAssistant
    from ..errors import MixAssistError

    last = [0.0, ""]

    def progress(step: str, done: float, total: float) -> None:
        if stop is not None and stop.is_set():
            raise _Stopped
        now = time.monotonic()
        if step != last[1] or now - last[0] >= _PROGRESS_EVERY_S:
            last[:] = [now, step]
            store.progress(job["id"], step, min(1.0, done / total) if total else 0.0)

    source = job_input(data_dir, job)
    references: tuple[str, ...] = ()
    try:
        options = job_options(data_dir, job)
        references = options.references
        assistant = MixAssistant(options)
        assistant.process(source, out_dir=job_output(data_dir, job["id"]).parent,
                          progress=progress)
    except _Stopped:
        store.requeue_running(job["worker"])
        return
    except MixAssistError as exc:  # the user's problem: say it, without server paths
        message = str(exc).replace(str(source), job["display_name"])
        for ref in references:  # a reference by its name (the name of its upload)
            message = message.replace(ref, f"reference {Path(ref).name}")
        store.finish(job["id"], error=message.replace(str(data_dir), "<data>"))
        return
    except Exception as exc:  # noqa: BLE001 - a bug: keep the worker alive, log the traceback
        log.exception("job %s failed", job["id"])
        store.finish(job["id"], error=f"internal error ({type(exc).__name__}); see the server log")
        return
    store.finish(job["id"])


def worker_main(data_dir: str, name: str, stop) -> None:
    """Worker process: claim and run jobs until ``stop`` (a multiprocessing Event) is set."""
    data = Path(data_dir)
    store = JobStore(data / "jobs.sqlite")
    while not stop.is_set():
        job = store.claim(name)
        if job is None:
            stop.wait(_POLL_S)
            continue
        run_job(data, store, job, stop)


class WorkerPool:
    """``count`` worker processes serving the queue in ``data_dir``.

    A monitor thread replaces a worker that dies (killed for memory, a crash in native code) and
    puts the job it held back in the queue.
    """

    def __init__(self, data_dir: Path, count: int):
        self.data_dir, self.count = Path(data_dir), count
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._processes: list = []
        self._store = JobStore(self.data_dir / "jobs.sqlite")
        self._monitor = threading.Thread(target=self._watch, name="mixassist-workers", daemon=True)

    def _spawn(self, k: int):
        name = f"worker-{os.getpid()}-{k}"
        process = self._context.Process(target=worker_main, name=name, daemon=True,
                                        args=(str(self.data_dir), name, self._stop))
        process.start()
        return process

    def start(self) -> None:
        self._processes = [self._spawn(k) for k in range(self.count)]
        if self.count:
            self._monitor.start()

    def _watch(self) -> None:
        while not self._stop.wait(_MONITOR_S):
            for k, process in enumerate(self._processes):
                if not process.is_alive() and not self._stop.is_set():
                    log.warning("%s exited (code %s); restarting it", process.name,
                                process.exitcode)
                    self._store.requeue_running(process.name)
                    self._processes[k] = self._spawn(k)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the workers to stop, wait, then terminate stragglers (their jobs are re-queued)."""
        self._stop.set()
        if self._monitor.is_alive():
            self._monitor.join()
        deadline = time.monotonic() + timeout_s
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(2.0)
            self._store.requeue_running(process.name)
        self._processes.clear()
