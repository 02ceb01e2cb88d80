"""The structure analysis on block-wise feature streams: each stream equals its whole-signal
librosa counterpart, and files analyse as their arrays do."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from mixassist.analysis import rhythm, structure
from mixassist.analysis.frames import frame_rms_db
from mixassist.analysis.structure import analyze_structure
from mixassist.analysis.synthetic import synthetic_song
from mixassist.audio.signal import ArraySignal, FileSignal, write_signal


def _pushed(sink, y: np.ndarray, sizes: list[int]) -> None:
    """Push ``y`` to ``sink`` in blocks of the given sizes (the rest in the last block)."""
    edges = np.cumsum([0, *sizes])
    for a, b in zip(edges[:-1], edges[1:]):
        sink.push(y[a:b])
    sink.push(y[edges[-1]:], last=True)


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(70_001) / structure.ANALYSIS_SR
    y = 0.1 * rng.standard_normal(len(t)) + 0.3 * np.sin(2 * np.pi * 55 * t) * (t > 1.0)
    return y.astype(np.float32)


@pytest.mark.parametrize("n_fft", [1024, 2048])
def test_centred_frames_are_librosa_stft_frames_whatever_the_blocks(noise, n_fft):
    frames = structure._CentredFrames(n_fft, structure.HOP)
    out = [frames.push(noise[:100]), frames.push(noise[100:30_000]),
           frames.push(noise[30_000:], last=True)]
    want = np.abs(librosa.stft(noise, n_fft=n_fft, hop_length=structure.HOP))
    got = np.concatenate(out, axis=1)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * want.max())


def test_band_features_and_levels_match_the_whole_signal(noise):
    bank = structure._mel_bank(1024, 64, structure.BEAT_FMAX_HZ)
    # Told too short a length, the outputs grow.
    bands = structure._BandFeatures(1024, {"low": bank}, 1000, flux=True)
    levels = structure._FrameLevels(len(noise))
    _pushed(bands, noise, [5000, 7, 40_000])
    _pushed(levels, noise, [5000, 7, 40_000])
    got = bands.result()
    spec = np.abs(librosa.stft(noise, n_fft=1024, hop_length=structure.HOP))
    mel = librosa.feature.melspectrogram(S=spec ** 2, sr=structure.ANALYSIS_SR, n_mels=64,
                                         fmax=structure.BEAT_FMAX_HZ)
    np.testing.assert_allclose(got["low"], mel, rtol=1e-4, atol=1e-6 * mel.max())
    low = librosa.fft_frequencies(sr=structure.ANALYSIS_SR, n_fft=1024) < structure.LOW_BAND_HZ
    flux = np.concatenate([[0.0], np.maximum(0.0, np.diff(np.log1p(100 * spec[low]), axis=1))
                           .sum(axis=0)])
    np.testing.assert_allclose(got["flux"], flux, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(levels.result(), frame_rms_db(noise, structure.ACTIVITY_FRAME))


def test_bass_chroma_in_chunks_matches_the_whole_signal_transform(noise, monkeypatch):
    monkeypatch.setattr(structure, "CQT_CHUNK", 1 << 14)  # 4 chunks of the 3.2 s signal
    chromas = structure._Chromas(len(noise))
    _pushed(chromas, noise, [20_000, 20_000])
    chroma, bass = chromas.result()
    low = librosa.resample(noise, orig_sr=structure.ANALYSIS_SR, target_sr=structure.CHROMA_SR,
                           res_type="soxr_hq")
    want = librosa.feature.chroma_stft(y=low, sr=structure.CHROMA_SR, n_fft=4096,
                                       hop_length=1024, tuning=0.0, norm=None)
    cqt = np.abs(librosa.cqt(low, sr=structure.CHROMA_SR, hop_length=1024,
                             fmin=librosa.note_to_hz("C1"), n_bins=36, tuning=0.0)) ** 2
    want_bass = cqt.reshape(3, 12, -1).sum(axis=0)
    n = min(want.shape[1], want_bass.shape[1])
    assert chroma.shape == bass.shape == (12, n)
    np.testing.assert_allclose(chroma, want[:, :n], rtol=1e-3, atol=1e-5 * want.max())
    np.testing.assert_allclose(bass, want_bass[:, :n], rtol=1e-3, atol=1e-5 * want_bass.max())


def test_file_stems_analyse_as_their_arrays(tmp_path):
    song = synthetic_song(tempo_bpm=110.0, key="D major", form=(("intro", 2), ("verse", 4),
                          ("chorus", 4), ("verse", 4), ("outro", 2)), sr=44100, seed=2)
    assert 25 < song.stems["drums"].shape[1] / song.sr < 40
    files = {k: FileSignal(write_signal(tmp_path / f"{k}.wav", ArraySignal(v, song.sr)))
             for k, v in song.stems.items()}
    from_arrays = analyze_structure(song.stems, song.sr)
    from_files = analyze_structure(files, song.sr)
    assert from_files.to_dict() == from_arrays.to_dict()
    assert len(from_arrays.sections) > 1 and from_arrays.key == "D major"


def test_a_stem_with_nan_is_refused():
    song = synthetic_song(tempo_bpm=120.0, form=(("verse", 2),), sr=22050)
    bad = dict(song.stems)
    bad["bass"] = bad["bass"].copy()
    bad["bass"][0, 1000] = np.nan
    with pytest.raises(Exception, match="NaN or infinite"):
        analyze_structure(bad, song.sr)


def test_onset_envelope_in_blocks_is_librosas(monkeypatch):
    rng = np.random.default_rng(5)
    mel = (rng.random((64, 5000)) ** 8 * (rng.random((64, 5000)) > 0.3)).astype(np.float32)
    monkeypatch.setattr(structure, "ONSET_BLOCK", 700)
    want = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=structure.ANALYSIS_SR,
                                        center=False)
    np.testing.assert_array_equal(structure._onset_env(mel), want)


def test_mean_tempogram_in_blocks_is_librosas(monkeypatch):
    rng = np.random.default_rng(6)
    env = (rng.random(5000) * (rng.random(5000) > 0.7)).astype(np.float32)
    monkeypatch.setattr(rhythm, "TEMPOGRAM_BLOCK", 700)
    want = librosa.feature.tempogram(onset_envelope=env, sr=22050, hop_length=512,
                                     win_length=344).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(rhythm.mean_tempogram(env, win_length=344), want, atol=1e-12)
