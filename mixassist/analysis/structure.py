"""Song structure from stems: tempo, beats, downbeats, meter, key, sections, activity, energy.

:func:`analyze_structure` is the entry point. Everything runs on mono signals at
``ANALYSIS_SR`` (22.05 kHz) with one STFT per signal, so a 3-minute song analyses well over 20x
faster than real time on two cores. The drum stem (any stem named like drums/kick/snare/perc)
drives beat tracking and, with the chord changes, the choice between half and double tempo (without
drums, the period of the chord changes sets the tempo, unless chords change on most beats); the
harmonic stems (everything but drums) and their bass register drive key and harmonic change; a mix
alone works too (it plays every role).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial

import librosa
import numpy as np
from scipy.ndimage import maximum_filter1d

from ..audio.convert import as_audio, check_sample_rate, resample
from ..errors import AudioContentError, ParameterError
from . import rhythm, segmentation, tonality
from .activity import is_leakage
from .frames import frame_rms_db, level_mask, mask_to_intervals, onset_density
from .names import is_drum_name
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
    """One labelled section: times in seconds, the stems that play in it, its mean level."""

    start_s: float
    end_s: float
    label: str
    stems: list[str] = field(default_factory=list)
    level_db: float = 0.0
    bars: int = 0


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


def _prepare(stems: dict[str, np.ndarray], sr: int) -> tuple[dict[str, np.ndarray], float]:
    if not isinstance(stems, dict) or not stems:
        raise ParameterError("stems must be a non-empty dict of name -> (channels, samples) audio")
    sr = check_sample_rate(sr)
    monos = {}
    for name, audio in stems.items():
        audio = as_audio(audio, name=name)
        if not np.isfinite(audio).all():
            raise AudioContentError("contains NaN or infinite samples", name)
        monos[name] = resample(audio.mean(axis=0, keepdims=True), sr, ANALYSIS_SR)[0]
    length = max(len(y) for y in monos.values())
    if length < 2 * N_FFT:
        raise AudioContentError(f"is {length / ANALYSIS_SR:.2f} s long; at least 0.2 s is needed",
                                "stems")
    monos = {k: np.pad(y, (0, length - len(y))) for k, y in monos.items()}
    return monos, max(a.shape[-1] for a in stems.values()) / sr


def _onset_env(spec: np.ndarray, *, fmax: float | None = None) -> np.ndarray:
    """Spectral-flux onset strength of a magnitude STFT on a 64-band mel scale up to ``fmax``."""
    mel = librosa.feature.melspectrogram(S=spec ** 2, sr=ANALYSIS_SR, n_mels=64, fmax=fmax)
    # The STFT frames are already centred; librosa's extra centring shift would delay the
    # envelope by n_fft / 2 (measured: beats 40-45 ms late on the generated songs).
    return librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=ANALYSIS_SR, center=False)


def _bar_means(x: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Mean of the columns of ``x`` [shape=(d, frames)] between consecutive frame bounds."""
    cols = [x[:, a:max(b, a + 1)].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])]
    return np.stack(cols, axis=1) if cols else np.zeros((x.shape[0], 0))


def _frames(times_s: np.ndarray) -> np.ndarray:
    """Times in seconds -> STFT frame indices at ``ANALYSIS_SR`` / ``HOP``."""
    return np.round(np.asarray(times_s) * ANALYSIS_SR / HOP).astype(int)


def _harmonic_mix(monos: dict[str, np.ndarray]) -> np.ndarray:
    """Sum of the stems that are not drums (all of them when every stem is drums)."""
    harm = [k for k in monos if not is_drum_stem(k)] or list(monos)
    return np.sum([monos[k] for k in harm], axis=0)


def key_views(stems: dict[str, np.ndarray], sr: int) -> np.ndarray:
    """The views of a song that the fitted key profiles score (:data:`.tonality.VIEWS`):
    z-scored pitch-class profiles of its harmonic stems and of their bass register,
    [shape=(2, 12)]. ``stems`` as for :func:`analyze_structure`."""
    monos, _ = _prepare(stems, sr)
    return np.stack([tonality.standardized_profile(c)
                     for c in harmonic_chromas(_harmonic_mix(monos))])


def _peaks_at(envs: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """Peak of each envelope [shape=(k, frames)] near each time: [shape=(k, len(times_s))]."""
    return np.stack([rhythm.beat_sync_peak(e, _frames(times_s)) for e in envs])


def _chord_change_at(chroma: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """:func:`.rhythm.harmonic_change` of ``chroma`` at beats ``times_s``, [shape=(beats,)]."""
    frames = np.minimum((np.asarray(times_s) * CHROMA_SR / CHROMA_HOP).astype(int),
                        max(chroma.shape[1] - 1, 0))
    return rhythm.harmonic_change(chroma, frames)


def harmonic_chromas(harmonic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chroma of a harmonic signal at ``ANALYSIS_SR``: ``(chroma, bass_chroma)``, each
    [shape=(12, frames)] at ``CHROMA_SR / CHROMA_HOP`` frames per second, C first.

    ``chroma`` is the STFT chroma of the whole signal; ``bass_chroma`` folds a constant-Q
    transform of the bass register (``BASS_OCTAVES`` octaves from C1, 32.7-247 Hz), whose
    semitone resolution an STFT lacks at those frequencies.
    """
    low = resample(harmonic[None, :], ANALYSIS_SR, CHROMA_SR)[0]
    chroma = librosa.feature.chroma_stft(y=low, sr=CHROMA_SR, n_fft=CHROMA_N_FFT,
                                         hop_length=CHROMA_HOP, tuning=0.0, norm=None)
    cqt = np.abs(librosa.cqt(low, sr=CHROMA_SR, hop_length=CHROMA_HOP,
                             fmin=librosa.note_to_hz("C1"), n_bins=12 * BASS_OCTAVES,
                             bins_per_octave=12, tuning=0.0)) ** 2
    bass = cqt.reshape(BASS_OCTAVES, 12, -1).sum(axis=0)
    n = min(chroma.shape[1], bass.shape[1])
    return chroma[:, :n], bass[:, :n]


def analyze_structure(stems: dict[str, np.ndarray], sr: int, *, key_profile: str = "fitted",
                      start_bpm: float = 120.0, separated: bool = False) -> SongStructure:
    """Analyse the structure of one song from its stems.

    Parameters
    ----------
    stems : dict of name -> np.ndarray [shape=(channels, samples)] float32; their sum is the mix.
        A single entry (a mix alone) works.
    sr : sample rate in Hz.
    key_profile : ``"fitted"``, ``"krumhansl"`` or ``"temperley"`` (see :mod:`.tonality`).
    start_bpm : centre of the tempo prior, BPM.
    separated : the stems came from a separator: a stem of separation leakage
        (:func:`~mixassist.analysis.activity.is_leakage`) then plays nowhere, and a drum stem of
        leakage leaves the song drumless for the beat tracker. Given stems are never leakage: a
        part far under the mix is buried.

    Returns
    -------
    SongStructure
    """
    monos, duration = _prepare(stems, sr)
    names = list(monos)
    mix = np.sum([monos[k] for k in names], axis=0)
    frame_s = ACTIVITY_FRAME / ANALYSIS_SR
    levels = {k: frame_rms_db(monos[k], ACTIVITY_FRAME) for k in names}
    masks = {k: level_mask(levels[k], frame_s=frame_s) for k in names}
    mix_level = frame_rms_db(mix, ACTIVITY_FRAME)
    # A stem far under the mix wherever it plays is separation leakage (a drumless song through
    # the separator leaves a faint drum stem): it plays nowhere, and its onsets, normalised,
    # would drive the beat tracker with noise.
    if separated:
        mix_power = 10 ** (mix_level / 10)
        for k in names:
            if is_leakage(10 ** (levels[k] / 10), mix_power, masks[k]):
                masks[k] = np.zeros_like(masks[k])
    drum_names = [k for k in names if is_drum_stem(k)]
    playing_drums = [k for k in drum_names if masks[k].any()]
    drums = np.sum([monos[k] for k in playing_drums], axis=0) if playing_drums else None
    harmonic = _harmonic_mix(monos)

    spec_mix = np.abs(librosa.stft(mix, n_fft=N_FFT, hop_length=HOP))
    onset_mix = _onset_env(np.abs(librosa.stft(mix, n_fft=ONSET_N_FFT, hop_length=HOP)))
    has_drums = drums is not None
    spec_rhythm = (np.abs(librosa.stft(drums, n_fft=ONSET_N_FFT, hop_length=HOP)) if has_drums
                   else np.abs(librosa.stft(mix, n_fft=ONSET_N_FFT, hop_length=HOP)))
    # Kick, snare and hi-hat: from the drum stem, or from the percussive part of a mix given
    # alone (see rhythm.drum_onsets).
    a_mix = len(names) == 1 and not drum_names
    drum_parts = (rhythm.drum_onsets(spec_rhythm ** 2, ANALYSIS_SR, n_fft=ONSET_N_FFT,
                                     percussive=a_mix) if has_drums or a_mix else None)
    # Beats follow kick and snare more than hats and shakers, which often sit on the off-beats:
    # the kick and snare activations of the drum stem, else the onsets below BEAT_FMAX_HZ; the
    # full-band mix onset fills in where the drums rest.
    if has_drums:
        kick_snare = drum_parts[0] / (drum_parts[0].max() + 1e-9) \
            + drum_parts[1] / (drum_parts[1].max() + 1e-9)
    else:
        kick_snare = _onset_env(spec_rhythm, fmax=BEAT_FMAX_HZ)
    n = min(len(kick_snare), len(onset_mix))
    onset = (kick_snare[:n] / (kick_snare.max() + 1e-9)
             + 0.3 * onset_mix[:n] / (onset_mix.max() + 1e-9))
    tempo, beat_frames = rhythm.track_beats(onset, ANALYSIS_SR, hop_length=HOP,
                                            start_bpm=start_bpm)
    beats_s = librosa.frames_to_time(beat_frames, sr=ANALYSIS_SR, hop_length=HOP)

    # Chroma of the harmonic stems (key, harmonic change, section features).
    chroma, bass_chroma = harmonic_chromas(harmonic)
    key, key_conf = tonality.estimate_key(chroma, bass_chroma=bass_chroma, profile=key_profile)

    pitched = len(drum_names) < len(names)  # chords need stems other than drums
    # Without drums the harmonic rhythm sets the tempo: four beats to the bar over which the
    # chords repeat (rhythm.bar_period), re-tracked there when the tracker disagrees. Chords
    # that change on more tracked beats than the harmony repeats strongly (a chorale: a chord on
    # every beat) set no bar and no metrical level: the tracked beat stands. On the development
    # sets' drumless songs this gets 10 of 10 generated songs and 13 of 14 music21 chorales right
    # (4 of 14 before); it is a heuristic: on random block-chord sequences of sine tones the
    # harmony can repeat strongly by chance and half of them still read at 1/2 or 2/3 tempo.
    bar_bpm, chords_on_beats = 0.0, False
    if drum_parts is None and pitched:
        bar_s, strength = rhythm.bar_period(chroma, CHROMA_SR / CHROMA_HOP)
        chords_on_beats = rhythm.chord_change_rate(_chord_change_at(chroma, beats_s)) > strength
        if strength >= BAR_MIN_STRENGTH and not chords_on_beats:
            bar_bpm = rhythm.bar_tempo(bar_s)
    if bar_bpm and abs(tempo / bar_bpm - 1) > 0.04:
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
    low_bins = librosa.fft_frequencies(sr=ANALYSIS_SR, n_fft=ONSET_N_FFT) < LOW_BAND_HZ
    low_flux = np.maximum(0.0, np.diff(np.log1p(100 * spec_rhythm[low_bins]), axis=1)).sum(axis=0)
    low_flux = np.concatenate([[0.0], low_flux])
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

    sections = _sections(downbeats_s, duration, spec_mix, chroma, levels, masks, mix_level,
                         names, drum_names)
    return SongStructure(sample_rate=sr, duration_s=duration, tempo_bpm=round(tempo, 3),
                         beats_per_bar=int(beats_per_bar), beat_division=beat_division,
                         tempo_confidence=round(tempo_conf, 4),
                         tempo_candidates_bpm=tempo_candidates if tempo_conf < TEMPO_UNSURE
                         else [],
                         beats_s=np.round(beats_s, 4).tolist(),
                         downbeats_s=np.round(downbeats_s, 4).tolist(), key=key,
                         key_confidence=round(key_conf, 4), sections=sections,
                         activity=activity, energy=energy)


def _sections(downbeats_s, duration, spec_mix, chroma, levels, masks, mix_level, names,
              drum_names) -> list[Section]:
    """Segment the song at bar resolution and label the segments (see :mod:`.segmentation`)."""
    # Bars run from downbeat to downbeat; a pickup or tail shorter than half a bar joins its
    # neighbour, so no section boundary falls off the downbeat grid.
    half_bar = 0.5 * float(np.median(np.diff(downbeats_s))) if len(downbeats_s) > 1 else 0.0
    inner = downbeats_s[(downbeats_s > half_bar) & (downbeats_s < duration - half_bar)]
    bar_times = np.concatenate([[0.0], inner, [duration]])
    if len(bar_times) < 5:  # too short for structure: one section
        return [Section(0.0, round(duration, 4), "verse", _playing(masks, names, 0, duration), 0.0,
                        max(len(bar_times) - 1, 1))]
    frame_s = ACTIVITY_FRAME / ANALYSIS_SR
    mel = librosa.feature.melspectrogram(S=spec_mix ** 2, sr=ANALYSIS_SR, n_mels=40)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=13)[1:]
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
    bars = np.diff(cuts)
    labels = segmentation.name_segments(clusters, seg_level, bars, drums_active)
    return [Section(round(float(a), 4), round(float(b), 4), lab, _playing(masks, names, a, b),
                    round(float(lv), 2), int(nb))
            for a, b, lab, lv, nb in zip(seg_bounds[:-1], seg_bounds[1:], labels, seg_level, bars)]


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
