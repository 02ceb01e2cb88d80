"""``mixassist batch``: ``mix`` for every song of a folder, in parallel, resumable."""

from __future__ import annotations

from pathlib import Path

import typer

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
    target: str = typer.Option("spotify", "--target",
                               help="Loudness target: spotify, apple, youtube, tidal, amazon, "
                                    "deezer, soundcloud, aes, broadcast, club, or a LUFS number."),
    focus: str = typer.Option(None, "--focus", help="Instrument or stem to keep in front."),
    amount: float = typer.Option(1.0, "--amount", help="0..1: how much of the plan to apply."),
    version: str = typer.Option("full", "--version",
                                help="full, instrumental, acapella, radio, extended or loop."),
    model: str = typer.Option(None, "--model", help="Separation model for song inputs."),
    device: str = typer.Option("auto", "--device", help="cpu, cuda, mps or auto."),
) -> None:
    """Mix every song of INPUT_DIR into OUT/<name>/ and write OUT/summary.csv.

    Songs already finished in OUT are skipped, so a killed run resumes where it stopped; a song
    that fails is reported in summary.csv and the others go on. Exit code 1 if any song failed.
    """
    from ..batch import run_batch

    def report(row: dict) -> None:
        if row["status"] == "error":
            console.print(f"{row['name']}: error: {row['message']}", highlight=False, markup=False,
                          soft_wrap=True)

    with progress_bar(f"mixing songs ({executor}, {jobs} job{'s' * (jobs != 1)})") as bar:
        result = run_batch(input_dir, out, jobs=jobs, executor=executor, progress=bar,
                           on_row=report, target=target, focus=focus, amount=amount,
                           version=version, separation_model=model, device=device)
    ok, skipped, failed = (result.count(s) for s in ("ok", "skipped", "error"))
    console.print(f"{ok} mixed, {skipped} skipped (already done), {failed} failed -> "
                  f"{result.csv_path}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
