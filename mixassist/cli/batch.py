"""``mixassist batch``: ``mix`` for every song of a folder, in parallel, resumable."""

from __future__ import annotations

from pathlib import Path

import typer

from . import options
from .app import app, console, progress_bar


@app.command()
def batch(
    input_dir: Path = typer.Argument(..., help="A folder of songs: audio files (separated first) "
                                               "and/or sub-folders of stems."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: OUT/<name>/ per song and "
                                                      "OUT/summary.csv."),
    jobs: int = typer.Option(1, "--jobs", help="Songs processed in parallel (worker processes "
                                               "or Ray actors)."),
    executor: str = typer.Option("local", "--executor",
                                 help="local (processes on this machine) or ray (RAY_ADDRESS "
                                      "names the cluster, else a local one)."),
    target: str = options.TARGET,
    focus: str = options.FOCUS,
    amount: float = options.AMOUNT,
    version: str = options.VERSION,
    model: str = options.MODEL,
    device: str = options.DEVICE,
) -> None:
    """Mix every song of INPUT_DIR into OUT/<name>/ and write OUT/summary.csv.

    Songs already finished in OUT are skipped, so a killed run resumes where it stopped; a song
    that fails is reported in summary.csv and the others go on. Exit code 1 if any song failed.
    """
    from ..batch import run_batch
    from ..options import MixOptions

    def report(row: dict) -> None:
        if row["status"] == "error":
            console.print(f"{row['name']}: error: {row['message']}", highlight=False, markup=False,
                          soft_wrap=True)

    with progress_bar(f"mixing songs ({executor}, {jobs} job{'s' * (jobs != 1)})") as bar:
        result = run_batch(input_dir, out, jobs=jobs, executor=executor, progress=bar,
                           on_row=report, options=MixOptions(
                               target=target, focus=focus, amount=amount, version=version,
                               separation_model=model, device=device))
    ok, skipped, failed = (result.count(s) for s in ("ok", "skipped", "error"))
    console.print(f"{ok} mixed, {skipped} skipped (already done), {failed} failed -> "
                  f"{result.csv_path}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
