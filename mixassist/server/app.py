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
from ..options import MixOptions
from ..report import PREVIEW_DIR, PREVIEW_NAME_PATTERN
from ..utils.atomic import atomic_path
from .jobs import JOB_ID_PATTERN, JobStore, new_job_id
from .pages import job_page, upload_page
from .uploads import MultipartReceiver, UploadError, stage_input
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
    max_duration_s: float = 900.0

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


#: kind -> (file in the result folder, media type, download suffix)
_FILES = {
    FileKind.mix: ("mix.wav", "audio/wav", "mix.wav"),
    FileKind.input: ("input.wav", "audio/wav", "input.wav"),
    FileKind.plan: ("plan.json", "application/json", "plan.json"),
    FileKind.analysis: ("analysis.json", "application/json", "analysis.json"),
    FileKind.report: ("report.html", "text/html", None),
    FileKind.summary: ("summary.json", "application/json", "summary.json"),
}
JobId = Annotated[str, PathParam(description="A job id as returned by POST /api/jobs.",
                                 pattern=JOB_ID_PATTERN.pattern)]
PreviewName = Annotated[str, PathParam(description="A file of the report's A/B player.",
                                       pattern=PREVIEW_NAME_PATTERN.pattern)]


def _display_name(filename: str | None) -> str:
    """The upload's filename as shown to people (never used for a path)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:120] or "upload"


def _download_name(display_name: str, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", os.path.splitext(display_name)[0]).strip("_")[:60]
    return f"{stem or 'song'}-{suffix}"


def _job_options(fields: dict[str, str]) -> MixOptions:
    """The :class:`~mixassist.options.MixOptions` of the form fields (validated)."""
    focus = (fields.get("focus") or "").strip() or None
    if focus and not re.fullmatch(r"[A-Za-z0-9 _+-]{1,40}", focus):
        raise UploadError(422, "focus must be a stem or instrument name such as 'vocals'")
    try:
        return MixOptions(target=fields.get("target") or "spotify", focus=focus,
                          amount=fields.get("amount") or 1.0,
                          version=fields.get("version") or "full")
    except MixAssistError as exc:
        raise UploadError(422, str(exc)) from None


def create_app(settings: Settings) -> FastAPI:
    """The web service for ``settings`` (see :class:`Settings`)."""
    from ..planning.targets import PRESETS
    from ..planning.arrangement import VERSIONS

    data = Path(settings.data_dir)
    (data / "jobs").mkdir(parents=True, exist_ok=True)
    (data / "tmp").mkdir(exist_ok=True)
    store = JobStore(data / "jobs.sqlite")
    stems_lock = threading.Lock()

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
                "version": {"type": "string", "enum": list(VERSIONS), "default": "full"}}}}}}})
    async def create_job(request: Request) -> dict:
        """Upload and queue a job; returns ``{"id": ...}``. Refusals are 4xx with a ``detail``.

        The file is streamed to disk and cut off at the size limit; its type is checked by its
        content (and decoded end to end), never by its name.
        """
        declared = int(request.headers.get("content-length") or 0)
        if declared > settings.max_upload_bytes + _MULTIPART_SLACK_BYTES:
            raise HTTPException(413, f"the upload is larger than the limit of "
                                     f"{settings.max_upload_mb:g} MB")
        staging = Path(tempfile.mkdtemp(dir=data / "tmp"))
        receiver = None
        try:
            receiver = MultipartReceiver(request.headers.get("content-type", ""),
                                         staging / "upload", max_bytes=settings.max_upload_bytes)
            async for chunk in request.stream():
                receiver.feed(chunk)
            receiver.close()
            if receiver.filename is None:
                raise UploadError(400, "no file: send the song or the zip in the 'file' field")
            options = _job_options(receiver.fields)
            display_name = _display_name(receiver.filename)
            kind = await run_in_threadpool(
                stage_input, staging / "upload", staging / "input", display_name=display_name,
                max_bytes=settings.max_upload_bytes, max_duration_s=settings.max_duration_s)
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
        files = {kind.value: f"/api/jobs/{job_id}/files/{kind.value}" for kind in FileKind} \
            if job["status"] == "done" else {}
        return {"id": job_id, "name": job["display_name"], "kind": job["kind"],
                "status": job["status"], "options": job["options"],
                "progress": {"step": job["step"], "fraction": job["fraction"]},
                "error": job["error"], "files": files, "page": f"/jobs/{job_id}",
                "created": job["created"], "updated": job["updated"]}

    def result_file(job_id: str, kind: FileKind) -> FileResponse:
        job = find(job_id)
        if job["status"] != "done":
            raise HTTPException(409, f"the job is {job['status']}; its files exist once it is done")
        folder = job_output(data, job_id)
        if kind is FileKind.stems:
            path = job_dir(data, job_id) / "stems.zip"
            with stems_lock:
                if not path.exists():
                    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
                        for stem in sorted((folder / "stems").glob("*.wav")):
                            zf.write(stem, f"stems/{stem.name}")
            return FileResponse(path, media_type="application/zip",
                                filename=_download_name(job["display_name"], "stems.zip"))
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
        (HTML)."""
        return result_file(job_id, kind)

    @app.get("/", response_class=HTMLResponse, dependencies=auth, include_in_schema=False)
    def index() -> str:
        return upload_page(targets=list(PRESETS), versions=list(VERSIONS),
                           max_upload_mb=settings.max_upload_mb,
                           max_duration_s=settings.max_duration_s)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, dependencies=auth,
             include_in_schema=False)
    def job(job_id: JobId) -> str:
        return job_page(job_id, find(job_id)["display_name"])

    app.state.settings, app.state.store = settings, store
    return app
