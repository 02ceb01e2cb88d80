"""One short-time power spectrum per stem, reduced on the fly to the bands every feature needs.

:func:`band_spectrogram` runs a single Hann-windowed STFT over a stem (an array or a
:class:`~mixassist.audio.signal.Signal`, read in blocks of frames, so memory stays bounded on long
songs) and keeps only what the measured features reuse:

* power in the 24 critical bands of Zwicker (1961) ("Subdivision of the audible frequency range
  into critical bands", JASA 33(2)) — masking works on these;
* power in the ten ISO 266 octave bands 31.5 Hz .. 16 kHz — spectral balance;
* K-weighted frame power (the ITU-R BS.1770-4 pre-filter applied as a magnitude response) —
  activity detection at frame resolution;
* spectral flatness per frame (Johnston 1988, for the tonality of a masker);
* the most salient f0 and its harmonicity per frame (:mod:`.pitch`);
* the long-term power spectrum — centroid and tilt — and the long-term left, right and cross
  spectra — stereo width, correlation and balance;
* the sample peak — crest factor.

Power is scaled so that, by Parseval, the bins of one frame sum to the mean square of the
(windowed) frame summed over channels: a full-scale sine reads 0.5 per channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy import signal

from ..audio.signal import Signal, as_signal
from ..loudness import k_weighting_sos
from .pitch import PITCH_BAND_HZ, frame_pitch, salience_matrix

#: Critical-band edges (Hz) of Zwicker (1961): 24 bands from 0 Hz to 15.5 kHz.
BARK_EDGES_HZ = np.array([0, 100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720,
                          2000, 2320, 2700, 3150, 3700, 4400, 5300, 6400, 7700, 9500, 12000,
                          15500], dtype=np.float64)
#: Geometric centres of the critical bands (Hz); the first band uses 50 Hz.
BARK_CENTRES_HZ = np.concatenate([[50.0], np.sqrt(BARK_EDGES_HZ[1:-1] * BARK_EDGES_HZ[2:])])
#: ISO 266 nominal octave-band centres (Hz); edges at centre / sqrt(2) and centre * sqrt(2).
OCTAVE_CENTRES_HZ = np.array([31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000],
                             dtype=np.float64)

_FRAME_S = 0.046  # ~2048 samples at 44.1 kHz: 21.5 Hz bins resolve the lowest critical band
_BLOCK_FRAMES = 1024  # frames per STFT block (bounded memory)
_EPS = 1e-20


@dataclass
class BandSpectrogram:
    """Band powers of one stem on a common frame grid (see the module docstring).

    Attributes
    ----------
    times_s : np.ndarray [shape=(frames,)] — frame centres in seconds.
    bark : np.ndarray [shape=(frames, 24)] — power per critical band (mean square, linear).
    octave : np.ndarray [shape=(frames, 10)] — power per octave band.
    k_power : np.ndarray [shape=(frames,)] — K-weighted power of each frame.
    power : np.ndarray [shape=(frames,)] — unweighted power of each frame.
    flatness : np.ndarray [shape=(frames,)] — spectral flatness (0 tonal .. 1 white noise).
    f0_hz : np.ndarray [shape=(frames,)] — most salient f0 (:mod:`.pitch`).
    harmonicity : np.ndarray [shape=(frames,)] — share of the frame's power at f0's harmonics.
    long_term : np.ndarray [shape=(bins,)] — power spectrum summed over frames (and channels).
    channel_power : np.ndarray [shape=(3, bins)] — summed over frames: left power, right power
        and the real cross-spectrum Re(L R*) (stereo image); mono input counts as L = R.
    freqs_hz : np.ndarray [shape=(bins,)] — bin frequencies.
    hop_s : float — frame hop in seconds.
    peak : float — largest absolute sample over all channels (linear).
    channels : int — channels of the input.
    """

    times_s: np.ndarray
    bark: np.ndarray
    octave: np.ndarray
    k_power: np.ndarray
    power: np.ndarray
    flatness: np.ndarray
    f0_hz: np.ndarray
    harmonicity: np.ndarray
    long_term: np.ndarray
    channel_power: np.ndarray
    freqs_hz: np.ndarray
    hop_s: float
    peak: float
    channels: int


def frame_size(sr: int) -> int:
    """STFT size in samples for ``sr`` Hz: the power of two nearest to 46 ms."""
    return int(2 ** round(np.log2(_FRAME_S * sr)))


def band_matrix(freqs_hz: np.ndarray, edges_hz: np.ndarray) -> np.ndarray:
    """0/1 matrix [shape=(bins, bands)] that sums bins ``edges[i] <= f < edges[i+1]`` per band."""
    idx = np.searchsorted(edges_hz, freqs_hz, side="right") - 1
    out = np.zeros((freqs_hz.size, edges_hz.size - 1), dtype=np.float32)
    ok = (idx >= 0) & (idx < edges_hz.size - 1)
    out[np.nonzero(ok)[0], idx[ok]] = 1.0
    return out


def k_weighting_response(freqs_hz: np.ndarray, sr: int) -> np.ndarray:
    """Power response |H(f)|^2 of the BS.1770-4 K-weighting filter at ``sr`` Hz."""
    _, h = signal.sosfreqz(k_weighting_sos(sr), worN=np.asarray(freqs_hz, np.float64), fs=sr)
    return (np.abs(h) ** 2).astype(np.float32)


def band_spectrogram(audio: np.ndarray | Signal, sr: int) -> BandSpectrogram:
    """Run one STFT over ``audio`` and reduce it to band powers.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, samples)] float32, or a
        :class:`~mixassist.audio.signal.Signal` at ``sr`` (read block by block).
    sr : int — sample rate in Hz.

    Frames are centred on multiples of the hop (half a frame), the signal zero-padded at both
    ends, so ``times_s[i] = i * hop_s``. Each block of :data:`_BLOCK_FRAMES` frames is one read
    of its span with half a frame of context either side (zeros outside the signal).
    """
    source = as_signal(audio, sr)
    n_fft = frame_size(sr)
    hop = n_fft // 2
    channels, samples = source.channels, source.samples
    n_frames = 1 + samples // hop
    window = signal.get_window("hann", n_fft).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    # One-sided Parseval weights: bins sum to the mean square of the windowed frame.
    scale = np.full(freqs.size, 2.0, dtype=np.float32)
    scale[0] = scale[-1] = 1.0
    scale /= n_fft * float(np.sum(window ** 2))
    bark_m = band_matrix(freqs, BARK_EDGES_HZ)
    octave_m = band_matrix(freqs, np.concatenate([OCTAVE_CENTRES_HZ / np.sqrt(2),
                                                  [OCTAVE_CENTRES_HZ[-1] * np.sqrt(2)]]))
    # One matrix product per block gives every band: [bark | octave | K-weighted | total].
    reduce = np.hstack([bark_m, octave_m, k_weighting_response(freqs, sr)[:, None],
                        np.ones((freqs.size, 1), np.float32)])
    n_bark, n_oct = bark_m.shape[1], octave_m.shape[1]
    audible = (freqs >= 20.0) & (freqs <= min(20_000.0, sr / 2))
    n_pitch = int(np.searchsorted(freqs, PITCH_BAND_HZ[1], side="right")) + 1
    salience = salience_matrix(freqs[:n_pitch])
    fundamental = salience_matrix(freqs[:n_pitch], harmonics=1)

    bands = np.empty((n_frames, reduce.shape[1]), np.float32)
    flatness = np.empty(n_frames, np.float32)
    f0 = np.empty(n_frames, np.float32)
    harmonicity = np.empty(n_frames, np.float32)
    channel_power = np.zeros((3, freqs.size), np.float64)  # |L|^2, |R|^2, Re(L R*)
    peak = 0.0
    for start in range(0, n_frames, _BLOCK_FRAMES):
        stop = min(start + _BLOCK_FRAMES, n_frames)
        block = source.read(start * hop - n_fft // 2, (stop - 1) * hop + n_fft // 2)
        peak = max(peak, float(block.max()), -float(block.min()))
        frames = np.lib.stride_tricks.sliding_window_view(block, n_fft, axis=1)[:, ::hop]
        spec = scipy.fft.rfft(frames * window, axis=-1)
        per_channel = spec.real ** 2 + spec.imag ** 2
        p = per_channel.sum(axis=0) * scale
        bands[start:stop] = p @ reduce
        pa = p[:, audible] + _EPS
        flatness[start:stop] = np.exp(np.log(pa).mean(axis=1)) / pa.mean(axis=1)
        f0[start:stop], harmonicity[start:stop] = frame_pitch(
            p[:, :n_pitch], freqs[:n_pitch], salience, fundamental)
        if channels >= 2:
            left, right = spec[0], spec[1]
            channel_power[0] += per_channel[0].sum(axis=0) * scale
            channel_power[1] += per_channel[1].sum(axis=0) * scale
            channel_power[2] += (left.real * right.real + left.imag * right.imag).sum(axis=0) \
                * scale
        else:
            channel_power += per_channel[0].sum(axis=0) * scale
    return BandSpectrogram(
        times_s=np.arange(n_frames) * hop / sr, bark=bands[:, :n_bark],
        octave=bands[:, n_bark:n_bark + n_oct], k_power=bands[:, -2], power=bands[:, -1],
        flatness=flatness, f0_hz=f0, harmonicity=harmonicity,
        long_term=channel_power[0] + channel_power[1] if channels >= 2 else channel_power[0],
        channel_power=channel_power, freqs_hz=freqs, hop_s=hop / sr, peak=peak,
        channels=channels)
