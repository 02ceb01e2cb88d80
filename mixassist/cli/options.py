"""Options several verbs share, defined once so their names and help stay the same."""

from __future__ import annotations

import typer

TARGET = typer.Option("spotify", "--target",
                      help="Loudness target: spotify, apple, youtube, tidal, amazon, deezer, "
                           "soundcloud, aes, broadcast, club, or a LUFS number.")
FOCUS = typer.Option(None, "--focus", help="Instrument or stem to keep in front.")
AMOUNT = typer.Option(1.0, "--amount", help="0..1: how much of the plan to apply.")
VERSION = typer.Option("full", "--version",
                       help="full, instrumental, acapella, radio, extended or loop.")
MODEL = typer.Option(None, "--model", help="Separation model for song inputs.")
ANALYSIS_MODEL = typer.Option(None, "--analysis-model",
                              help="Analysis network checkpoint (default: the bundled one).")
DEVICE = typer.Option("auto", "--device", help="cpu, cuda, mps or auto.")
