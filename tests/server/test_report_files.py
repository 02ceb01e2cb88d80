"""The served report finds its A/B player's files: ``preview/<name>.wav`` next to the report URL,
with range requests (browsers seek with them), safe names only, the job's token."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from mixassist.audio import load_audio
from mixassist.loudness import integrated_loudness
from mixassist.server.jobs import new_job_id
from mixassist.server.worker import job_output

from ..test_report import report_folder


def _job(client, *, done: bool = True) -> tuple[str, Path]:
    """A job whose result folder holds an A/B report (see ``report_folder``); id and folder."""
    store, data = client.app.state.store, client.app.state.settings.data_dir
    job_id = new_job_id()
    store.add(job_id, kind="stems", display_name="my song.zip", options={})
    folder = job_output(data, job_id)
    report_folder(folder, seconds=3.0)
    if done:
        assert store.claim("test")["id"] == job_id
        store.finish(job_id)
    return job_id, folder


def test_the_served_report_finds_its_previews(serve, tmp_path):
    client = serve()
    job_id, folder = _job(client)
    report_url = client.get(f"/api/jobs/{job_id}").json()["files"]["report"]
    page = client.get(report_url).text
    sources = re.findall(r'<audio [^>]*src="([^"]+)"', page)
    links = re.findall(r'<a href="([^"]+\.wav)"', page)
    assert sources == ["preview/before.wav", "preview/after.wav", "preview/reference.wav"]
    assert {"input.wav", "mix.wav"} <= set(links)
    loudness = []
    for k, relative in enumerate(sources + links):
        url = urljoin("http://testserver" + report_url, relative)  # as the browser resolves it
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "audio/wav"
        if relative in sources:
            assert response.content == (folder / relative).read_bytes()
            (tmp_path / f"{k}.wav").write_bytes(response.content)
            loudness.append(integrated_loudness(*load_audio(tmp_path / f"{k}.wav")))
    assert max(loudness) - min(loudness) <= 0.5
    # browsers seek with range requests
    ranged = client.get(f"/api/jobs/{job_id}/files/preview/after.wav",
                        headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
    assert client.get(f"/api/jobs/{job_id}/files/preview/missing.wav").status_code == 404


def test_preview_names_cannot_leave_the_preview_folder(serve):
    client = serve()
    job_id, folder = _job(client)
    (folder.parent.parent / "secret.wav").write_bytes(b"RIFF secret")
    os.symlink(folder.parent.parent / "secret.wav", folder / "preview" / "link.wav")
    base = f"/api/jobs/{job_id}/files/preview/"
    for name in ["..%2F..%2F..%2Fjobs.sqlite", "..%2Fmix.wav", "%2e%2e", "..", ".before.wav",
                 "Before.wav", "before.wav.part", "before", "before.WAV", "a%2Fbefore.wav",
                 "-before.wav", "before%00.wav", "link.wav", "..%2F..%2Fsecret.wav"]:
        response = client.get(base + name)
        assert response.status_code in (404, 422), name
        assert b"SQLite" not in response.content and b"RIFF" not in response.content, name
    assert client.get(base + "before.wav").status_code == 200


def test_previews_of_an_unfinished_job_or_without_the_token_are_refused(serve):
    client = serve(token="s3cret")
    job_id, _ = _job(client, done=False)
    url = f"/api/jobs/{job_id}/files/preview/before.wav"
    assert client.get(url + "?token=s3cret").status_code == 409
    client.app.state.store.claim("test")
    client.app.state.store.finish(job_id)
    assert client.get(url).status_code == 401
    assert client.get(url + "?token=s3cret").status_code == 200
    assert client.get(url, headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.mark.parametrize("name", ["before.wav", "reference-2.wav", "a" * 62 + ".wav"])
def test_every_slug_the_report_writes_is_a_servable_name(name):
    from mixassist.report import PREVIEW_NAME_PATTERN, preview_slug

    assert PREVIEW_NAME_PATTERN.match(name)
    assert PREVIEW_NAME_PATTERN.match(preview_slug("Reference 2 (the one I love!) " * 5) + ".wav")
