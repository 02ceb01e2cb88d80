"""Helpers for the web service tests: synthetic uploads, waiting for jobs, what DATA holds."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from mixassist.audio import save_audio
from mixassist.testing import synthetic_stems

SR = 44100


def stems_zip(tmp_path: Path, *, seconds: float = 4.0, bass_hz: float = 55.0,
              extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of the four :func:`~mixassist.testing.synthetic_stems` (bass at ``bass_hz``) as bytes."""
    stems = synthetic_stems(seconds, SR, bass_hz=bass_hz)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, x in stems.items():
            path = save_audio(tmp_path / f"{name}-{bass_hz:g}.wav", x, SR)
            zf.write(path, f"my song/{name}.wav")
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return buffer.getvalue()


def wav_bytes(tmp_path: Path, seconds: float = 2.0) -> bytes:
    x = 0.2 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * SR)) / SR)
    return save_audio(tmp_path / "song.wav", np.stack([x, x]).astype(np.float32), SR).read_bytes()


def wait_for(client: TestClient, job_id: str, *, timeout_s: float = 180.0, **kwargs) -> dict:
    """Poll a job until it is done or failed; its JSON."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", **kwargs).json()
        if job["status"] in ("done", "error"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s: {job}")


def leftovers(data_dir: Path) -> list[str]:
    """Every file or folder under DATA except the job database and the empty top folders."""
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.name not in ("jobs.sqlite", "jobs", "tmp"))


def song_bytes(tmp_path: Path, seconds: float = 10.0, *, bass_hz: float = 70.0,
               name: str = "reference.wav") -> bytes:
    """One WAV of the :func:`~mixassist.testing.synthetic_stems` mixed (a reference song)."""
    mix = sum(synthetic_stems(seconds, SR, bass_hz=bass_hz).values())
    return save_audio(tmp_path / name, mix.astype(np.float32), SR).read_bytes()


def serve_in_thread(app):
    """``app`` on a free local port (uvicorn in a thread): ``(base URL, server, thread)``; stop
    it with ``server.should_exit = True`` and ``thread.join()``."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise AssertionError("the server did not start in 30 s")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread
