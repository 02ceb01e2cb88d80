"""Signals: arrays and files read in spans, mixes summed on the fly, written block by block."""

import numpy as np
import pytest
import soundfile as sf

from mixassist.audio.signal import (ArraySignal, FileSignal, MixSignal, aligned_signals,
                                    as_signal, write_signal)
from mixassist.errors import AudioContentError

SR = 8000


def _noise(channels=2, samples=5000, seed=0):
    return np.random.default_rng(seed).standard_normal((channels, samples)).astype(np.float32)


def test_read_pads_outside_and_views_inside():
    audio = _noise()
    s = ArraySignal(audio, SR)
    assert np.shares_memory(s.read(10, 20), audio)
    block = s.read(-5, 3)
    assert block.shape == (2, 8) and not block[:, :5].any()
    np.testing.assert_array_equal(block[:, 5:], audio[:, :3])
    tail = s.read(4990, 5010)
    np.testing.assert_array_equal(tail[:, :10], audio[:, 4990:])
    assert not tail[:, 10:].any()


def test_blocks_cover_the_signal_once():
    audio = _noise(samples=1001)
    got = np.concatenate([b for _, b in ArraySignal(audio, SR).blocks(100)], axis=1)
    np.testing.assert_array_equal(got, audio)


def test_file_signal_reads_like_the_array(tmp_path):
    audio = _noise(samples=3000)
    sf.write(tmp_path / "a.wav", audio.T, SR, subtype="FLOAT")
    f = FileSignal(tmp_path / "a.wav")
    assert (f.sr, f.channels, f.samples) == (SR, 2, 3000)
    np.testing.assert_array_equal(f.read(100, 2900), audio[:, 100:2900])
    np.testing.assert_array_equal(f.read(2900, 3000), audio[:, 2900:])  # sequential: no seek
    assert not f.read(3000, 3500).any()
    mono = aligned_signals({"a": f, "b": np.zeros((1, 3500), np.float32)}, SR, channels=1)["a"]
    assert mono.samples == 3500
    np.testing.assert_allclose(mono.read(0, 10)[0], audio[:, :10].mean(axis=0), atol=1e-6)
    assert not mono.read(3000, 3500).any()


def test_file_signal_reads_from_threads(tmp_path):
    """One handle, locked: concurrent random reads each get their own span."""
    from concurrent.futures import ThreadPoolExecutor

    audio = _noise(samples=200_000)
    sf.write(tmp_path / "a.wav", audio.T, SR, subtype="FLOAT")
    f = FileSignal(tmp_path / "a.wav")
    starts = np.random.default_rng(1).integers(0, 199_000, 400)

    def check(start):
        return np.array_equal(f.read(start, start + 512), audio[:, start:start + 512])

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(check, starts))


def test_file_signal_names_a_vanished_file(tmp_path):
    from mixassist.errors import AudioFileError

    sf.write(tmp_path / "gone.wav", _noise(samples=100).T, SR, subtype="FLOAT")
    f = FileSignal(tmp_path / "gone.wav")
    (tmp_path / "gone.wav").unlink()
    with pytest.raises(AudioFileError, match="gone.wav"):
        f.read(0, 10)


def test_file_signal_names_a_file_with_nan(tmp_path):
    audio = _noise(samples=300)
    audio[0, 200] = np.nan
    sf.write(tmp_path / "bad.wav", audio.T, SR, subtype="FLOAT")
    with pytest.raises(AudioContentError, match="bad.wav.*NaN"):
        FileSignal(tmp_path / "bad.wav").read(0, 300)


def test_mix_and_rest_are_sums():
    a, b = _noise(seed=1), _noise(seed=2)
    stems = aligned_signals({"a": a, "b": b[:, :4000]}, SR)
    mix = MixSignal(stems)
    expected = a + np.pad(b[:, :4000], ((0, 0), (0, 1000)))
    np.testing.assert_allclose(mix.to_array(), expected, atol=1e-6)
    rest = MixSignal(stems, gains={"a": 0.0})
    np.testing.assert_array_equal(rest.read(0, 5000), stems["b"].read(0, 5000))


def test_aligned_signals_upmix_mono():
    stems = aligned_signals({"m": _noise(1, 100), "s": _noise(2, 200)}, SR)
    assert {k: (s.channels, s.samples) for k, s in stems.items()} == {"m": (2, 200),
                                                                       "s": (2, 200)}
    with pytest.raises(ValueError, match="sample rate"):
        aligned_signals({"a": ArraySignal(_noise(), SR), "b": ArraySignal(_noise(), 2 * SR)})


def test_write_signal_round_trips(tmp_path):
    audio = _noise(samples=10_000)
    path = write_signal(tmp_path / "out.wav", as_signal(audio, SR), block=777, gain=0.5)
    back, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == SR
    np.testing.assert_array_equal(back.T, audio * np.float32(0.5))
