"""``mixassist analysis train``: train (or resume) the analysis network on generated datasets."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .app import app, console

analysis_app = typer.Typer(help="The analysis network: training.", no_args_is_help=True)
app.add_typer(analysis_app, name="analysis")


@analysis_app.command("train")
def train(
    datasets: list[Path] = typer.Argument(..., help="Dataset folders from `mixassist data build` "
                                          "(each keeps its own train/valid/test songs)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: state.pt, best.safetensors, train.log."),
    steps: int = typer.Option(2000, "--steps", help="Total optimiser steps (a rerun resumes)."),
    max_minutes: float = typer.Option(None, "--max-minutes", help="Stop after this much wall time."),
    batch_size: int = typer.Option(24, "--batch-size"),
    threads: int = typer.Option(1, "--threads", help="Torch CPU threads."),
    cache: list[Path] = typer.Option(None, "--cache", help="Feature cache folder per dataset, same "
                                     "order; repeat it (default OUT/cache/<i>)."),
) -> None:
    """Train the analysis network with the perturb-and-restore level objective (resumable)."""
    from ..analysis.train import train as run

    summary = run(datasets, out, steps=steps, max_minutes=max_minutes, batch_size=batch_size,
                  threads=threads, cache=cache or None)
    console.print(json.dumps(summary, default=str), markup=False, highlight=False)
