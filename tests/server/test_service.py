"""The web service end to end through FastAPI's TestClient: jobs, refusals, traversal, auth, restart."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import threading
import time
import zipfile

import numpy as np
import pytest

from mixassist.audio import load_audio
from mixassist.loudness import integrated_loudness
from mixassist.server.jobs import JobStore
from mixassist.server.worker import run_job

from .helpers import leftovers, stems_zip, wait_for, wav_bytes


def _post(client, content: bytes, filename: str = "song.zip", **fields):
    return client.post("/api/jobs", files={"file": (filename, content, "application/octet-stream")},
                       data=fields)


@pytest.mark.slow
def test_stems_zip_job_completes_with_mix_at_target(serve, tmp_path):
    client = serve(workers=1)
    response = _post(client, stems_zip(tmp_path), target="apple", focus="vocals")
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    assert client.get(f"/jobs/{job_id}").status_code == 200  # the job page
    job = wait_for(client, job_id)
    assert job["status"] == "done", job["error"]
    assert job["progress"]["fraction"] == 1.0

    mix = client.get(job["files"]["mix"])
    assert mix.status_code == 200 and mix.headers["content-type"] == "audio/wav"
    (tmp_path / "mix.wav").write_bytes(mix.content)
    audio, sr = load_audio(tmp_path / "mix.wav")
    assert integrated_loudness(audio, sr) == pytest.approx(-16.0, abs=0.5)  # apple: -16 LUFS

    plan = client.get(job["files"]["plan"]).json()
    assert sorted(plan["stems"]) == ["bass", "drums", "keys", "vocals"]
    assert "stems" in client.get(job["files"]["analysis"]).json()
    assert "<html" in client.get(job["files"]["report"]).text.lower()
    stems = client.get(job["files"]["stems"])
    with zipfile.ZipFile(io.BytesIO(stems.content)) as zf:
        assert sorted(zf.namelist()) == ["stems/bass.wav", "stems/drums.wav", "stems/keys.wav",
                                         "stems/vocals.wav"]
    assert client.get(job["files"]["stems"]).content == stems.content  # cached, same bytes


def test_pages_and_openapi(serve):
    client = serve()
    page = client.get("/")
    assert page.status_code == 200 and 'id="drop"' in page.text and "spotify" in page.text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/files/{kind}",
            "/api/health"} <= set(paths)
    assert client.get("/docs").status_code == 200
    assert client.get("/api/health").json() == {"status": "ok"}


def _truncated_wav(tmp_path) -> bytes:
    content = wav_bytes(tmp_path)
    return content[:len(content) // 2]


REFUSALS = {
    "oversize": (lambda p: wav_bytes(p, seconds=3.0), "song.wav", 413, "larger than the limit"),
    "text renamed .wav": (lambda p: b"just some text, not audio\n" * 50, "song.wav", 415,
                          "not an audio file"),
    "truncated wav": (_truncated_wav, "song.wav", 422, "truncated"),
    "empty": (lambda p: b"", "song.wav", 422, "empty"),
    "zip member with ../": (lambda p: stems_zip(p, seconds=0.5, extra={"../evil.wav": b"RIFF"}), "s.zip", 400,
                            "unsafe path"),
    "zip member absolute": (lambda p: stems_zip(p, seconds=0.5, extra={"/tmp/evil.wav": b"RIFF"}), "s.zip",
                            400, "unsafe path"),
    "zip with a text file": (lambda p: stems_zip(p, seconds=0.5, extra={"notes.txt": b"hi"}), "s.zip", 422,
                             "not an audio file"),
    "zip with text named .wav": (lambda p: stems_zip(p, seconds=0.5, extra={"pads.wav": b"hello" * 100}),
                                 "s.zip", 422, "pads.wav"),
    "too long": (lambda p: wav_bytes(p, seconds=2.0), "song.wav", 413, "longer than the limit"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_bad_uploads_are_refused_and_leave_nothing(serve, tmp_path, case):
    make, filename, status, message = REFUSALS[case]
    client = serve(max_upload_mb=1.0, max_duration_s=1.5)
    response = _post(client, make(tmp_path), filename)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    data = tmp_path / "data"
    assert leftovers(data) == []
    assert JobStore(data / "jobs.sqlite").ids() == []


def test_upload_without_file_or_with_bad_options_is_refused(serve, tmp_path):
    client = serve()
    assert client.post("/api/jobs", data={"target": "apple"}).status_code in (400, 415)
    song = wav_bytes(tmp_path)
    for fields, expected in [({"target": "loud"}, "unknown loudness target"),
                             ({"amount": "2"}, "amount must be between 0 and 1"),
                             ({"amount": "lots"}, "amount must be a number"),
                             ({"version": "remix"}, "unknown version")]:
        response = _post(client, song, "song.wav", **fields)
        assert response.status_code == 422 and expected in response.json()["detail"]
    assert leftovers(tmp_path / "data") == []


def test_path_traversal_in_every_parameter_fails(serve, tmp_path):
    client = serve()
    job_id = _post(client, wav_bytes(tmp_path), "../../../../outside.wav").json()["id"]
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["name"] == "outside.wav"  # shown only; the server named the file
    assert not list(tmp_path.glob("**/outside.wav"))
    for url in ["/api/jobs/..%2F..%2Fetc%2Fpasswd", "/api/jobs/%2e%2e",
                "/api/jobs/../../etc/passwd", "/jobs/..%2F..%2Fetc%2Fpasswd",
                "/api/jobs/..%2F..%2Fjobs.sqlite/files/mix",
                f"/api/jobs/{job_id}/files/..%2F..%2F..%2Fjobs.sqlite",
                f"/api/jobs/{job_id}/files/..%2Finput%2Fsong.wav",
                f"/api/jobs/{job_id}/files/mix%2F..%2F..%2Finput"]:
        response = client.get(url)
        assert response.status_code in (404, 422), url
        assert b"SQLite" not in response.content and b"RIFF" not in response.content
    for fields in [{"target": "../../etc/passwd"}, {"focus": "../../etc/passwd"},
                   {"version": "../../etc/passwd"}]:
        assert _post(client, wav_bytes(tmp_path), "s.wav", **fields).status_code == 422
    # the job is not done: its files are not served yet
    assert client.get(f"/api/jobs/{job_id}/files/mix").status_code == 409


def test_token_auth(serve, tmp_path):
    client = serve(token="s3cret")
    assert client.get("/api/health").status_code == 200
    for kwargs in [{}, {"headers": {"Authorization": "Bearer wrong"}}, {"params": {"token": "x"}}]:
        assert client.get("/api/jobs/" + "a" * 24, **kwargs).status_code == 401
        assert client.get("/", **kwargs).status_code == 401
    refused = client.post("/api/jobs", files={"file": ("s.wav", wav_bytes(tmp_path))})
    assert refused.status_code == 401 and leftovers(tmp_path / "data") == []
    assert client.get("/api/jobs/" + "a" * 24,
                      headers={"Authorization": "Bearer s3cret"}).status_code == 404
    assert client.get("/api/jobs/" + "a" * 24, params={"token": "s3cret"}).status_code == 404
    assert client.get("/", params={"token": "s3cret"}).status_code == 200
    created = client.post("/api/jobs", files={"file": ("s.wav", wav_bytes(tmp_path))},
                          headers={"Authorization": "Bearer s3cret"})
    assert created.status_code == 201


@pytest.mark.slow
def test_restart_resumes_queued_and_running_jobs(serve, tmp_path):
    first = serve(workers=0)  # the queue only: nothing is processed
    ids = [_post(first, stems_zip(tmp_path, bass_hz=hz)).json()["id"] for hz in (55.0, 70.0)]
    store = JobStore(tmp_path / "data" / "jobs.sqlite")
    assert store.claim("worker-killed-mid-job")["id"] == ids[0]  # as if a worker had started it
    first.__exit__(None, None, None)
    assert store.get(ids[0])["status"] == "running"

    second = serve(workers=1)  # the service restarts on the same data folder
    for job_id in ids:
        job = wait_for(second, job_id)
        assert job["status"] == "done", job["error"]


def test_song_without_separation_model_reports_the_model_error(tmp_path, monkeypatch, serve):
    """A song file needs a separation model; with none, the job fails with ModelError's message."""
    from mixassist.separation import models

    monkeypatch.setattr(models, "BUNDLED_DIR", tmp_path)
    monkeypatch.setattr(models, "cached_pretrained", lambda name: False)
    client = serve(workers=0)
    job_id = _post(client, wav_bytes(tmp_path), "My Song.wav").json()["id"]
    data = tmp_path / "data"
    store = JobStore(data / "jobs.sqlite")
    run_job(data, store, store.claim("test"))  # what a worker process runs, here in-process
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "error" and "no separation model" in job["error"]
    assert str(data) not in job["error"]
    assert client.get(f"/api/jobs/{job_id}/files/mix").status_code == 409


@pytest.mark.slow
def test_eight_concurrent_uploads_all_complete(serve, tmp_path):
    client = serve(workers=2)
    uploads = [stems_zip(tmp_path, seconds=3.0, bass_hz=50.0 + 5 * k) for k in range(8)]
    responses: list = [None] * 8

    def upload(k: int) -> None:
        responses[k] = _post(client, uploads[k], f"song {k}.zip", target="spotify")

    threads = [threading.Thread(target=upload, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [201] * 8
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 8
    for job_id in ids:
        job = wait_for(client, job_id, timeout_s=300)
        assert job["status"] == "done", job["error"]
        mix = client.get(job["files"]["mix"])
        (tmp_path / "m.wav").write_bytes(mix.content)
        audio, sr = load_audio(tmp_path / "m.wav")
        assert integrated_loudness(audio, sr) == pytest.approx(-14.0, abs=0.5)
    summary = client.get(f"/api/jobs/{ids[0]}/files/summary").json()
    assert json.dumps(summary)  # a JSON document
    assert np.isfinite(summary["output_loudness"]["integrated_lufs"])


def test_oversize_upload_without_length_is_cut_off_while_streaming(serve, tmp_path):
    """A chunked body (no Content-Length) is stopped at the limit, not stored whole."""
    client = serve(max_upload_mb=0.5)
    boundary = "xyzboundary"
    sent = []

    def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.wav\"\r\n\r\n").encode()
        for _ in range(64):  # 64 x 64 KiB = 4 MiB, far past the 0.5 MB limit
            sent.append(1)
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post("/api/jobs", content=body(),
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413 and "larger than the limit" in response.json()["detail"]
    assert leftovers(tmp_path / "data") == []


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_job_resumes(serve, tmp_path):
    client = serve(workers=1)
    job_id = _post(client, stems_zip(tmp_path, seconds=6.0)).json()["id"]
    store = JobStore(tmp_path / "data" / "jobs.sqlite")
    deadline = time.monotonic() + 120
    while store.get(job_id)["status"] != "running":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    pool_pids = [p.pid for p in multiprocessing.active_children()
                 if p.name == store.get(job_id)["worker"]]
    assert len(pool_pids) == 1
    os.kill(pool_pids[0], signal.SIGKILL)  # as if killed for memory mid-job
    job = wait_for(client, job_id)
    assert job["status"] == "done", job["error"]
