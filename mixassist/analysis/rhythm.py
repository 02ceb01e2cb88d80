"""Tempo, beats, meter and downbeats from onset-strength envelopes.

Beats come from dynamic-programming beat tracking (Ellis 2007, "Beat tracking by dynamic
programming", J. New Music Research 36(1)) on an onset-strength envelope, as implemented by librosa;
the tempo is then refined by a least-squares fit of beat time against beat index, and the metrical
level (half or double tempo) is chosen by a small model fitted on generated songs from the snare
backbeat, the kick and the harmonic rhythm, or without drums by the chord changes alone
(:func:`choose_metrical_level`). Downbeats are
the beats whose bar-position accent is highest: each beat gets a downbeat score from the
low-frequency (kick/bass) onset energy and the harmonic change at that beat, the meter is the bar
length (3 or 4 beats) whose periodic grouping of the scores is most contrasted, and a Viterbi pass
over bar positions (a small HMM in the spirit of Krebs, Böck & Widmer 2016) places the downbeats,
recovering from beats the tracker dropped or added.
"""

from __future__ import annotations

import librosa
import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

#: Meters (beats per bar) considered; 4 is preferred unless 3 is clearly better.
METERS = (4, 3)
_METER_PRIOR = {4: 1.0, 3: 0.8}
#: Bars (counted beats per bar) of a beat divided in three: 6/8 (2) and 12/8 (4); 12/8 is
#: preferred unless 2 is clearly better (fitted on the v3 development set, docs/structure.md).
COMPOUND_METERS = (4, 2)
_COMPOUND_PRIOR = {4: 1.0, 2: 0.95}
#: Log-probability of leaving the regular bar cycle between two beats (Viterbi).
_LOG_BREAK = -6.0
#: Tempi (BPM) a metrical-level choice may land on; a tracked tempo below it doubles.
BPM_RANGE = (55.0, 180.0)


def track_beats(onset_env: np.ndarray, sr: int, *, hop_length: int,
                start_bpm: float = 120.0, bpm: float | None = None) -> tuple[float, np.ndarray]:
    """Estimate the tempo and beat positions.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(frames,)] onset strength.
    sr : sample rate of the signal the envelope was computed from, Hz.
    hop_length : envelope hop in samples.
    start_bpm : centre of the log-normal tempo prior, BPM.
    bpm : track beats at this tempo instead of estimating one, BPM.

    Returns
    -------
    tempo_bpm : refined tempo in BPM (0 when fewer than two beats were found).
    beat_frames : np.ndarray [shape=(beats,)] beat positions in envelope frames.
    """
    if not np.any(onset_env > 0):
        return 0.0, np.zeros(0, dtype=int)
    win_length = int(librosa.time_to_frames(TEMPO_AC_S, sr=sr, hop_length=hop_length))
    tempo = float(bpm) if bpm else float(librosa.feature.tempo(
        tg=mean_tempogram(onset_env, win_length=win_length), sr=sr, hop_length=hop_length,
        start_bpm=start_bpm)[0])
    _, beat_frames = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr,
                                             hop_length=hop_length, bpm=tempo, units="frames")
    return refine_tempo(beat_frames * hop_length / sr, fallback_bpm=tempo), beat_frames


#: Autocorrelation window of the tempo estimate, seconds (librosa's ``ac_size``).
TEMPO_AC_S = 8.0
#: Envelope frames per block of :func:`mean_tempogram` (~11 MB per block at 344 lags).
TEMPOGRAM_BLOCK = 1 << 12


def mean_tempogram(onset_env: np.ndarray, *, win_length: int) -> np.ndarray:
    """The time average of ``librosa.feature.tempogram(onset_envelope=onset_env,
    win_length=win_length)`` (centred, Hann window, each frame's autocorrelation normalised to
    its maximum), [shape=(win_length, 1)]: what ``librosa.feature.tempo`` scores. Computed over
    blocks of ``TEMPOGRAM_BLOCK`` frames, so an hour-long envelope needs no
    ``(win_length, frames)`` array."""
    n, half = len(onset_env), win_length // 2
    padded = np.pad(onset_env, (half, half), mode="linear_ramp", end_values=[0, 0])
    window = librosa.filters.get_window("hann", win_length, fftbins=True)[:, None]
    total = np.zeros(win_length)
    for a in range(0, n, TEMPOGRAM_BLOCK):
        b = min(a + TEMPOGRAM_BLOCK, n)
        frames = librosa.util.frame(padded[a:b + win_length - 1], frame_length=win_length,
                                    hop_length=1)
        ac = librosa.autocorrelate(frames * window, axis=-2)
        total += librosa.util.normalize(ac, norm=np.inf, axis=-2).sum(axis=-1)
    return (total / max(n, 1))[:, None]


def refine_tempo(beats_s: np.ndarray, *, fallback_bpm: float) -> float:
    """Tempo in BPM from a least-squares line through beat time versus beat index over the
    longest run of regular beats (every interval within 10 % of the median).

    Tracking slips (a skipped beat, a jump to the off-beat) end a run, so they do not bias the
    slope, and the fit over many beats resolves the tempo far below the envelope's frame step.
    """
    if len(beats_s) < 4:
        return float(fallback_bpm)
    ibi = np.diff(beats_s)
    med = np.median(ibi)
    regular = np.abs(ibi - med) < 0.1 * med
    best, start = (0, 0), None
    for i, ok in enumerate(np.append(regular, False)):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            best = max(best, (i - start, start))
            start = None
    run, first = best
    if run < 3:
        return float(60.0 / med)
    t = beats_s[first:first + run + 1]
    slope = np.polyfit(np.arange(len(t)), t, 1)[0]
    return float(60.0 / slope)


def bar_period(chroma: np.ndarray, frame_rate: float, *, min_s: float = 1.2,
               max_s: float = 6.0) -> tuple[float, float]:
    """The period at which the harmony repeats (a bar, sometimes two), ``(period_s, strength)``.

    The chroma novelty (cosine distance between the ~0.4 s before and after each frame, minus its
    ~6 s moving average) is autocorrelated and the strongest lag between ``min_s`` and ``max_s``
    wins, refined by parabolic interpolation; ``strength`` is the autocorrelation there over that
    at lag 0 (0..1; near 0 without chord changes).

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, frames)].
    frame_rate : chroma frames per second.
    """
    w = max(1, int(round(0.37 * frame_rate)))
    lo, hi = int(min_s * frame_rate), int(max_s * frame_rate)
    n = chroma.shape[1]
    if n < hi + 2 * w + 2:
        return 0.0, 0.0
    cum = np.concatenate([np.zeros((12, 1)), np.cumsum(chroma, axis=1)], axis=1)
    i = np.arange(w, n - w)
    before, after = cum[:, i] - cum[:, i - w], cum[:, i + w] - cum[:, i]
    denom = np.linalg.norm(before, axis=0) * np.linalg.norm(after, axis=0)
    novelty = 1.0 - np.divide((before * after).sum(axis=0), denom, out=np.ones(len(i)),
                              where=denom > 0)
    novelty = novelty - uniform_filter1d(novelty, int(6 * frame_rate))
    ac = np.correlate(novelty, novelty, mode="full")[len(novelty) - 1:]
    if ac[0] <= 0:
        return 0.0, 0.0
    k = lo + int(np.argmax(ac[lo:hi]))
    a, b, c = ac[k - 1], ac[k], ac[k + 1]
    curve = a - 2 * b + c
    offset = 0.5 * (a - c) / curve if curve < 0 else 0.0
    return (k + offset) / frame_rate, float(b / ac[0])


def bar_tempo(bar_s: float, *, bpm_range=BPM_RANGE, beats_per_bar: int = 4) -> float:
    """The slowest tempo within ``bpm_range`` that fits a whole power of two times
    ``beats_per_bar`` beats into ``bar_s`` seconds (``bar_s`` may span two bars); 0 if none."""
    tempo = 60.0 * beats_per_bar / bar_s if bar_s > 0 else 0.0
    while 0 < tempo < bpm_range[0]:
        tempo *= 2
    return tempo if 0 < tempo <= bpm_range[1] else 0.0


#: Tracked beats the harmonic period of :func:`bar_period` may hold, by beats per bar: one bar,
#: two or four, the tracker on the beat, on half of it or on twice it.
BAR_BEATS = {4: (2, 4, 8, 16, 32), 3: (1.5, 3, 6, 12, 24)}


def bar_fit(bar_s: float, tracked_bpm: float, *, tolerance: float = 0.04) -> int:
    """Beats per bar, 4 or 3, of a bar that the tracked tempo ``tracked_bpm`` (BPM) fits into
    the harmonic period ``bar_s`` (seconds, :func:`bar_period`): the period holds one of the
    counts of tracked beats of :data:`BAR_BEATS` within ``tolerance`` (relative); 0 where none
    does."""
    beats = bar_s * tracked_bpm / 60.0

    def fits(counts):
        return any(abs(beats / n - 1) <= tolerance for n in counts)

    return 4 if fits(BAR_BEATS[4]) else 3 if fits(BAR_BEATS[3]) else 0


#: Drum templates of :func:`drum_onsets_from_mel`: centre frequency (Hz) and width (octaves, one standard
#: deviation) of a log-frequency Gaussian bump, in the order kick, snare, hi-hat.
DRUM_TEMPLATES = ((70.0, 0.8), (1200.0, 1.6), (9000.0, 0.7))
#: A snare template that adapted below this spectral centroid (Hz) has taken over part of the
#: kick: the drums have no snare, and its onsets are dropped.
SNARE_MIN_CENTROID_HZ = 350.0


def drum_onsets_from_mel(mel: np.ndarray, sr: int, *, percussive: bool = False,
                         n_iter: int = 30) -> np.ndarray:
    """Kick, snare and hi-hat onset strengths of a drum signal from its mel power spectrogram
    ``mel`` [shape=(n_mels, frames)] (librosa's mel bands up to ``sr / 2``), [shape=(3, frames)].

    The mel spectrogram (magnitude) is factorised by non-negative matrix factorisation into three
    spectral templates and their activations (Smaragdis & Brown 2003, "Non-negative matrix
    factorization for polyphonic music transcription", WASPAA; semi-adaptive: the templates start
    as :data:`DRUM_TEMPLATES` and adapt after
    a few iterations, as in Dittmar & Gaertner 2014, "Real-time transcription and separation of
    drum recordings based on NMF decomposition", DAFx). Updates are the multiplicative ones for
    the generalised Kullback-Leibler divergence (Lee & Seung 2001). Each activation's positive
    first difference is the onset strength; the snare's is zero when its template ended below
    :data:`SNARE_MIN_CENTROID_HZ`. Deterministic: no random initialisation.

    Parameters
    ----------
    mel : np.ndarray [shape=(n_mels, frames)] mel power spectrogram of the drums.
    sr : sample rate of the signal, Hz.
    percussive : factorise only the percussive part of the signal (a full mix): median-filter
        harmonic/percussive separation (Fitzgerald 2010, "Harmonic/percussive separation using
        median filtering", DAFx) with a soft mask, on the mel bands (whole-song, frame-level).
    """
    n_mels = mel.shape[0]
    v = np.sqrt(mel)
    if percussive:
        harm = median_filter(v, size=(1, 17)) ** 2
        perc = median_filter(v, size=(9, 1)) ** 2
        v = v * perc / (harm + perc + 1e-12)
    v = v + 1e-9
    log_f = np.log2(librosa.mel_frequencies(n_mels + 2, fmax=sr / 2)[1:-1])
    w = np.stack([np.exp(-0.5 * ((log_f - np.log2(f0)) / width) ** 2)
                  for f0, width in DRUM_TEMPLATES], axis=1) + 1e-3
    w /= w.sum(axis=0)
    h = np.full((3, v.shape[1]), v.mean())
    for it in range(n_iter):
        h *= (w.T @ (v / (w @ h))) / w.sum(axis=0)[:, None]
        if it >= 5:
            w *= ((v / (w @ h)) @ h.T) / h.sum(axis=1)[None, :]
            w /= w.sum(axis=0)
    centroid = 2 ** ((log_f @ w[:, 1]) / w[:, 1].sum())
    if centroid < SNARE_MIN_CENTROID_HZ:
        h[1] = 0.0
    return np.maximum(0.0, np.diff(h, axis=1, prepend=h[:, :1]))


def phase_contrast(x: np.ndarray, period: int) -> tuple[float, int]:
    """How strongly ``x`` [shape=(beats,)] recurs every ``period`` beats: the mean at its
    strongest phase minus the mean half a period later; returns ``(contrast, phase)``.

    A backbeat (snare on beats 2 and 4) gives a large contrast at period 2 and none at 4; a snare
    once every 4 tracked beats (the tracker on eighth notes) a large one at 4.
    """
    if len(x) < 2 * period:
        return 0.0, 0
    means = np.array([x[p::period].mean() for p in range(period)])
    best = int(np.argmax(means))
    return float(means[best] - means[(best + period // 2) % period]), best


#: Tempo factors the metrical-level model chooses between (see :func:`level_features`).
LEVEL_FACTORS = (0.5, 1.0, 2.0)
#: Names of :func:`level_features`, in order.
LEVEL_FEATURES = ("snare_contrast_2", "snare_contrast_4", "snare_contrast_8", "kick_contrast_2",
                  "snare_share", "kick_on_off", "snare_on_off", "hat_on_off",
                  "chord_contrast_2", "chord_contrast_4", "chord_contrast_8",
                  "log2_tempo", "log2_tempo_sq")


def level_allowed(factor: float, tempo_bpm: float, bpm_range=BPM_RANGE) -> bool:
    """Whether ``factor`` times ``tempo_bpm`` may be chosen: a tempo within ``bpm_range`` or,
    for the tracked level (factor 1), any tempo from the bottom of the range up; a tempo below
    the range must double."""
    if factor == 1.0:
        return tempo_bpm >= bpm_range[0]
    return bpm_range[0] <= tempo_bpm * factor <= bpm_range[1]


def level_features(drums: np.ndarray, between: np.ndarray, tempo_bpm: float,
                   chord_change: np.ndarray | None = None) -> np.ndarray:
    """Scale-free evidence for the metrical level of a tracked beat grid, [shape=(13,)] in the
    order of :data:`LEVEL_FEATURES`.

    Parameters
    ----------
    drums : np.ndarray [shape=(3, beats)] kick, snare and hi-hat onset strength at the beats.
    between : np.ndarray [shape=(3, beats - 1)] the same half-way between consecutive beats.
    tempo_bpm : the tracked tempo, BPM.
    chord_change : np.ndarray [shape=(beats,)] harmonic change at the beats, or None.

    The snare-dominated onsets (snare squared over all drum onsets) recur every 2 tracked beats
    for a backbeat, every 4 or 8 when the tracker is on eighth notes (contrasts relative to their
    mean, :func:`phase_contrast`); the kick alternating with the snare marks the beat level; a
    snare on every tracked beat (its share of the drum onsets) or kicks and hats as strong between
    the beats as on them (log ratio on/off the grid) mark a grid on half notes; chords change
    every 4 beats (contrast in standard deviations); the tempo itself carries the prior.
    """
    eps = 1e-12
    kick, snare, _ = drums
    total = drums.sum(axis=0) + eps
    x = snare * snare / total
    snare_c = [phase_contrast(x, p)[0] / (x.mean() + eps) for p in (2, 4, 8)]
    k = kick / total
    kick_c = phase_contrast(k, 2)[0] / (k.mean() + eps)
    on_off = np.log((drums[:, :-1].mean(axis=1) + eps) / (between.mean(axis=1) + eps)) \
        if between.shape[1] else np.zeros(3)
    chord_c = [0.0, 0.0, 0.0]
    if chord_change is not None and chord_change.std() > eps:
        chord_c = [phase_contrast(chord_change / chord_change.std(), p)[0] for p in (2, 4, 8)]
    lt = np.log2(max(tempo_bpm, 1.0) / 120.0)
    return np.array([*snare_c, kick_c, snare.mean() / total.mean(), *np.clip(on_off, -5, 5),
                     *chord_c, lt, lt * lt])


#: The metrical-level model: multinomial logistic regression over :data:`LEVEL_FACTORS` on the
#: standardised :func:`level_features` (weights [shape=(3, 14)], the last column the bias).
#: First fitted by ``scripts/fit_metrical_level.py`` (l2=3) on the 435 songs with drums of 19
#: generated v2-era development datasets plus 75 rendered drum clips (held out one dataset at a
#: time: 0.986 of 440 songs at the annotated tempo); its standardisation kept, the weights were
#: then refitted around it (``--prior``, l2=10) on the 151 songs with drums of six training sets
#: of generators 3 and 2 (v3 s0 2-hour build, s1780, s1700, s1701; v2_train, v2_dev) plus the 80
#: clips. Held out one set at a time it chose the annotated tempo for 0.854 of those 151 songs
#: (the first fit: 0.841); on the development sets never fitted on (s1741 and s1800, held-out
#: sources; s1740) 21 of 24 songs with drums (the first fit: 19). docs/structure.md.
LEVEL_MEAN = np.array([
    1.1506, 0.4844, 0.4793, 0.8763, 0.5610, 1.4926, 1.8854,
    0.8629, 0.3061, 1.0259, 0.4377, -0.0821, 0.1477,
])
LEVEL_STD = np.array([
    0.5585, 0.8225, 0.9047, 0.6088, 0.1166, 1.4976, 0.7161,
    1.1248, 0.2129, 0.6844, 0.4540, 0.3755, 0.1868,
])
LEVEL_WEIGHTS = np.array([
    [0.4695, 1.1271, 0.9523, 0.0562, 0.1501, 0.2169, 0.2338,
     0.1965, 0.2025, -0.0010, 0.6663, 0.0992, 0.1221, -0.7985],
    [0.2904, -0.5850, -0.7724, 0.2334, -0.1441, 0.0336, 0.1501,
     0.2568, -0.3275, 1.0757, -0.3420, 0.1435, -0.3116, 2.2893],
    [-0.7599, -0.5421, -0.1799, -0.2896, -0.0060, -0.2505, -0.3840,
     -0.4534, 0.1249, -1.0747, -0.3243, -0.2427, 0.1895, -1.4907],
])


def level_scores(features: np.ndarray, model=None) -> np.ndarray:
    """Logits of :data:`LEVEL_FACTORS` from :func:`level_features` [shape=(..., 13)] ->
    [shape=(..., 3)], by ``model = (mean, std, weights)`` (default the fitted
    :data:`LEVEL_MEAN`, :data:`LEVEL_STD`, :data:`LEVEL_WEIGHTS`)."""
    mean, std, weights = model or (LEVEL_MEAN, LEVEL_STD, LEVEL_WEIGHTS)
    z = (np.asarray(features) - mean) / std
    return z @ weights[:, :-1].T + weights[:, -1]


def _level_from_drums(drums: np.ndarray, between: np.ndarray, tempo_bpm: float, allowed,
                      chord_change: np.ndarray | None) -> tuple[float, int]:
    """Metrical-level factor (one of :data:`LEVEL_FACTORS` that ``allowed(factor)`` admits) and
    phase from the kick, snare and hi-hat strengths at the tracked beats [shape=(3, beats)] and
    half-way between them [shape=(3, beats - 1)], and the chord change at the beats, by the
    fitted model (:data:`LEVEL_WEIGHTS`). When halving, the kept beats are those of the phase
    where kicks and snares are stronger (the off-beat eighth notes carry the hats)."""
    scores = level_scores(level_features(drums, between, tempo_bpm, chord_change))
    logits = np.where([allowed(f) for f in LEVEL_FACTORS], scores, -np.inf)
    factor = LEVEL_FACTORS[int(np.argmax(logits))]
    strength = drums[0] + drums[1]
    return factor, int(strength[1::2].mean() > strength[0::2].mean())


def _level_from_chords(change: np.ndarray, allowed, *,
                       chord_min: float) -> tuple[float | None, int]:
    """Tempo factor and the index of a chord change from the harmonic change at each tracked
    beat: chords change on bar lines, every 4 beats (Goto & Muraoka 1999, "Real-time beat
    tracking for drumless audio signals: chord change detection for musical decisions"), so a
    change every 2, 6 or 8 tracked beats means the factor 2, 2/3 or 1/2 (among those
    ``allowed(factor)`` admits)."""
    scale = change.std()
    periods = [p for p in (2, 4, 6, 8) if allowed(4.0 / p)]
    if scale < 1e-12 or not periods:
        return None, 0
    contrast = {p: phase_contrast(change / scale, p) for p in periods}
    period = max(contrast, key=lambda p: contrast[p][0])
    if contrast[period][0] < chord_min:
        return None, 0
    return 4.0 / period, contrast[period][1]


def choose_metrical_level(beats_s: np.ndarray, tempo_bpm: float, *, drums_at=None,
                          chord_change=None, bpm_range=BPM_RANGE, chord_min: float = 0.9
                          ) -> tuple[np.ndarray, float]:
    """Move the beat grid to half or double tempo when the tracker chose the wrong metrical
    level; returns ``(beats_s, tempo_bpm)``.

    In popular music the beat is the level at which the snare marks every second beat (the
    backbeat), or every fourth in a half-time feel. Evidence:

    1. with drums (``drums_at(times_s)`` -> [shape=(3, n)] kick, snare, hi-hat onset strength
       near each time), the fitted metrical-level model weighs the snare's recurrence every 2, 4
       or 8 tracked beats, the kick's alternation, the snare's share of the drum onsets, the
       drums half-way between the beats, the chord changes and the tempo
       (:func:`level_features`, :data:`LEVEL_WEIGHTS`);
    2. without drums, chords (``chord_change(beats_s)`` -> [shape=(n,)] harmonic change per
       beat): chords changing every 8 tracked beats halve, every 2 double, every 6 give 2/3 of
       the tempo (the tracker on triplets of a 4/4 song), every 4 keep (when the recurrence
       contrast, in standard deviations of the change, reaches ``chord_min``);
    3. only levels within ``bpm_range`` are weighed (:func:`level_allowed`), and a tempo below
       the range is doubled (a tracker on half notes of a slow song).
    """
    beats_s = np.asarray(beats_s, dtype=float)

    def allowed(f):
        return level_allowed(f, tempo_bpm, bpm_range)

    factor, phase = None, 0
    if len(beats_s) >= 16:
        if drums_at is not None:
            factor, phase = _level_from_drums(
                drums_at(beats_s), drums_at(0.5 * (beats_s[:-1] + beats_s[1:])), tempo_bpm,
                allowed, chord_change(beats_s) if chord_change is not None else None)
        elif chord_change is not None:
            factor, phase = _level_from_chords(chord_change(beats_s), allowed, chord_min=chord_min)
    if tempo_bpm < bpm_range[0]:
        factor, phase = 2.0, 0
    if factor is None or factor == 1.0 or not allowed(factor) or len(beats_s) < 2:
        return beats_s, tempo_bpm
    # The new grid at fractional indices of the tracked one, through beat ``phase``.
    step = 1.0 / factor
    idx = np.arange(phase % step, len(beats_s) - 1 + 1e-9, step)
    return np.interp(idx, np.arange(len(beats_s)), beats_s), tempo_bpm * factor


def extend_beat_grid(beats_s: np.ndarray, tempo_bpm: float, active, *, duration_s: float) -> np.ndarray:
    """Continue the beat grid at the tempo before the first and after the last tracked beat,
    as far as ``active(t)`` (a vectorised predicate: is the music playing at time ``t``?) holds.

    The tracker finds no beats in parts without onsets (a pad intro, a held outro), but the
    song's metre runs on through them; this assumes a constant tempo there.
    """
    if len(beats_s) < 2 or tempo_bpm <= 0:
        return beats_s
    period = 60.0 / tempo_bpm
    slack = 0.05 * period  # a beat a hair before 0 s is the song's first beat
    before = beats_s[0] - period * np.arange(1, int((beats_s[0] + slack) / period) + 1)
    after = beats_s[-1] + period * np.arange(1, int((duration_s - beats_s[-1]) / period) + 1)
    before = np.maximum(before[before >= -slack], 0.0)
    after = after[after < duration_s]
    keep_before = np.cumprod(active(before)).astype(bool) if len(before) else before.astype(bool)
    keep_after = np.cumprod(active(after)).astype(bool) if len(after) else after.astype(bool)
    return np.concatenate([before[keep_before][::-1], beats_s, after[keep_after]])


def beat_sync_peak(env: np.ndarray, beat_frames: np.ndarray, *, radius: int = 2) -> np.ndarray:
    """Maximum of a per-frame envelope within ``radius`` frames of each beat, [shape=(beats,)]."""
    idx = np.clip(beat_frames[:, None] + np.arange(-radius, radius + 1)[None, :], 0, len(env) - 1)
    return env[idx].max(axis=1)


def harmonic_change(chroma: np.ndarray, chroma_frames: np.ndarray, *, span: int = 2) -> np.ndarray:
    """Chroma change at each beat: 1 - cosine similarity of the ``span`` beats before and after.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, frames)].
    chroma_frames : np.ndarray [shape=(beats,)] beat positions in chroma frames.
    """
    n_beats = len(chroma_frames)
    bounds = np.concatenate([chroma_frames, [chroma.shape[1]]])
    sync = np.stack([chroma[:, bounds[i]:max(bounds[i + 1], bounds[i] + 1)].mean(axis=1)
                     for i in range(n_beats)], axis=1) if n_beats else np.zeros((12, 0))
    sync = np.nan_to_num(sync)
    cum = np.concatenate([np.zeros((12, 1)), np.cumsum(sync, axis=1)], axis=1)
    out = np.zeros(n_beats)
    for i in range(span, n_beats - span + 1):
        before = cum[:, i] - cum[:, i - span]
        after = cum[:, i + span] - cum[:, i]
        denom = np.linalg.norm(before) * np.linalg.norm(after)
        out[i] = 1.0 - float(before @ after) / denom if denom > 0 else 0.0
    return out


def chord_change_rate(change: np.ndarray) -> float:
    """Fraction of beats with a chord change: :func:`harmonic_change` values [shape=(beats,)]
    above half their 95th percentile (0..1; 0 without change). Chords changing on bar lines give
    1/4 to 1/8 in principle; measured on the development sets, 0.17-0.44 on generated drumless
    songs (chords every bar or two) and 0.28-0.55 on music21 chorales (a chord on most beats)."""
    change = np.asarray(change, dtype=float)
    top = np.quantile(change, 0.95) if len(change) else 0.0
    return float(np.mean(change > 0.5 * top)) if top > 0 else 0.0


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-12 else np.zeros_like(x)


def downbeat_scores(low_onset: np.ndarray, chord_change: np.ndarray, *,
                    harmony_weight: float = 1.0) -> np.ndarray:
    """Per-beat downbeat evidence: z-scored low-frequency onset plus weighted harmonic change."""
    return _zscore(low_onset) + harmony_weight * _zscore(chord_change)


def meter_contrast(scores: np.ndarray, beats_per_bar: int) -> float:
    """How strongly the scores repeat with period ``beats_per_bar``: best phase mean minus the mean
    of the other phases."""
    if len(scores) < 2 * beats_per_bar:
        return 0.0
    means = [scores[p::beats_per_bar].mean() for p in range(beats_per_bar)]
    best = int(np.argmax(means))
    others = np.delete(np.array(means), best)
    return float(means[best] - others.mean())


def choose_meter(scores: np.ndarray, *, compound: bool = False) -> int:
    """Beats per bar with the strongest periodic contrast, weighted by a prior for 4: 3 or 4
    (:data:`METERS`), or for a beat divided in three (``compound``) 2 or 4
    (:data:`COMPOUND_METERS`: 6/8 or 12/8)."""
    meters, prior = (COMPOUND_METERS, _COMPOUND_PRIOR) if compound else (METERS, _METER_PRIOR)
    return max(meters, key=lambda m: prior[m] * meter_contrast(scores, m))


def compound_bar(scores: np.ndarray, chord_change: np.ndarray, *,
                 mid_bar_max: float = 0.75) -> int:
    """Counted beats per bar of a beat divided in three: 4 (12/8) or 2 (6/8).

    The drums of 12/8 (kick on 1 and 3, snare on 2 and 4) are those of two bars of 6/8; the
    chords tell them apart: a 12/8 bar keeps its chord through beat 3, so the harmonic change
    there (``chord_change`` [shape=(beats,)], two beats after the strongest phase of ``scores``
    at period 4) stays under ``mid_bar_max`` times the change on the downbeat. Without chord
    changes, :func:`choose_meter` decides.
    """
    change = np.asarray(chord_change, dtype=float)
    if len(scores) < 8 or change.std() < 1e-12:
        return choose_meter(scores, compound=True)
    phase = phase_contrast(np.asarray(scores, dtype=float), 4)[1]
    on, mid = change[phase::4].mean(), change[(phase + 2) % 4::4].mean()
    return 4 if mid < mid_bar_max * on else 2


def viterbi_downbeats(scores: np.ndarray, beats_per_bar: int) -> np.ndarray:
    """Indices of the beats that are downbeats, by Viterbi decoding of the bar position.

    States are the bar positions ``0 .. beats_per_bar-1``; each beat advances the position by one
    (probability ~1) or jumps to any position (log-probability ``_LOG_BREAK``). Position 0 emits
    the downbeat score, the others emit its negative share, so the path follows the accents.
    """
    n, m = len(scores), beats_per_bar
    if n == 0:
        return np.zeros(0, dtype=int)
    emit = np.zeros((n, m))
    emit[:, 0] = scores
    emit[:, 1:] = -scores[:, None] / (m - 1)
    delta = emit[0].copy()
    back = np.zeros((n, m), dtype=int)
    for i in range(1, n):
        advance = np.roll(delta, 1)  # from position p-1 to p
        jump_from = int(np.argmax(delta))
        jump = delta[jump_from] + _LOG_BREAK
        take_jump = jump > advance
        back[i] = np.where(take_jump, jump_from, (np.arange(m) - 1) % m)
        delta = np.maximum(advance, jump) + emit[i]
    path = np.zeros(n, dtype=int)
    path[-1] = int(np.argmax(delta))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return np.flatnonzero(path == 0)


#: Fractions of the beat interval where :func:`subdivision_strength` reads the onsets.
SUBDIVISION_FRACTIONS = (1 / 3, 1 / 2, 2 / 3)


def subdivision_strength(onset_env: np.ndarray, beat_frames: np.ndarray, *,
                         radius: int = 1) -> np.ndarray:
    """Onset strength inside the beats at 1/3, 1/2 and 2/3 of each beat interval, relative to
    that on the beats, [shape=(3,)] in the order of :data:`SUBDIVISION_FRACTIONS`.

    Each value is the mean over the beat intervals of the envelope's peak within ``radius``
    frames of that fraction, over the mean peak at the beats (0 with fewer than three beats).
    A beat divided in two (simple meter, straight eighths) peaks at 1/2; one divided in three
    (compound meter: three eighths to the dotted quarter) at both 1/3 and 2/3; a swung or
    shuffled simple beat at 2/3 alone.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(frames,)] onset strength.
    beat_frames : np.ndarray [shape=(beats,)] beat positions in envelope frames.
    """
    beat_frames = np.asarray(beat_frames, dtype=float)
    if len(beat_frames) < 3 or not len(onset_env):
        return np.zeros(len(SUBDIVISION_FRACTIONS))
    start, ibi = beat_frames[:-1], np.diff(beat_frames)
    on = beat_sync_peak(onset_env, np.round(beat_frames).astype(int), radius=radius).mean()
    out = [beat_sync_peak(onset_env, np.round(start + f * ibi).astype(int), radius=radius).mean()
           for f in SUBDIVISION_FRACTIONS]
    return np.array(out) / on if on > 0 else np.zeros(len(SUBDIVISION_FRACTIONS))


def triple_division_score(strength: np.ndarray) -> float:
    """Log ratio of the weaker of the onsets at 1/3 and 2/3 of the beat to the onset at 1/2
    (from :func:`subdivision_strength`): above 0 the beat divides in three. Taking the weaker of
    the two keeps a shuffle (an off-beat at 2/3 only) duple."""
    third, half, two_thirds = np.asarray(strength, dtype=float)
    return float(np.log((min(third, two_thirds) + 1e-3) / (half + 1e-3)))


def level_probabilities(beats_s: np.ndarray, tempo_bpm: float, *, drums_at=None,
                        chord_change=None, bpm_range=BPM_RANGE,
                        chord_sharpness: float = 2.0) -> dict[float, float]:
    """How likely each of :data:`LEVEL_FACTORS` times the grid ``beats_s`` at ``tempo_bpm`` is
    the beat, ``{factor: probability}`` over the allowed levels (:func:`level_allowed`; the
    factor 1 always allowed); an empty dict without evidence (no drums, no chords, or fewer than
    16 beats).

    With drums it is the fitted metrical-level model's softmax (:func:`level_scores`); without,
    a softmax of ``chord_sharpness`` times the chords' recurrence contrast every 8, 4 or 2 beats
    (:func:`phase_contrast`, in standard deviations: factors 1/2, 1, 2). Asked of the grid that
    :func:`choose_metrical_level` chose, it measures how sure that choice is.
    """
    beats_s = np.asarray(beats_s, dtype=float)
    if len(beats_s) < 16:
        return {}
    allowed = [f for f in LEVEL_FACTORS
               if f == 1.0 or bpm_range[0] <= tempo_bpm * f <= bpm_range[1]]
    if drums_at is not None:
        mid = 0.5 * (beats_s[:-1] + beats_s[1:])
        logits = level_scores(level_features(
            drums_at(beats_s), drums_at(mid), tempo_bpm,
            chord_change(beats_s) if chord_change is not None else None))
        logits = dict(zip(LEVEL_FACTORS, logits))
    elif chord_change is not None:
        change = chord_change(beats_s)
        if change.std() < 1e-12:
            return {}
        logits = {f: chord_sharpness * phase_contrast(change / change.std(), int(4 / f))[0]
                  for f in LEVEL_FACTORS}
    else:
        return {}
    z = np.array([logits[f] for f in allowed])
    p = np.exp(z - z.max())
    return dict(zip(allowed, (p / p.sum()).tolist()))


def tempo_confidence(probabilities: dict[float, float], tempo_bpm: float
                     ) -> tuple[float, list[float]]:
    """``(confidence, candidates_bpm)`` from :func:`level_probabilities`: the probability of the
    chosen level (factor 1) minus that of the likeliest other (0..1; 0 without evidence), and
    the two likeliest tempi, best first."""
    if not probabilities or tempo_bpm <= 0:
        return 0.0, []
    ranked = sorted(probabilities, key=probabilities.get, reverse=True)
    keep = probabilities.get(1.0, 0.0)
    other = max((p for f, p in probabilities.items() if f != 1.0), default=0.0)
    alt = next((f for f in ranked if f != 1.0), None)
    candidates = [tempo_bpm] + ([tempo_bpm * alt] if alt is not None else [])
    if ranked[0] != 1.0:  # the model prefers another level for the chosen grid
        candidates = candidates[::-1]
    return float(np.clip(keep - other, 0.0, 1.0)), [round(c, 3) for c in candidates]
