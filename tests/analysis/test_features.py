"""Measured features on synthetic signals with known answers (sines, noise bursts)."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.analysis.activity import LEAKAGE_DB, hysteresis, is_leakage, mask_to_regions
from mixassist.analysis.features import spectral_balance, stereo_image
from mixassist.analysis.measure import measure_stems
from mixassist.analysis.spectrum import OCTAVE_CENTRES_HZ, band_spectrogram
from mixassist.errors import AudioContentError, ParameterError


def tone(freq_hz: float, sr: int, duration_s: float, *, amp: float, channels: int = 2,
         ) -> np.ndarray:
    t = np.arange(int(sr * duration_s)) / sr
    return np.tile(amp * np.sin(2 * np.pi * freq_hz * t), (channels, 1)).astype(np.float32)


@pytest.mark.parametrize("sr", [22_050, 44_100, 48_000])
def test_level_difference_of_sines_is_6_db(sr):
    # -20 dBFS and -26 dBFS peak sines: 6 dB apart in loudness and in level_db (+-0.05 dB).
    loud = tone(997, sr, 5, amp=10 ** (-20 / 20))
    quiet = tone(997, sr, 5, amp=10 ** (-26 / 20))
    a = measure_stems({"loud": loud, "quiet": quiet}, sr)
    diff = a.stem("loud").level_db - a.stem("quiet").level_db
    assert diff == pytest.approx(6.0, abs=0.05)
    lufs = a.stem("loud").loudness_lufs - a.stem("quiet").loudness_lufs
    assert lufs == pytest.approx(6.0, abs=0.05)
    # in phase, the mix is the two amplitudes summed: 20 log10(1 + 10^(-6/20)) = 3.53 dB over "loud"
    mix_over_loud = 20 * np.log10(1 + 10 ** (-6 / 20))
    assert -a.stem("loud").level_db == pytest.approx(mix_over_loud, abs=0.05)


def test_activity_of_a_noise_burst(rng):
    sr = 44_100
    burst = np.zeros((2, 6 * sr), np.float32)
    burst[:, 2 * sr:4 * sr] = 0.1 * rng.standard_normal((2, 2 * sr))
    bed = tone(440, sr, 6, amp=0.05)
    a = measure_stems({"burst": burst, "bed": bed}, sr)
    [region] = a.stem("burst").activity
    assert region.start_s == pytest.approx(2.0, abs=0.2)
    assert region.end_s == pytest.approx(4.0, abs=0.2)
    [whole] = a.stem("bed").activity
    assert whole.start_s < 0.1 and whole.end_s > 5.9


def test_leakage_is_judged_where_the_stem_plays():
    mix = np.ones(100)
    everywhere = np.ones(100, bool)
    # A continuous stem 35 dB under the mix is leakage; 20 dB under, a quiet part.
    assert is_leakage(np.full(100, 10 ** -3.5), mix, everywhere)
    assert not is_leakage(np.full(100, 10 ** -2.0), mix, everywhere)
    # A sparse part: loud in 2 frames of 100 (its whole-song mean is 37 dB under the mix), level
    # with the mix where it plays.
    sparse = np.zeros(100)
    sparse[10:12] = 0.01
    mask = sparse > 0
    assert 10 * np.log10(sparse.mean()) < LEAKAGE_DB
    assert not is_leakage(sparse, np.full(100, 0.01), mask)
    assert not is_leakage(np.zeros(100), mix, np.zeros(100, bool))  # silence is not leakage


def test_leakage_stem_plays_nowhere_and_masks_nothing(rng):
    sr = 22_050
    t = np.arange(4 * sr) / sr
    keys = np.tile(0.1 * np.sin(2 * np.pi * 330 * t), (2, 1)).astype(np.float32)
    drums = (0.2 * rng.standard_normal((2, t.size)) * ((t % 0.5) < 0.05)).astype(np.float32)
    # What a separator leaves in the vocal stem of an instrumental: the mix, 40 dB down.
    leak = (0.01 * (keys + drums)).astype(np.float32)
    a = measure_stems({"keys": keys, "drums": drums, "vocals": leak}, sr, separated=True)
    vocals = a.stem("vocals")
    assert vocals.activity == [] and vocals.features.active_fraction == 0.0
    assert vocals.extra == {"leakage": True} and a.to_dict()["stems"][2]["leakage"] is True
    assert not any("vocals" in (m.masker, m.target) for m in a.masking)
    assert a.stem("keys").activity and "leakage" not in a.stem("keys").extra
    # The same stem 20 dB louder is a (quiet) part; and given stems are never leakage: a part
    # far under the mix is buried, not absent.
    part = measure_stems({"keys": keys, "drums": drums, "vocals": leak * 10 ** (20 / 20)}, sr,
                         separated=True)
    assert part.stem("vocals").activity and not part.stem("vocals").extra
    given = measure_stems({"keys": keys, "drums": drums, "vocals": leak}, sr)
    assert given.stem("vocals").activity and not given.stem("vocals").extra


def test_hysteresis_and_minimum_durations():
    values = np.array([0, 5, 11, 9, 6, 4, 9, 11, 0, 0], float)
    # on above 10, off below 5: frames 2-4 (until 4 < 5) and 7
    assert hysteresis(values, 10, 5).tolist() == [0, 0, 1, 1, 1, 0, 0, 1, 0, 0]
    mask = np.array([1, 1, 0, 1, 1, 0, 0, 0, 0, 1], bool)
    # hop 0.1 s: the 1-frame gap is bridged, the single last frame is dropped (< 0.25 s)
    regions = mask_to_regions(mask, 0.1, min_active_s=0.25, min_gap_s=0.15)
    assert regions == [pytest.approx((0.0, 0.45))]


def test_low_sine_masks_low_sine_not_high_one():
    sr = 44_100
    stems = {"low": tone(100, sr, 4, amp=0.5), "low_quiet": tone(120, sr, 4, amp=0.02),
             "high_quiet": tone(3000, sr, 4, amp=0.02)}
    a = measure_stems(stems, sr)
    pairs = {(m.masker, m.target): m for m in a.masking}
    low = pairs[("low", "low_quiet")]
    assert low.masked_fraction > 0.5
    assert any(b.low_hz <= 120 < b.high_hz and b.masked_fraction > 0.9 for b in low.bands)
    assert low.regions and low.regions[0].end_s - low.regions[0].start_s > 3.0
    high = pairs.get(("low", "high_quiet"))
    assert high is None or high.masked_fraction < 0.05
    # the quiet low sine does not mask the loud one
    assert ("low_quiet", "low") not in pairs or pairs[("low_quiet", "low")].masked_fraction < 0.05


def test_width_correlation_balance(rng):
    sr = 48_000

    def image(audio):
        return stereo_image(band_spectrogram(audio.astype(np.float32), sr))

    mono = np.tile(rng.standard_normal(2 * sr), (2, 1))
    s = image(mono)
    assert s["width"] == pytest.approx(0.0, abs=1e-6)
    assert s["correlation"] == pytest.approx(1.0, abs=1e-6)
    wide = rng.standard_normal((2, 2 * sr))
    s = image(wide)
    assert s["width"] == pytest.approx(1.0, abs=0.05)
    assert s["correlation"] == pytest.approx(0.0, abs=0.05)
    assert image(wide * np.array([[1.0], [0.5]]))["balance_db"] == pytest.approx(
        20 * np.log10(2), abs=0.1)
    assert image(np.stack([wide[0], -wide[0]]))["correlation"] == pytest.approx(-1.0, abs=1e-4)
    assert image(np.stack([wide[0], 0.5 * wide[0] + wide[1]]))["correlation"] == pytest.approx(
        0.5 / np.sqrt(1.25), abs=0.03)
    assert image(wide[:1]) == {"width": 0.0, "correlation": 1.0, "balance_db": 0.0}


@pytest.mark.parametrize("sr", [44_100, 48_000])
@pytest.mark.parametrize("freq", [250.0, 1000.0, 4000.0])
def test_centroid_and_octave_peak_of_a_sine(sr, freq):
    audio = tone(freq, sr, 2, amp=0.25)
    spec = band_spectrogram(audio, sr)
    bal = spectral_balance(spec, np.ones(spec.times_s.size, bool))
    assert bal["centroid_hz"] == pytest.approx(freq, rel=0.02)
    assert OCTAVE_CENTRES_HZ[int(np.argmax(bal["octave_db"]))] == freq
    # the band holds (nearly) all the power: 0 dB re total
    assert max(bal["octave_db"]) == pytest.approx(0.0, abs=0.1)


def test_spectrum_power_is_calibrated():
    # Parseval scaling: a 0.5-amplitude sine reads mean square 0.125 per channel.
    sr = 48_000
    spec = band_spectrogram(tone(1000, sr, 2, amp=0.5), sr)
    middle = spec.power[5:-5]
    assert 10 * np.log10(middle.mean() / 2) == pytest.approx(10 * np.log10(0.125), abs=0.05)


def test_pink_tilt_is_about_minus_3_db_per_octave(rng):
    sr = 44_100
    n = 10 * sr
    spectrum = np.fft.rfft(rng.standard_normal((1, n)), axis=1)
    k = np.arange(spectrum.shape[1], dtype=np.float64)
    k[0] = 1.0
    pink = (np.fft.irfft(spectrum / np.sqrt(k), n, axis=1) * 0.1).astype(np.float32)
    spec = band_spectrogram(pink, sr)
    bal = spectral_balance(spec, np.ones(spec.times_s.size, bool))
    # pink noise has equal power per octave: tilt 0 dB/octave (white would be +3)
    assert bal["tilt_db_per_octave"] == pytest.approx(0.0, abs=0.5)


def test_silent_stem_and_bad_input():
    sr = 22_050
    with pytest.warns(Warning):
        a = measure_stems({"tone": tone(440, sr, 3, amp=0.1),
                           "silent": np.zeros((2, 3 * sr), np.float32)}, sr)
    silent = a.stem("silent")
    assert silent.loudness_lufs is None and silent.level_db is None and silent.activity == []
    with pytest.raises(ParameterError):
        measure_stems({}, sr)
    with pytest.raises(ParameterError):
        measure_stems({"a": tone(440, sr, 1, amp=0.1)}, sr, labels={"b": "drums"})
    with pytest.raises(ParameterError):
        measure_stems({"a": tone(440, sr, 1, amp=0.1)}, sr, labels={"a": "kazoo"})
    with pytest.raises(AudioContentError):
        measure_stems({"a": np.full((2, sr), np.nan, np.float32)}, sr)


def harmonic_tone(freq_hz: float, t: np.ndarray) -> np.ndarray:
    """Six harmonics decaying by 0.7 each: a crude instrument note."""
    return sum(0.7 ** h * np.sin(2 * np.pi * freq_hz * (h + 1) * t) for h in range(6))


def test_pitch_range_and_monophony(rng):
    sr = 44_100
    t = np.arange(sr) / sr
    melody = np.concatenate([harmonic_tone(f, t) for f in (220.0, 262.0, 330.0)])[None]
    chord = sum(harmonic_tone(f, np.arange(3 * sr) / sr) for f in (262.0, 330.0, 392.0))[None]
    stems = {"melody": 0.1 * melody, "chord": 0.05 * chord,
             "noise": 0.05 * rng.standard_normal((1, 3 * sr))}
    a = measure_stems({k: v.astype(np.float32) for k, v in stems.items()}, sr)
    mel = a.stem("melody").features
    assert mel.pitch_low_hz == pytest.approx(220.0, rel=0.03)  # within half a semitone
    assert mel.pitch_high_hz == pytest.approx(330.0, rel=0.03)
    assert mel.monophony > 0.9
    assert a.stem("chord").features.monophony < 0.6
    noise = a.stem("noise").features
    assert noise.pitch_low_hz is None and noise.monophony < 0.3


def test_spreading_and_threshold_follow_schroeder_and_johnston():
    from mixassist.analysis.masking import masking_threshold, spreading_matrix

    sf_db = 10 * np.log10(np.maximum(spreading_matrix(24), 1e-30))
    assert np.allclose(np.diag(sf_db), 0.0, atol=0.01)
    # masking spreads further up in frequency than down (Schroeder et al. 1979)
    assert sf_db[5, 6] == pytest.approx(-4.3, abs=0.1)
    assert sf_db[5, 4] == pytest.approx(-7.9, abs=0.1)
    assert sf_db[5, 8] > sf_db[5, 2]
    # a noise-like masker (flatness 1) sits 5.5 dB above its threshold, a tone 14.5 + z dB
    one_band = np.zeros((2, 24), np.float32)
    one_band[:, 10] = 1.0
    threshold = masking_threshold(one_band, np.array([1.0, 1e-7], np.float32))
    assert 10 * np.log10(threshold[0, 10]) == pytest.approx(-5.5, abs=0.01)
    assert 10 * np.log10(threshold[1, 10]) == pytest.approx(-(14.5 + 11), abs=0.01)
