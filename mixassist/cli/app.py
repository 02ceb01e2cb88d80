"""The typer application every verb registers on, and the helpers verbs share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

app = typer.Typer(
    name="mixassist",
    help="Arrangement and mixing assistant: separate, analyse, plan and render a mix.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
#: Messages, warnings and progress go to stderr so stdout stays clean for data.
console = Console(stderr=True)


@contextlib.contextmanager
def progress_bar(description: str, total: float | None = None,
                 ) -> Iterator[Callable[..., None]]:
    """Yield a ``callback(done, total, step=None)`` that draws a progress bar on stderr; a new
    ``step`` (e.g. ``"separating"``) is shown after ``description`` and restarts the bar, so
    its elapsed time and ETA are the step's own."""
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        current = [None]

        def update(done: float, total: float, step: str | None = None) -> None:
            if step is not None and step != current[0]:
                current[0] = step
                progress.reset(task, total=total, description=f"{description}: {step}")
            progress.update(task, completed=done, total=total)

        yield update


def _print_version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"mixassist {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version,
                                       is_eager=True, help="Print the version and exit.")) -> None:
    """Arrangement and mixing assistant: separate, analyse, plan and render a mix."""
