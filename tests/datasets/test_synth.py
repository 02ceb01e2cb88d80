"""mixassist's own synthesis voices: measured pitch, onsets, determinism, patch ranges, clean
audio (finite, peak <= 1, no DC), noise effects of the asked length, and the source registry."""

from __future__ import annotations

import math
import tomllib
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.signal.windows import blackmanharris

from mixassist.datasets import licences
from mixassist.datasets.instruments import INSTRUMENTS
from mixassist.datasets.song import Note
from mixassist.datasets.sources import PALETTES, SYNTHS
from mixassist.datasets.synth import (VOICES, MalletPatch, Patch, SubtractivePatch, _comb, patch_from_json,
                                      pluck_loop, random_patch, render_part, voice, voices_for)
from mixassist.errors import ParameterError

SR = 44100
PITCHED = [name for name, v in VOICES.items() if v.pitched]
#: E1 (41.2 Hz, the lowest bass string) to C7 (2093 Hz, a high lead)
PITCHES = (28, 45, 60, 76, 88, 96)


def _hz(pitch: int) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def _spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrum of ``x`` (Blackman-Harris window, -92 dB side lobes; 8x zero padding)."""
    nfft = 1 << int(math.ceil(math.log2(8 * x.size)))
    power = np.abs(np.fft.rfft(x * blackmanharris(x.size), nfft)) ** 2
    return np.fft.rfftfreq(nfft, 1.0 / SR), power


def measure_pitch(x: np.ndarray, f0: float, *, how: str, below_db: float = -30.0) -> float:
    """Cents from ``f0`` of the fundamental of ``x``, searched within +-600 cents of ``f0``:
    ``peak``: its spectral peak refined by parabolic interpolation of the log power;
    ``centroid``: the power-weighted mean frequency of that band, which is the mean instantaneous
    frequency of the partial, so vibrato, tremolo and symmetric unison detune do not move it.

    Asserts first that this band is the fundamental: it holds more than -40 dB of the total power
    (not an octave-up render) and there is nothing an octave below (power in 0.4-0.67 f0 under
    ``below_db`` of the band's: not an octave-down render; vibrato and wavetable morphing of a
    41 Hz note put modulation sidebands there at about -20 dB)."""
    f, power = _spectrum(x.astype(np.float64))
    band = (f > f0 * 2 ** -0.5) & (f < f0 * 2 ** 0.5)
    below = (f > 0.4 * f0) & (f < 0.67 * f0)
    assert power[band].sum() > 1e-4 * power.sum(), "no fundamental near the asked pitch"
    assert power[below].sum() < 10 ** (below_db / 10) * power[band].sum(), "energy an octave below the asked pitch"
    if how == "centroid":
        return 1200 * math.log2((power[band] * f[band]).sum() / power[band].sum() / f0)
    k = int(np.argmax(np.where(band, power, 0.0)))
    a, b, c = np.log(power[k - 1:k + 2])
    return 1200 * math.log2((f[k] + 0.5 * (a - c) / (a - 2 * b + c) * (f[1] - f[0])) / f0)


def _sustained(voice_name: str, patch: Patch, pitch: int, length_s: float = 1.6) -> np.ndarray:
    """One note from 0.1 s; the part after its first 20 ms (the attack transient)."""
    audio = render_part([Note(0.1, 0.1 + length_s, pitch, 100)], voice_name, patch, SR)
    return audio[0, int(0.12 * SR):int((0.1 + length_s) * SR)]


@pytest.mark.parametrize("pitch", PITCHES)
@pytest.mark.parametrize("voice_name", PITCHED)
def test_each_voice_renders_the_asked_pitch_measured_at_its_spectral_peak(voice_name, pitch):
    patch = VOICES[voice_name].patch()  # defaults: no vibrato, tremolo or detune
    cents = measure_pitch(_sustained(voice_name, patch, pitch), _hz(pitch), how="peak")
    assert abs(cents) <= 10.0, f"{voice_name} {_hz(pitch):.1f} Hz: {cents:+.2f} cents"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("voice_name", PITCHED)
def test_random_patches_render_the_asked_pitch_measured_by_the_band_centroid(voice_name, seed):
    patch = random_patch(voice_name, np.random.default_rng(seed))
    for pitch in (28, 60, 88):
        cents = measure_pitch(_sustained(voice_name, patch, pitch), _hz(pitch), how="centroid", below_db=-12.0)
        assert abs(cents) <= 10.0, f"{patch} {_hz(pitch):.1f} Hz: {cents:+.2f} cents"


def test_the_pitch_measurement_catches_wrong_pitches():
    """The measurement itself: 12 cents sharp, an octave up and an octave down all fail."""
    t = np.arange(int(1.5 * SR)) / SR
    saw = lambda f: sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, 20))  # noqa: E731
    f0 = _hz(45)
    assert abs(measure_pitch(saw(f0), f0, how="peak")) < 0.05
    assert abs(measure_pitch(saw(f0 * 2 ** (12 / 1200)), f0, how="centroid") - 12) < 0.5
    for wrong in (2 * f0, f0 / 2):
        for below_db in (-30.0, -12.0):
            with pytest.raises(AssertionError, match="fundamental|octave below"):
                measure_pitch(saw(wrong), f0, how="centroid", below_db=below_db)


def test_pluck_loop_is_tuned_to_one_period_and_both_comb_paths_agree():
    for f0 in (41.2, 220.0, 1318.5):
        lag, taps = pluck_loop(f0, SR, damping=0.1, decay_s=2.0)
        w = 2 * np.pi * f0 / SR
        delay = lag - np.angle(np.sum(taps * np.exp(-1j * w * np.arange(taps.size)))) / w
        assert abs(delay - SR / f0) < 1e-6
        assert np.abs(np.fft.rfft(taps, 4096)).max() < 1.0  # a stable loop
    x = np.random.default_rng(0).standard_normal(20000)
    lag, taps = pluck_loop(60.0, SR, damping=0.2, decay_s=1.0)
    assert lag >= 128  # the blocked path
    a = np.zeros(lag + taps.size)
    a[0], a[lag:] = 1.0, -taps
    np.testing.assert_allclose(_comb(x, lag, taps), lfilter([1.0], a, x), atol=1e-9)


def _part(voice_name: str, rng: np.random.Generator) -> list[Note]:
    """A chord, a line and a long note, overlapping."""
    low = 28 if voice_name in ("subtractive", "fm", "wavetable", "pluck") else 48
    notes = [Note(0.05, 1.0, p, 90) for p in (48, 52, 55, 60)]
    notes += [Note(0.8 + 0.2 * i, 1.0 + 0.2 * i, int(rng.integers(low, 96)), int(rng.integers(1, 128)))
              for i in range(8)]
    return notes + [Note(2.0, 3.5, int(rng.integers(low, 96)), 127)]


@pytest.mark.parametrize("voice_name", list(VOICES))
def test_random_patches_give_finite_audio_with_peak_at_most_1_and_no_dc(voice_name):
    rng = np.random.default_rng(11)
    for _ in range(5):
        audio = render_part(_part(voice_name, rng), voice_name, random_patch(voice_name, rng), SR)
        assert audio.dtype == np.float32 and audio.shape[0] == 2 and audio.shape[1] >= 3.5 * SR
        assert np.isfinite(audio).all()
        peak, rms = np.abs(audio).max(), np.sqrt(np.mean(audio.astype(np.float64) ** 2))
        assert 0.0 < peak <= 1.0 and rms > 1e-4
        assert abs(audio.astype(np.float64).mean()) < 1e-3 * rms, "DC offset"


@pytest.mark.parametrize("voice_name", list(VOICES))
def test_same_patch_and_notes_give_the_same_bytes(voice_name):
    rng = np.random.default_rng(5)
    notes, patch = _part(voice_name, rng), random_patch(voice_name, rng)
    a = render_part(notes, voice_name, patch, SR)
    assert a.tobytes() == render_part(list(notes), voice_name, patch_from_json(patch.to_json()), SR).tobytes()
    assert a.tobytes() != render_part(notes, voice_name, replace(patch, seed=patch.seed + 1), SR).tobytes()


@pytest.mark.parametrize("voice_name", list(VOICES))
def test_notes_start_at_their_onset_sample(voice_name):
    """A note at ``start_s`` is the note at 0 delayed by exactly ``round(start_s * sr)`` samples,
    silent before, and sounding from that very sample."""
    rng = np.random.default_rng(2)
    for start_s in (0.25, 0.50001, 1.2345678):
        patch = random_patch(voice_name, rng)
        at_zero = render_part([Note(0.0, 0.4, 60, 100)], voice_name, patch, SR, duration_s=2.0)
        audio = render_part([Note(start_s, start_s + 0.4, 60, 100)], voice_name, patch, SR, duration_s=4.0)
        onset = int(round(start_s * SR))
        assert not audio[:, :onset].any(), "sound before the onset"
        assert np.array_equal(audio[:, onset:onset + at_zero.shape[1]], at_zero)
        assert int(np.flatnonzero(audio[0])[0]) == onset


def test_louder_velocity_is_louder():
    for name in VOICES:
        patch = replace(random_patch(name, np.random.default_rng(3)), velocity_sense=1.0)
        soft, loud = (np.abs(render_part([Note(0.0, 0.5, 60, v)], name, patch, SR)).max() for v in (30, 120))
        assert loud > 2 * soft, name


@pytest.mark.parametrize("kind", ["riser", "downlifter", "impact", "sweep"])
def test_noise_fx_lasts_exactly_the_asked_duration(kind):
    for seed in range(3):
        patch = replace(random_patch("noise_fx", np.random.default_rng(seed)), kind=kind)
        start, end = 0.5, 2.7
        audio = render_part([Note(start, end, 60, 100)], "noise_fx", patch, SR)
        assert audio.shape == (2, int(round(end * SR)))
        x = audio[0].astype(np.float64)
        note = x[int(start * SR):]
        frames = np.sqrt(np.mean(note[:note.size // 2205 * 2205].reshape(-1, 2205) ** 2, axis=1))  # 50 ms
        assert (frames > 10 ** (-70 / 20) * frames.max()).all(), "silent stretch inside the effect"
        longer = render_part([Note(start, end, 60, 100)], "noise_fx", patch, SR, duration_s=4.0)[0]
        assert np.abs(longer[int((end + 0.05) * SR):]).max() < 1e-4 * np.abs(longer).max(), "sound after the end"
        loudest = np.argmax(frames) / frames.size
        if kind == "riser":
            assert loudest > 0.6
        elif kind in ("downlifter", "impact"):
            assert loudest < 0.4


def test_random_patches_stay_within_their_ranges_and_are_deterministic():
    for name, v in VOICES.items():
        ranges = v.patch.ranges()
        assert set(ranges) == {f.name for f in fields(v.patch)}
        draws = [random_patch(name, np.random.default_rng([seed, 1])) for seed in range(60)]
        for patch in draws:
            for key, allowed in ranges.items():
                value = getattr(patch, key)
                if isinstance(allowed[0], str) or key in ("unison", "slope_db_oct", "ratio"):
                    assert value in allowed, (name, key, value)
                else:
                    assert allowed[0] <= value <= allowed[1], (name, key, value)
        assert len({p for p in draws}) == len(draws)  # frozen, hashable, and they differ
        assert random_patch(name, np.random.default_rng(7)) == random_patch(name, np.random.default_rng(7))
        assert patch_from_json(draws[0].to_json()) == draws[0]


def test_a_patch_outside_its_ranges_or_for_another_voice_is_a_clear_error():
    with pytest.raises(ParameterError, match=r"cutoff_hz=20.0 is outside \[150.0, 8000.0\]"):
        SubtractivePatch(cutoff_hz=20.0)
    with pytest.raises(ParameterError, match="use one of"):
        MalletPatch(bar="piano")
    with pytest.raises(ParameterError, match="needs a PluckPatch"):
        render_part([Note(0, 1, 60, 100)], "pluck", SubtractivePatch(), SR)
    with pytest.raises(ParameterError, match="unknown synthesis voice"):
        voice("theremin")


def test_voices_are_sources_with_a_licence_and_families_in_the_v3_palette_only():
    assert set(SYNTHS.values()) == set(VOICES)
    for name, v in VOICES.items():
        assert v.source in SYNTHS and voice(v.source) is v
        assert v.families and set(v.families) <= set(INSTRUMENTS)
    assert voices_for("bass") == ("subtractive", "fm", "wavetable", "pluck")
    assert voices_for("fx") == ("noise_fx",) and voices_for("drums") == ()
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    rows = [r for r in licences.SOURCES if r[2] == "mixassist.datasets.synth"]
    assert len(rows) == 1 and rows[0][3] == project["license"]
    assert all(v in rows[0][0] for v in VOICES)
    assert not set(SYNTHS) & {s for key in ("training", "held-out") for s in PALETTES[key]}
    assert set(SYNTHS) <= set(PALETTES["training-v3"])
