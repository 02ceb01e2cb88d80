"""Reading and writing audio: formats x rates x channels, and every bad input's one-line error."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import soundfile as sf

from mixassist.audio import AudioReader, load_audio, save_audio
from mixassist.errors import AudioContentError, AudioFileError, MixAssistWarning, ParameterError
from tests.conftest import sine

RATES = [8000, 22050, 44100, 48000, 96000, 192000]
CHANNELS = [1, 2, 6]
# What each container can hold (encoders refuse the rest): Opus codes 8/12/16/24/48 kHz only;
# MPEG audio stops at 48 kHz and 2 channels.
CASES = ([(ext, sr, ch) for ext in ("wav", "flac", "aiff", "ogg") for sr in RATES for ch in CHANNELS]
         + [("opus", sr, ch) for sr in (8000, 48000) for ch in CHANNELS]
         + [("mp3", sr, ch) for sr in (8000, 22050, 44100, 48000) for ch in (1, 2)])
LOSSY = {"ogg", "opus", "mp3"}


@pytest.mark.parametrize("ext,sr,channels", CASES)
def test_formats_rates_channels_round_trip(tmp_path, ext, sr, channels):
    audio = sine(440 if sr > 8000 else 220, sr, 1.5, channels=channels)
    path = save_audio(tmp_path / f"x.{ext}", audio, sr)
    back, back_sr = load_audio(path)
    assert back_sr == sr
    assert back.shape[0] == channels
    assert back.dtype == np.float32
    assert abs(back.shape[1] - audio.shape[1]) <= (0 if ext not in LOSSY else sr // 10)
    if ext not in LOSSY:
        tol = 1e-6 if ext in ("wav", "aiff") else 2e-6  # float vs 24-bit FLAC
        assert np.max(np.abs(back - audio)) < tol
    else:  # the level survives the codec within 1 dB
        rms = lambda a: np.sqrt(np.mean(a[:, sr // 4: -sr // 4] ** 2))  # noqa: E731
        assert abs(20 * np.log10(rms(back) / rms(audio))) < 1.0


def test_load_resamples(tmp_path):
    path = save_audio(tmp_path / "x.wav", sine(1000, 48000, 2.0), 48000)
    audio, sr = load_audio(path, sr=44100)
    assert sr == 44100 and abs(audio.shape[1] - 88200) <= 1
    spectrum = np.abs(np.fft.rfft(audio[0]))
    assert abs(np.argmax(spectrum) * sr / audio.shape[1] - 1000) < 1.0


def test_reader_streams_blocks(tmp_path):
    audio = sine(300, 22050, 3.0)
    path = save_audio(tmp_path / "x.flac", audio, 22050)
    with AudioReader(path) as reader:
        blocks = list(reader.blocks(1000))
    assert max(b.shape[1] for b in blocks) == 1000
    assert np.allclose(np.concatenate(blocks, axis=1), audio, atol=2e-6)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _bad_inputs(tmp_path):
    good = save_audio(tmp_path / "good.wav", sine(440, 44100, 2.0), 44100)
    flac = save_audio(tmp_path / "good.flac", sine(440, 44100, 2.0), 44100)
    mp3 = save_audio(tmp_path / "good.mp3", sine(440, 44100, 2.0), 44100)
    nan = sine(440, 44100, 2.0)
    nan[0, 500] = np.nan
    sf.write(tmp_path / "nan.wav", nan.T, 44100, subtype="FLOAT")
    inf = sine(440, 44100, 2.0)
    inf[1, 9] = np.inf
    sf.write(tmp_path / "inf.wav", inf.T, 44100, subtype="FLOAT")
    sf.write(tmp_path / "short.wav", sine(440, 44100, 0.5).T, 44100)
    sf.write(tmp_path / "zero_length.wav", np.zeros((0, 2)), 44100)
    unreadable = save_audio(tmp_path / "unreadable.wav", sine(440, 44100, 2.0), 44100)
    os.chmod(unreadable, 0)
    return {
        "missing": (tmp_path / "missing.wav", "no such file"),
        "directory": (tmp_path, "is a directory"),
        "empty": (_write(tmp_path / "empty.wav", b""), "is empty"),
        "zero_length": (tmp_path / "zero_length.wav", "no audio samples"),
        "short": (tmp_path / "short.wav", "at least 1 s"),
        "nan": (tmp_path / "nan.wav", "NaN or infinite"),
        "inf": (tmp_path / "inf.wav", "NaN or infinite"),
        "truncated_wav": (_write(tmp_path / "cut.wav", good.read_bytes()[:50_000]), "truncated"),
        "truncated_flac": (_write(tmp_path / "cut.flac", flac.read_bytes()[:4_000]), "truncated"),
        "truncated_mp3": (_write(tmp_path / "cut.mp3", mp3.read_bytes()[:3_000]), "truncated"),
        "corrupt": (_write(tmp_path / "noise.wav", b"RIFF\0\0\0\0WAVE" + bytes(range(256)) * 8),
                    "corrupt"),
        "wrong_extension": (_write(tmp_path / "song.mp3", good.read_bytes()), "extension"),
        "not_audio": (_write(tmp_path / "notes.flac", b"just some text\n" * 10), "not a FLAC"),
        "unsupported": (_write(tmp_path / "song.xyz", b"whatever"), "unsupported format"),
        "unreadable": (unreadable, "permission denied"),
    }


BAD = ["missing", "directory", "empty", "zero_length", "short", "nan", "inf", "truncated_wav",
       "truncated_flac", "truncated_mp3", "corrupt", "wrong_extension", "not_audio", "unsupported",
       "unreadable"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_one_line_error(tmp_path, case):
    if case == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    path, words = _bad_inputs(tmp_path)[case]
    with pytest.raises((AudioFileError, AudioContentError)) as info:
        load_audio(path, min_duration_s=1.0)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert words.lower() in message.lower()


def test_silent_input_warns_not_fails(tmp_path):
    sf.write(tmp_path / "silence.wav", np.zeros((44100 * 2, 2)), 44100)
    with pytest.warns(MixAssistWarning, match="silent"):
        audio, _ = load_audio(tmp_path / "silence.wav")
    assert audio.shape == (2, 88200)


def test_save_is_atomic_and_refuses_impossible_formats(tmp_path):
    with pytest.raises(ParameterError, match="96000 Hz"):
        save_audio(tmp_path / "x.mp3", sine(440, 96000, 1.0), 96000)
    with pytest.raises(ParameterError, match="cannot write '.txt'"):
        save_audio(tmp_path / "x.txt", sine(440, 44100, 1.0), 44100)
    assert list(tmp_path.iterdir()) == []


def test_input_never_modified(tmp_path):
    path = save_audio(tmp_path / "x.wav", sine(440, 44100, 1.5), 44100)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with warnings.catch_warnings():
        load_audio(path, sr=22050)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_unreadable_file_message(tmp_path, monkeypatch):
    """Permission errors are reported even where the tests run as root (os.access faked)."""
    import mixassist.audio.io as io_mod

    path = save_audio(tmp_path / "locked.wav", sine(440, 44100, 1.5), 44100)
    monkeypatch.setattr(io_mod.os, "access", lambda p, mode: False)
    with pytest.raises(AudioFileError, match="permission denied"):
        load_audio(path)


def test_a_file_too_big_for_riff_is_written_as_rf64(tmp_path):
    from mixassist.audio.io import AudioWriter, wav_format
    from mixassist.audio.signal import FileSignal

    hour = 3600
    assert wav_format(hour * 44_100, 2, "FLOAT") == "WAV"  # 1.27 GB
    assert wav_format(hour * 192_000, 2, "FLOAT") == "RF64"  # 5.5 GB
    assert wav_format(hour * 192_000, 2, "PCM_16") == "WAV"  # 2.8 GB
    assert wav_format(None, 6, "FLOAT") == "WAVEX"
    block = np.linspace(-0.5, 0.5, 200, dtype=np.float32).reshape(2, 100)
    with AudioWriter(tmp_path / "big.wav", 192_000, 2, frames=hour * 192_000) as writer:
        writer.write(block)  # announced an hour, wrote a little: still RF64 and readable
    assert sf.info(str(tmp_path / "big.wav")).format == "RF64"
    np.testing.assert_array_equal(FileSignal(tmp_path / "big.wav").to_array(), block)
