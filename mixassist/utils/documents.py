"""The JSON round-trip policy of mixassist's documents (``analysis.json``, ``plan.json``).

Both parse the same way: the fields a dataclass declares are read (the required ones must be
there); fields it does not know are kept in its ``extra`` and written back unchanged, so a file
from a newer mixassist, or one a user annotated, survives a round trip. A field that is neither
declared nor one of the class' :data:`EXTENSIONS` (the fields mixassist itself writes there)
is announced with a :class:`~mixassist.errors.MixAssistWarning`, so a typo does not pass
unnoticed.
"""

from __future__ import annotations

import warnings
from dataclasses import MISSING, fields

from ..errors import MixAssistWarning


def split_fields(data, cls, where: str, *, document: str, error: type[Exception],
                 required: tuple[str, ...] | None = None) -> dict:
    """Keyword arguments for ``cls`` from the JSON object ``data`` (see the module docstring).

    ``required`` defaults to the fields of ``cls`` without a default; ``error`` is raised, with
    ``document: where`` in its message, for a non-object or a missing field.
    """
    if not isinstance(data, dict):
        raise error(f"{document}: {where} must be an object, got {type(data).__name__}")
    declared = [f for f in fields(cls) if f.name != "extra"]
    if required is None:
        required = tuple(f.name for f in declared
                         if f.default is MISSING and f.default_factory is MISSING)
    if missing := [r for r in required if r not in data]:
        raise error(f"{document}: {where} is missing {', '.join(missing)}")
    names = {f.name for f in declared}
    known = {k: v for k, v in data.items() if k in names}
    unknown = {k: v for k, v in data.items() if k not in names}
    if len(declared) < len(fields(cls)):  # the class has an ``extra``
        known["extra"] = unknown
    elif unknown:
        raise error(f"{document}: {where} has unknown field(s) {', '.join(sorted(unknown))}")
    if new := sorted(set(unknown) - set(getattr(cls, "EXTENSIONS", ()))):
        warnings.warn(f"{document}: {where}: unknown field(s) {', '.join(new)} kept as they are "
                      f"(known: {', '.join(sorted(names))})", MixAssistWarning, stacklevel=3)
    return known


def merge_extra(value):
    """Recursively merge every ``extra`` dict into its parent: the JSON layout of a document."""
    if isinstance(value, dict):
        extra = value.pop("extra", None) if isinstance(value.get("extra"), dict) else None
        out = {k: merge_extra(v) for k, v in value.items()}
        return {**out, **(extra or {})}
    if isinstance(value, list):
        return [merge_extra(v) for v in value]
    return value
