"""The measured features, the network and the reference balance on Signals: stem files read
block by block give what the same stems in memory give."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch

import mixassist.analysis.network as network
from mixassist.analysis.analyze import analyze
from mixassist.analysis.measure import measure_stems
from mixassist.analysis.network import AnalysisNet, predict_song_mels, predict_stems, save_model
from mixassist.analysis.reference import measure_balance
from mixassist.analysis.spectrum import band_spectrogram
from mixassist.audio.signal import ArraySignal, FileSignal, write_signal
from mixassist.errors import AudioContentError, MixAssistWarning
from mixassist.testing import synthetic_stems


def stems_30s(sr: int = 44_100) -> dict[str, np.ndarray]:
    """Four stereo stems plus noise, a mono stem and one that stops 5 s early (30 s)."""
    rng = np.random.default_rng(3)
    stems = synthetic_stems(30.0, sr, vocal_amp=0.1)
    stems["drums"] = stems["drums"] + np.float32(0.02) * rng.standard_normal(
        stems["drums"].shape, dtype=np.float32)
    stems["bass"] = stems["bass"][:1, :25 * sr]  # mono, shorter
    return stems


def as_files(stems: dict[str, np.ndarray], sr: int, folder) -> dict[str, FileSignal]:
    return {name: FileSignal(write_signal(folder / f"{name}.wav", ArraySignal(audio, sr)))
            for name, audio in stems.items()}


def assert_close(a, b, where: str = "") -> None:
    """Every number of two nested documents within 1e-3 relative or 0.01 (dB) absolute."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-3, abs_tol=0.01), (where, a, b)
    else:
        assert a == b, (where, a, b)


def tiny_model() -> AnalysisNet:
    torch.manual_seed(0)
    return AnalysisNet(channels=8, hidden=16).eval()


def test_band_spectrogram_of_a_file_equals_the_array(tmp_path):
    """30 s at 22.05 kHz is 1292 frames: two blocks of frames, read with their context."""
    sr = 22_050
    audio = stems_30s(sr)["drums"]
    whole = band_spectrogram(audio, sr)
    read = band_spectrogram(as_files({"a": audio}, sr, tmp_path)["a"], sr)
    assert read.peak == whole.peak == pytest.approx(float(np.abs(audio).max()))
    # frame i is the Hann-windowed span centred on i * hop; by Parseval its bins sum to the
    # windowed mean square (a frame on each side of the block boundary, and the ends)
    n_fft = 2 * round(whole.hop_s * sr)
    window = scipy.signal.get_window("hann", n_fft)
    padded = np.pad(audio.astype(np.float64), ((0, 0), (n_fft // 2, n_fft)))
    for i in (0, 1, 1023, 1024, whole.power.size - 1):
        frame = padded[:, i * n_fft // 2:i * n_fft // 2 + n_fft] * window
        assert read.power[i] == pytest.approx(np.sum(frame ** 2) / np.sum(window ** 2), rel=1e-4)
    for field in ("bark", "octave", "k_power", "power", "flatness", "f0_hz", "harmonicity",
                  "long_term", "channel_power"):
        np.testing.assert_allclose(getattr(read, field), getattr(whole, field), rtol=1e-5,
                                   atol=1e-12, err_msg=field)


def test_analyze_of_stem_files_equals_the_arrays(tmp_path, monkeypatch):
    """Every field of ``analyze``'s document (measured features and a network) on 30 s."""
    import mixassist.analysis.structure as structure

    sr = 44_100
    stems = stems_30s(sr)
    song = structure.analyze_structure(stems, sr)
    monkeypatch.setattr(structure, "analyze_structure", lambda *args, **kwargs: song)
    path = tmp_path / "tiny.safetensors"
    save_model(path, tiny_model())
    in_memory = analyze(stems, sr, model=path).to_dict()
    from_files = analyze(as_files(stems, sr, tmp_path), sr, model=path).to_dict()
    assert_close(from_files, in_memory)


def test_network_front_end_on_blocks_equals_the_whole_signal(tmp_path):
    """Resampled 44.1 -> 22.05 kHz in 2^18-sample blocks; mels within float rounding."""
    sr = 44_100
    audio = stems_30s(sr)["keys"]
    model = tiny_model()
    mel = network.signal_mel(model, as_files({"k": audio}, sr, tmp_path)["k"])
    from mixassist.audio.convert import resample
    with torch.inference_mode():
        whole = model.frontend(torch.from_numpy(resample(audio.mean(0, keepdims=True), sr,
                                                         network.SAMPLE_RATE)))[0]
    assert mel.shape == whole.shape
    torch.testing.assert_close(mel, whole, rtol=1e-5, atol=1e-6 * float(whole.max()))


def test_a_long_song_is_seen_through_evenly_spaced_excerpts(monkeypatch):
    assert network.excerpt_frames(network.MAX_FRAMES) == slice(None)
    frames = network.excerpt_frames(100_000)
    assert frames.size == network.MAX_FRAMES and frames[0] == 0 and frames[-1] == 99_999
    assert np.all(np.diff(frames) > 0)
    # predict_stems runs the network once over the excerpts joined, the rest on the same frames
    monkeypatch.setattr(network, "MAX_FRAMES", 120)
    monkeypatch.setattr(network, "EXCERPTS", 4)
    sr, model = network.SAMPLE_RATE, tiny_model()
    stems = synthetic_stems(6.0, sr, vocal_amp=0.1)
    preds = predict_stems(model, stems, sr)
    mels = torch.stack(list(network.stem_mels(model, stems, sr).values()))
    frames = network.excerpt_frames(mels.shape[-1])
    assert frames.size == 120 and mels.shape[-1] > 250
    expected = predict_song_mels(model, mels[..., frames])
    for k, name in enumerate(stems):
        assert preds[name].activity.size == 120
        assert preds[name].target_level_db == pytest.approx(float(expected.level_db[k]), abs=1e-4)


def test_stem_file_errors_name_the_stem(tmp_path):
    sr = 22_050
    stems = synthetic_stems(2.0, sr, vocal_amp=0.1)
    bad = stems["keys"].copy()
    bad[0, sr] = np.nan
    files = as_files({**stems, "keys": bad}, sr, tmp_path)
    with pytest.raises(AudioContentError, match="stem 'keys'.*NaN"):
        measure_stems(files, sr)
    silent = as_files({"silent": np.zeros((2, 2 * sr), np.float32)}, sr, tmp_path)
    with pytest.warns(MixAssistWarning, match="stem 'silent'.*silent"):
        measure_stems({**as_files(stems, sr, tmp_path), **silent}, sr)


def test_reference_balance_of_stem_files_equals_the_arrays(tmp_path):
    sr = 44_100
    stems = stems_30s(sr)
    analysis = measure_stems(stems, sr)
    units = {"drums": ["drums"], "tonal": ["keys", "vocals"], "all": list(stems)}
    in_memory = measure_balance("song", stems, sr, analysis, units)
    from_files = measure_balance("song", as_files(stems, sr, tmp_path), sr, analysis, units)
    assert in_memory.units["all"].rest_db is None
    assert_close(vars(from_files) | {"units": {k: vars(u) for k, u in from_files.units.items()}},
                 vars(in_memory) | {"units": {k: vars(u) for k, u in in_memory.units.items()}})
