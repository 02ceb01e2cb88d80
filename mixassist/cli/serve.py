"""``mixassist serve``: the web service (upload page, REST API, OpenAPI docs at /docs)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import ParameterError
from .app import app, console


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; 0.0.0.0 exposes the "
                                                        "service to the network."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    data: Path = typer.Option(Path("mixassist-data"), "--data",
                              help="Folder for the job queue (jobs.sqlite) and job files."),
    workers: int = typer.Option(1, "--workers", help="Worker processes inside the service "
                                                     "(0: queue only)."),
    token: str = typer.Option(None, "--token", envvar="MIXASSIST_TOKEN",
                              help="Require this token (Authorization: Bearer TOKEN or ?token=)."),
    max_upload_mb: float = typer.Option(200.0, "--max-upload-mb", envvar="MIXASSIST_MAX_UPLOAD_MB",
                                        help="Largest upload, MB."),
    max_duration_s: float = typer.Option(3600.0, "--max-duration-s",
                                         envvar="MIXASSIST_MAX_DURATION_S",
                                         help="Longest audio accepted, seconds (a job's memory "
                                              "does not grow with the duration; its disk use "
                                              "does: about 18 GB per hour of audio)."),
) -> None:
    """Run the web service: upload a song or a zip of stems, follow the job, get the results.

    Jobs are kept in DATA/jobs.sqlite and survive a restart; unfinished ones resume.
    """
    if workers < 0 or max_upload_mb <= 0 or max_duration_s <= 0:
        raise ParameterError("--workers must be >= 0 and the limits > 0")
    try:
        import uvicorn

        from ..server import Settings, create_app
    except ImportError as exc:
        raise ParameterError(f"the web service needs the 'server' extra ({exc.name} is missing): "
                             "pip install 'mixassist[server]'") from None
    settings = Settings(data_dir=data, workers=workers, token=token or None,
                        max_upload_mb=max_upload_mb, max_duration_s=max_duration_s)
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        console.print(f"warning: serving on {host} without --token: anyone who can reach it "
                      "can upload", highlight=False, soft_wrap=True)
    console.print(f"mixassist serving on http://{host}:{port}/ (data in {data})",
                  highlight=False, soft_wrap=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
