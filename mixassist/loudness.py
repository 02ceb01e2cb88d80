"""Loudness and peak measurement: ITU-R BS.1770-4, EBU Tech 3341 and EBU Tech 3342.

All functions take float32 audio ``np.ndarray [shape=(channels, samples)]`` (1-D is mono) and
the sample rate in Hz (8-192 kHz). Loudness is in LUFS, loudness range in LU, peaks in dBFS /
dBTP. Silence measures ``-inf`` (loudness, peaks) or ``0.0`` (loudness range); nothing raises
on it.

How it works (one pass, memory bounded): a compiled kernel (numba) K-weights the audio,
accumulates the channel-weighted squared signal, and keeps the running energy only at the block
boundaries. Every block power (400 ms momentary, 3 s short-term) is then a difference of two
cumulative sums, so there is no Python loop over blocks.

Conventions where the standards leave room:

- Blocks are full windows that start every ``hop_s`` (100 ms: the 75 % overlap of BS.1770-4
  for 400 ms blocks, and the 10 Hz rate EBU Tech 3342 asks of short-term loudness); the
  times returned for a loudness curve are the ends of the windows. A clip shorter than a
  window is measured as one block spanning the whole clip (so a 200 ms one-shot still has a
  finite, ungated-length loudness; the standards define nothing for it).
- Channel weights (BS.1770-4 Table 3: 1.41 for channels at 60-120 degrees azimuth, 0 for
  LFE) by channel count, in WAVE order: 1 mono, 2 L R, 3 L R C, 4 L R Ls Rs, 5 L R C Ls Rs,
  6 L R C LFE Ls Rs (5.1), 7 L R C LFE Cs Ls Rs (6.1), 8 L R C LFE Lb Rb Ls Rs (7.1; the
  back pair at 135-150 degrees weighs 1.0, the side pair 1.41).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from threadpoolctl import ThreadpoolController

from .audio.convert import MAX_CHANNELS, as_audio, check_sample_rate
from .audio.signal import BLOCK, ArraySignal, Signal
from .errors import AudioContentError, ParameterError

#: BS.1770-4 eq. 2: loudness = -0.691 + 10 log10(sum_i G_i z_i); -0.691 dB cancels the K-filter's
#: gain at 1 kHz, so a stereo 1 kHz sine at -23 dBFS (peak, each channel) reads -23.0 LUFS.
LOUDNESS_OFFSET_DB = -0.691
ABSOLUTE_GATE_LUFS = -70.0          # BS.1770-4 eq. 5 and EBU Tech 3342
RELATIVE_GATE_LU = -10.0            # BS.1770-4 eq. 6
LRA_RELATIVE_GATE_LU = -20.0        # EBU Tech 3342
LRA_PERCENTILES = (10.0, 95.0)      # EBU Tech 3342
MOMENTARY_WINDOW_S = 0.4            # BS.1770-4 gating block, EBU Tech 3341 "M"
SHORT_TERM_WINDOW_S = 3.0           # EBU Tech 3341 "S"
BLOCK_HOP_S = 0.1                   # 75 % overlap of 400 ms blocks; 10 Hz short-term rate

SURROUND_WEIGHT = 1.41
CHANNEL_WEIGHTS = {
    1: (1.0,),
    2: (1.0, 1.0),
    3: (1.0, 1.0, 1.0),
    4: (1.0, 1.0, SURROUND_WEIGHT, SURROUND_WEIGHT),
    5: (1.0, 1.0, 1.0, SURROUND_WEIGHT, SURROUND_WEIGHT),
    6: (1.0, 1.0, 1.0, 0.0, SURROUND_WEIGHT, SURROUND_WEIGHT),
    7: (1.0, 1.0, 1.0, 0.0, 1.0, SURROUND_WEIGHT, SURROUND_WEIGHT),
    8: (1.0, 1.0, 1.0, 0.0, 1.0, 1.0, SURROUND_WEIGHT, SURROUND_WEIGHT),
}



# --- K-weighting (BS.1770-4 Annex 1, Tables 1 and 2) --------------------------------------------
#
# BS.1770-4 gives the two biquads only at 48 kHz. Their analog prototypes (Brecht De Man's fit,
# used by libebur128 and pyloudnorm's "DeMan" filter) are
#   stage 1, high shelf:  H(s) = (Vh s^2 + Vb (w0/Q) s + w0^2) / (s^2 + (w0/Q) s + w0^2)
#                         f0 = 1681.97 Hz, Q = 0.70718, Vh = 10^(3.99984/20), Vb = Vh^0.49967
#   stage 2, high pass:   H(s) = s^2 / (s^2 + (w0/Q) s + w0^2),  f0 = 38.135 Hz, Q = 0.50033
# and the bilinear transform s = (1/K) (1 - z^-1) / (1 + z^-1), prewarped with K = tan(pi f0/fs),
# gives back Table 1 and Table 2 at 48 kHz to the printed digits (libebur128's derivation).
_SHELF_F0_HZ = 1681.974450955533
_SHELF_Q = 0.7071752369554196
_SHELF_GAIN_DB = 3.999843853973347
_SHELF_VB_EXPONENT = 0.4996667741545416
_HIGHPASS_F0_HZ = 38.13547087602444
_HIGHPASS_Q = 0.5003270373238773
_REFERENCE_SR = 48_000
#: Below this rate the bilinear transform squeezes the +4 dB shelf towards Nyquist (a 1 kHz sine
#: reads 0.21 dB low at 8 kHz, 0.03 dB at 22.05 kHz), so the shelf is magnitude-matched instead.
_BILINEAR_MIN_SR = 44_100


def _shelf_analog(frequency_hz: np.ndarray) -> np.ndarray:
    """Complex response of the analog stage-1 prototype at ``frequency_hz``."""
    s = 2j * np.pi * frequency_hz
    w0 = 2 * np.pi * _SHELF_F0_HZ
    vh = 10 ** (_SHELF_GAIN_DB / 20)
    vb = vh ** _SHELF_VB_EXPONENT
    return (vh * s * s + vb * w0 / _SHELF_Q * s + w0 * w0) / (s * s + w0 / _SHELF_Q * s + w0 * w0)


def _shelf_bilinear(sr: int) -> np.ndarray:
    """Stage-1 biquad ``[b0 b1 b2 a0 a1 a2]`` by the prewarped bilinear transform."""
    k = math.tan(math.pi * _SHELF_F0_HZ / sr)
    vh = 10 ** (_SHELF_GAIN_DB / 20)
    vb = vh ** _SHELF_VB_EXPONENT
    a0 = 1 + k / _SHELF_Q + k * k
    return np.array([(vh + vb * k / _SHELF_Q + k * k) / a0, 2 * (k * k - vh) / a0,
                     (vh - vb * k / _SHELF_Q + k * k) / a0,
                     1.0, 2 * (k * k - 1) / a0, (1 - k / _SHELF_Q + k * k) / a0])


def _shelf_matched(sr: int) -> np.ndarray:
    """Stage-1 biquad for low rates: matched-z poles, numerator fitted to the analog magnitude.

    Poles ``exp(p_analog / sr)`` keep the prototype's resonance; the numerator's autocorrelation
    ``r0 + 2 r1 cos w + 2 r2 cos 2w`` is least-squares fitted to ``|H_analog|^2 |A|^2`` (relative
    error, 10 Hz to 0.49 fs) and spectrally factored into its minimum-phase biquad (the
    magnitude-matching idea of M. Vicanek, "Matched Second Order Digital Filters", 2016).
    Deviation from the analog shelf: 0.014 dB at 8 kHz, under 0.001 dB from 22.05 kHz.
    """
    w0 = 2 * np.pi * _SHELF_F0_HZ
    a = np.real(np.poly(np.exp(np.roots([1.0, w0 / _SHELF_Q, w0 * w0]) / sr)))
    frequency_hz = np.linspace(10.0, 0.49 * sr, 2000)
    w = 2 * np.pi * frequency_hz / sr
    denominator = np.abs(a[0] + a[1] * np.exp(-1j * w) + a[2] * np.exp(-2j * w)) ** 2
    target = np.abs(_shelf_analog(frequency_hz)) ** 2 * denominator
    basis = np.stack([np.ones_like(w), 2 * np.cos(w), 2 * np.cos(2 * w)], axis=1)
    r = np.linalg.lstsq(basis / target[:, None], np.ones_like(w), rcond=None)[0]
    roots = np.roots([r[2], r[1], r[0], r[1], r[2]])
    b = np.real(np.poly(roots[np.abs(roots) < 1]))
    b *= math.sqrt(r[0] / float(np.sum(b * b)))
    return np.concatenate([b, a])


def _highpass_bilinear(sr: int) -> np.ndarray:
    """Stage-2 biquad ``[b0 b1 b2 a0 a1 a2]`` by the prewarped bilinear transform.

    Table 2 keeps the numerator at ``[1, -2, 1]``, i.e. a passband gain of ``a0`` (+0.043 dB at
    48 kHz) that would change with the rate; the gain is held at its 48 kHz value instead, so
    the response is the standard's at every rate (libebur128 lets it drift: +0.26 dB at 8 kHz).
    """
    def a0_at(rate: int) -> float:
        k = math.tan(math.pi * _HIGHPASS_F0_HZ / rate)
        return 1 + k / _HIGHPASS_Q + k * k

    k = math.tan(math.pi * _HIGHPASS_F0_HZ / sr)
    a0 = a0_at(sr)
    gain = a0_at(_REFERENCE_SR) / a0
    return np.array([gain, -2 * gain, gain,
                     1.0, 2 * (k * k - 1) / a0, (1 - k / _HIGHPASS_Q + k * k) / a0])


def k_weighting_sos(sr: int) -> np.ndarray:
    """K-weighting filter (BS.1770-4 Annex 1) at ``sr`` Hz as ``np.ndarray [shape=(2, 6)]``.

    Second-order sections for :func:`scipy.signal.sosfilt`; at 48 kHz they are Tables 1 and 2.
    """
    sr = check_sample_rate(sr)
    shelf = _shelf_bilinear(sr) if sr >= _BILINEAR_MIN_SR else _shelf_matched(sr)
    return np.stack([shelf, _highpass_bilinear(sr)])


# --- block energies -----------------------------------------------------------------------------

def _prepare(audio, sr: int):
    """``audio`` (an array, or a :class:`~mixassist.audio.signal.Signal` at ``sr``) as a signal
    with at least one sample and at most :data:`MAX_CHANNELS` channels."""
    signal = audio if isinstance(audio, Signal) else ArraySignal(as_audio(audio), check_sample_rate(sr))
    if signal.sr != check_sample_rate(sr):
        raise ParameterError(f"the signal is at {signal.sr} Hz, not {sr} Hz")
    if signal.channels == 0 or signal.samples == 0:
        raise AudioContentError("cannot measure loudness: the audio contains no samples")
    if signal.channels > MAX_CHANNELS:
        raise AudioContentError(f"cannot measure loudness of {signal.channels} channels; "
                                f"at most {MAX_CHANNELS} are supported")
    return signal, signal.sr


_KERNEL_BLOCK = 4096                # samples per pass of the energy kernel (fits in L1/L2)


def _kweighted_energy_loop(audio, sos, weights, positions, state):
    """The K-weighting pass of :class:`LoudnessMeter`, compiled by numba: the channel-weighted
    K-weighted energy summed up to each of ``positions`` (sorted sample indices into ``audio``);
    ``state`` (channels, 4), the two biquads' state, is updated so the next block continues.

    Two channels run through the two biquads (transposed direct form II, float64) in the same
    loop, so their independent recursions overlap in the CPU pipeline.
    """
    channels, samples = audio.shape
    b10, b11, b12, a11, a12 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    b20, b21, b22, a21, a22 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    energy = np.zeros(positions.shape[0])
    power = np.empty(_KERNEL_BLOCK)
    total = 0.0
    k = 0
    while k < positions.shape[0] and positions[k] == 0:
        k += 1
    for start in range(0, samples, _KERNEL_BLOCK):
        stop = min(start + _KERNEL_BLOCK, samples)
        power[:] = 0.0
        for first in range(0, channels, 2):
            second = min(first + 1, channels - 1)
            w1 = weights[first]
            w2 = weights[second] if second != first else 0.0
            p0, p1, p2, p3 = state[first, 0], state[first, 1], state[first, 2], state[first, 3]
            q0, q1, q2, q3 = state[second, 0], state[second, 1], state[second, 2], state[second, 3]
            for i in range(start, stop):
                x = np.float64(audio[first, i])
                u = b10 * x + p0
                p0 = b11 * x - a11 * u + p1
                p1 = b12 * x - a12 * u
                y = b20 * u + p2
                p2 = b21 * u - a21 * y + p3
                p3 = b22 * u - a22 * y
                x = np.float64(audio[second, i])
                v = b10 * x + q0
                q0 = b11 * x - a11 * v + q1
                q1 = b12 * x - a12 * v
                z = b20 * v + q2
                q2 = b21 * v - a21 * z + q3
                q3 = b22 * v - a22 * z
                power[i - start] += w1 * y * y + w2 * z * z
            state[first, 0], state[first, 1], state[first, 2], state[first, 3] = p0, p1, p2, p3
            if second != first:
                state[second, 0], state[second, 1] = q0, q1
                state[second, 2], state[second, 3] = q2, q3
        for i in range(start, stop):
            total += power[i - start]
            while k < positions.shape[0] and positions[k] == i + 1:
                energy[k] = total
                k += 1
    return energy


@functools.cache
def _energy_kernel():
    """:func:`_kweighted_energy_loop` compiled (numba, cached on disk); imported on first use so
    ``import mixassist.loudness`` stays light."""
    import numba

    return numba.njit(nogil=True, cache=True)(_kweighted_energy_loop)


def _windows(samples: int, sr: int, window_s: float, hop_s: float) -> tuple[np.ndarray, int]:
    """Start samples of the full windows of ``window_s`` every ``hop_s``, and the window length.

    A clip shorter than one window gives one window covering all of it.
    """
    if not (math.isfinite(hop_s) and hop_s > 0):
        raise ParameterError(f"hop_s must be a positive number of seconds, got {hop_s!r}")
    length = int(round(window_s * sr))
    if samples <= length:
        return np.zeros(1, dtype=np.int64), samples
    count = int((samples - length) / (hop_s * sr)) + 2
    starts = np.rint(np.arange(count) * (hop_s * sr)).astype(np.int64)
    return starts[starts + length <= samples], length


def _lufs(power: np.ndarray | float) -> np.ndarray:
    """BS.1770-4 eq. 2: LUFS from channel-weighted mean-square power (0 -> -inf)."""
    with np.errstate(divide="ignore"):
        return LOUDNESS_OFFSET_DB + 10 * np.log10(power)


def _gated_integrated(block_power: np.ndarray) -> float:
    """BS.1770-4 eq. 5-7: two-stage gated mean of 400 ms block powers, in LUFS."""
    loudness = _lufs(block_power)
    gated = block_power[loudness > ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return float("-inf")
    relative_gate = float(_lufs(gated.mean())) + RELATIVE_GATE_LU
    gated = block_power[(loudness > ABSOLUTE_GATE_LUFS) & (loudness > relative_gate)]
    return float(_lufs(gated.mean()))


def _loudness_range(short_term_power: np.ndarray) -> float:
    """EBU Tech 3342: spread (10th to 95th percentile, LU) of gated short-term loudness."""
    loudness = _lufs(short_term_power)
    loudness = loudness[loudness > ABSOLUTE_GATE_LUFS]
    if loudness.size == 0:
        return 0.0
    relative_gate = float(_lufs(np.mean(10 ** ((loudness - LOUDNESS_OFFSET_DB) / 10)))) \
        + LRA_RELATIVE_GATE_LU
    loudness = loudness[loudness > relative_gate]
    low, high = np.percentile(loudness, LRA_PERCENTILES)
    return float(high - low)


# --- public API ---------------------------------------------------------------------------------

def integrated_loudness(audio, sr: int) -> float:
    """Integrated loudness (LUFS), ITU-R BS.1770-4: 400 ms blocks, 75 % overlap, gated.

    Absolute gate -70 LUFS, relative gate -10 LU. ``-inf`` when no block passes the gates
    (silence). ``audio``: an array or a :class:`~mixassist.audio.signal.Signal` (read in blocks).
    """
    meter = LoudnessMeter.of(audio, sr, specs=[(MOMENTARY_WINDOW_S, BLOCK_HOP_S)],
                             peaks=False)
    return _gated_integrated(meter.window_powers()[0][1])


def loudness_range(audio, sr: int) -> float:
    """Loudness range (LU), EBU Tech 3342: 3 s short-term loudness every 100 ms, gated at
    -70 LUFS and 20 LU below their power mean, 95th minus 10th percentile. ``0.0`` for silence."""
    meter = LoudnessMeter.of(audio, sr, specs=[(SHORT_TERM_WINDOW_S, BLOCK_HOP_S)],
                             peaks=False)
    return _loudness_range(meter.window_powers()[0][1])


def _loudness_curve(audio, sr: int, window_s: float, hop_s: float) -> tuple[np.ndarray, np.ndarray]:
    meter = LoudnessMeter.of(audio, sr, specs=[(window_s, hop_s)], peaks=False)
    [(ends, power)] = meter.window_powers()
    return ends / meter.sr, _lufs(power)


def momentary_loudness(audio, sr: int, *,
                       hop_s: float = BLOCK_HOP_S) -> tuple[np.ndarray, np.ndarray]:
    """Momentary loudness (EBU Tech 3341 "M": 400 ms window) every ``hop_s`` seconds.

    Returns ``(times_s, lufs)``, both ``np.ndarray [shape=(blocks,)]``; ``times_s`` are the
    window ends (the first is 0.4 s). Silent windows read ``-inf``.
    """
    return _loudness_curve(audio, sr, MOMENTARY_WINDOW_S, hop_s)


def short_term_loudness(audio, sr: int, *,
                        hop_s: float = BLOCK_HOP_S) -> tuple[np.ndarray, np.ndarray]:
    """Short-term loudness (EBU Tech 3341 "S": 3 s window) every ``hop_s`` seconds.

    Returns ``(times_s, lufs)`` like :func:`momentary_loudness`; the first time is 3 s.
    """
    return _loudness_curve(audio, sr, SHORT_TERM_WINDOW_S, hop_s)


def loudness_profile(audio, sr: int, *, hop_s: float = BLOCK_HOP_S) -> dict:
    """Integrated loudness (LUFS), loudness range (LU) and the short-term curve (LUFS every
    ``hop_s`` s, ``np.ndarray``) of one signal from one K-weighting pass: what
    :func:`integrated_loudness`, :func:`loudness_range` and :func:`short_term_loudness` give."""
    meter = LoudnessMeter.of(audio, sr, peaks=False, specs=[
        (MOMENTARY_WINDOW_S, BLOCK_HOP_S), (SHORT_TERM_WINDOW_S, BLOCK_HOP_S),
        (SHORT_TERM_WINDOW_S, hop_s)])
    (_, momentary), (_, short_term), (_, curve) = meter.window_powers()
    return {"integrated_lufs": _gated_integrated(momentary),
            "lra_lu": _loudness_range(short_term), "short_term_lufs": _lufs(curve)}


def _to_db(amplitude: float) -> float:
    return 20 * math.log10(amplitude) if amplitude > 0 else float("-inf")


def _sample_peak(audio: np.ndarray) -> float:
    """Largest absolute sample (linear); raises on NaN or infinite samples."""
    peak = max(float(audio.max()), -float(audio.min()))     # no |audio| temporary
    if not math.isfinite(peak):
        raise AudioContentError("cannot measure peaks: the audio contains NaN or infinite samples")
    return peak


def sample_peak_dbfs(audio, sr: int) -> float:
    """Largest absolute sample value over all channels, in dBFS (``-inf`` for silence)."""
    signal, _ = _prepare(audio, sr)
    return _to_db(max((_sample_peak(block) for _, block in _blocks(signal)), default=0.0))


# --- true peak (BS.1770-4 Annex 2) --------------------------------------------------------------
#
# Annex 2: interpolate by 4 with a polyphase FIR, take the largest absolute value. Here the FIR is a
# 129-tap Kaiser-windowed sinc (32 taps per phase, beta 5: flat within 0.02 dB to 0.45 fs, images
# from 0.55 fs down by 53 dB; Annex 2's own example has 12 taps per phase), and each oversampled
# local maximum near the top is refined by a parabola through it and its two neighbours. Plain 4x
# under-reads a sine at 0.45 fs by up to 0.55 dB (the peak can fall midway between two points);
# with the refinement, faded sines from 0.005 to 0.45 fs at 8-96 kHz read within -0.012/+0.037 dB
# of their amplitude (measured), so 4x serves every rate.
# The FIR runs as a matrix product over frames of input (a Toeplitz matrix maps FRAME + TAPS + 1
# input samples to FRAME * 4 + 2 outputs), and frames that cannot beat the running peak -- their
# largest input times the filter's largest phase gain sum(|h_p|) -- are skipped.

TRUE_PEAK_OVERSAMPLING = 4
_TAPS_PER_PHASE = 32
_KAISER_BETA = 5.0
_FRAME = 32                       # input samples per frame
_FRAMES_PER_PASS = 4096           # frames per matrix product (~1 MB of input)
#: Lower bound of (oversampled peak / true peak) for content below fs/2: cos(pi / (2 * 4)).
_WORST_GRID_RATIO = math.cos(math.pi / (2 * TRUE_PEAK_OVERSAMPLING))


@functools.lru_cache(maxsize=1)
def _interpolation_matrix() -> tuple[np.ndarray, float]:
    """Toeplitz matrix ``[shape=(FRAME + TAPS + 1, FRAME * L + 2)]`` and its phase-gain bound.

    Column ``q`` is output ``q - 1`` of a frame (one extra output on each side for the parabola);
    row ``j`` is input sample ``j - TAPS / 2`` relative to the frame start.
    """
    import scipy.signal

    factor, taps = TRUE_PEAK_OVERSAMPLING, _TAPS_PER_PHASE
    h = factor * scipy.signal.firwin(factor * taps + 1, 1.0 / factor,
                                     window=("kaiser", _KAISER_BETA))
    rows = np.arange(_FRAME + taps + 1)[:, None]
    columns = np.arange(-1, _FRAME * factor + 1)[None, :]
    index = columns - rows * factor + taps * factor
    valid = (index >= 0) & (index < len(h))
    matrix = np.zeros(index.shape, dtype=np.float32)
    matrix[valid] = h[index[valid]]
    bound = max(float(np.abs(h[phase::factor]).sum()) for phase in range(factor))
    return matrix, bound


@functools.cache
def _threadpools() -> ThreadpoolController:
    """The process' thread pools, found once (finding them reads every loaded library)."""
    return ThreadpoolController()


def _true_peak_pass(channel: np.ndarray, frames: int, best: float) -> float:
    """The largest 4x-interpolated magnitude of one pass of ``frames`` frames (``best`` if none
    beats it); ``channel`` holds the pass' input from :data:`_TAPS_PER_PHASE` / 2 samples
    before its start to ``frames * FRAME + 2 * FRAME + TAPS_PER_PHASE`` samples on (zeros
    beyond the signal). Frames that cannot beat ``best`` are skipped."""
    matrix, bound = _interpolation_matrix()
    span = _FRAME + _TAPS_PER_PHASE + 1
    block_max = np.abs(channel).reshape(-1, _FRAME).max(axis=1)
    frame_max = np.maximum(np.maximum(block_max[:-2], block_max[1:-1]), block_max[2:])
    selected = np.flatnonzero(frame_max[:frames] * bound > best)
    if selected.size == 0:
        return best
    view = np.lib.stride_tricks.as_strided(
        channel, (frames, span), (_FRAME * channel.itemsize, channel.itemsize))
    with _threadpools().limit(limits=1, user_api="blas"):  # small products: threads only stall
        magnitude = np.abs(view[selected] @ matrix)
    best = max(best, float(magnitude[:, 1:-1].max()))
    return max(best, _refine_peaks(magnitude, best * _WORST_GRID_RATIO))


def _refine_peaks(magnitude: np.ndarray, threshold: float) -> float:
    """Largest parabola vertex through local maxima of ``magnitude`` rows above ``threshold``.

    ``magnitude [shape=(frames, outputs + 2)]``: the first and last columns are neighbours only.
    """
    left, centre, right = magnitude[:, :-2], magnitude[:, 1:-1], magnitude[:, 2:]
    rows, columns = np.nonzero((centre >= threshold) & (centre >= left) & (centre >= right))
    if rows.size == 0:
        return 0.0
    a, b, c = (m[rows, columns].astype(np.float64) for m in (left, centre, right))
    curvature = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(curvature < 0, b - (c - a) ** 2 / (8 * curvature), b)
    return float(vertex.max())


def true_peak_dbtp(audio, sr: int) -> float:
    """True peak (dBTP), ITU-R BS.1770-4 Annex 2: 4x polyphase FIR oversampling.

    The oversampled maxima are refined by parabolic interpolation (see the comment above), work
    goes frame by frame so memory does not grow with the duration, and the result is never
    below the sample peak. ``-inf`` for silence.
    """
    return _to_db(LoudnessMeter.of(audio, sr, specs=[]).true_peak_amplitude())


# --- everything at once -------------------------------------------------------------------------

def _blocks(signal: Signal):
    """An array signal in one block (the whole array, no copy), a file or a mix in blocks."""
    if isinstance(signal, ArraySignal):
        return iter([(0, signal.audio)])
    return signal.blocks(BLOCK)


class LoudnessMeter:
    """Every loudness figure of a signal of known length, fed block by block (:meth:`add`).

    One K-weighting pass (the compiled kernel, its filter state carried from block to block)
    keeps the running energy at the window boundaries of every ``(window_s, hop_s)`` in
    ``specs``; with ``peaks``, the sample peak, the true peak (4x, passes of frames with their
    context kept across blocks), the mean square and the L/R correlation come along. Memory:
    the boundaries and a block, whatever the duration. Fed the whole audio as one block it does
    exactly what the array functions always did; fed in blocks it gives the same figures up to
    float64 rounding of the running sums.
    """

    def __init__(self, sr: int, channels: int, samples: int, *,
                 specs=((MOMENTARY_WINDOW_S, BLOCK_HOP_S), (SHORT_TERM_WINDOW_S, BLOCK_HOP_S)),
                 peaks: bool = True):
        self.sr, self.channels, self.samples = sr, channels, samples
        self.layouts = [_windows(samples, sr, window_s, hop_s) for window_s, hop_s in specs]
        self.positions = np.unique(np.concatenate(
            [[samples]] + [np.concatenate([s, s + n]) for s, n in self.layouts])).astype(np.int64)
        self.energy = np.zeros(self.positions.size)
        self._next, self._total, self.done = 0, 0.0, 0
        self._state = np.zeros((channels, 4))
        self._weights = np.array(CHANNEL_WEIGHTS[channels], dtype=np.float64)
        self.peaks = peaks
        self.peak = 0.0
        self._sums, self._squares, self._cross = np.zeros(channels), np.zeros(channels), 0.0
        self._equal = True  # the channels equal so far (correlation of two constant channels)
        self._best = 0.0  # true peak so far
        self._pending = np.zeros((channels, 0), np.float32)  # true-peak context
        self._pending_start = -(_TAPS_PER_PHASE // 2)  # absolute sample of _pending[:, 0]
        self._pass_start = 0

    @classmethod
    def of(cls, audio, sr: int, **options) -> LoudnessMeter:
        """A meter fed the whole of ``audio`` (an array, or a signal read in blocks)."""
        signal, sr = _prepare(audio, sr)
        meter = cls(sr, signal.channels, signal.samples, **options)
        for _, block in _blocks(signal):
            meter.add(block)
        return meter.finish()

    def add(self, block: np.ndarray) -> None:
        """Feed the next ``(channels, n)`` block (the blocks add up to ``samples``)."""
        block = np.ascontiguousarray(block, dtype=np.float32)
        n = block.shape[1]
        if n == 0:
            return
        if self.done + n > self.samples:
            raise ValueError(f"fed {self.done + n} samples to a meter of {self.samples}")
        end = self.done + n
        if not self.layouts:  # peaks only: no K-weighting
            self.done = end
            self._moments(block)
            self._true_peak(block)
            return
        stop = int(np.searchsorted(self.positions, end, side="right"))
        relative = np.append(self.positions[self._next:stop] - self.done, n)
        energy = _energy_kernel()(block, k_weighting_sos(self.sr), self._weights, relative,
                                  self._state)
        if not math.isfinite(float(energy[-1])):
            raise AudioContentError("cannot measure loudness: the audio contains NaN or "
                                    "infinite samples")
        self.energy[self._next:stop] = self._total + energy[:-1]
        self._total += float(energy[-1])
        self._next, self.done = stop, end
        if self.peaks:
            self._moments(block)
            self._true_peak(block)

    def _moments(self, block: np.ndarray) -> None:
        self.peak = max(self.peak, _sample_peak(block))
        for first in range(0, block.shape[1], _MOMENT_CHUNK):
            part = block[:, first:first + _MOMENT_CHUNK].astype(np.float64)
            self._sums += part.sum(axis=1)
            self._squares += np.einsum("ij,ij->i", part, part)
            if self.channels >= 2:
                self._cross += float(np.einsum("i,i->", part[0], part[1]))
                if self._equal:
                    self._equal = bool(np.array_equal(part[0], part[1]))

    def _true_peak(self, block: np.ndarray | None) -> None:
        """Run every true-peak pass whose input (with its context) has arrived; ``None``: the
        signal has ended, run the rest."""
        if block is not None and not self._pending.size:
            self._pending, self._pending_start = block, self.done - block.shape[1]
        elif block is not None:
            self._pending = np.concatenate([self._pending, block], axis=1)
        self._best = max(self._best, self.peak)
        pass_samples = _FRAME * _FRAMES_PER_PASS
        context = _TAPS_PER_PHASE // 2
        while self._pass_start < self.samples:
            frames = -(-min(pass_samples, self.samples - self._pass_start) // _FRAME)
            lo = self._pass_start - context
            length = frames * _FRAME + 2 * _FRAME + _TAPS_PER_PHASE
            available = self._pending_start + self._pending.shape[1]
            if available < min(lo + length, self.samples) and block is not None:
                break
            offset = lo - self._pending_start
            for channel in self._pending:
                padded = np.zeros(length, np.float32)
                src = channel[max(offset, 0):offset + length]
                padded[max(-offset, 0):max(-offset, 0) + src.size] = src
                self._best = _true_peak_pass(padded, frames, self._best)
            self._pass_start += pass_samples
            keep = max(self._pass_start - context - self._pending_start, 0)
            self._pending = self._pending[:, keep:]
            self._pending_start += keep
        if self._pending.base is not None:  # keep no view of the caller's (reusable) buffer
            self._pending = self._pending.copy()

    def finish(self) -> LoudnessMeter:
        """Say the signal has ended (after the last :meth:`add`); returns the meter."""
        if self.done != self.samples:
            raise ValueError(f"the meter got {self.done} of {self.samples} samples")
        if self.peaks:
            self._true_peak(None)
            self._pending = self._pending[:, :0]
        return self

    def window_powers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each spec: window end samples and window mean-square powers ``z`` (the
        channel-weighted mean square of the K-weighted signal, BS.1770-4 eq. 1-2)."""
        out = []
        for starts, length in self.layouts:
            first = self.energy[np.searchsorted(self.positions, starts)]
            last = self.energy[np.searchsorted(self.positions, starts + length)]
            out.append((starts + length, np.maximum(last - first, 0.0) / length))
        return out

    def integrated_lufs(self) -> float:
        """Integrated loudness (LUFS, BS.1770-4 gating) from the first spec's windows (the
        400 ms blocks every 100 ms of the default specs)."""
        return _gated_integrated(self.window_powers()[0][1])

    def true_peak_amplitude(self) -> float:
        """Largest absolute value of the 4x-interpolated signal (linear), never below the
        sample peak."""
        return max(self._best, self.peak)

    def mean_square_and_correlation(self) -> tuple[float, float]:
        """Mean square over all channels, and the Pearson correlation of channels 0 and 1
        (1.0 for mono; for two constant channels 1.0 when they are equal, else 0.0)."""
        n = self.samples
        mean_square = float(self._squares.sum()) / (n * self.channels)
        if self.channels < 2:
            return mean_square, 1.0
        var_left = n * self._squares[0] - self._sums[0] ** 2
        var_right = n * self._squares[1] - self._sums[1] ** 2
        if var_left <= 0.0 or var_right <= 0.0:
            correlation = 1.0 if self._equal else 0.0
        else:
            correlation = (n * self._cross - self._sums[0] * self._sums[1]) \
                / math.sqrt(var_left * var_right)
        return mean_square, float(min(max(correlation, -1.0), 1.0))


_MOMENT_CHUNK = 1 << 16


def measure_loudness(audio, sr: int) -> dict:
    """Every loudness figure of one signal, from one K-weighting pass.

    Returns a dict: ``integrated_lufs`` (BS.1770-4), ``lra_lu`` (EBU Tech 3342),
    ``true_peak_dbtp`` (BS.1770-4 Annex 2), ``sample_peak_dbfs``, ``max_momentary_lufs``,
    ``max_short_term_lufs`` (EBU Tech 3341), ``rms_dbfs`` (all channels), ``crest_factor_db``
    (sample peak over RMS; 0.0 for silence), ``stereo_correlation`` (Pearson, L and R; 1.0 for
    mono), ``duration_s``, ``sample_rate``, ``channels``. ``audio``: an array or a
    :class:`~mixassist.audio.signal.Signal` (read in blocks).
    """
    return LoudnessCache(audio, sr).report()


class LoudnessCache:
    """One measurement of ``audio`` that answers for the same audio under any plain gain.

    A gain of ``g`` dB scales every K-weighted block power by ``10^(g/10)`` and every peak and
    RMS by ``10^(g/20)``, so BS.1770 loudness moves by exactly ``g`` -- except where blocks cross
    the -70 LUFS absolute gate, which is why the gates are applied again to the gained block
    powers here rather than adding ``g`` to a result. One pass of a :class:`LoudnessMeter` at
    construction (or a meter already fed: :meth:`from_meter`). Answers equal the measurement of
    ``audio * 10^(g/20)`` up to float32 rounding of the gained samples (~1e-6 dB).
    """

    def __init__(self, audio, sr: int):
        self._init(LoudnessMeter.of(audio, sr))

    @classmethod
    def from_meter(cls, meter: LoudnessMeter) -> LoudnessCache:
        """The cache of a meter fed a whole signal (with ``peaks`` and both default specs)."""
        cache = cls.__new__(cls)
        cache._init(meter)
        return cache

    def _init(self, meter: LoudnessMeter) -> None:
        self.sr, self.channels, self.samples = meter.sr, meter.channels, meter.samples
        (_, self._momentary), (_, self._short_term) = meter.window_powers()
        self._peak = meter.peak
        self._slow = (meter.true_peak_amplitude(), *meter.mean_square_and_correlation())

    def integrated_lufs(self, gain_db: float = 0.0) -> float:
        """Integrated loudness (LUFS) of the audio gained by ``gain_db``."""
        return _gated_integrated(self._momentary * 10.0 ** (gain_db / 10.0))

    def sample_peak_dbfs(self, gain_db: float = 0.0) -> float:
        """Sample peak (dBFS) of the audio gained by ``gain_db``."""
        return _to_db(self._peak) + gain_db

    def report(self, gain_db: float = 0.0) -> dict:
        """:func:`measure_loudness` of the audio gained by ``gain_db``."""
        true_peak, mean_square, correlation = self._slow
        power = 10.0 ** (gain_db / 10.0)
        momentary, short_term = self._momentary * power, self._short_term * power
        rms = math.sqrt(mean_square)
        return {
            "integrated_lufs": _gated_integrated(momentary),
            "lra_lu": _loudness_range(short_term),
            "true_peak_dbtp": _to_db(true_peak) + gain_db,
            "sample_peak_dbfs": self.sample_peak_dbfs(gain_db),
            "max_momentary_lufs": float(_lufs(momentary.max())),
            "max_short_term_lufs": float(_lufs(short_term.max())),
            "rms_dbfs": _to_db(rms) + gain_db,
            "crest_factor_db": _to_db(self._peak) - _to_db(rms) if rms > 0 else 0.0,
            "stereo_correlation": correlation,
            "duration_s": self.samples / self.sr,
            "sample_rate": self.sr,
            "channels": self.channels,
        }
