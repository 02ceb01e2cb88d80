"""``mixassist data build``: the training-data generator."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from .app import app, console, progress_bar

data_app = typer.Typer(help="Training data: songs rendered into labelled stems.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("build")
def build(
    hours: float = typer.Option(..., "--hours", help="Hours of songs to build (whole songs, at least this much)."),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder (created; an existing one is resumed)."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="Songs rendered in parallel (default: one per CPU "
                                                        "core; results do not depend on it)."),
    seed: int = typer.Option(0, "--seed", help="Global seed; the same seed builds identical stems."),
    sources: str = typer.Option(None, "--sources",
                                help="Sound sources: 'training-v3' (the default of generator 3: two GM "
                                     "soundfonts, two AVL kits, seven Hydrogen kits, mixassist's synthesis "
                                     "voices), 'held-out-v3' (sources no shipped model heard: OPL3_FM, "
                                     "csound_GM, freepats, two Hydrogen and two Sonic Pi kits), 'training' "
                                     "and 'held-out' (generator 2's; 'training' its default) or a "
                                     "comma-separated list of sources."),
    generator: int = typer.Option(None, "--generator",
                                  help="Generator version: 3 (default: meters, feels, sessions like real ones, "
                                       "production variety) or 2 (the data of the first shipped models)."),
) -> None:
    """Build a dataset of songs rendered into labelled stems, with a manifest (resumable)."""
    from ..datasets.build import DEFAULT_GENERATOR, build_dataset

    with progress_bar("building songs") as update:
        manifest = build_dataset(out, hours=hours, seed=seed,
                                 jobs=len(os.sched_getaffinity(0)) if jobs is None else jobs, sources=sources,
                                 generator=DEFAULT_GENERATOR if generator is None else generator,
                                 progress=update)
    console.print(f"{manifest['n_songs']} songs, {manifest['hours']:.3f} h (generator {manifest['version']}, "
                  f"{manifest['palette']}), "
                  f"{manifest['vocal_fraction']:.0%} with vocals -> {out / 'manifest.json'}",
                  markup=False, highlight=False)


@data_app.command("real")
def real(
    out: Path = typer.Option(..., "--out", "-o", help="Corpus folder (created; an existing one is resumed)."),
    package: list[str] = typer.Option(None, "--package", "-p",
                                      help="Only these packages (repeatable; default: all of the table)."),
    debs: Path = typer.Option(None, "--debs", help="Folder of downloaded .deb files (default: apt-get download)."),
) -> None:
    """Fetch the real-music corpus: recorded music from Debian packages, split by package."""
    from ..datasets.real import build_real_corpus

    with progress_bar("fetching packages") as update:
        manifest = build_real_corpus(out, names=package or None, debs=debs, progress=update)
    split = ", ".join(f"{k} {v:.2f} h" for k, v in manifest["hours_per_split"].items())
    packages = f"{manifest['n_packages']} package" + ("s" if manifest["n_packages"] != 1 else "")
    console.print(f"{manifest['n_songs']} songs from {packages}, "
                  f"{manifest['hours']:.2f} h ({split}) -> {out / 'manifest.json'}",
                  markup=False, highlight=False)
