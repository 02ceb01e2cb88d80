"""Sample-accurate time edits (cuts, repeats, loops) applied identically to every stem.

An :class:`EditList` is a sequence of source ranges ``[start, end)`` in samples, played one after
the other; a range may name the stems that play in it (the others are silent there, e.g. a DJ intro
of drums and bass only). Every join is an equal-power crossfade that *ends* on the edit point: the
outgoing range fades out over its last samples while the incoming range's own pre-roll (the
source samples just before its start) fades in, so the incoming downbeat lands at full gain
exactly on the edit point and the output length is exactly the sum of the range lengths (where
a range starts at the top of the file, the fade runs on past the edit point instead). With
``loop=True`` the last range joins the first the same way (wrapping around), so the output
repeated end to end is seamless.

Equal-power crossfade: gains ``sin(pi/2 x)`` and ``cos(pi/2 x)``, x = 0..1, whose squares sum to
one, so the power of uncorrelated material stays constant through the fade.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..audio.convert import as_audio
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


def _fades(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = (np.arange(n) + 0.5) / max(n, 1)
    return (np.sin(0.5 * np.pi * x).astype(np.float32),
            np.cos(0.5 * np.pi * x).astype(np.float32))


def apply_edits(stems: dict[str, np.ndarray], sr: int, edits: EditList) -> dict[str, np.ndarray]:
    """Apply one edit list to every stem, so the stems stay sample-aligned.

    Parameters
    ----------
    stems : dict of name -> np.ndarray [shape=(channels, samples)], all the same length.
    sr : sample rate in Hz; must equal ``edits.sr``.
    edits : the edit list.

    Returns
    -------
    dict of name -> np.ndarray [shape=(channels, edits.length)] float32.
    """
    if sr != edits.sr:
        raise ParameterError(f"edit list is for {edits.sr} Hz but the stems are {sr} Hz; "
                             "rebuild the edit list at the stems' rate")
    stems = {k: as_audio(v, name=k) for k, v in stems.items()}
    lengths = {v.shape[1] for v in stems.values()}
    if len(lengths) != 1:
        raise ParameterError(f"stems have different lengths {sorted(lengths)}; pad them equally")
    samples = lengths.pop()
    # Edit lists planned from times in seconds may overrun the source end by a rounding; up to
    # 1 ms past the end is silence rather than an error.
    overrun = max(s.end for s in edits.segments) - samples if edits.segments else 0
    if 0 < overrun <= sr // 1000:
        stems = {k: np.pad(v, ((0, 0), (0, overrun))) for k, v in stems.items()}
        samples += overrun
    edits.validate(samples)
    total, offsets, segs = edits.length, edits.offsets, edits.segments
    n = len(segs)
    xf = max(0, int(round(edits.crossfade_ms * sr / 1000.0)))
    out = {}
    for name, audio in stems.items():
        plays = [seg.stems is None or name in seg.stems for seg in segs]
        joins = [_join_lengths(segs, plays, k, xf, edits.loop, samples) for k in range(n)]
        y = np.zeros((audio.shape[0], total), np.float32)

        def add(src_start: int, gain: np.ndarray, out_start: int) -> None:
            idx = (out_start + np.arange(len(gain))) % total
            y[:, idx] += audio[:, src_start:src_start + len(gain)] * gain

        for k, seg in enumerate(segs):
            if not plays[k]:
                continue
            body = audio[:, seg.start:seg.end].copy()
            pre, post = joins[k]
            if pre + post:  # incoming: pre-roll before the edit point, fade-in after it
                fade_in = _fades(pre + post)[0]
                body[:, :post] *= fade_in[pre:]
                add(seg.start - pre, fade_in[:pre], offsets[k] - pre)
            pre, post = joins[(k + 1) % n] if (k + 1 < n or edits.loop) else (0, 0)
            if pre + post:  # outgoing: fade-out before the edit point, run-on after it
                fade_out = _fades(pre + post)[1]
                body[:, body.shape[1] - pre:] *= fade_out[:pre]
                add(seg.end, fade_out[pre:], offsets[k] + body.shape[1])
            y[:, offsets[k]:offsets[k] + body.shape[1]] += body
        _shape_ends(y, sr, edits)
        out[name] = y
    return out


def _join_lengths(segs: list[Segment], plays: list[bool], k: int, xf: int, loop: bool,
                  samples: int) -> tuple[int, int]:
    """``(pre, post)`` samples of the crossfade into segment ``k`` for one stem, before and after
    the edit point; ``(0, 0)`` when there is no previous segment or the stem simply plays on
    through contiguous source.

    The crossfade sits before the edit point (the incoming downbeat then lands at full gain);
    where the incoming range has no pre-roll (it starts at the top of the file) or the outgoing
    one is too short, the rest of it runs on after the edit point, as far as the source allows.
    """
    if k == 0 and not loop:
        return 0, 0
    prev, seg = segs[k - 1], segs[k]
    if prev.end == seg.start and plays[k - 1] == plays[k]:
        return 0, 0
    pre = min(xf, seg.start, prev.end - prev.start)
    post = min(xf - pre, samples - prev.end, seg.end - seg.start)
    return pre, post


def _shape_ends(y: np.ndarray, sr: int, edits: EditList) -> None:
    fade_in = min(int(round(edits.fade_in_ms * sr / 1000.0)), y.shape[1])
    fade_out = min(int(round(edits.fade_out_ms * sr / 1000.0)), y.shape[1])
    if fade_in:
        y[:, :fade_in] *= _fades(fade_in)[0]
    if fade_out:
        y[:, -fade_out:] *= _fades(fade_out)[1]
