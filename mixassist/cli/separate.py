"""``mixassist separate INPUT... -o OUT``: split songs into stems."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import ParameterError
from ..utils.atomic import atomic_dir
from .app import app, console, progress_bar


@app.command()
def separate(
    inputs: list[Path] = typer.Argument(..., help="Song files (WAV, FLAC, AIFF, OGG, Opus, MP3)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder; stems go to OUT/<input-name>/."),
    model: str = typer.Option(None, "--model", "-m",
                              help="Model name (htdemucs, mixassist-compact, ...) or path to a demucs "
                                   "checkpoint or repository folder. Default: cached htdemucs, else "
                                   "the bundled model."),
    device: str = typer.Option("auto", "--device", help="cpu, cuda, mps or auto."),
    shifts: int = typer.Option(1, "--shifts", help="Random time shifts averaged (0 = off)."),
    overlap: float = typer.Option(0.25, "--overlap", help="Overlap between chunks (0-0.99)."),
    segment: float = typer.Option(None, "--segment", help="Chunk length in seconds."),
    keep_residual: bool = typer.Option(False, "--keep-residual",
                                       help="Write the residual as residual.wav instead of adding "
                                            "it to other.wav."),
) -> None:
    """Separate each INPUT into drums, bass, other and vocals (more for 6-stem models).

    Writes OUT/<input-name>/<stem>.wav at the input's sample rate, and separation.json. By default
    the residual is added to other.wav, so the stems sum back to the input.
    """
    from ..separation import Separator
    from ..separation.engine import probe_input

    for path in inputs:  # fail before any work if one input is unusable
        probe_input(path)
    names = [p.stem for p in inputs]
    if len(set(names)) != len(names):
        raise ParameterError("two inputs share a name; their output folders would collide: "
                             + ", ".join(sorted({n for n in names if names.count(n) > 1})))
    separator = Separator(model, device=device, shifts=shifts, overlap=overlap, segment=segment,
                          residual="separate" if keep_residual else "other")
    console.print(f"model: {separator.loaded.name} ({separator.loaded.source})", highlight=False)
    for path in inputs:
        with atomic_dir(out / path.stem) as tmp, progress_bar(f"separating {path.name}") as bar:
            info = separator.separate_file(path, tmp, progress=bar)
            (tmp / "separation.json").write_text(json.dumps(info, indent=2) + "\n")
        console.print(f"{path.name} -> {out / path.stem}/ ({', '.join(info['stems'])})",
                      highlight=False)
