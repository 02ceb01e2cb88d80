"""One exception hierarchy for mixassist.

Every error a user can cause derives from :class:`MixAssistError`; its message is one line that
names the file (when there is one) and the problem, and says how to fix it where that is known.
The CLI prints that line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations

from os import PathLike


class MixAssistError(Exception):
    """Base class of every error mixassist raises on purpose."""


class ParameterError(MixAssistError, ValueError):
    """A function or command was called with an invalid option."""


class AudioError(MixAssistError):
    """An audio input cannot be used. ``path`` is the offending file, or None for in-memory audio."""

    def __init__(self, message: str, path: str | PathLike | None = None):
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class AudioFileError(AudioError):
    """A file is missing, unreadable, corrupt, truncated or in an unsupported format."""


class AudioContentError(AudioError):
    """Audio was decoded but its content is unusable (too short, NaN/Inf samples, ...)."""


class ModelError(MixAssistError):
    """A model cannot be found, loaded or used."""


class CorpusError(MixAssistError):
    """A corpus song of the data generator cannot be read (a badly formed score, say)."""


class PlanError(MixAssistError, ValueError):
    """A mix plan is invalid (unknown plugin or stem, parameter out of range or of the wrong type)."""


class DiskSpaceError(MixAssistError, OSError):
    """A folder lacks the free space a job needs for its temporary stems and its outputs."""


class MixAssistWarning(UserWarning):
    """Something is unusual but processing goes on (silent input, channel downmix, ...)."""


class ExportError(MixAssistError, ValueError):
    """A plan cannot be exported to a DAW session or archive (a stem without a file, a missing
    file, a path that would not survive moving the session's folder)."""
