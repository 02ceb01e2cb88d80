"""Procedural test songs with exact annotations, for tests and benchmarks of the structure analysis.

A song is built from four additive-synthesis stems (``drums``: kick/snare/hat, ``bass``: sine plus
harmonics on the chord root, ``other``: sustained triads, ``vocals``: a vibrato lead line), a list of
labelled sections and a chord progression per section. Every onset, downbeat, section boundary and
the key are known exactly, so it measures the analysis without listening. It is a fixture, not a
training set: the data generator in :mod:`mixassist.datasets` renders realistic songs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError
from .tonality import PITCH_CLASSES, pitch_class  # noqa: F401  (PITCH_CLASSES: benchmarks)

#: Scale-degree triads (root offset in semitones, quality) per mode.
_DEGREES = {
    "major": {"I": (0, "maj"), "ii": (2, "min"), "iii": (4, "min"), "IV": (5, "maj"),
              "V": (7, "maj"), "vi": (9, "min")},
    "minor": {"i": (0, "min"), "iv": (5, "min"), "v": (7, "min"), "III": (3, "maj"),
              "VI": (8, "maj"), "VII": (10, "maj")},
}
_PROGRESSIONS = {
    "major": {"intro": ("I", "IV"), "verse": ("vi", "IV", "I", "V"), "pre-chorus": ("ii", "V"),
              "chorus": ("I", "V", "vi", "IV"), "bridge": ("IV", "iii", "ii", "V"),
              "breakdown": ("vi", "IV"), "outro": ("IV", "I")},
    "minor": {"intro": ("i", "VI"), "verse": ("i", "VI", "III", "VII"), "pre-chorus": ("iv", "v"),
              "chorus": ("VI", "VII", "i", "i"), "bridge": ("iv", "VI", "v", "v"),
              "breakdown": ("i", "iv"), "outro": ("VI", "i")},
}
#: Which stems play in which section type (the arrangement the analysis should recover).
_ARRANGEMENT = {
    "intro": ("other",), "verse": ("drums", "bass", "other", "vocals"),
    "pre-chorus": ("drums", "bass", "other"), "chorus": ("drums", "bass", "other", "vocals"),
    "bridge": ("bass", "other", "vocals"), "breakdown": ("other",), "outro": ("other", "bass"),
}
DEFAULT_FORM = (("intro", 8), ("verse", 16), ("pre-chorus", 4), ("chorus", 16), ("verse", 16),
                ("pre-chorus", 4), ("chorus", 16), ("bridge", 8), ("chorus", 16), ("outro", 8))


@dataclass
class SyntheticSong:
    """Stems and exact annotations of a procedural song (times in seconds)."""

    stems: dict[str, np.ndarray]
    sr: int
    tempo_bpm: float
    beats_per_bar: int
    beats_s: np.ndarray
    downbeats_s: np.ndarray
    key: str
    sections: list[dict] = field(default_factory=list)

    @property
    def mix(self) -> np.ndarray:
        """The exact sum of the stems, ``np.ndarray [shape=(2, samples)]``."""
        return sum(self.stems.values())


def _env(n: int, sr: int, *, attack_ms: float, decay_ms: float) -> np.ndarray:
    t = np.arange(n) / sr
    return np.minimum(t / (attack_ms / 1000.0), 1.0) * np.exp(-t / (decay_ms / 1000.0))


def _tone(freq_hz: float, n: int, sr: int, *, partials=(1.0, 0.5, 0.25), vibrato_hz=0.0,
          rng=None) -> np.ndarray:
    t = np.arange(n) / sr
    phase = 2 * np.pi * freq_hz * t
    if vibrato_hz:
        phase += 0.3 * np.sin(2 * np.pi * vibrato_hz * t)
    offset = rng.uniform(0, 2 * np.pi) if rng is not None else 0.0
    return sum(a * np.sin((k + 1) * phase + offset) for k, a in enumerate(partials))


def _add(buf: np.ndarray, start: int, sig: np.ndarray) -> None:
    end = min(len(buf), start + len(sig))
    if end > start:
        buf[start:end] += sig[:end - start]


def synthetic_song(*, tempo_bpm: float = 120.0, key: str = "C major", beats_per_bar: int = 4,
                   form=DEFAULT_FORM, sr: int = 22050, seed: int = 0,
                   swing: float = 0.0) -> SyntheticSong:
    """Render a procedural song with exact annotations.

    Parameters
    ----------
    tempo_bpm : beats per minute (40-240).
    key : ``"<tonic> major|minor"`` with a sharp spelling, e.g. ``"F# minor"``.
    beats_per_bar : 3 or 4.
    form : sequence of ``(label, bars)`` pairs; labels from the section vocabulary.
    sr : sample rate in Hz.
    seed : seeds the timbral variation (phases, velocities, melody).
    swing : delay of off-beat hats as a fraction of half a beat (0 = straight).

    Returns
    -------
    SyntheticSong with stereo float32 stems ``drums, bass, other, vocals``.
    """
    if not 40 <= tempo_bpm <= 240:
        raise ParameterError(f"tempo_bpm={tempo_bpm} is outside 40-240")
    if beats_per_bar not in (3, 4):
        raise ParameterError(f"beats_per_bar={beats_per_bar}; use 3 or 4")
    tonic_name, mode = key.split()
    tonic = pitch_class(tonic_name)
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / tempo_bpm
    total_beats = sum(bars for _, bars in form) * beats_per_bar
    n = int(np.ceil((total_beats * beat_s + 2.0) * sr))
    bufs = {name: np.zeros(n) for name in ("drums", "bass", "other", "vocals")}
    scale = np.array([0, 2, 4, 5, 7, 9, 11] if mode == "major" else [0, 2, 3, 5, 7, 8, 10])
    kick = np.sin(2 * np.pi * np.cumsum(np.linspace(120, 45, int(0.25 * sr))) / sr)
    kick *= _env(len(kick), sr, attack_ms=1, decay_ms=70)
    snare_n = int(0.2 * sr)
    hat_n = int(0.05 * sr)

    beats, downbeats, sections = [], [], []
    beat_index = 0
    for label, bars in form:
        start_s = beat_index * beat_s
        plays = _ARRANGEMENT[label]
        prog = _PROGRESSIONS[mode][label]
        for bar in range(bars):
            degree, quality = _DEGREES[mode][prog[bar % len(prog)]]
            root = tonic + degree
            third = 3 if quality == "min" else 4
            bar_s = beat_index * beat_s
            downbeats.append(bar_s)
            bar_n = int(beats_per_bar * beat_s * sr)
            b0 = int(round(bar_s * sr))
            if "other" in plays:
                for semis in (0, third, 7):
                    f = 261.63 * 2 ** ((root + semis) % 12 / 12)
                    pad = _tone(f, bar_n, sr, partials=(0.5, 0.2, 0.1), rng=rng)
                    _add(bufs["other"], b0, 0.08 * pad * _env(bar_n, sr, attack_ms=30,
                                                              decay_ms=4000))
            for beat in range(beats_per_bar):
                t = beat_index * beat_s
                beats.append(t)
                s0 = int(round(t * sr))
                vel = rng.uniform(0.85, 1.0)
                if "drums" in plays:
                    if beat == 0 or (beats_per_bar == 4 and beat == 2):
                        _add(bufs["drums"], s0, 0.6 * vel * kick)
                    if (beats_per_bar == 4 and beat in (1, 3)) or (beats_per_bar == 3 and beat):
                        noise = rng.standard_normal(snare_n)
                        _add(bufs["drums"], s0, 0.25 * vel * noise * _env(
                            snare_n, sr, attack_ms=1, decay_ms=40))
                    for half in (0, 1):
                        h0 = s0 + int(round((half * (0.5 + 0.5 * swing)) * beat_s * sr))
                        hat = np.diff(rng.standard_normal(hat_n + 1))
                        _add(bufs["drums"], h0, 0.04 * hat * _env(hat_n, sr, attack_ms=0.5,
                                                                   decay_ms=10))
                if "bass" in plays:
                    f = 55.0 * 2 ** (((root - 9) % 12) / 12)
                    note_n = int(beat_s * sr * 0.9)
                    tone = _tone(f, note_n, sr, partials=(1.0, 0.4, 0.2), rng=rng)
                    _add(bufs["bass"], s0, 0.22 * vel * tone * _env(note_n, sr, attack_ms=5,
                                                                    decay_ms=400))
                if "vocals" in plays and rng.uniform() < 0.8:
                    degree_i = rng.integers(0, 7)
                    f = 523.25 * 2 ** ((tonic + scale[degree_i]) % 12 / 12)
                    note_n = int(beat_s * sr * 0.95)
                    tone = _tone(f, note_n, sr, partials=(1.0, 0.3, 0.1), vibrato_hz=5.5, rng=rng)
                    _add(bufs["vocals"], s0, 0.1 * tone * _env(note_n, sr, attack_ms=20,
                                                               decay_ms=800))
                beat_index += 1
        sections.append({"start_s": start_s, "end_s": beat_index * beat_s, "label": label})

    pans = {"drums": 0.0, "bass": 0.0, "other": -0.3, "vocals": 0.2}
    stems = {}
    for name, mono in bufs.items():
        left, right = np.sqrt(0.5 * (1 - pans[name])), np.sqrt(0.5 * (1 + pans[name]))
        stems[name] = np.stack([left * mono, right * mono]).astype(np.float32)
    return SyntheticSong(stems=stems, sr=sr, tempo_bpm=float(tempo_bpm),
                         beats_per_bar=beats_per_bar, beats_s=np.array(beats),
                         downbeats_s=np.array(downbeats), key=key, sections=sections)


def drum_pattern(tempo_bpm: float, sr: int, seconds: float, *, kick, snare, hats,
                 seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A drum stem on a 16-step bar grid: ``kick``, ``snare``, ``hats`` are the steps (0-15) each
    piece plays, 3 dB softer off the beat; kick = pitch-swept sine, snare = 200 Hz body plus a
    noise burst, hat = a short high-passed noise click. The first beat is at 0.25 s.

    Returns ``(audio [shape=(1, samples)] float32, beat times [shape=(beats,)] in s)``.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    y = 1e-4 * rng.standard_normal(n)
    step = 60.0 / tempo_bpm / 4
    t = np.arange(int(0.2 * sr)) / sr
    sounds = {
        "kick": 0.8 * np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 25),
        "snare": (0.3 * np.sin(2 * np.pi * 200 * t) + 0.4 * rng.standard_normal(len(t)))
        * np.exp(-t * 30),
        "hats": 0.15 * np.diff(rng.standard_normal(len(t) + 1)) * np.exp(-t * 150),
    }
    for name, steps in (("kick", kick), ("snare", snare), ("hats", hats)):
        for k in range(int((seconds - 0.5) / step)):
            if k % 16 in steps:
                s = int(round((0.25 + k * step) * sr))
                seg = sounds[name][:n - s] * (1.0 if k % 4 == 0 else 0.7)
                y[s:s + len(seg)] += seg
    beats = 0.25 + np.arange(0, seconds - 0.5, 4 * step)
    return y[None, :].astype(np.float32), beats


#: Grooves of :func:`groove`: counted beats per bar and eighth notes per counted beat.
GROOVE_METERS = {"4/4": (4, 2), "3/4": (3, 2), "6/8": (2, 3), "12/8": (4, 3)}


def groove(time_signature: str, *, tempo_bpm: float = 100.0, bars: int = 24, sr: int = 22050,
           seed: int = 0) -> SyntheticSong:
    """A drum-and-bass groove in ``time_signature`` (:data:`GROOVE_METERS`) with exact beats and
    downbeats: kick on the downbeat (and on beat 3 of a four-beat bar), snare on the backbeats
    (beats 2 and 4; 3/4: beat 3; 6/8: beat 2), a hat on every eighth note (two to the quarter,
    three to the dotted quarter of 6/8 and 12/8, accented on the counted beat), and a bass note
    plus a sustained triad on every downbeat, the chord changing every bar. ``tempo_bpm`` is the
    counted beat (the dotted quarter in 6/8 and 12/8).

    Returns
    -------
    SyntheticSong with stereo float32 stems ``drums, bass, other``; key C major.
    """
    if time_signature not in GROOVE_METERS:
        raise ParameterError(f"time_signature={time_signature!r}; use one of "
                             f"{', '.join(GROOVE_METERS)}")
    per_bar, division = GROOVE_METERS[time_signature]
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / tempo_bpm
    n = int((bars * per_bar * beat_s + 2.0) * sr)
    bufs = {name: np.zeros(n) for name in ("drums", "bass", "other")}
    t = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 25)
    snare = (0.3 * np.sin(2 * np.pi * 200 * t) + 0.4 * rng.standard_normal(len(t))) \
        * np.exp(-t * 30)
    backbeats = {4: (1, 3), 3: (2,), 2: (1,)}[per_bar]
    roots = (0, 9, 5, 7)  # C, A, F, G
    beats, downbeats = [], []
    for bar in range(bars):
        root = roots[bar % len(roots)]
        b0 = int(round(bar * per_bar * beat_s * sr))
        downbeats.append(bar * per_bar * beat_s)
        bar_n = int(per_bar * beat_s * sr)
        for semis in (0, 4 if root in (0, 5, 7) else 3, 7):
            f = 261.63 * 2 ** ((root + semis) % 12 / 12)
            _add(bufs["other"], b0, 0.06 * _tone(f, bar_n, sr, partials=(0.5, 0.2), rng=rng)
                 * _env(bar_n, sr, attack_ms=20, decay_ms=3000))
        f = 55.0 * 2 ** (((root - 9) % 12) / 12)
        _add(bufs["bass"], b0, 0.25 * _tone(f, bar_n, sr, partials=(1.0, 0.4, 0.2), rng=rng)
             * _env(bar_n, sr, attack_ms=5, decay_ms=600))
        for beat in range(per_bar):
            beat_t = (bar * per_bar + beat) * beat_s
            beats.append(beat_t)
            s0 = int(round(beat_t * sr))
            vel = rng.uniform(0.85, 1.0)
            if beat == 0 or (per_bar == 4 and beat == 2):
                _add(bufs["drums"], s0, 0.7 * vel * kick)
            if beat in backbeats:
                _add(bufs["drums"], s0, 0.6 * vel * snare)
            for k in range(division):
                h0 = s0 + int(round(k / division * beat_s * sr))
                hat = np.diff(rng.standard_normal(int(0.05 * sr) + 1))
                _add(bufs["drums"], h0, (0.08 if k == 0 else 0.06) * hat
                     * _env(int(0.05 * sr), sr, attack_ms=0.5, decay_ms=12))
    stems = {k: np.stack([v, v]).astype(np.float32) for k, v in bufs.items()}
    return SyntheticSong(stems=stems, sr=sr, tempo_bpm=float(tempo_bpm), beats_per_bar=per_bar,
                         beats_s=np.array(beats), downbeats_s=np.array(downbeats), key="C major",
                         sections=[{"start_s": 0.0, "end_s": bars * per_bar * beat_s,
                                    "label": "verse"}])
