"""The FastAPI application: upload page, job page and the REST API (OpenAPI docs at ``/docs``).

``create_app(Settings(data_dir=...))`` builds it. On start it re-queues jobs left ``running`` by
a previous run, then starts the in-service worker processes; on shutdown they stop and their
jobs go back to the queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import os
import re
import secrets
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Path as PathParam, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse

from ..errors import MixAssistError
from ..options import EXPORTS, MixOptions
from ..report import PREVIEW_DIR, PREVIEW_NAME_PATTERN
from ..utils.atomic import atomic_path
from .jobs import JOB_ID_PATTERN, JobStore, new_job_id
from .pages import job_page, upload_page
from .uploads import (MAX_REFERENCES, REFERENCE_FIELD, MultipartReceiver, UploadError,
                      display_name as upload_display_name, stage_input, stage_reference)
from .worker import WorkerPool, job_dir, job_output

_MULTIPART_SLACK_BYTES = 64 * 1024  # form fields and part headers around the file


@dataclasses.dataclass(frozen=True)
class Settings:
    """Service configuration.

    data_dir : where ``jobs.sqlite``, ``jobs/<id>/`` and upload staging (``tmp/``) live.
    workers : worker processes inside the service (0: queue only, nothing is processed).
    token : when set, every page and ``/api/jobs`` call needs it (``Authorization: Bearer``
        header or ``?token=``).
    max_upload_mb : largest upload accepted, MB (a zip of stems may unpack to 4x this).
    max_duration_s : longest audio accepted (each stem of a zip), seconds.
    """

    data_dir: Path
    workers: int = 1
    token: str | None = None
    max_upload_mb: float = 200.0
    max_duration_s: float = 3600.0

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


class FileKind(str, enum.Enum):
    """A result file of a finished job."""

    mix = "mix"
    input = "input"
    stems = "stems"
    plan = "plan"
    analysis = "analysis"
    report = "report"
    summary = "summary"
    reaper = "reaper"
    session = "session"
    stems_zip = "stems-zip"


#: The result files that exist only with an ``export`` option: kind -> (that option, the file
#: in the result folder that the export wrote).
EXPORT_FILES = {FileKind.reaper: ("reaper", "session.rpp"),
                FileKind.session: ("reaper", "session.rpp"),
                FileKind.stems_zip: ("stems-zip", "stems.zip")}


#: kind -> (file in the result folder, media type, download suffix)
_FILES = {
    FileKind.mix: ("mix.wav", "audio/wav", "mix.wav"),
    FileKind.input: ("input.wav", "audio/wav", "input.wav"),
    FileKind.plan: ("plan.json", "application/json", "plan.json"),
    FileKind.analysis: ("analysis.json", "application/json", "analysis.json"),
    FileKind.report: ("report.html", "text/html", None),
    FileKind.summary: ("summary.json", "application/json", "summary.json"),
    FileKind.session: ("session.rpp", "application/octet-stream", "session.rpp"),
    FileKind.stems_zip: ("stems.zip", "application/zip", "daw-stems.zip"),
}
#: The Reaper export's files in the result folder (``reaper.zip`` holds them).
REAPER_SESSION, REAPER_SOURCE = "session.rpp", "source"
JobId = Annotated[str, PathParam(description="A job id as returned by POST /api/jobs.",
                                 pattern=JOB_ID_PATTERN.pattern)]
PreviewName = Annotated[str, PathParam(description="A file of the report's A/B player.",
                                       pattern=PREVIEW_NAME_PATTERN.pattern)]


def _download_name(display_name: str, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", os.path.splitext(display_name)[0]).strip("_")[:60]
    return f"{stem or 'song'}-{suffix}"


def _job_options(fields: dict[str, str], references: tuple[str, ...] = ()) -> MixOptions:
    """The :class:`~mixassist.options.MixOptions` of the form fields (validated); ``references``
    are the stored reference songs, relative to the job's folder (the worker resolves them)."""
    focus = (fields.get("focus") or "").strip() or None
    if focus and not re.fullmatch(r"[A-Za-z0-9 _+-]{1,40}", focus):
        raise UploadError(422, "focus must be a stem or instrument name such as 'vocals'")
    export = (fields.get("export") or "").strip() or None
    try:
        return MixOptions(target=fields.get("target") or "spotify", focus=focus,
                          amount=fields.get("amount") or 1.0,
                          version=fields.get("version") or "full",
                          references=references, export=None if export == "none" else export)
    except MixAssistError as exc:
        raise UploadError(422, str(exc)) from None


def _reaper_zip(folder: Path, path: Path, *, top: str) -> None:
    """Write ``path``: the Reaper export of the result ``folder`` as one folder ``top/`` holding
    ``session.rpp`` and the ``source/`` stems it plays (the session names them relatively)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        zf.write(folder / REAPER_SESSION, f"{top}/{REAPER_SESSION}",
                 compress_type=zipfile.ZIP_DEFLATED)
        for source in sorted((folder / REAPER_SOURCE).rglob("*")):
            if source.is_file():
                zf.write(source, f"{top}/{source.relative_to(folder).as_posix()}")


def create_app(settings: Settings) -> FastAPI:
    """The web service for ``settings`` (see :class:`Settings`)."""
    from ..planning.targets import PRESETS
    from ..planning.arrangement import VERSIONS

    data = Path(settings.data_dir)
    (data / "jobs").mkdir(parents=True, exist_ok=True)
    (data / "tmp").mkdir(exist_ok=True)
    store = JobStore(data / "jobs.sqlite")
    zip_lock = threading.Lock()  # the zips built on first download

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        store.requeue_running()
        for leftover in (data / "tmp").iterdir():  # staging of uploads cut off by a crash
            shutil.rmtree(leftover, ignore_errors=True)
        pool = WorkerPool(data, settings.workers)
        pool.start()
        try:
            yield
        finally:
            await run_in_threadpool(pool.stop)

    def authorize(request: Request) -> None:
        if settings.token is None:
            return
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else \
            request.query_params.get("token", "")
        if not secrets.compare_digest(given.encode(), settings.token.encode()):
            raise HTTPException(401, "missing or wrong token: send 'Authorization: Bearer TOKEN' "
                                     "or add ?token=TOKEN", headers={"WWW-Authenticate": "Bearer"})

    def find(job_id: str) -> dict:
        job = store.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        return job

    app = FastAPI(title="mixassist", lifespan=lifespan,
                  description="Upload a song or a zip of stems; get a mix, stems, a plan, an "
                              "analysis and a report.")
    auth = [Depends(authorize)]

    @app.get("/api/health", tags=["service"])
    def health() -> dict:
        """Liveness: always ``{"status": "ok"}`` while the service runs (no token needed)."""
        return {"status": "ok"}

    @app.post("/api/jobs", status_code=201, dependencies=auth, tags=["jobs"], openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "One song (WAV, FLAC, AIFF, OGG, MP3) or a .zip of stems"},
                "target": {"type": "string", "default": "spotify"},
                "focus": {"type": "string"},
                "amount": {"type": "number", "default": 1.0, "minimum": 0, "maximum": 1},
                "version": {"type": "string", "enum": list(VERSIONS), "default": "full"},
                REFERENCE_FIELD: {
                    "type": "array", "maxItems": MAX_REFERENCES,
                    "items": {"type": "string", "format": "binary"},
                    "description": f"Reference songs to mix toward (repeat the field; at most "
                                   f"{MAX_REFERENCES}): each a song file (WAV, FLAC, AIFF, "
                                   f"OGG, MP3) or a .zip of its stems, at least 10 s long"},
                "export": {"type": "string", "enum": ["none", *EXPORTS], "default": "none",
                           "description": "Also export for a DAW: 'reaper' (files kind "
                                          "'reaper': a zip of session.rpp and its source/ "
                                          "stems; 'session': the .rpp alone) or 'stems-zip' "
                                          "(files kind 'stems-zip')"}}}}}}})
    async def create_job(request: Request) -> dict:
        """Upload and queue a job; returns ``{"id": ...}``. Refusals are 4xx with a ``detail``.

        Each file (the song, every reference) is streamed to disk and cut off at the size limit;
        its type is checked by its content (and decoded end to end), never by its name. A
        refused job stores nothing.
        """
        declared = int(request.headers.get("content-length") or 0)
        if declared > (1 + MAX_REFERENCES) * settings.max_upload_bytes + _MULTIPART_SLACK_BYTES:
            raise HTTPException(413, f"the upload is larger than the limit of "
                                     f"{settings.max_upload_mb:g} MB per file")
        staging = Path(tempfile.mkdtemp(dir=data / "tmp"))
        receiver = None
        try:
            receiver = MultipartReceiver(request.headers.get("content-type", ""),
                                         staging / "upload", max_bytes=settings.max_upload_bytes,
                                         reference_dir=staging / "received",
                                         max_references=MAX_REFERENCES)
            async for chunk in request.stream():
                receiver.feed(chunk)
            receiver.close()
            if receiver.filename is None:
                raise UploadError(400, "no file: send the song or the zip in the 'file' field")
            _job_options(receiver.fields)  # refuse bad options before any decoding
            display_name = upload_display_name(receiver.filename)
            kind = await run_in_threadpool(
                stage_input, staging / "upload", staging / "input", display_name=display_name,
                max_bytes=settings.max_upload_bytes, max_duration_s=settings.max_duration_s)
            references = []
            for k, (filename, upload) in enumerate(receiver.references, 1):
                folder = staging / "input" / "references" / str(k)
                folder.parent.mkdir(exist_ok=True)
                stored = await run_in_threadpool(
                    stage_reference, upload, folder, display_name=upload_display_name(filename),
                    k=k, max_bytes=settings.max_upload_bytes,
                    max_duration_s=settings.max_duration_s)
                references.append(stored.relative_to(staging).as_posix())
            options = _job_options(receiver.fields, tuple(references))
            shutil.rmtree(staging / "received", ignore_errors=True)
            job_id = new_job_id()
            os.replace(staging, job_dir(data, job_id))
            store.add(job_id, kind=kind, display_name=display_name, options=options.to_dict())
        except UploadError as exc:
            raise HTTPException(exc.status, exc.message) from None
        finally:
            if receiver is not None:
                receiver.close()
            shutil.rmtree(staging, ignore_errors=True)
        return {"id": job_id, "url": f"/api/jobs/{job_id}", "page": f"/jobs/{job_id}"}

    @app.get("/api/jobs/{job_id}", dependencies=auth, tags=["jobs"])
    def get_job(job_id: JobId) -> dict:
        """Status (queued, running, done, error), progress, error message and result links."""
        job = find(job_id)
        files = {kind.value: f"/api/jobs/{job_id}/files/{kind.value}" for kind in FileKind
                 if has_file(job, kind)} if job["status"] == "done" else {}
        return {"id": job_id, "name": job["display_name"], "kind": job["kind"],
                "status": job["status"], "options": job["options"],
                "progress": {"step": job["step"], "fraction": job["fraction"]},
                "error": job["error"], "files": files, "page": f"/jobs/{job_id}",
                "created": job["created"], "updated": job["updated"]}

    def has_file(job: dict, kind: FileKind) -> bool:
        """Whether a done ``job`` has the result file ``kind`` (the export files only with the
        matching ``export`` option)."""
        if kind not in EXPORT_FILES:
            return True
        export, name = EXPORT_FILES[kind]
        return job["options"].get("export") == export and \
            (job_output(data, job["id"]) / name).is_file()

    def result_file(job_id: str, kind: FileKind) -> FileResponse:
        job = find(job_id)
        if job["status"] != "done":
            raise HTTPException(409, f"the job is {job['status']}; its files exist once it is done")
        if not has_file(job, kind):
            raise HTTPException(404, f"the job has no {kind.value} file: it had no "
                                     f"export={EXPORT_FILES[kind][0]!r} option")
        folder = job_output(data, job_id)
        if kind is FileKind.stems:
            path = job_dir(data, job_id) / "stems.zip"
            with zip_lock:
                if not path.exists():
                    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
                        for stem in sorted((folder / "stems").glob("*.wav")):
                            zf.write(stem, f"stems/{stem.name}")
            return FileResponse(path, media_type="application/zip",
                                filename=_download_name(job["display_name"], "stems.zip"))
        if kind is FileKind.reaper:
            path = job_dir(data, job_id) / "reaper.zip"
            with zip_lock:
                if not path.exists():
                    _reaper_zip(folder, path, top=_download_name(job["display_name"], "reaper"))
            return FileResponse(path, media_type="application/zip",
                                filename=_download_name(job["display_name"], "reaper.zip"))
        name, media_type, suffix = _FILES[kind]
        return FileResponse(folder / name, media_type=media_type, filename=None if suffix is None
                            else _download_name(job["display_name"], suffix))

    @app.get("/api/jobs/{job_id}/files/{kind}.wav", dependencies=auth, include_in_schema=False)
    def get_audio_for_report(job_id: JobId, kind: FileKind) -> FileResponse:
        """The report's players refer to ``mix.wav`` and ``input.wav`` next to it."""
        if kind not in (FileKind.mix, FileKind.input):
            raise HTTPException(404, "no such file")
        return result_file(job_id, kind)

    @app.get("/api/jobs/{job_id}/files/preview/{name}", dependencies=auth,
             include_in_schema=False)
    def get_preview_for_report(job_id: JobId, name: PreviewName) -> FileResponse:
        """The report's A/B player refers to ``preview/<name>.wav`` next to it."""
        job = find(job_id)
        if job["status"] != "done":
            raise HTTPException(409, f"the job is {job['status']}; its files exist once it is done")
        folder = (job_output(data, job_id) / PREVIEW_DIR).resolve()
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(path, media_type="audio/wav")

    @app.get("/api/jobs/{job_id}/files/{kind}", dependencies=auth, tags=["jobs"])
    def get_file(job_id: JobId, kind: FileKind) -> FileResponse:
        """A result file: mix and input (WAV), stems (zip), plan, analysis, summary (JSON), report
        (HTML); with the export option ``reaper``: reaper (zip of ``session.rpp`` and its
        ``source/`` stems) and session (the ``.rpp`` alone), with ``stems-zip``: stems-zip (the
        DAW stems archive). A file the job does not have is a 404."""
        return result_file(job_id, kind)

    @app.get("/", response_class=HTMLResponse, dependencies=auth, include_in_schema=False)
    def index() -> str:
        return upload_page(targets=list(PRESETS), versions=list(VERSIONS),
                           max_upload_mb=settings.max_upload_mb,
                           max_duration_s=settings.max_duration_s, exports=EXPORTS,
                           max_references=MAX_REFERENCES)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, dependencies=auth,
             include_in_schema=False)
    def job(job_id: JobId) -> str:
        return job_page(job_id, find(job_id)["display_name"])

    app.state.settings, app.state.store = settings, store
    return app
