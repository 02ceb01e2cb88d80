"""Time edits in plan form: an :class:`EditList` of source ranges in samples, played one after
the other, each with the stems that play in it (``None``: every stem). It is the ``edits`` of a
plan's arrangement; :func:`mixassist.rendering.edits.apply_edits` renders it (crossfades, fades,
loops; see there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError

DEFAULT_CROSSFADE_MS = 20.0


@dataclass(frozen=True)
class Segment:
    """Source samples ``[start, end)`` played in order; ``stems`` None means every stem."""

    start: int
    end: int
    stems: tuple[str, ...] | None = None


@dataclass
class EditList:
    """An edit of a song: ranges of the source in playing order (samples at ``sr``).

    ``crossfade_ms`` is the length of each join's equal-power crossfade; ``fade_in_ms`` and
    ``fade_out_ms`` shape the very start and end of the output (0 = none); ``loop`` makes the
    end join the start seamlessly.
    """

    sr: int
    segments: list[Segment] = field(default_factory=list)
    crossfade_ms: float = DEFAULT_CROSSFADE_MS
    fade_in_ms: float = 0.0
    fade_out_ms: float = 0.0
    loop: bool = False

    @classmethod
    def identity(cls, samples: int, sr: int) -> EditList:
        """The edit that changes nothing: the whole source once."""
        return cls(sr=sr, segments=[Segment(0, int(samples))])

    @property
    def length(self) -> int:
        """Output length in samples."""
        return sum(s.end - s.start for s in self.segments)

    @property
    def offsets(self) -> list[int]:
        """Output sample where each segment starts."""
        return list(np.cumsum([0] + [s.end - s.start for s in self.segments[:-1]]).astype(int))

    def edit_points(self) -> list[tuple[int, int]]:
        """``(output_sample, source_sample)`` of every join where playback jumps in the source
        or the set of stems changes (the seam of a loop included, at output sample 0)."""
        pts = []
        n = len(self.segments)
        for k in range(n if self.loop else n - 1):
            a, b = self.segments[k], self.segments[(k + 1) % n]
            if a.end != b.start or a.stems != b.stems:
                pts.append(((self.offsets[k] + a.end - a.start) % self.length, b.start))
        return pts

    def is_identity(self, samples: int) -> bool:
        """True when this edit plays ``samples`` source samples unchanged."""
        return (len(self.segments) == 1 and self.segments[0] == Segment(0, samples)
                and not self.loop and not self.fade_in_ms and not self.fade_out_ms)

    def validate(self, samples: int) -> None:
        """Raise :class:`ParameterError` unless every range lies inside ``samples`` source samples."""
        if not self.segments:
            raise ParameterError("edit list is empty; it needs at least one source range")
        for i, s in enumerate(self.segments):
            if not 0 <= s.start < s.end <= samples:
                raise ParameterError(f"edit segment {i} [{s.start}, {s.end}) lies outside the "
                                     f"source of {samples} samples")

    def to_dict(self) -> dict:
        """JSON-ready dict; ranges in samples (exact) and seconds (readable)."""
        return {"sample_rate": self.sr, "crossfade_ms": self.crossfade_ms,
                "fade_in_ms": self.fade_in_ms, "fade_out_ms": self.fade_out_ms, "loop": self.loop,
                "segments": [{"start": s.start, "end": s.end,
                              "start_s": round(s.start / self.sr, 6),
                              "end_s": round(s.end / self.sr, 6),
                              "stems": None if s.stems is None else list(s.stems)}
                             for s in self.segments]}

    @classmethod
    def from_dict(cls, d: dict) -> EditList:
        """Inverse of :meth:`to_dict`."""
        try:
            segs = [Segment(int(s["start"]), int(s["end"]),
                            None if s.get("stems") is None else tuple(s["stems"]))
                    for s in d["segments"]]
            return cls(sr=int(d["sample_rate"]), segments=segs,
                       crossfade_ms=float(d.get("crossfade_ms", DEFAULT_CROSSFADE_MS)),
                       fade_in_ms=float(d.get("fade_in_ms", 0.0)),
                       fade_out_ms=float(d.get("fade_out_ms", 0.0)), loop=bool(d.get("loop", False)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"edit list is malformed ({exc}); expected sample_rate and "
                                 "segments[{start, end, stems}]") from exc
