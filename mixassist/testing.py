"""Synthetic songs with known content, for tests, benchmarks and examples (no files needed)."""

from __future__ import annotations

import numpy as np


def synthetic_stems(seconds: float, sr: int = 44100, *, bass_hz: float = 55.0,
                    vocal_amp: float = 0.02) -> dict[str, np.ndarray]:
    """Four stereo stems of a 120 BPM groove: a 60 Hz kick on every beat (``drums``), a bass
    sine at ``bass_hz`` (``bass``), a two-note pad (``keys``) and a quiet vibrato lead
    (``vocals``, peak ``vocal_amp``), each ``np.ndarray [shape=(2, samples), dtype=float32]``."""
    t = np.arange(int(round(seconds * sr))) / sr
    kick = np.zeros_like(t)
    for beat in np.arange(0.0, seconds, 0.5):
        i = int(beat * sr)
        n = min(4000, len(t) - i)
        kick[i:i + n] += np.sin(2 * np.pi * 60 * np.arange(n) / sr) * np.exp(-np.arange(n) / 800)
    mono = {"drums": 0.8 * kick,
            "bass": 0.3 * np.sin(2 * np.pi * bass_hz * t),
            "keys": 0.1 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 330 * t)),
            "vocals": vocal_amp * np.sin(2 * np.pi * 440 * t + 3 * np.sin(2 * np.pi * 5 * t))}
    return {name: np.stack([x, x]).astype(np.float32) for name, x in mono.items()}
