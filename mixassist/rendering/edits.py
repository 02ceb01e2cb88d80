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

import numpy as np

from ..audio.convert import as_audio
from ..errors import ParameterError
from ..planning.edits import DEFAULT_CROSSFADE_MS, EditList, Segment  # noqa: F401  (re-exported)


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
