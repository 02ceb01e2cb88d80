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

from dataclasses import dataclass

import numpy as np

from ..audio.convert import as_audio
from ..audio.signal import ArraySignal, Signal
from ..errors import ParameterError
from ..planning.edits import DEFAULT_CROSSFADE_MS, EditList, Segment  # noqa: F401  (re-exported)


def _fade(kind: str, n: int, lo: int, hi: int) -> np.ndarray:
    """Gains ``lo..hi`` of an ``n``-sample equal-power fade, ``"in"`` (sine) or ``"out"``
    (cosine), float32."""
    x = (np.arange(lo, hi) + 0.5) / max(n, 1)
    return (np.sin if kind == "in" else np.cos)(0.5 * np.pi * x).astype(np.float32)


@dataclass(frozen=True)
class _Piece:
    """Source samples ``src..src + length`` added at output sample ``out``, with ``fades``:
    ``(kind, n, first, at, count)`` multiplies the piece's samples ``at..at + count`` by the
    gains ``first..first + count`` of an ``n``-sample fade (:func:`_fade`), in order."""

    out: int
    src: int
    length: int
    fades: tuple = ()

    def part(self, lo: int, hi: int) -> _Piece:
        """The piece's samples ``lo..hi`` as a piece of its own."""
        return _Piece(self.out + lo, self.src + lo, hi - lo,
                      tuple((kind, n, first, at - lo, count)
                            for kind, n, first, at, count in self.fades))


class EditedSignal(Signal):
    """``signal`` (at ``sr`` Hz, which must be ``edits.sr``) with the edit list applied, as the
    stem ``stem`` hears it (segments naming other stems are silent for it): reading an output
    span reads the source spans that make it, with the crossfades and end fades, so nothing is
    materialised. :func:`apply_edits` is this signal's :meth:`~Signal.to_array`."""

    def __init__(self, signal: Signal, sr: int, edits: EditList, stem: str | None = None):
        if sr != edits.sr:
            raise ParameterError(f"edit list is for {edits.sr} Hz but the stems are {sr} Hz; "
                                 "rebuild the edit list at the stems' rate")
        samples = signal.samples
        # Edit lists planned from times in seconds may overrun the source end by a rounding; up
        # to 1 ms past the end is silence rather than an error.
        overrun = max(s.end for s in edits.segments) - samples if edits.segments else 0
        if 0 < overrun <= sr // 1000:
            samples += overrun
        edits.validate(samples)
        self.source, self.edits = signal, edits
        self.sr, self.channels, self.samples = sr, signal.channels, edits.length
        self.pieces = self._pieces(stem, samples)

    def _pieces(self, stem: str | None, samples: int) -> list[_Piece]:
        """Every segment's pre-roll, run-on and body, in the order they are summed; pieces
        that wrap round the end of a loop are split there."""
        edits, total = self.edits, self.edits.length
        segs, offsets, n = edits.segments, edits.offsets, len(edits.segments)
        xf = max(0, int(round(edits.crossfade_ms * self.sr / 1000.0)))
        plays = [seg.stems is None or stem in seg.stems for seg in segs]
        joins = [_join_lengths(segs, plays, k, xf, edits.loop, samples) for k in range(n)]
        pieces = []
        for k, seg in enumerate(segs):
            if not plays[k]:
                continue
            length = seg.end - seg.start
            body: list = []
            pre, post = joins[k]
            if pre + post:  # incoming: pre-roll before the edit point, fade-in after it
                body.append(("in", pre + post, pre, 0, post))
                pieces.append(_Piece(offsets[k] - pre, seg.start - pre, pre,
                                     (("in", pre + post, 0, 0, pre),)))
            pre, post = joins[(k + 1) % n] if (k + 1 < n or edits.loop) else (0, 0)
            if pre + post:  # outgoing: fade-out before the edit point, run-on after it
                body.append(("out", pre + post, 0, length - pre, pre))
                pieces.append(_Piece(offsets[k] + length, seg.end, post,
                                     (("out", pre + post, pre, 0, post),)))
            pieces.append(_Piece(offsets[k], seg.start, length, tuple(body)))
        wrapped = []
        for piece in pieces:  # loop crossfades reach round the ends
            lo = 0
            while lo < piece.length:
                at = (piece.out + lo) % total
                hi = min(piece.length, lo + total - at)
                part = piece.part(lo, hi)
                wrapped.append(_Piece(at, part.src, part.length, part.fades))
                lo = hi
        return [p for p in wrapped if p.length > 0]

    def _read(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros((self.channels, stop - start), np.float32)
        for p in self.pieces:
            a, b = max(start, p.out), min(stop, p.out + p.length)
            if b <= a:
                continue
            block = self.source.read(p.src + a - p.out, p.src + b - p.out)
            if p.fades:
                block = block.copy()
            for kind, n, first, at, count in p.fades:
                lo, hi = max(at, a - p.out), min(at + count, b - p.out)
                if hi > lo:
                    block[:, lo - (a - p.out):hi - (a - p.out)] *= _fade(
                        kind, n, first + lo - at, first + hi - at)
            out[:, a - start:b - start] += block
        self._shape_ends(out, start)
        return out

    def _shape_ends(self, y: np.ndarray, start: int) -> None:
        """The whole output's fade-in and fade-out, on its samples ``start..``."""
        total = self.samples
        fade_in = min(int(round(self.edits.fade_in_ms * self.sr / 1000.0)), total)
        fade_out = min(int(round(self.edits.fade_out_ms * self.sr / 1000.0)), total)
        stop = start + y.shape[1]
        for kind, lo, n in (("in", 0, fade_in), ("out", total - fade_out, fade_out)):
            a, b = max(start, lo), min(stop, lo + n)
            if n and b > a:
                y[:, a - start:b - start] *= _fade(kind, n, a - lo, b - lo)


def apply_edits(stems: dict[str, np.ndarray], sr: int, edits: EditList) -> dict[str, np.ndarray]:
    """Apply one edit list to every stem, so the stems stay sample-aligned
    (:class:`EditedSignal` read whole).

    Parameters
    ----------
    stems : dict of name -> np.ndarray [shape=(channels, samples)], all the same length.
    sr : sample rate in Hz; must equal ``edits.sr``.
    edits : the edit list.

    Returns
    -------
    dict of name -> np.ndarray [shape=(channels, edits.length)] float32.
    """
    stems = {k: as_audio(v, name=k) for k, v in stems.items()}
    lengths = {v.shape[1] for v in stems.values()}
    if len(lengths) > 1:
        raise ParameterError(f"stems have different lengths {sorted(lengths)}; pad them equally")
    return {name: EditedSignal(ArraySignal(audio, edits.sr), sr, edits, name).to_array()
            for name, audio in stems.items()}


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
