"""Loudness meter against EBU Tech 3341 / 3342 cases synthesised here, and against pyloudnorm.

Levels in the EBU cases are sine peak levels in dBFS on each channel; a stereo 1 kHz sine at
-23 dBFS reads -23.0 LUFS (BS.1770-4's -0.691 dB offset cancels the K-filter gain at 1 kHz).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.signal

from mixassist.errors import AudioContentError, ParameterError
from mixassist.loudness import (CHANNEL_WEIGHTS, LoudnessCache, integrated_loudness, k_weighting_sos,
                                loudness_range, measure_loudness, momentary_loudness,
                                sample_peak_dbfs, short_term_loudness, true_peak_dbtp)

SR = 48_000


def tone(levels_durations, *, sr=SR, freq_hz=1000.0, channels=2, phase_rad=0.0):
    """Stereo (or ``channels``) 1 kHz sine, continuous phase, piecewise level: ``[(dBFS, s)]``."""
    gains = np.concatenate([np.full(int(round(d * sr)), 10 ** (level / 20))
                            for level, d in levels_durations])
    t = np.arange(len(gains)) / sr
    wave = gains * np.sin(2 * np.pi * freq_hz * t + phase_rad)
    return np.repeat(wave[None, :], channels, axis=0).astype(np.float32)


def faded(wave, sr, fade_s=0.05):
    """Raised-cosine fades, so a tone has no clicks (a step overshoots after interpolation)."""
    n = int(fade_s * sr)
    ramp = np.sin(np.linspace(0, np.pi / 2, n)) ** 2
    out = wave.copy()
    out[..., :n] *= ramp
    out[..., -n:] *= ramp[::-1]
    return out


def pink_programme(sr, duration_s, seed, *, channels=2):
    """Pink-ish noise (Kellet/Smith pinking filter) in 5 s sections at varying levels."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((channels, int(duration_s * sr)))
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    pink = scipy.signal.lfilter(b, a, white, axis=1)
    sections = np.repeat(rng.uniform(-30, 0, int(np.ceil(duration_s / 5))), 5 * sr)[:pink.shape[1]]
    return (0.1 * pink * 10 ** (sections / 20)).astype(np.float32)


def expected_multitone_lufs(tones, sr):
    """Loudness of a steady stereo multi-tone from the K-filter's frequency response.

    ``tones`` are ``(freq_hz, peak_dBFS)``; mean square of a sine is half its squared peak, and
    distinct tones add in power. Independent of the time-domain meter (frequency domain).
    """
    freqs = np.array([f for f, _ in tones])
    _, response = scipy.signal.sosfreqz(k_weighting_sos(sr), worN=freqs, fs=sr)
    power = sum(0.5 * 10 ** (level / 10) * abs(h) ** 2 for (_, level), h in zip(tones, response))
    return -0.691 + 10 * math.log10(2 * power)


# --- EBU Tech 3341 ------------------------------------------------------------------------------

@pytest.mark.parametrize("case, signal, expected", [
    (1, [(-23, 20)], -23.0),
    (2, [(-33, 20)], -33.0),
    (3, [(-36, 10), (-23, 60), (-36, 10)], -23.0),
    (4, [(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)], -23.0),
    (5, [(-26, 20), (-20, 20.1), (-26, 20)], -23.0),
])
def test_ebu_3341_integrated(case, signal, expected):
    assert integrated_loudness(tone(signal), SR) == pytest.approx(expected, abs=0.1)


def test_ebu_3341_case6_five_channels():
    """Case 6: 5.0 (L R C Ls Rs) at -28, -28, -24, -30, -30 dBFS -> -23.0 LUFS (surrounds x1.41)."""
    levels = [-28, -28, -24, -30, -30]
    audio = np.concatenate([tone([(level, 20)], channels=1) for level in levels])
    assert integrated_loudness(audio, SR) == pytest.approx(-23.0, abs=0.1)


def test_ebu_3341_case7_programme_multitone():
    """Case 7 stand-in (the EBU file is a real programme): a multi-tone "programme" whose steady
    sections are 20 dB apart plus a pause; the relative gate lands ~13 LU below the loud ones
    and removes the quiet ones.
    Expected: the loud sections' loudness computed in the frequency domain."""
    loud = [(60, -20), (220, -18), (1000, -21), (3150, -26), (8000, -30), (12500, -34)]
    quiet = [(f, level - 20) for f, level in loud]
    t = np.arange(20 * SR) / SR

    def section(tones):
        return sum(10 ** (level / 20) * np.sin(2 * np.pi * f * t + f) for f, level in tones)

    wave = np.concatenate([section(quiet), section(loud), np.zeros(5 * SR), section(loud),
                           section(quiet)])
    audio = np.stack([wave, wave]).astype(np.float32)
    expected = expected_multitone_lufs(loud, SR)
    assert integrated_loudness(audio, SR) == pytest.approx(expected, abs=0.1)


def test_ebu_3341_case8_programme_noise_matches_reference_implementation():
    """Case 8 stand-in: noise programme with 30 dB of level changes, checked against pyloudnorm's
    BS.1770 prototype filter ("DeMan", the same analog prototype) -- an independent meter."""
    pyloudnorm = pytest.importorskip("pyloudnorm")
    audio = pink_programme(SR, 40, seed=8)
    reference = pyloudnorm.Meter(SR, filter_class="DeMan").integrated_loudness(audio.T)
    assert integrated_loudness(audio, SR) == pytest.approx(reference, abs=0.02)


def test_ebu_3341_case9_short_term_constant():
    """Case 9: 1.34 s at -20 dBFS alternating with 1.66 s at -30 dBFS: every 3 s window -> -23."""
    audio = tone([(-20, 1.34), (-30, 1.66)] * 20)
    times, lufs = short_term_loudness(audio, SR)
    assert times[0] == pytest.approx(3.0)
    assert np.all(np.abs(lufs - -23.0) < 0.1)


def test_ebu_3341_case12_momentary_constant():
    """Case 12: 0.18 s at -20 dBFS alternating with 0.22 s at -30 dBFS: every 400 ms window
    (on the 0.4 s grid) reads -23.0; in between the window holds other mixes of the two levels."""
    audio = tone([(-20, 0.18), (-30, 0.22)] * 50)
    times, lufs = momentary_loudness(audio, SR, hop_s=0.4)
    assert times[0] == pytest.approx(0.4) and len(times) == 50
    assert np.all(np.abs(lufs - -23.0) < 0.1)


# --- EBU Tech 3342 loudness range ---------------------------------------------------------------

@pytest.mark.parametrize("levels, expected", [
    ([-20, -30], 10.0),
    ([-20, -15], 5.0),
    ([-40, -20], 20.0),
    ([-50, -35, -20, -35, -50], 15.0),
])
def test_ebu_3342_loudness_range(levels, expected):
    audio = tone([(level, 20) for level in levels])
    assert loudness_range(audio, SR) == pytest.approx(expected, abs=1.0)


# --- true peak ----------------------------------------------------------------------------------

def test_true_peak_quarter_rate_sine_45_degrees_reads_plus_3():
    """0 dBFS samples of a sine at fs/4 with 45 degree phase: the waveform peaks at sqrt(2)."""
    t = np.arange(2 * SR)
    wave = np.sin(2 * np.pi * t / 4 + np.pi / 4)
    audio = faded(np.stack([wave, wave]) / np.abs(wave).max(), SR).astype(np.float32)
    assert sample_peak_dbfs(audio, SR) == pytest.approx(0.0, abs=1e-5)
    assert true_peak_dbtp(audio, SR) == pytest.approx(3.01, abs=0.3)


@pytest.mark.parametrize("divisor, phase_deg", [(4, 0), (4, 45), (6, 60), (8, 67.5)])
def test_ebu_3341_true_peak_cases(divisor, phase_deg):
    """Cases 15-18 style: -6 dBFS sample peak sine at fs/divisor; the true peak is analytic:
    sample peak / max_k |sin(phase + 2 pi k / divisor)|."""
    k = np.arange(2 * SR)
    phase = np.deg2rad(phase_deg)
    wave = np.sin(2 * np.pi * k / divisor + phase)
    scale = 10 ** (-6 / 20) / np.abs(wave).max()
    audio = faded(np.stack([wave, wave]) * scale, SR).astype(np.float32)
    expected = 20 * math.log10(scale)
    assert true_peak_dbtp(audio, SR) == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("sr", [8000, 44100, 48000, 96000, 192000])
def test_true_peak_of_sines_within_a_tenth_db_at_any_rate(sr, rng):
    """Faded sines up to 0.45 fs at random phases: the true peak is the sine amplitude."""
    n = 8000
    for freq in np.linspace(0.01, 0.45, 12) * sr:
        wave = 0.5 * np.sin(2 * np.pi * freq * np.arange(n) / sr + rng.uniform(0, 2 * np.pi))
        audio = faded(wave[None, :], sr, fade_s=0.25 * n / sr).astype(np.float32)
        assert true_peak_dbtp(audio, sr) == pytest.approx(20 * math.log10(0.5), abs=0.1), freq


def test_true_peak_long_input_matches_one_shot_oversampling(rng):
    """Work goes in passes; a peak right at a pass boundary must not be missed or distorted."""
    sr = 44100
    audio = (0.1 * rng.standard_normal((2, 300_000))).astype(np.float32)
    audio[1, 131_071:131_073] = [0.9, -0.9]                     # inter-sample peak at the seam
    reference = scipy.signal.resample_poly(audio.astype(np.float64), 16, 1, axis=1)
    expected = 20 * math.log10(np.abs(reference).max())
    assert true_peak_dbtp(audio, sr) == pytest.approx(expected, abs=0.05)
    assert true_peak_dbtp(audio, sr) >= sample_peak_dbfs(audio, sr)


# --- sample rates and channel layouts -----------------------------------------------------------

@pytest.mark.parametrize("sr", [8000, 11025, 22050, 44100, 48000, 96000, 192000])
def test_1khz_reads_its_level_at_every_rate(sr):
    """K-weighting is derived per rate; a -23 dBFS stereo 1 kHz sine reads -23.0 everywhere."""
    assert integrated_loudness(tone([(-23, 5)], sr=sr), sr) == pytest.approx(-23.0, abs=0.05)


@pytest.mark.parametrize("sr", [8000, 44100, 96000, 192000])
def test_k_weighting_response_matches_48k_standard(sr):
    """Every rate's K-filter follows the BS.1770-4 48 kHz filter within 0.05 dB to 0.45 fs."""
    freqs = np.geomspace(20, min(0.45 * sr, 20000), 60)
    _, here = scipy.signal.sosfreqz(k_weighting_sos(sr), worN=freqs, fs=sr)
    _, ref = scipy.signal.sosfreqz(k_weighting_sos(48000), worN=freqs, fs=48000)
    assert np.max(np.abs(20 * np.log10(np.abs(here) / np.abs(ref)))) < 0.05


def test_48k_coefficients_are_the_standard_tables():
    """BS.1770-4 Tables 1 and 2."""
    sos = k_weighting_sos(48000)
    np.testing.assert_allclose(sos[0], [1.53512485958697, -2.69169618940638, 1.19839281085285,
                                        1.0, -1.69065929318241, 0.73248077421585], atol=1e-9)
    np.testing.assert_allclose(sos[1], [1.0, -2.0, 1.0, 1.0, -1.99004745483398,
                                        0.99007225036621], atol=1e-9)


def test_channel_layouts_mono_stereo_51():
    mono = tone([(-23, 5)], channels=1)
    stereo = tone([(-23, 5)], channels=2)
    assert integrated_loudness(mono, SR) == pytest.approx(-26.01, abs=0.05)   # one channel
    assert integrated_loudness(mono[0], SR) == pytest.approx(-26.01, abs=0.05)  # 1-D is mono
    assert integrated_loudness(stereo, SR) == pytest.approx(-23.0, abs=0.05)
    for channel, offset in [(0, 0.0), (2, 0.0), (4, 10 * math.log10(1.41))]:
        surround = np.zeros((6, mono.shape[1]), np.float32)
        surround[channel] = mono[0]
        assert integrated_loudness(surround, SR) == pytest.approx(-26.01 + offset, abs=0.05)
    lfe_only = np.zeros((6, mono.shape[1]), np.float32)
    lfe_only[3] = mono[0]
    assert integrated_loudness(lfe_only, SR) == float("-inf")
    assert all(len(weights) == n for n, weights in CHANNEL_WEIGHTS.items())


@pytest.mark.parametrize("channels", range(1, 9))
def test_every_channel_count_sums_weighted_channel_powers(channels):
    """The same sine on every channel reads mono + 10 log10(sum of the channel weights)."""
    audio = tone([(-23, 2)], channels=channels)
    expected = -26.01 + 10 * math.log10(sum(CHANNEL_WEIGHTS[channels]))
    assert integrated_loudness(audio, SR) == pytest.approx(expected, abs=0.05)


# --- agreement with pyloudnorm ------------------------------------------------------------------

def test_agrees_with_pyloudnorm_default_meter():
    """pyloudnorm's default K-filter is an RBJ approximation (0.04 dB low above 2 kHz); on
    pink-ish programme the two meters agree within 0.05 LU."""
    pyloudnorm = pytest.importorskip("pyloudnorm")
    sr = 44100
    audio = pink_programme(sr, 60, seed=3)
    reference = pyloudnorm.Meter(sr).integrated_loudness(audio.T)
    assert integrated_loudness(audio, sr) == pytest.approx(reference, abs=0.05)


# --- curves, short clips, silence, errors -------------------------------------------------------

def test_curves_shape_times_and_hop():
    audio = tone([(-23, 10)])
    times, lufs = momentary_loudness(audio, SR)
    assert len(times) == len(lufs) == 97 and times[0] == pytest.approx(0.4)
    assert times[-1] == pytest.approx(10.0)
    assert np.all(np.abs(lufs - -23.0) < 0.05)
    times, _ = short_term_loudness(audio, SR, hop_s=0.5)
    np.testing.assert_allclose(np.diff(times), 0.5)
    with pytest.raises(ParameterError):
        momentary_loudness(audio, SR, hop_s=0)


def test_quiet_passage_reads_minus_inf_only_when_digitally_silent():
    audio = tone([(-23, 3), (-200, 3)])
    audio[:, 4 * SR:] = 0.0
    _, lufs = momentary_loudness(audio, SR)
    assert lufs[-1] == float("-inf")
    assert np.isfinite(lufs[:25]).all()


def test_short_clip_is_one_block():
    """A clip shorter than 400 ms (or 3 s) is measured as one block spanning it."""
    clip = tone([(-20, 0.2)])
    assert integrated_loudness(clip, SR) == pytest.approx(-20.0, abs=0.1)
    times, lufs = short_term_loudness(clip, SR)
    assert times.tolist() == [pytest.approx(0.2)] and lufs[0] == pytest.approx(-20.0, abs=0.1)
    assert loudness_range(clip, SR) == 0.0


def test_silence_never_raises_or_warns():
    silence = np.zeros((2, SR), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = measure_loudness(silence, SR)
    assert report["integrated_lufs"] == float("-inf")
    assert report["true_peak_dbtp"] == report["sample_peak_dbfs"] == float("-inf")
    assert report["lra_lu"] == 0.0 and report["crest_factor_db"] == 0.0
    assert report["max_momentary_lufs"] == float("-inf")
    assert report["stereo_correlation"] == 1.0


@pytest.mark.parametrize("audio, sr", [
    (np.zeros((2, 3, 100), np.float32), SR),                  # not (channels, samples)
    (np.zeros((2, 0), np.float32), SR),                       # empty
    (np.zeros((9, SR), np.float32), SR),                      # too many channels
    (np.zeros((2, SR), np.float32), 4000),                    # rate out of range
    (np.full((2, SR), np.nan, np.float32), SR),               # NaN
])
def test_invalid_input_raises_audio_content_error(audio, sr):
    for measure in (integrated_loudness, loudness_range, true_peak_dbtp, sample_peak_dbfs,
                    measure_loudness):
        with pytest.raises(AudioContentError):
            measure(audio, sr)


def test_nan_in_the_last_partial_block_is_still_caught():
    audio = tone([(-23, 1.05)])
    audio[1, -10] = np.inf
    with pytest.raises(AudioContentError, match="NaN or infinite"):
        integrated_loudness(audio, SR)


# --- measure_loudness ---------------------------------------------------------------------------

def test_measure_loudness_fields(rng):
    audio = tone([(-20, 10), (-30, 10)])
    report = measure_loudness(audio, SR)
    assert report["integrated_lufs"] == pytest.approx(integrated_loudness(audio, SR))
    assert report["lra_lu"] == pytest.approx(loudness_range(audio, SR))
    assert report["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.1)
    assert report["sample_peak_dbfs"] == pytest.approx(-20.0, abs=0.01)
    assert report["max_momentary_lufs"] == pytest.approx(-20.0, abs=0.05)
    assert report["max_short_term_lufs"] == pytest.approx(-20.0, abs=0.05)
    assert report["stereo_correlation"] == pytest.approx(1.0)
    assert report["duration_s"] == pytest.approx(20.0) and report["channels"] == 2
    sine = tone([(-6, 5)])
    assert measure_loudness(sine, SR)["crest_factor_db"] == pytest.approx(3.01, abs=0.01)
    inverted = sine * np.array([[1.0], [-1.0]], np.float32)
    assert measure_loudness(inverted, SR)["stereo_correlation"] == pytest.approx(-1.0)
    noise = (0.1 * rng.standard_normal((2, 5 * SR))).astype(np.float32)
    assert abs(measure_loudness(noise, SR)["stereo_correlation"]) < 0.01
    assert measure_loudness(sine[:1], SR)["stereo_correlation"] == 1.0


@pytest.mark.parametrize("gain_db", [0.0, 7.5, -10.0, -30.0])
def test_loudness_cache_answers_for_gained_audio(gain_db):
    """A tone at -55 dBFS then one at -62 dBFS: 10 dB down, the quiet half falls below the
    -70 LUFS gate, so a plain "+ gain" would be wrong; the cache gates the gained blocks."""
    t = np.arange(10 * SR) / SR
    level = np.where(t < 5, 10 ** (-55 / 20), 10 ** (-62 / 20))
    tone = np.sin(2 * np.pi * 997 * t) * level
    audio = np.stack([tone, 0.5 * tone]).astype(np.float32)
    cache = LoudnessCache(audio, SR)
    gained = audio * np.float32(10 ** (gain_db / 20))
    expected, got = measure_loudness(gained, SR), cache.report(gain_db)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-4), key  # float32 rounding of `gained`
    assert cache.integrated_lufs(gain_db) == pytest.approx(integrated_loudness(gained, SR),
                                                           abs=1e-4)
    assert cache.sample_peak_dbfs(gain_db) == pytest.approx(expected["sample_peak_dbfs"], abs=1e-4)
    if gain_db == -10.0:  # the gate dropped the quiet half: louder than the ungained - 10 LU
        assert cache.integrated_lufs(gain_db) > cache.integrated_lufs() - 10.0 + 1.0


@pytest.mark.parametrize("block", [1, 4410, 100_000])
def test_meter_fed_in_blocks_measures_like_the_whole_array(block):
    """Streaming (blocks of any size, the K-filter state and the true-peak context carried
    across) gives the figures of one pass over the array."""
    from mixassist.loudness import LoudnessMeter, LoudnessCache, measure_loudness

    rng = np.random.default_rng(7)
    t = np.arange(int(2.5 * SR)) / SR
    audio = (0.3 * np.sin(2 * np.pi * 997 * t) * (t > 0.7)
             + 0.05 * rng.standard_normal((2, t.size))).astype(np.float32)
    audio[1] *= 0.5
    if block == 1:  # a few one-sample blocks at the start, then the rest in one
        pieces = [audio[:, :k + 1][:, -1:] for k in range(40)] + [audio[:, 40:]]
    else:
        pieces = [audio[:, k:k + block] for k in range(0, audio.shape[1], block)]
    meter = LoudnessMeter(SR, 2, audio.shape[1])
    for piece in pieces:
        meter.add(piece)
    streamed = LoudnessCache.from_meter(meter.finish()).report()
    whole = measure_loudness(audio, SR)
    for key, value in whole.items():
        assert streamed[key] == pytest.approx(value, abs=1e-6), key


def test_signal_input_is_measured_in_blocks(tmp_path):
    import soundfile as sf
    from mixassist.audio.signal import FileSignal
    from mixassist.loudness import measure_loudness

    rng = np.random.default_rng(3)
    audio = (0.1 * rng.standard_normal((2, 20 * SR))).astype(np.float32)
    sf.write(tmp_path / "n.wav", audio.T, SR, subtype="FLOAT")
    from_file = measure_loudness(FileSignal(tmp_path / "n.wav"), SR)
    assert from_file == pytest.approx(measure_loudness(audio, SR), abs=1e-6)
