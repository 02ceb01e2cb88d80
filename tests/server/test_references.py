"""Reference songs and DAW exports through the web service: the upload validates and stores the
references, the worker mixes toward them, and the export files are listed and served."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest

from mixassist.audio import save_audio

from mixassist.server.jobs import JobStore
from mixassist.server.worker import job_dir, run_job

from .helpers import SR, leftovers, song_bytes, stems_zip, wait_for, wav_bytes

EXPORT_KINDS = {"reaper", "session", "stems-zip"}


def _post(client, song: bytes, references=(), filename: str = "my song.zip", **fields):
    files = [("file", (filename, song, "application/octet-stream"))]
    files += [("reference", (name, content, "audio/wav")) for name, content in references]
    return client.post("/api/jobs", files=files, data=fields)


def _run_here(client, job_id: str) -> dict:
    """Run the queued job in this process (what a worker runs); its JSON."""
    data = client.app.state.settings.data_dir
    store = JobStore(data / "jobs.sqlite")
    claimed = store.claim("test")
    assert claimed["id"] == job_id
    run_job(data, store, claimed)
    return client.get(f"/api/jobs/{job_id}").json()


def test_a_job_with_a_reference_mixes_toward_it(serve, tmp_path):
    client = serve(workers=0)
    response = _post(client, stems_zip(tmp_path, seconds=4.0),
                     [("My Reference.wav", song_bytes(tmp_path, 10.0))])
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    job = client.get(f"/api/jobs/{job_id}").json()
    (stored,) = job["options"]["references"]  # relative to the job's folder: no server paths
    assert stored == "input/references/1/My Reference.wav"
    assert (job_dir(tmp_path / "data", job_id) / stored).is_file()
    assert job["options"]["export"] is None

    job = _run_here(client, job_id)
    assert job["status"] == "done", job["error"]
    plan = client.get(job["files"]["plan"]).json()  # Plan.extra["reference"] is its "reference"
    assert plan["reference"]["references"] == ["My Reference"]
    assert not EXPORT_KINDS & set(job["files"])  # no export asked for: none listed, none served
    for kind in EXPORT_KINDS:
        assert client.get(f"/api/jobs/{job_id}/files/{kind}").status_code == 404


def _rpp_sources(session: str) -> list[str]:
    """The files a Reaper session's items play (the ``FILE`` lines of its SOURCE blocks)."""
    return [quoted or bare for quoted, bare in
            re.findall(r'^\s*FILE (?:"([^"]+)"|(\S+))\s*$', session, flags=re.MULTILINE)]


def test_reaper_export_is_one_zip_with_the_session_and_its_sources(serve, tmp_path):
    client = serve(workers=0)
    response = _post(client, stems_zip(tmp_path, seconds=4.0), export="reaper")
    assert response.status_code == 201, response.text
    job = _run_here(client, response.json()["id"])
    assert job["status"] == "done", job["error"]
    assert job["options"]["export"] == "reaper"
    assert {"reaper", "session"} <= set(job["files"]) and "stems-zip" not in job["files"]

    download = client.get(job["files"]["reaper"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert "my_song-reaper.zip" in download.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        names = set(zf.namelist())
        session = zf.read("my_song-reaper/session.rpp").decode()
        sources = _rpp_sources(session)
        assert sorted(sources) == [f"source/{s}.wav" for s in ("bass", "drums", "keys", "vocals")]
        assert {f"my_song-reaper/{s}" for s in sources} <= names  # every file it names is there
        assert zf.read(f"my_song-reaper/{sources[0]}")[:4] == b"RIFF"
    assert client.get(job["files"]["reaper"]).content == download.content  # built once
    alone = client.get(job["files"]["session"])
    assert alone.status_code == 200 and alone.text == session


def test_stems_zip_export_is_listed_and_served(serve, tmp_path):
    client = serve(workers=0)
    response = _post(client, stems_zip(tmp_path, seconds=4.0), export="stems-zip")
    job = _run_here(client, response.json()["id"])
    assert job["status"] == "done", job["error"]
    assert "stems-zip" in job["files"] and not {"reaper", "session"} & set(job["files"])
    download = client.get(job["files"]["stems-zip"])
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        names = zf.namelist()
    assert "song/processed/bass.wav" in names and "song/unprocessed/bass.wav" in names
    assert client.get(f"/api/jobs/{job['id']}/files/reaper").status_code == 404


def _truncated(tmp_path) -> bytes:
    content = song_bytes(tmp_path, 10.0)
    return content[:len(content) // 2]


REFERENCE_REFUSALS = {
    "too short": (lambda p: song_bytes(p, 4.0), 422, "at least 10 s"),
    "truncated": (_truncated, 422, "truncated"),
    "text renamed .wav": (lambda p: b"not audio at all\n" * 100, 415, "not an audio file"),
    "empty": (lambda p: b"", 422, "empty"),
    "too long": (lambda p: song_bytes(p, 11.5), 413, "longer than the limit"),
    "oversize": (lambda p: song_bytes(p, 10.0) + b"\0" * 3 * 2**19, 413, "larger than the limit"),
    "zip with a text file": (lambda p: stems_zip(p, seconds=0.5, extra={"notes.txt": b"hi"}), 422,
                             "zip member 'notes.txt' is not an audio file"),
}


@pytest.mark.parametrize("case", list(REFERENCE_REFUSALS))
def test_a_bad_reference_is_refused_by_name_and_nothing_is_stored(serve, tmp_path, case):
    make, status, message = REFERENCE_REFUSALS[case]
    client = serve(max_duration_s=11.0, max_upload_mb=4.5)  # a 10-s reference: 3.5 MB
    good = ("Good One.wav", song_bytes(tmp_path, 10.0, name="good.wav"))
    response = _post(client, wav_bytes(tmp_path), [good, ("Bad Ref.wav", make(tmp_path))],
                     "song.wav")
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert "reference Bad Ref.wav" in detail and message in detail, detail
    assert "\n" not in detail and str(tmp_path) not in detail
    data = tmp_path / "data"
    assert leftovers(data) == []
    assert JobStore(data / "jobs.sqlite").ids() == []


def test_more_than_three_references_are_refused(serve, tmp_path):
    client = serve()
    reference = song_bytes(tmp_path, 10.0)
    four = [(f"ref {k}.wav", reference) for k in range(4)]
    response = _post(client, wav_bytes(tmp_path), four, "song.wav")
    assert response.status_code == 400 and "at most 3" in response.json()["detail"]
    assert leftovers(tmp_path / "data") == []
    response = _post(client, wav_bytes(tmp_path), four[:3], "song.wav")
    assert response.status_code == 201, response.text
    options = client.get(f"/api/jobs/{response.json()['id']}").json()["options"]
    assert [r.split("/")[-1] for r in options["references"]] == ["ref 0.wav", "ref 1.wav",
                                                                 "ref 2.wav"]


def test_bad_export_option_is_refused(serve, tmp_path):
    client = serve()
    response = _post(client, wav_bytes(tmp_path), filename="song.wav", export="cubase")
    assert response.status_code == 422 and "unknown export 'cubase'" in response.json()["detail"]
    assert _post(client, wav_bytes(tmp_path), filename="song.wav", export="none").json()["id"]
    assert leftovers(tmp_path / "data") != []


def test_a_silent_reference_is_refused_naming_it(serve, tmp_path):
    client = serve(workers=0)
    silence = save_audio(tmp_path / "quiet.wav", np.zeros((2, 10 * SR), np.float32),
                         SR).read_bytes()
    response = _post(client, stems_zip(tmp_path, seconds=4.0), [("Quiet.wav", silence)])
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "reference Quiet.wav" in detail and "silent" in detail and str(tmp_path) not in detail
    assert leftovers(tmp_path / "data") == []


def test_upload_page_and_openapi_offer_references_and_exports(serve):
    client = serve()
    page = client.get("/").text
    assert re.search(r'<input id="references" name="reference" type="file" multiple', page)
    assert "Reference songs (optional, up to 3)" in page
    assert re.search(r'<select id="export" name="export">\s*<option value="none" selected>none'
                     r'</option><option value="reaper">reaper</option><option '
                     r'value="stems-zip">stems-zip</option></select>', page)
    assert "body.append('reference', ref, ref.name)" in page and 'id="drop"' in page
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    properties = body["schema"]["properties"]
    assert properties["reference"]["type"] == "array" and properties["reference"]["maxItems"] == 3
    assert properties["reference"]["items"] == {"type": "string", "format": "binary"}
    assert properties["export"]["enum"] == ["none", "reaper", "stems-zip"]
    kinds = [p for p in spec["paths"]["/api/jobs/{job_id}/files/{kind}"]["get"]["parameters"]
             if p["name"] == "kind"][0]["schema"]
    enum = spec["components"]["schemas"][kinds["$ref"].split("/")[-1]]["enum"] \
        if "$ref" in kinds else kinds["enum"]
    assert EXPORT_KINDS <= set(enum)
    assert client.get("/docs").status_code == 200


@pytest.mark.slow
def test_reference_and_reaper_export_end_to_end_in_a_worker(serve, tmp_path):
    client = serve(workers=1)
    response = _post(client, stems_zip(tmp_path, seconds=10.0),
                     [("Ref A.wav", song_bytes(tmp_path, 10.0))], export="reaper")
    assert response.status_code == 201, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done", job["error"]
    plan = client.get(job["files"]["plan"]).json()
    assert plan["reference"]["references"] == ["Ref A"]
    with zipfile.ZipFile(io.BytesIO(client.get(job["files"]["reaper"]).content)) as zf:
        assert "my_song-reaper/session.rpp" in zf.namelist()
    page = client.get(job["page"]).text  # it links every kind that files lists, labelled
    assert "reaper: 'Reaper session (zip" in page
