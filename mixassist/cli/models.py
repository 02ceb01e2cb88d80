"""``mixassist models``: list the models, where each loads from, what each was trained on and how
it measured; ``models pull NAME``."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from .app import app, console

models_app = typer.Typer(help="List separation and analysis models; download pretrained ones.",
                         invoke_without_command=True, no_args_is_help=False)
app.add_typer(models_app, name="models")


@models_app.callback()
def models(ctx: typer.Context,
           as_json: bool = typer.Option(False, "--json", help="Print JSON to stdout.")) -> None:
    """List every model, where it loads from, whether it is available, which is the default, what
    it was trained on and how it measured."""
    if ctx.invoked_subcommand is not None:
        return
    from ..analysis.network import list_models as analysis_models
    from ..resources import model_facts
    from ..separation.models import list_models

    facts = model_facts()
    rows = [{**row, "trained_on": None, "measured": None, **facts.get(row["name"], {})}
            for row in list_models() + analysis_models()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "kind", "source", "location", "available", "default")
    for row in rows:
        table.add_row(row["name"], row["kind"], row["source"], row["location"],
                      "yes" if row["available"] else "no", "*" if row["default"] else "")
    Console(soft_wrap=False).print(table)
    for row in rows:
        if row["trained_on"]:
            card = f" (model card: {row['card']})" if row.get("card") else ""
            typer.echo(f"\n{row['name']}{card}\n  trained on: {row['trained_on']}\n"
                       f"  measured: {row['measured']}")


@models_app.command()
def pull(name: str = typer.Argument(..., help="Pretrained demucs name, e.g. htdemucs.")) -> None:
    """Download a pretrained demucs model into the local Hugging Face cache (needs the network)."""
    from ..separation.models import pull as pull_model

    loaded = pull_model(name)
    console.print(f"{loaded.name}: downloaded ({', '.join(loaded.sources)})", highlight=False)
