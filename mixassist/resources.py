"""Files shipped inside the package: the bundled model weights and their cards
(``mixassist/models/``), found with :mod:`importlib.resources` so that an installed wheel finds
them where an editable checkout does.

A package installed as files on disk (the usual case, wheel or editable) gives real paths; a
zipped one is extracted once, for the life of the process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
from importlib.resources import as_file, files
from pathlib import Path

#: File name of the shipped analysis network in :func:`models_dir`.
ANALYSIS_MODEL = "mixassist-analysis.safetensors"
#: File in :func:`models_dir` that says, per model name, what it was trained on and how it measured.
MODEL_FACTS = "models.json"

_EXTRACTED = contextlib.ExitStack()
atexit.register(_EXTRACTED.close)


def models_dir() -> Path:
    """The folder of the bundled models (weights ``*.safetensors`` and ``*_MODEL_CARD.md``)."""
    resource = files("mixassist") / "models"
    if isinstance(resource, Path):
        return resource
    return _EXTRACTED.enter_context(as_file(resource))


def model_facts() -> dict[str, dict[str, str]]:
    """Per model name: ``trained_on``, ``measured`` and, for bundled models, ``card`` (a file in
    :func:`models_dir`), from :data:`MODEL_FACTS`."""
    text = (models_dir() / MODEL_FACTS).read_text(encoding="utf-8")
    return {name: facts for name, facts in json.loads(text).items() if not name.startswith("_")}
