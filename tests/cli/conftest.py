"""Fixtures for the CLI tests: run ``mixassist`` in-process through its real entry point."""

from __future__ import annotations

import pytest

from mixassist.cli import main


@pytest.fixture
def cli(capsys):
    """``cli(args) -> (exit code, stdout, stderr)``; user errors must not raise out of main()."""

    def run(args) -> tuple[int, str, str]:
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
