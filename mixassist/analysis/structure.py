"""Song structure from stems: tempo, beats, downbeats, meter, key, sections, activity, energy.

:func:`analyze_structure` is the entry point. Everything runs on frame-level features of mono
streams at ``ANALYSIS_SR`` (22.05 kHz), computed block by block with one STFT per stream and
frame size, so a 3-minute song analyses well over 20x faster than real time on two cores and an
hour-long one (arrays or files) holds only its features in memory. The drum stem (any stem
named like drums/kick/snare/perc) drives beat tracking and, with the chord changes, the choice between half and double tempo (without
drums, the period of the chord changes sets the tempo, unless chords change on most beats); the
harmonic stems (everything but drums) and their bass register drive key and harmonic change; a mix
alone works too (it plays every role).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial

import librosa
import numpy as np
from scipy import sparse
from scipy.ndimage import maximum_filter1d

from ..audio.convert import StreamResampler, check_sample_rate
from ..audio.signal import BLOCK, Signal, as_signal
from ..errors import AudioContentError, ParameterError
from . import rhythm, segmentation, tonality
from .activity import is_leakage
from .frames import frame_rms_db, level_mask, mask_to_intervals, onset_density
from .names import is_drum_name, name_instrument
from .result import TEMPO_UNSURE

ANALYSIS_SR = 22050
HOP = 512
N_FFT = 2048
ONSET_N_FFT = 1024  # short window: onsets are placed ~20 ms earlier than with 2048
BEAT_FMAX_HZ = 3000.0
CHROMA_SR = 11025
CHROMA_HOP = 1024
CHROMA_N_FFT = 4096
BASS_OCTAVES = 3  # bass chroma from C1 (32.7 Hz) up to B3
ACTIVITY_FRAME = 2048  # samples at ANALYSIS_SR (~93 ms)
LOW_BAND_HZ = 150.0
BAR_MIN_STRENGTH = 0.2  # least rhythm.bar_period strength that sets the tempo of drumless songs
#: rhythm.triple_division_score above which the beat divides in three (6/8, 12/8); fitted on
#: the v3 development set (docs/structure.md): simple-meter songs read -2.2 to -0.05 there,
#: compound ones tracked at the dotted quarter 0.12 to 1.5.
TRIPLE_MIN = 0.03


@dataclass
class Section:
    """One labelled section: times in seconds, the stems that play in it, its mean level (dB),
    length in bars, its letter (``A``, ``B``, ``A'``: :func:`.segmentation.letter_segments`),
    whether ``label`` is a section name the evidence supports (``named``; else ``label`` is the
    letter) and why (``label_reason``; :func:`.segmentation.name_segments`)."""

    start_s: float
    end_s: float
    label: str
    stems: list[str] = field(default_factory=list)
    level_db: float = 0.0
    bars: int = 0
    letter: str = ""
    named: bool = False
    label_reason: str = ""


@dataclass
class SongStructure:
    """The structure of one song (times in seconds).

    ``activity`` maps each stem to its active ``(start_s, end_s)`` intervals; ``energy`` holds the
    energy/density curve (``times_s``, ``level_db`` = mix RMS in dBFS, ``density`` = onsets per
    second); each section lists the stems that play in it (the arrangement map).
    """

    sample_rate: int
    duration_s: float
    tempo_bpm: float
    beats_per_bar: int
    beats_s: list[float]
    downbeats_s: list[float]
    key: str
    key_confidence: float
    sections: list[Section]
    activity: dict[str, list[tuple[float, float]]]
    energy: dict[str, list[float]]
    beat_division: int = 2
    tempo_confidence: float = 1.0
    tempo_candidates_bpm: list[float] = field(default_factory=list)

    @property
    def meter(self) -> str:
        """Time signature as text: ``"4/4"``, ``"3/4"`` for a beat divided in two, ``"6/8"``,
        ``"12/8"`` (``3 * beats_per_bar`` eighths) for one divided in three."""
        if self.beat_division == 3:
            return f"{3 * self.beats_per_bar}/8"
        return f"{self.beats_per_bar}/4"

    @property
    def arrangement_map(self) -> list[dict]:
        """``[{start_s, end_s, label, stems}]``: which stems play in each section."""
        return [{"start_s": s.start_s, "end_s": s.end_s, "label": s.label, "stems": list(s.stems)}
                for s in self.sections]

    def to_dict(self) -> dict:
        """JSON-ready dict (field names follow ``analysis.json``)."""
        d = asdict(self)
        d["meter"] = self.meter
        d["activity"] = {k: [list(iv) for iv in v] for k, v in self.activity.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SongStructure:
        """Inverse of :meth:`to_dict`."""
        d = {k: v for k, v in d.items() if k != "meter"}
        d["sections"] = [Section(**s) for s in d["sections"]]
        d["activity"] = {k: [tuple(iv) for iv in v] for k, v in d["activity"].items()}
        return cls(**d)


def is_drum_stem(name: str) -> bool:
    """True for stem names that denote drums or percussion (whole words, :mod:`..analysis.names`)."""
    return is_drum_name(name)


# --- Frame-level feature streams. Each stem is read block by block, mixed to mono and resampled
# --- to ANALYSIS_SR on the fly; the mix, the drums and the harmonic stems are sums of those
# --- streams, and only the per-frame features below are kept (their framing is librosa's on
# --- the whole signal: STFT frames centred on multiples of the hop, zeros beyond both ends).

#: Constant-Q chunks of the bass chroma: samples at ``CHROMA_SR`` per chunk (~48 s; a shorter
#: song is one chunk) and the context read on either side (~0.74 s; the C1 filter spans 0.53 s).
CQT_CHUNK = 1 << 19
CQT_MARGIN = 1 << 13
#: Samples (at the stems' rate) read per block: ~24 s at 44.1 kHz, a few tens of MB in flight,
#: and few enough blocks that the per-block matrix products stay large.
READ_BLOCK = 4 * BLOCK


class _CentredFrames:
    """Magnitude STFT frames of a stream of mono float32 blocks, exactly as
    ``np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))`` frames the whole stream: frame
    ``t`` centred on sample ``t * hop``, zeros beyond both ends, ``1 + samples // hop`` frames."""

    def __init__(self, n_fft: int, hop: int):
        self.n_fft, self.hop = n_fft, hop
        self._rest = np.zeros(n_fft // 2, np.float32)  # the stream from the next frame's start

    def push(self, y: np.ndarray, *, last: bool = False) -> np.ndarray:
        """The frames that ``y`` completes, float32 [shape=(1 + n_fft // 2, frames)];
        ``last=True`` with the stream's final block (it pads the end)."""
        pad = [np.zeros(self.n_fft // 2, np.float32)] if last else []
        buf = np.concatenate([self._rest, y, *pad])
        n = max(0, (len(buf) - self.n_fft) // self.hop + 1)
        self._rest = buf[n * self.hop:]
        if not n:
            return np.zeros((1 + self.n_fft // 2, 0), np.float32)
        return np.abs(librosa.stft(buf[:(n - 1) * self.hop + self.n_fft], n_fft=self.n_fft,
                                   hop_length=self.hop, center=False))


class _Columns:
    """Frames [shape=(rows, n)] appended block by block to one array allocated for the
    ``expected`` frames at the start (grown should more come): no long-lived block-sized
    pieces are left between the blocks' temporaries, which would pin the freed memory."""

    def __init__(self, rows: int, expected: int, dtype=np.float32):
        self._data = np.empty((rows, expected), dtype)
        self._n = 0

    def append(self, frames: np.ndarray) -> None:
        frames = frames.reshape(self._data.shape[0], -1)
        end = self._n + frames.shape[1]
        if end > self._data.shape[1]:
            grown = np.empty((self._data.shape[0], max(end, 2 * self._data.shape[1])),
                             self._data.dtype)
            grown[:, :self._n] = self._data[:, :self._n]
            self._data = grown
        self._data[:, self._n:end] = frames
        self._n = end

    def result(self) -> np.ndarray:
        return self._data[:, :self._n]


def _stft_frames(length: int, hop: int = HOP) -> int:
    """Frames of a centred STFT of ``length`` samples."""
    return 1 + length // hop


class _FrameLevels:
    """:func:`.frames.frame_rms_db` of a stream of ``length`` samples in ``ACTIVITY_FRAME``
    frames, block by block."""

    def __init__(self, length: int):
        self._rest = np.zeros(0, np.float32)
        self._out = _Columns(1, -(-length // ACTIVITY_FRAME), np.float64)

    def push(self, y: np.ndarray, *, last: bool = False) -> None:
        buf = np.concatenate([self._rest, y])
        n = len(buf) if last else len(buf) - len(buf) % ACTIVITY_FRAME
        if n:
            self._out.append(frame_rms_db(buf[:n], ACTIVITY_FRAME))
        self._rest = buf[n:]

    def result(self) -> np.ndarray:
        """Frame levels in dBFS [shape=(ceil(samples / ACTIVITY_FRAME),)]."""
        return self._out.result()[0]


def _mel_bank(n_fft: int, n_mels: int, fmax: float | None = None) -> np.ndarray:
    """librosa's mel filter bank at ``ANALYSIS_SR`` [shape=(n_mels, 1 + n_fft // 2)]."""
    return librosa.filters.mel(sr=ANALYSIS_SR, n_fft=n_fft, n_mels=n_mels, fmax=fmax)


class _BandFeatures:
    """Per-frame reductions of a stream's centred STFT (``n_fft``, ``HOP``): the power through
    each named filter bank (``librosa.feature.melspectrogram`` of the power STFT), float32
    [shape=(bands, frames)], and with ``flux`` the low-band flux ``"flux"`` [shape=(frames,)]:
    the positive change of ``log1p(100 |X|)`` summed over the bins under ``LOW_BAND_HZ``.

    The mel banks are applied as sparse matrices (2-5 % of their entries are not zero): a few
    times faster than dense products on these blocks, and free of BLAS threads, which stall
    many small products on a busy machine; the bands agree with librosa's to float rounding.
    """

    def __init__(self, n_fft: int, banks: dict[str, np.ndarray], length: int, *,
                 flux: bool = False):
        self._frames = _CentredFrames(n_fft, HOP)
        self._banks = {k: sparse.csr_array(basis) for k, basis in banks.items()}
        frames = _stft_frames(length)
        self._out = {k: _Columns(len(basis), frames) for k, basis in banks.items()}
        if flux:
            self._out["flux"] = _Columns(1, frames, np.float64)
        self._low = librosa.fft_frequencies(sr=ANALYSIS_SR, n_fft=n_fft) < LOW_BAND_HZ
        self._prev: np.ndarray | None = None  # log magnitudes of the last frame's low bins

    def push(self, y: np.ndarray, *, last: bool = False) -> None:
        spec = self._frames.push(y, last=last)
        if not spec.shape[1]:
            return
        power = spec ** 2
        for k, basis in self._banks.items():
            self._out[k].append(basis @ power)
        if "flux" in self._out:
            self._out["flux"].append(self._flux(spec))

    def _flux(self, spec: np.ndarray) -> np.ndarray:
        low = np.log1p(100 * spec[self._low])
        first = self._prev is None
        cols = low if first else np.concatenate([self._prev, low], axis=1)
        flux = np.maximum(0.0, np.diff(cols, axis=1)).sum(axis=0)
        self._prev = low[:, -1:]
        return np.concatenate([[0.0], flux]) if first else flux

    def result(self) -> dict[str, np.ndarray]:
        out = {k: v.result() for k, v in self._out.items()}
        return out | ({"flux": out["flux"][0]} if "flux" in out else {})


class _Chromas:
    """Chroma of a harmonic stream at ``ANALYSIS_SR``, block by block: :meth:`result` gives
    ``(chroma, bass_chroma)``, each [shape=(12, frames)] at ``CHROMA_SR / CHROMA_HOP`` frames
    per second, C first.

    ``chroma`` is the STFT chroma (``librosa.feature.chroma_stft``, no normalisation) of the
    stream resampled to ``CHROMA_SR``; ``bass_chroma`` folds a constant-Q transform of the bass
    register (``BASS_OCTAVES`` octaves from C1, 32.7-247 Hz), whose semitone resolution an STFT
    lacks at those frequencies, computed over chunks of ``CQT_CHUNK`` samples with
    ``CQT_MARGIN`` samples of context on either side (one chunk, as on the whole signal, for
    songs up to ~48 s; longer ones agree with the whole-signal transform to float precision).
    """

    def __init__(self, length: int):
        self._resampler = StreamResampler(ANALYSIS_SR, CHROMA_SR, 1)
        self._frames = _CentredFrames(CHROMA_N_FFT, CHROMA_HOP)
        self._basis = librosa.filters.chroma(sr=CHROMA_SR, n_fft=CHROMA_N_FFT, tuning=0.0)
        frames = _stft_frames(-(-length * CHROMA_SR // ANALYSIS_SR), CHROMA_HOP)
        self._chroma, self._bass = _Columns(12, frames), _Columns(12, frames)
        self._buf = np.zeros(0, np.float32)  # the stream at CHROMA_SR from sample _origin on
        self._origin = 0
        self._next = 0  # first sample (a multiple of CHROMA_HOP) of the bass frames to come

    def push(self, y: np.ndarray, *, last: bool = False) -> None:
        low = self._resampler.process(y[None], last=last)[0]
        spec = self._frames.push(low, last=last)
        self._chroma.append(np.einsum("cf,...ft->...ct", self._basis, spec ** 2, optimize=True))
        self._buf = np.concatenate([self._buf, low])
        while self._origin + len(self._buf) >= self._next + CQT_CHUNK + CQT_MARGIN:
            self._bass_frames(self._next + CQT_CHUNK + CQT_MARGIN, CQT_CHUNK // CHROMA_HOP)
            self._next += CQT_CHUNK
            drop = self._next - CQT_MARGIN - self._origin
            self._buf, self._origin = self._buf[drop:], self._origin + drop
        if last:
            self._bass_frames(self._origin + len(self._buf), None)

    def _bass_frames(self, stop: int, frames: int | None) -> None:
        """Append ``frames`` bass chroma frames from sample ``_next`` on (None: to the end),
        from the constant-Q transform of the buffered stream up to sample ``stop``."""
        cqt = np.abs(librosa.cqt(self._buf[:stop - self._origin], sr=CHROMA_SR,
                                 hop_length=CHROMA_HOP, fmin=librosa.note_to_hz("C1"),
                                 n_bins=12 * BASS_OCTAVES, bins_per_octave=12,
                                 tuning=0.0)) ** 2
        first = (self._next - self._origin) // CHROMA_HOP
        cqt = cqt[:, first:None if frames is None else first + frames]
        self._bass.append(cqt.reshape(BASS_OCTAVES, 12, -1).sum(axis=0))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        chroma, bass = self._chroma.result(), self._bass.result()
        n = min(chroma.shape[1], bass.shape[1])
        return chroma[:, :n], bass[:, :n]


def _signals(stems: Mapping, sr: int) -> tuple[dict[str, Signal], int]:
    """The stems (arrays or signals at ``sr``) as signals, and the longest one's length in
    samples; raises for no stems and for a song under 0.2 s."""
    if not isinstance(stems, Mapping) or not stems:
        raise ParameterError("stems must be a non-empty dict of name -> (channels, samples) audio")
    sr = check_sample_rate(sr)
    signals = {k: as_signal(v, sr, name=k) for k, v in stems.items()}
    samples = max(s.samples for s in signals.values())
    length = _stream_length(signals)
    if length < 2 * N_FFT:
        raise AudioContentError(f"is {length / ANALYSIS_SR:.2f} s long; at least 0.2 s is needed",
                                "stems")
    return signals, samples


def _stream_length(signals: dict[str, Signal]) -> int:
    """Samples of the stems' mono streams at ``ANALYSIS_SR`` (soxr rounds the length up)."""
    first = next(iter(signals.values()))
    return math.ceil(max(s.samples for s in signals.values()) * ANALYSIS_SR / first.sr)


def _mono_blocks(signals: dict[str, Signal], names: list[str]
                 ) -> Iterator[tuple[dict[str, np.ndarray], bool]]:
    """``({name: block}, last)``: consecutive mono float32 blocks at ``ANALYSIS_SR`` of the
    stems ``names`` (channels averaged), in step over the longest signal (shorter ones continue
    in silence); raises for NaN or infinite samples."""
    stop = max(s.samples for s in signals.values())
    resamplers = {k: StreamResampler(signals[k].sr, ANALYSIS_SR, 1) for k in names}
    for first in range(0, stop, READ_BLOCK):
        last = first + READ_BLOCK >= stop
        out = {}
        for k in names:
            block = signals[k].read(first, min(first + READ_BLOCK, stop))
            if not np.isfinite(block).all():
                raise AudioContentError("contains NaN or infinite samples", k)
            out[k] = resamplers[k].process(block.mean(axis=0, keepdims=True), last=last)[0]
        yield out, last


def _feed(signals: dict[str, Signal], sinks: list[tuple[tuple[str, ...], object]]) -> None:
    """Push to each sink (anything with ``push(y, last=...)``) the mono ``ANALYSIS_SR`` stream
    of the sum of its stems, block by block; each sum is formed once per block."""
    names = [k for k in signals if any(k in stems for stems, _ in sinks)]
    for monos, last in _mono_blocks(signals, names):
        sums: dict[tuple[str, ...], np.ndarray] = {}
        for stems, sink in sinks:
            if stems not in sums:
                sums[stems] = np.sum([monos[k] for k in stems], axis=0)
            sink.push(sums[stems], last=last)


def _harmonic_names(names: list[str], drum_names: list[str] | None = None) -> tuple[str, ...]:
    """The stems that are not drums (``drum_names``; None: by name), all of them when every
    stem is drums."""
    drums = set(drum_names) if drum_names is not None else {k for k in names if is_drum_stem(k)}
    return tuple(k for k in names if k not in drums) or tuple(names)


def _drum_bands(length: int) -> _BandFeatures:
    """The drum features (:func:`.rhythm.drum_onsets_from_mel`'s 40 mel bands, ``"drum"``, and
    the low-band flux) of a stream of ``length`` samples."""
    return _BandFeatures(ONSET_N_FFT, {"drum": _mel_bank(ONSET_N_FFT, 40)}, length, flux=True)


@dataclass
class _Features:
    """The frame-level features of a song that :func:`analyze_structure` uses.

    ``levels`` (per stem) and ``mix_level``: frame RMS in dBFS, ``ACTIVITY_FRAME`` frames;
    ``timbre``: 40 mel bands of the mix (``N_FFT``, ``HOP``); ``mix``: from the mix's
    ``ONSET_N_FFT`` STFT, ``"onset"`` (64 mel bands), ``"low"`` (64 bands up to
    ``BEAT_FMAX_HZ``), ``"flux"`` and, for a mix given alone, ``"drum"``; ``drums``: the
    :func:`_drum_bands` of the sum of the drum stems (None without); ``chroma`` and
    ``bass_chroma`` of the harmonic stems (:class:`_Chromas`).
    """

    levels: dict[str, np.ndarray]
    mix_level: np.ndarray
    timbre: np.ndarray
    mix: dict[str, np.ndarray]
    drums: dict[str, np.ndarray] | None
    chroma: np.ndarray
    bass_chroma: np.ndarray


def _song_features(signals: dict[str, Signal], drum_names: list[str], a_mix: bool) -> _Features:
    """All of :class:`_Features` in one pass over the stems."""
    names, length = tuple(signals), _stream_length(signals)
    levels = {k: _FrameLevels(length) for k in names}
    mix_level, chromas = _FrameLevels(length), _Chromas(length)
    timbre = _BandFeatures(N_FFT, {"timbre": _mel_bank(N_FFT, 40)}, length)
    mix_banks = {"onset": _mel_bank(ONSET_N_FFT, 64),
                 "low": _mel_bank(ONSET_N_FFT, 64, BEAT_FMAX_HZ)}
    if a_mix:
        mix_banks["drum"] = _mel_bank(ONSET_N_FFT, 40)
    mix = _BandFeatures(ONSET_N_FFT, mix_banks, length, flux=True)
    drums = _drum_bands(length) if drum_names else None
    sinks = [((k,), levels[k]) for k in names] + [
        (names, mix_level), (names, timbre), (names, mix),
        (_harmonic_names(list(names), drum_names), chromas)]
    if drums is not None:
        sinks.append((tuple(drum_names), drums))
    _feed(signals, sinks)
    return _Features({k: v.result() for k, v in levels.items()}, mix_level.result(),
                     timbre.result()["timbre"], mix.result(),
                     drums.result() if drums is not None else None, *chromas.result())


def _drum_features(signals: dict[str, Signal], drum_names: list[str]) -> dict[str, np.ndarray]:
    """:func:`_drum_bands` of the sum of the stems ``drum_names``, in a pass of their own."""
    drums = _drum_bands(_stream_length(signals))
    _feed(signals, [(tuple(drum_names), drums)])
    return drums.result()


#: Frames per block of :func:`_onset_env` (a few MB of temporaries whatever the song's length).
ONSET_BLOCK = 1 << 14


def _onset_env(mel: np.ndarray) -> np.ndarray:
    """Spectral-flux onset strength of a mel power spectrogram [shape=(bands, frames)]:
    ``librosa.onset.onset_strength`` of ``librosa.power_to_db(mel)`` (floored 80 dB under the
    song's maximum), over blocks of ``ONSET_BLOCK`` frames, [shape=(frames,)]."""
    floor = librosa.power_to_db(mel.max(keepdims=True), top_db=None)[0, 0] - 80.0
    out = []
    for a in range(0, mel.shape[1], ONSET_BLOCK):
        start = max(a - 1, 0)  # the frame before the block: its first difference
        db = np.maximum(librosa.power_to_db(mel[:, start:a + ONSET_BLOCK], top_db=None), floor)
        # The STFT frames are already centred; librosa's extra centring shift would delay the
        # envelope by n_fft / 2 (measured: beats 40-45 ms late on the generated songs).
        out.append(librosa.onset.onset_strength(S=db, sr=ANALYSIS_SR, center=False)[a - start:])
    return np.concatenate(out)


def _bar_means(x: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Mean of the columns of ``x`` [shape=(d, frames)] between consecutive frame bounds."""
    cols = [x[:, a:max(b, a + 1)].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])]
    return np.stack(cols, axis=1) if cols else np.zeros((x.shape[0], 0))


def _frames(times_s: np.ndarray) -> np.ndarray:
    """Times in seconds -> STFT frame indices at ``ANALYSIS_SR`` / ``HOP``."""
    return np.round(np.asarray(times_s) * ANALYSIS_SR / HOP).astype(int)


def key_views(stems: dict, sr: int) -> np.ndarray:
    """The views of a song that the fitted key profiles score (:data:`.tonality.VIEWS`):
    z-scored pitch-class profiles of its harmonic stems and of their bass register,
    [shape=(2, 12)]. ``stems`` as for :func:`analyze_structure`."""
    signals, _ = _signals(stems, sr)
    chromas = _Chromas(_stream_length(signals))
    _feed(signals, [(_harmonic_names(list(signals)), chromas)])
    return np.stack([tonality.standardized_profile(c) for c in chromas.result()])


def _peaks_at(envs: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """Peak of each envelope [shape=(k, frames)] near each time: [shape=(k, len(times_s))]."""
    return np.stack([rhythm.beat_sync_peak(e, _frames(times_s)) for e in envs])


def _chord_change_at(chroma: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """:func:`.rhythm.harmonic_change` of ``chroma`` at beats ``times_s``, [shape=(beats,)]."""
    frames = np.minimum((np.asarray(times_s) * CHROMA_SR / CHROMA_HOP).astype(int),
                        max(chroma.shape[1] - 1, 0))
    return rhythm.harmonic_change(chroma, frames)


def analyze_structure(stems: Mapping[str, np.ndarray | Signal], sr: int, *,
                      key_profile: str = "fitted",
                      start_bpm: float = 120.0, separated: bool = False,
                      drums: Collection[str] | None = None,
                      vocals: Collection[str] | None = None) -> SongStructure:
    """Analyse the structure of one song from its stems.

    Parameters
    ----------
    stems : dict of name -> np.ndarray [shape=(channels, samples)] float32 or
        :class:`~mixassist.audio.signal.Signal` at ``sr``; their sum is the mix (shorter stems
        continue in silence). A single entry (a mix alone) works.
    sr : sample rate in Hz.
    key_profile : ``"fitted"``, ``"krumhansl"`` or ``"temperley"`` (see :mod:`.tonality`).
    start_bpm : centre of the tempo prior, BPM.
    separated : the stems came from a separator: a stem of separation leakage
        (:func:`~mixassist.analysis.activity.is_leakage`) then plays nowhere, and a drum stem of
        leakage leaves the song drumless for the beat tracker. Given stems are never leakage: a
        part far under the mix is buried.
    drums : the names of the drum and percussion stems, whose onsets drive the beat tracker
        and whose notes stay out of the chords; None: the stems whose names say so
        (:func:`is_drum_stem`). ``analyze`` adds those its network hears as drums.
    vocals : the names of the vocal stems, whose activity makes a section sung (the evidence
        for the names chorus, verse, ...: :func:`.segmentation.name_segments`); None: the stems
        whose names say vocals (:func:`.names.name_instrument`). A mix alone is never sung.

    Returns
    -------
    SongStructure

    The stems are read block by block and only frame-level features are kept
    (:class:`_Features`: about 2.3 MB per minute, 1/40 of four stereo 44.1 kHz stems), so
    memory grows with the song by those alone (measured peak of the analysis of four file
    stems: 403 MB at 5 minutes, 463 MB at 30, libraries included); the drum stems are read
    again, in a pass of their own, when some of several rest throughout. Every whole-song step
    after that works on those frames (the drum factorisation and its median-filter
    harmonic/percussive split for a mix given alone included), in blocks of frames where its
    temporaries would be large (:func:`_onset_env`, :func:`.rhythm.mean_tempogram`).
    """
    signals, samples = _signals(stems, sr)
    duration = samples / sr
    names = list(signals)
    if drums is not None and (unknown := set(drums) - set(names)):
        raise ParameterError(f"drums names stem(s) {', '.join(sorted(unknown))} that are not "
                             f"among the stems ({', '.join(names)})")
    drum_names = [k for k in names if (k in drums if drums is not None else is_drum_stem(k))]
    if vocals is not None and (unknown := set(vocals) - set(names)):
        raise ParameterError(f"vocals names stem(s) {', '.join(sorted(unknown))} that are not "
                             f"among the stems ({', '.join(names)})")
    vocal_names = [k for k in names if (k in vocals if vocals is not None
                                        else name_instrument(k) == "vocals")]
    # Kick, snare and hi-hat: from the drum stems, or from the percussive part of a mix given
    # alone (see rhythm.drum_onsets_from_mel).
    a_mix = len(names) == 1 and not drum_names
    feats = _song_features(signals, drum_names, a_mix)
    levels, mix_level = feats.levels, feats.mix_level
    frame_s = ACTIVITY_FRAME / ANALYSIS_SR
    masks = {k: level_mask(levels[k], frame_s=frame_s) for k in names}
    # A stem far under the mix wherever it plays is separation leakage (a drumless song through
    # the separator leaves a faint drum stem): it plays nowhere, and its onsets, normalised,
    # would drive the beat tracker with noise.
    if separated:
        mix_power = 10 ** (mix_level / 10)
        for k in names:
            if is_leakage(10 ** (levels[k] / 10), mix_power, masks[k]):
                masks[k] = np.zeros_like(masks[k])
    playing_drums = [k for k in drum_names if masks[k].any()]
    has_drums = bool(playing_drums)
    if has_drums and playing_drums != drum_names:
        feats.drums = _drum_features(signals, playing_drums)
    # The rhythm features: of the playing drums' STFT, else of the mix's.
    spec_rhythm = feats.drums if has_drums else feats.mix
    onset_mix = _onset_env(feats.mix["onset"])
    drum_parts = (rhythm.drum_onsets_from_mel(spec_rhythm["drum"], ANALYSIS_SR, percussive=a_mix)
                  if has_drums or a_mix else None)
    # Beats follow kick and snare more than hats and shakers, which often sit on the off-beats:
    # the kick and snare activations of the drum stem, else the onsets below BEAT_FMAX_HZ; the
    # full-band mix onset fills in where the drums rest.
    if has_drums:
        kick_snare = drum_parts[0] / (drum_parts[0].max() + 1e-9) \
            + drum_parts[1] / (drum_parts[1].max() + 1e-9)
    else:
        kick_snare = _onset_env(feats.mix["low"])
    n = min(len(kick_snare), len(onset_mix))
    onset = (kick_snare[:n] / (kick_snare.max() + 1e-9)
             + 0.3 * onset_mix[:n] / (onset_mix.max() + 1e-9))
    tempo, beat_frames = rhythm.track_beats(onset, ANALYSIS_SR, hop_length=HOP,
                                            start_bpm=start_bpm)
    beats_s = librosa.frames_to_time(beat_frames, sr=ANALYSIS_SR, hop_length=HOP)

    # Chroma of the harmonic stems (key, harmonic change, section features).
    chroma, bass_chroma = feats.chroma, feats.bass_chroma
    key, key_conf = tonality.estimate_key(chroma, bass_chroma=bass_chroma, profile=key_profile)

    pitched = len(drum_names) < len(names)  # chords need stems other than drums
    # Without drums the harmonic rhythm sets the tempo: four beats to the bar over which the
    # chords repeat (rhythm.bar_period), re-tracked there when the tracker disagrees. Chords
    # that change on more tracked beats than the harmony repeats strongly (a chorale: a chord on
    # every beat) set no bar and no metrical level: the tracked beat stands. On the development
    # sets' drumless songs this gets 10 of 10 generated songs and 13 of 14 music21 chorales right
    # (4 of 14 before); it is a heuristic: on random block-chord sequences of sine tones the
    # harmony can repeat strongly by chance and half of them still read at 1/2 or 2/3 tempo.
    # A tracked tempo that fits 3 or 6 beats (not 4 or 8) into that period is a waltz tracked
    # right or a compound song tracked at 3/2 of its tempo (a period of 6 beats is two bars of
    # the one and a bar of the other): the re-tracked tempo is then unsure and the tracked one
    # its alternative (rhythm.bar_fit; docs/structure.md: keeping the tracked tempo there won
    # three training songs and lost two, and lost three compound songs of a test set).
    bar_bpm, chords_on_beats, waltz_bpm = 0.0, False, 0.0
    if drum_parts is None and pitched:
        bar_s, strength = rhythm.bar_period(chroma, CHROMA_SR / CHROMA_HOP)
        chords_on_beats = rhythm.chord_change_rate(_chord_change_at(chroma, beats_s)) > strength
        if strength >= BAR_MIN_STRENGTH and not chords_on_beats:
            bar_bpm = rhythm.bar_tempo(bar_s)
    if bar_bpm and abs(tempo / bar_bpm - 1) > 0.04:
        waltz_bpm = tempo if rhythm.bar_fit(bar_s, tempo) == 3 else 0.0
        tempo, beat_frames = rhythm.track_beats(onset, ANALYSIS_SR, hop_length=HOP, bpm=bar_bpm)
        beats_s = librosa.frames_to_time(beat_frames, sr=ANALYSIS_SR, hop_length=HOP)
    elif not bar_bpm:  # drums and chord changes decide the metrical level
        beats_s, tempo = rhythm.choose_metrical_level(
            beats_s, tempo, drums_at=partial(_peaks_at, drum_parts) if drum_parts is not None
            else None,
            chord_change=partial(_chord_change_at, chroma) if pitched and not chords_on_beats
            else None)
    # How sure the metrical level is: the level evidence asked again of the chosen grid.
    probs = rhythm.level_probabilities(
        beats_s, tempo, drums_at=partial(_peaks_at, drum_parts) if drum_parts is not None else None,
        chord_change=partial(_chord_change_at, chroma) if pitched and not chords_on_beats else None)
    tempo_conf, tempo_candidates = rhythm.tempo_confidence(probs, tempo)
    if waltz_bpm:  # two readings, one as likely as the other
        tempo_conf, tempo_candidates = 0.0, [round(tempo, 3), round(waltz_bpm, 3)]
    # The music "plays" at t when some stem was active within the surrounding bar (4 beats), so
    # staccato parts (stabs, plucks) keep the metre running through sparse intros and outros.
    bar_frames = max(1, int(round(4 * 60.0 / max(tempo, 1.0) / frame_s)))
    playing = maximum_filter1d(np.any(np.stack(list(masks.values())), axis=0).astype(np.uint8),
                               size=bar_frames).astype(bool)
    beats_s = rhythm.extend_beat_grid(
        beats_s, tempo, lambda t: playing[np.minimum((t / frame_s).astype(int), len(playing) - 1)],
        duration_s=duration)
    beat_frames = _frames(beats_s)

    # Downbeats and meter.
    low_flux = spec_rhythm["flux"]
    change = _chord_change_at(chroma, beats_s)
    scores = rhythm.downbeat_scores(rhythm.beat_sync_peak(low_flux, beat_frames), change)
    subdivision = rhythm.subdivision_strength(onset_mix, beat_frames)
    beat_division = 3 if rhythm.triple_division_score(subdivision) > TRIPLE_MIN else 2
    if len(beats_s) < 8:
        beats_per_bar = 4
    elif beat_division == 3:
        beats_per_bar = rhythm.compound_bar(scores, change if pitched else np.zeros(len(scores)))
    else:
        beats_per_bar = rhythm.choose_meter(scores)
    downbeat_idx = rhythm.viterbi_downbeats(scores, beats_per_bar)
    downbeats_s = beats_s[downbeat_idx]

    # Activity and energy.
    activity = {k: mask_to_intervals(masks[k], frame_s, duration) for k in names}
    times = (np.arange(len(mix_level)) + 0.5) * frame_s
    onsets_s = librosa.onset.onset_detect(onset_envelope=onset_mix, sr=ANALYSIS_SR,
                                          hop_length=HOP, units="time")
    energy = {"times_s": np.round(times, 4).tolist(), "level_db": np.round(mix_level, 2).tolist(),
              "density": np.round(onset_density(onsets_s, times), 3).tolist()}

    sections = _sections(downbeats_s, duration, feats.timbre, chroma, levels, masks, mix_level,
                         names, drum_names, vocal_names)
    return SongStructure(sample_rate=sr, duration_s=duration, tempo_bpm=round(tempo, 3),
                         beats_per_bar=int(beats_per_bar), beat_division=beat_division,
                         tempo_confidence=round(tempo_conf, 4),
                         tempo_candidates_bpm=tempo_candidates if tempo_conf < TEMPO_UNSURE
                         else [],
                         beats_s=np.round(beats_s, 4).tolist(),
                         downbeats_s=np.round(downbeats_s, 4).tolist(), key=key,
                         key_confidence=round(key_conf, 4), sections=sections,
                         activity=activity, energy=energy)


def _sections(downbeats_s, duration, timbre, chroma, levels, masks, mix_level, names,
              drum_names, vocal_names) -> list[Section]:
    """Segment the song at bar resolution and label the segments (see :mod:`.segmentation`)."""
    # Bars run from downbeat to downbeat; a pickup or tail shorter than half a bar joins its
    # neighbour, so no section boundary falls off the downbeat grid.
    half_bar = 0.5 * float(np.median(np.diff(downbeats_s))) if len(downbeats_s) > 1 else 0.0
    inner = downbeats_s[(downbeats_s > half_bar) & (downbeats_s < duration - half_bar)]
    bar_times = np.concatenate([[0.0], inner, [duration]])
    if len(bar_times) < 5:  # too short for structure: one section
        return [Section(0.0, round(duration, 4), "A", _playing(masks, names, 0, duration), 0.0,
                        max(len(bar_times) - 1, 1), "A", False,
                        "too short for structure: one section, lettered")]
    frame_s = ACTIVITY_FRAME / ANALYSIS_SR
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(timbre), n_mfcc=13)[1:]
    chroma_n = librosa.util.normalize(chroma, axis=0)
    stem_levels = np.stack([np.maximum(levels[k], -80.0) for k in names])
    activity_frac = np.stack([masks[k].astype(float) for k in names])
    groups = [
        _bar_means(mfcc, (bar_times * ANALYSIS_SR / HOP).astype(int)),
        _bar_means(chroma_n, (bar_times * CHROMA_SR / CHROMA_HOP).astype(int)),
        _bar_means(stem_levels, (bar_times / frame_s).astype(int)),
        _bar_means(activity_frac, (bar_times / frame_s).astype(int)),
        _bar_means(mix_level[None], (bar_times / frame_s).astype(int)),
    ]
    feats = segmentation.standardize_groups(groups)
    ssm = segmentation.self_similarity(feats)
    nov = segmentation.novelty(ssm, 4) + segmentation.novelty(ssm, 8)
    cuts = [0] + segmentation.pick_boundaries(nov, min_bars=2, rel_threshold=0.2) + [len(bar_times) - 1]
    seg_bounds = bar_times[cuts]
    descr = np.stack([feats[:, a:b].mean(axis=1) for a, b in zip(cuts[:-1], cuts[1:])], axis=1)
    clusters = segmentation.cluster_segments(descr)
    seg_level = np.array([_level(mix_level, a, b, frame_s) for a, b in
                          zip(seg_bounds[:-1], seg_bounds[1:])])
    drums_active = np.array([
        np.mean([_fraction(masks[k], a, b, frame_s) for k in drum_names]) if drum_names else 1.0
        for a, b in zip(seg_bounds[:-1], seg_bounds[1:])])
    # Sung: a vocal stem next to others plays (a mix alone, all "vocals", is no sung part).
    singers = [k for k in vocal_names if len(vocal_names) < len(names)]
    sung = np.array([max((_fraction(masks[k], a, b, frame_s) for k in singers), default=0.0)
                     for a, b in zip(seg_bounds[:-1], seg_bounds[1:])])
    bars = np.diff(cuts)
    playing = [_playing(masks, names, a, b) for a, b in zip(seg_bounds[:-1], seg_bounds[1:])]
    letters = segmentation.letter_segments(clusters, seg_level, [frozenset(p) for p in playing])
    namings = segmentation.name_segments(clusters, seg_level, bars, drums_active, sung)
    return [Section(round(float(a), 4), round(float(b), 4), nm.name or let, stems,
                    round(float(lv), 2), int(nb), let, nm.name is not None, nm.reason)
            for a, b, stems, lv, nb, let, nm in zip(seg_bounds[:-1], seg_bounds[1:], playing,
                                                   seg_level, bars, letters, namings)]


def _fraction(mask: np.ndarray, start_s: float, end_s: float, frame_s: float) -> float:
    a, b = int(start_s / frame_s), max(int(end_s / frame_s), int(start_s / frame_s) + 1)
    seg = mask[a:b]
    return float(seg.mean()) if len(seg) else 0.0


def _level(level_db: np.ndarray, start_s: float, end_s: float, frame_s: float) -> float:
    a, b = int(start_s / frame_s), max(int(end_s / frame_s), int(start_s / frame_s) + 1)
    seg = level_db[a:b]
    return float(10 * np.log10(np.mean(10 ** (seg / 10)))) if len(seg) else -120.0


def _playing(masks, names, start_s, end_s) -> list[str]:
    frame_s = ACTIVITY_FRAME / ANALYSIS_SR
    return [k for k in names if _fraction(masks[k], start_s, end_s, frame_s) >= 0.5]
