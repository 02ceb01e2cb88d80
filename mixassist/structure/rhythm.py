"""Tempo, beats, meter and downbeats from onset-strength envelopes.

Beats come from dynamic-programming beat tracking (Ellis 2007, "Beat tracking by dynamic
programming", J. New Music Research 36(1)) on an onset-strength envelope, as implemented by librosa;
the tempo is then refined by a least-squares fit of beat time against beat index. Downbeats are
the beats whose bar-position accent is highest: each beat gets a downbeat score from the
low-frequency (kick/bass) onset energy and the harmonic change at that beat, the meter is the bar
length (3 or 4 beats) whose periodic grouping of the scores is most contrasted, and a Viterbi pass
over bar positions (a small HMM in the spirit of Krebs, Böck & Widmer 2016) places the downbeats,
recovering from beats the tracker dropped or added.
"""

from __future__ import annotations

import librosa
import numpy as np

#: Meters (beats per bar) considered; 4 is preferred unless 3 is clearly better.
METERS = (4, 3)
_METER_PRIOR = {4: 1.0, 3: 0.8}
#: Log-probability of leaving the regular bar cycle between two beats (Viterbi).
_LOG_BREAK = -6.0


def track_beats(onset_env: np.ndarray, sr: int, *, hop_length: int,
                start_bpm: float = 120.0) -> tuple[float, np.ndarray]:
    """Estimate the tempo and beat positions.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(frames,)] onset strength.
    sr : sample rate of the signal the envelope was computed from, Hz.
    hop_length : envelope hop in samples.
    start_bpm : centre of the log-normal tempo prior, BPM.

    Returns
    -------
    tempo_bpm : refined tempo in BPM (0 when fewer than two beats were found).
    beat_frames : np.ndarray [shape=(beats,)] beat positions in envelope frames.
    """
    if not np.any(onset_env > 0):
        return 0.0, np.zeros(0, dtype=int)
    tempo = float(librosa.feature.tempo(onset_envelope=onset_env, sr=sr, hop_length=hop_length,
                                        start_bpm=start_bpm)[0])
    _, beat_frames = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr,
                                             hop_length=hop_length, bpm=tempo, units="frames")
    return refine_tempo(beat_frames * hop_length / sr, fallback_bpm=tempo), beat_frames


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


def level_ratios(beats_s: np.ndarray, strength_at) -> tuple[float, float]:
    """Accent ratios that tell the tracked metrical level from its neighbours.

    ``strength_at(times_s)`` gives the drum-body (kick/snare) onset strength near each time.
    Returns ``(alternation, between)``: the weaker over the stronger mean strength of alternate
    beats (low when every other beat is only a hat: the tracker is at double tempo), and the
    mean strength half-way between beats over that on the beats (high when kicks and snares fall
    there too: the tracker is at half tempo).
    """
    if len(beats_s) < 8:
        return 1.0, 0.0
    on = strength_at(beats_s)
    even, odd = on[0::2].mean(), on[1::2].mean()
    alternation = min(even, odd) / max(even, odd, 1e-12)
    between = strength_at(0.5 * (beats_s[:-1] + beats_s[1:])).mean() / max(on.mean(), 1e-12)
    return float(alternation), float(between)


def correct_metrical_level(beats_s: np.ndarray, tempo_bpm: float, strength_at, *,
                           halve_below: float = 0.45, empty_between: float = 0.15,
                           empty_min_bpm: float = 140.0, double_above: float = 0.8,
                           bpm_range=(50.0, 200.0)) -> tuple[np.ndarray, float]:
    """Move the beat grid to half or double tempo when the drum accents say the tracker chose
    the wrong metrical level (see :func:`level_ratios`); returns ``(beats_s, tempo_bpm)``.

    In popular styles the beat is defined by the kick/snare pattern: at the beat level both
    alternate beats carry kick or snare and the beats are subdivided (eighth-note hats, ghost
    notes); at double tempo every other beat carries only hats, or (above ``empty_min_bpm``)
    nothing at all falls between the tracked beats (the tracker sits on the subdivision of a
    slow groove); at half tempo kicks and snares also
    fall between the beats.
    """
    if len(beats_s) < 4:  # too few beats to compare alternate ones
        return beats_s, tempo_bpm
    alternation, between = level_ratios(beats_s, strength_at)
    halve = alternation < halve_below or (between < empty_between and tempo_bpm > empty_min_bpm)
    if halve and tempo_bpm / 2 >= bpm_range[0]:
        on = strength_at(beats_s)
        phase = int(on[1::2].mean() > on[0::2].mean())
        return beats_s[phase::2], tempo_bpm / 2
    if between > double_above and tempo_bpm * 2 <= bpm_range[1]:
        grid = np.empty(2 * len(beats_s) - 1)
        grid[0::2] = beats_s
        grid[1::2] = 0.5 * (beats_s[:-1] + beats_s[1:])
        return grid, tempo_bpm * 2
    return beats_s, tempo_bpm


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


def bar_level_ratios(scores: np.ndarray) -> dict[int, float]:
    """:func:`meter_contrast` of the downbeat scores for bar lengths of 2, 3, 4, 6 and 8 beats."""
    return {m: meter_contrast(scores, m) for m in (2, 3, 4, 6, 8)}


def choose_meter(scores: np.ndarray) -> int:
    """Beats per bar (3 or 4) with the strongest periodic contrast, weighted by a prior for 4."""
    return max(METERS, key=lambda m: _METER_PRIOR[m] * meter_contrast(scores, m))


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
