"""The job queue, persisted in SQLite (``DATA/jobs.sqlite``) so jobs survive a restart.

Every connection is short-lived and opened per call, so the store is safe to use from the web
server's threads and from worker processes at once; a job is claimed with ``BEGIN IMMEDIATE`` so
two workers never take the same one. Job ids are ``secrets.token_urlsafe(18)`` (144 random bits).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

#: Shape of every id :func:`new_job_id` makes; anything else is refused before a lookup.
JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{24}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,          -- 'song' (one file) or 'stems' (a folder from a zip)
    display_name TEXT NOT NULL,  -- the upload's filename, shown only
    options TEXT NOT NULL,       -- JSON: MixOptions.to_dict()
    step TEXT,
    fraction REAL NOT NULL DEFAULT 0,
    error TEXT,
    worker TEXT
)
"""


def new_job_id() -> str:
    """An unguessable job id (URL-safe, 24 characters, 144 random bits)."""
    return secrets.token_urlsafe(18)


class JobStore:
    """Jobs in ``path`` (SQLite). Rows are returned as plain dicts with ``options`` decoded."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    @staticmethod
    def _row(row: sqlite3.Row | None) -> dict | None:
        if row is None:
            return None
        job = dict(row)
        job["options"] = json.loads(job["options"])
        return job

    def add(self, job_id: str, *, kind: str, display_name: str, options: dict) -> None:
        now = time.time()
        with self._connect() as db:
            db.execute("INSERT INTO jobs (id, created, updated, status, kind, display_name, options)"
                       " VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                       (job_id, now, now, kind, display_name, json.dumps(options)))

    def get(self, job_id: str) -> dict | None:
        if not JOB_ID_PATTERN.match(job_id or ""):
            return None
        with self._connect() as db:
            return self._row(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def ids(self) -> list[str]:
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT id FROM jobs ORDER BY created")]

    def claim(self, worker: str) -> dict | None:
        """Mark the oldest queued job ``running`` for ``worker`` and return it (None if none)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT * FROM jobs WHERE status = 'queued' "
                                 "ORDER BY created LIMIT 1").fetchone()
                if row is not None:
                    db.execute("UPDATE jobs SET status = 'running', worker = ?, step = 'starting', "
                               "fraction = 0, updated = ? WHERE id = ?",
                               (worker, time.time(), row["id"]))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        job = self._row(row)
        if job is not None:
            job.update(status="running", worker=worker, step="starting", fraction=0.0)
        return job

    def progress(self, job_id: str, step: str, fraction: float) -> None:
        with self._connect() as db:
            db.execute("UPDATE jobs SET step = ?, fraction = ?, updated = ? WHERE id = ? "
                       "AND status = 'running'", (step, float(fraction), time.time(), job_id))

    def finish(self, job_id: str, *, error: str | None = None) -> None:
        """Mark a job ``done`` (no ``error``) or ``error`` with its one-line message."""
        status = "done" if error is None else "error"
        with self._connect() as db:
            db.execute("UPDATE jobs SET status = ?, error = ?, step = ?, fraction = ?, updated = ? "
                       "WHERE id = ?", (status, error, status, 1.0 if error is None else 0.0,
                                        time.time(), job_id))

    def requeue_running(self, worker: str | None = None) -> int:
        """Put ``running`` jobs (of ``worker``, or all) back in the queue; returns how many."""
        query = "UPDATE jobs SET status = 'queued', step = NULL, fraction = 0, worker = NULL, " \
                "updated = ? WHERE status = 'running'"
        args: tuple = (time.time(),)
        if worker is not None:
            query += " AND worker = ?"
            args += (worker,)
        with self._connect() as db:
            return db.execute(query, args).rowcount
