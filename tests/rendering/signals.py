"""Synthetic test mixes with known character (seeded): tonal, noisy, percussive, extreme levels."""

from __future__ import annotations

import numpy as np

from mixassist.loudness import integrated_loudness


def pink_noise(rng: np.random.Generator, samples: int, channels: int = 2) -> np.ndarray:
    """Pink (1/f power) noise by spectral shaping of white noise, float64 (channels, samples)."""
    spectrum = np.fft.rfft(rng.standard_normal((channels, samples)), axis=1)
    k = np.arange(spectrum.shape[1], dtype=np.float64)
    k[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(k), samples, axis=1)


def drum_loop(rng: np.random.Generator, sr: int, samples: int, *, bpm: float = 120.0) -> np.ndarray:
    """Kick (pitch-swept sine) on every beat, noise snare/hat on the off-beats; mono (1, samples)."""
    out = np.zeros(samples)
    beat = int(sr * 60 / bpm)
    for start in range(0, samples, beat):
        n = min(samples - start, int(0.3 * sr))
        t = np.arange(n) / sr
        out[start:start + n] += np.sin(2 * np.pi * (50 + 100 * np.exp(-30 * t)) * t) * np.exp(-8 * t)
        off = start + beat // 2
        if off < samples:
            m = min(samples - off, int(0.1 * sr))
            out[off:off + m] += 0.5 * rng.standard_normal(m) * np.exp(-40 * np.arange(m) / sr)
    return out[None]


def at_lufs(audio: np.ndarray, sr: int, lufs: float) -> np.ndarray:
    """``audio`` as float32 stereo scaled to ``lufs`` integrated loudness (floats may exceed 1)."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)
    audio = audio.astype(np.float32)
    return (audio * 10 ** ((lufs - integrated_loudness(audio, sr)) / 20)).astype(np.float32)


def varied_mixes(sr: int, duration_s: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Ten varied stereo mixes (name -> float32 (2, samples)) for mastering tests."""
    rng = np.random.default_rng(seed)
    n = int(sr * duration_s)
    t = np.arange(n) / sr
    chord = sum(np.sin(2 * np.pi * f * t + k) for k, f in enumerate((220.0, 277.2, 329.6, 440.0)))
    gate = np.sin(2 * np.pi * 0.5 * t) > 0.3
    return {
        "sine": at_lufs(np.sin(2 * np.pi * 440 * t)[None], sr, -20),
        "chord": at_lufs(chord[None], sr, -18),
        "white_noise": at_lufs(rng.standard_normal((2, n)), sr, -20),
        "pink_noise": at_lufs(pink_noise(rng, n), sr, -22),
        "drum_loop": at_lufs(drum_loop(rng, sr, n), sr, -20),
        "dense_pink": at_lufs(np.clip(3 * pink_noise(rng, n) / np.std(pink_noise(rng, n)), -1, 1),
                              sr, -9),
        "very_quiet": at_lufs(pink_noise(rng, n), sr, -50),
        "very_loud": at_lufs(rng.standard_normal((2, n)), sr, -4),
        "clipped": np.clip(4 * np.sin(2 * np.pi * 110 * t), -1, 1)[None].repeat(2, 0).astype(np.float32),
        "noise_bursts": at_lufs((rng.standard_normal(n) * gate)[None], sr, -20),
    }
