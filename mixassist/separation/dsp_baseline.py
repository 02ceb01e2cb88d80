"""A DSP-only four-stem separator: the floor a learned model must beat.

On the STFT of the (stereo) mix:

- **drums**: the percussive part of harmonic-percussive separation with median filtering
  (Fitzgerald 2010, "Harmonic/percussive separation using median filtering"; soft masks with a
  margin as in Driedger et al. 2014, "Extending harmonic-percussive separation of audio signals").
- **bass**: the harmonic part below ``bass_cutoff_hz`` (a raised-cosine crossover one octave wide).
- **vocals**: the harmonic part above the crossover, weighted by the inter-channel similarity of
  Avendano & Jot 2004 ("A frequency-domain approach to multichannel upmix", eq. 2:
  ``psi = 2 |L R*| / (|L|^2 + |R|^2)``, 1 for a centre-panned source) raised to
  ``centre_sharpness`` and limited to the voice band.
- **other**: the residual, so the four stems sum exactly to the input.
"""

from __future__ import annotations

import numpy as np

from ..audio.convert import check_sample_rate, to_channels, validate_audio

STEMS = ("drums", "bass", "other", "vocals")


def _raised_cosine(freqs_hz: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    """1 below ``low_hz``, 0 above ``high_hz``, a raised cosine in log frequency between."""
    f = np.maximum(freqs_hz, 1e-3)
    t = np.clip(np.log(f / low_hz) / np.log(high_hz / low_hz), 0.0, 1.0)
    return 0.5 * (1 + np.cos(np.pi * t))


def dsp_separate(audio: np.ndarray, sr: int, *, n_fft: int = 4096, bass_cutoff_hz: float = 150.0,
                 voice_band_hz: tuple[float, float] = (200.0, 8000.0), centre_sharpness: float = 8.0,
                 hpss_kernel: int = 31, hpss_margin: float = 1.5) -> dict[str, np.ndarray]:
    """Separate ``audio`` into drums, bass, other and vocals with DSP only.

    audio : np.ndarray [shape=(channels, samples)]; more than two channels are folded down to
        stereo first. Stems have the (folded) input's channels and length and sum to it.
    bass_cutoff_hz : bass keeps the harmonic part fully below this, fading out an octave above.
    voice_band_hz : vocals are looked for in this band (raised-cosine edges, half an octave).
    centre_sharpness : exponent on the inter-channel similarity (higher = only the very centre).
    """
    import librosa

    audio = validate_audio(audio, check_sample_rate(sr), name="mix")
    if audio.shape[0] > 2:
        audio = to_channels(audio, 2)
    channels, n = audio.shape
    stereo = to_channels(audio, 2)
    hop = n_fft // 4
    spec = librosa.stft(stereo, n_fft=n_fft, hop_length=hop)  # (2, freq, frames)
    magnitude = np.abs(spec).mean(axis=0)
    harmonic_mask, percussive_mask = librosa.decompose.hpss(
        magnitude, kernel_size=hpss_kernel, margin=hpss_margin, mask=True)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)[:, None]
    low = _raised_cosine(freqs, bass_cutoff_hz, 2 * bass_cutoff_hz)
    lo_v, hi_v = voice_band_hz
    band = (1 - _raised_cosine(freqs, lo_v / np.sqrt(2), lo_v)) * _raised_cosine(freqs, hi_v, hi_v * np.sqrt(2))
    left, right = spec
    similarity = 2 * np.abs(left * np.conj(right)) / (np.abs(left) ** 2 + np.abs(right) ** 2 + 1e-12)
    masks = {"drums": percussive_mask,
             "bass": harmonic_mask * low,
             "vocals": harmonic_mask * (1 - low) * band * similarity ** centre_sharpness}
    stems = {}
    for name, mask in masks.items():
        stem = librosa.istft(spec * mask, hop_length=hop, n_fft=n_fft, length=n).astype(np.float32)
        stems[name] = to_channels(stem, channels)
    stems["other"] = audio - stems["drums"] - stems["bass"] - stems["vocals"]
    return {k: stems[k] for k in STEMS}
