"""Sample-accurate edit lists applied identically to every stem."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.errors import ParameterError
from mixassist.audio.signal import ArraySignal
from mixassist.rendering.edits import EditList, EditedSignal, Segment, apply_edits

SR = 8000


def noise_stems(seconds: float = 4.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    return {k: (0.1 * rng.standard_normal((2, n))).astype(np.float32) for k in ("a", "b")}


def test_identity_returns_the_input():
    stems = noise_stems()
    out = apply_edits(stems, SR, EditList.identity(4 * SR, SR))
    for k in stems:
        np.testing.assert_array_equal(out[k], stems[k])


def test_cut_is_sample_accurate_and_length_exact():
    n = 4 * SR
    stems = {"x": np.zeros((1, n), np.float32)}
    stems["x"][0, 3000] = 1.0  # an impulse at source sample 3000
    edits = EditList(sr=SR, segments=[Segment(0, 1000), Segment(2000, 4000)], crossfade_ms=10)
    out = apply_edits(stems, SR, edits)["x"]
    assert out.shape == (1, 3000) and edits.length == 3000
    assert np.argmax(out[0]) == 1000 + (3000 - 2000)
    assert out[0, 2000] == pytest.approx(1.0)  # outside the crossfade: untouched
    assert edits.edit_points() == [(1000, 2000)]


def test_equal_power_crossfade_keeps_the_level_of_uncorrelated_noise():
    stems = noise_stems(seconds=8.0)
    xf_ms = 200.0
    edits = EditList(sr=SR, segments=[Segment(0, 3 * SR), Segment(5 * SR, 8 * SR)],
                     crossfade_ms=xf_ms)
    y = apply_edits(stems, SR, edits)["a"][0].astype(np.float64)
    n_xf = int(xf_ms * SR / 1000)
    fade = y[3 * SR - n_xf:3 * SR]
    ref = y[:2 * SR]
    level_db = 10 * np.log10(np.mean(fade ** 2) / np.mean(ref ** 2))
    assert abs(level_db) < 1.0  # equal power: within 1 dB through the crossfade


def test_stems_stay_aligned():
    """Editing the stems then summing equals editing the sum (one edit list for all)."""
    stems = noise_stems()
    edits = EditList(sr=SR, segments=[Segment(100, 9000), Segment(20000, 31000), Segment(4000, 8000)])
    out = apply_edits(stems, SR, edits)
    summed = apply_edits({"mix": stems["a"] + stems["b"]}, SR, edits)["mix"]
    np.testing.assert_allclose(out["a"] + out["b"], summed, atol=1e-6)


def test_stem_restricted_segment_silences_the_others():
    stems = noise_stems()
    edits = EditList(sr=SR, segments=[Segment(8000, 16000, ("a",)), Segment(0, 32000)])
    out = apply_edits(stems, SR, edits)
    xf = int(edits.crossfade_ms * SR / 1000)
    assert np.all(out["b"][:, :8000 - xf] == 0) and np.any(out["a"][:, :8000] != 0)


def test_loop_is_seamless_when_repeated():
    t = np.arange(4 * SR) / SR
    tone = (0.5 * np.sin(2 * np.pi * 123.4 * t) * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t)))
    stems = {"x": tone[None].astype(np.float32)}
    edits = EditList(sr=SR, segments=[Segment(SR, 3 * SR - 777)], loop=True, crossfade_ms=30)
    y = apply_edits(stems, SR, edits)["x"][0]
    looped = np.tile(y, 3)
    inner_step = np.max(np.abs(np.diff(y)))
    seam = len(y)
    seam_step = np.max(np.abs(np.diff(looped[seam - 400:seam + 400])))
    assert seam_step <= inner_step * 1.0001


def test_round_trip_and_validation():
    edits = EditList(sr=SR, segments=[Segment(0, 10, ("a", "b")), Segment(20, 30)], loop=True)
    assert EditList.from_dict(edits.to_dict()) == edits
    with pytest.raises(ParameterError):
        apply_edits(noise_stems(), SR, EditList(sr=SR, segments=[Segment(0, 10 ** 9)]))
    with pytest.raises(ParameterError):
        apply_edits(noise_stems(), 44100, edits)


def test_an_edited_signal_reads_any_span_as_its_whole():
    """Spans read block by block (any size, across crossfades, loop wrap and end fades) equal
    the whole output; a stem left out of a segment is silent there."""
    stems = noise_stems()
    edits = EditList(sr=SR, segments=[Segment(SR, 2 * SR), Segment(0, SR, ["a"]),
                                      Segment(int(2.5 * SR), 3 * SR)],
                     crossfade_ms=40.0, loop=True, fade_in_ms=30.0, fade_out_ms=300.0)
    whole = apply_edits(stems, SR, edits)
    for name, audio in stems.items():
        signal = EditedSignal(ArraySignal(audio, SR), SR, edits, name)
        for size in (1, 997, SR // 3):
            blocks = np.concatenate([b for _, b in signal.blocks(size)], axis=1)
            np.testing.assert_array_equal(blocks, whole[name])
    quiet = whole["b"][:, SR + 2000:2 * SR - 2000]  # b does not play the second segment
    assert np.max(np.abs(quiet)) == 0.0 and np.max(np.abs(whole["a"][:, SR + 2000:2 * SR - 2000])) > 0
