"""``python -m mixassist`` runs the CLI."""

from .cli import main

main()
