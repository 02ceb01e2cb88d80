"""The options of a mix job, one frozen dataclass shared by the CLI, the API, batch runs and the
web service: :class:`MixOptions`, validated when it is made, so a bad option fails once, with a
message that says how to fix it, before any audio is read.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields

from .errors import ParameterError
from .planning.arrangement import DEFAULT_RADIO_LENGTH_S, VERSION_ALIASES, VERSIONS
from .planning.targets import resolve_target

#: The DAW exports ``mix`` can write besides its outputs.
EXPORTS = ("reaper", "stems-zip")


@dataclass(frozen=True)
class MixOptions:
    """What to make of a song (CONTRACT.md ``mix``).

    Parameters
    ----------
    target : loudness target: a preset name (``spotify``, ``apple``, ...) or LUFS.
    focus : instrument or stem name to keep in front (e.g. ``vocals``).
    amount : 0..1, how much of the plan's processing is applied (0 = loudness only).
    version : arrangement version: full, instrumental, acapella, radio, extended, loop (or an
        accepted alias such as ``radio-edit``).
    radio_length_s : length of the ``radio`` version, seconds.
    loop_bars : length of the ``loop`` version, bars (1-64).
    dj_bars : length of the ``extended`` version's DJ intro and outro, 16 or 32 bars.
    separation_model : separation model spec for song inputs (see
        :func:`mixassist.separation.resolve_model`); None: the default.
    device : "auto", "cpu", "cuda" or "mps" for separation.
    analysis_model : analysis network checkpoint (a path); None: the bundled network.
    references : songs (files or stem folders) to mix toward: their measured stem balance and
        tonal balance replace the predicted balance (:mod:`mixassist.planning.reference`).
    export : also write a DAW session: ``"reaper"`` (``session.rpp`` with the unprocessed stems
        in ``source/``) or ``"stems-zip"`` (``stems.zip`` for any DAW); None: no export.
    """

    target: str | float = "spotify"
    focus: str | None = None
    amount: float = 1.0
    version: str = "full"
    radio_length_s: float = DEFAULT_RADIO_LENGTH_S
    loop_bars: int = 8
    dj_bars: int = 16
    separation_model: str | None = None
    device: str = "auto"
    analysis_model: str | None = None
    references: tuple[str, ...] = ()
    export: str | None = None

    def __post_init__(self) -> None:
        if self.references is None:
            object.__setattr__(self, "references", ())
        if isinstance(self.references, (str, bytes, os.PathLike)) or not all(
                isinstance(r, (str, os.PathLike)) and os.fspath(r) for r in self.references):
            raise ParameterError(f"references must be a list of paths, got {self.references!r}")
        object.__setattr__(self, "references", tuple(os.fspath(r) for r in self.references))
        if self.analysis_model is not None:
            if not os.path.isfile(self.analysis_model):
                raise ParameterError(f"{self.analysis_model}: analysis model file not found")
            object.__setattr__(self, "analysis_model", os.fspath(self.analysis_model))
        if self.export is not None and self.export not in EXPORTS:
            raise ParameterError(f"unknown export {self.export!r}; use one of {', '.join(EXPORTS)}")
        try:
            amount = float(self.amount)
        except (TypeError, ValueError):
            raise ParameterError(f"amount must be a number between 0 and 1, "
                                 f"got {self.amount!r}") from None
        if not 0.0 <= amount <= 1.0:
            raise ParameterError(f"amount must be between 0 and 1, got {self.amount}")
        object.__setattr__(self, "amount", amount)
        if VERSION_ALIASES.get(self.version, self.version) not in VERSIONS:
            raise ParameterError(f"unknown version {self.version!r}; "
                                 f"use one of {', '.join(VERSIONS)}")
        resolve_target(self.target)  # a ParameterError naming the presets
        if self.dj_bars not in (16, 32):
            raise ParameterError(f"dj_bars={self.dj_bars}; a DJ intro/outro is 16 or 32 bars")
        if not 1 <= int(self.loop_bars) <= 64:
            raise ParameterError(f"loop_bars={self.loop_bars}; use 1-64 bars")
        if not float(self.radio_length_s) > 0:
            raise ParameterError(f"radio_length_s={self.radio_length_s}; a length is positive")
        if self.focus is not None and not str(self.focus).strip():
            object.__setattr__(self, "focus", None)

    def replace(self, **changes) -> MixOptions:
        """A copy with ``changes`` (validated again); unknown names are a ParameterError."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MixOptions:
        """Inverse of :meth:`to_dict`; an unknown option is a ParameterError (a typo, not data)."""
        if not isinstance(data, dict):
            raise ParameterError(f"mix options must be an object, got {type(data).__name__}")
        _check_names(data)
        return cls(**data)


def _check_names(data: dict) -> None:
    known = {f.name for f in fields(MixOptions)}
    if unknown := sorted(set(data) - known):
        raise ParameterError(f"unknown mix option(s) {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(known))}")
