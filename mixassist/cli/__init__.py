"""Command-line interface: ``mixassist VERB ...``.

Each verb lives in its own module and registers on :data:`app`. Entry point :func:`main` turns
every :class:`~mixassist.errors.MixAssistError` into a one-line ``error:`` message and exit code 1.
"""

from __future__ import annotations

import sys
import warnings

from ..errors import MixAssistError, MixAssistWarning
from .app import app
from . import analysis, batch, data, mix, models, render, separate, serve  # noqa: F401,E402  (register verbs)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    prefix = "warning" if issubclass(category, MixAssistWarning) else category.__name__
    _say(f"{prefix}: {message}")


def _say(line: str) -> None:
    """One unwrapped line on stderr (rich would wrap it at the terminal width)."""
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; never shows a traceback for a user error."""
    warnings.showwarning = _show_warning
    try:
        app(args=argv, prog_name="mixassist")
    except MixAssistError as exc:
        _say(f"error: {exc}")
        sys.exit(1)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"error: {where}{exc.strerror or exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(130)
