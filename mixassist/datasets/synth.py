"""mixassist's own synthesis voices, for the parts soundfonts play badly: synth bass, leads and
pads, FM keys and bells, wavetables, plucked strings, mallets, and noise effects.

Each voice renders a list of :class:`.song.Note` into ``np.ndarray [shape=(2, samples),
dtype=float32]`` at 44.1 kHz (any rate works) with a :class:`Patch`, a frozen dataclass whose
fields declare their ranges (``field.metadata``): :func:`random_patch` draws one from them,
deterministic for a given generator, and a patch outside them is a :class:`ParameterError`.
A voice is a *source* like a soundfont (``mixassist-synth:<voice>``, :data:`.sources.SYNTHS`;
its licence row is in :data:`.licences.SOURCES`).

Voices (:data:`VOICES`; families are CONTRACT.md instrument families):

- ``subtractive``: PolyBLEP saw / square / pulse oscillators (V. Valimaki and A. Huovilainen,
  "Antialiasing oscillators in subtractive synthesis", IEEE Signal Processing Magazine 2007),
  1 or 3 detuned unison voices (key-synced: in phase at the onset) and a sine sub at the
  fundamental, through a resonant
  state-variable low-pass with a per-sample cutoff envelope (topology-preserving transform,
  V. Zavalishin, *The Art of VA Filter Design*, 2012, ch. 4; 12 or 24 dB/octave), ADSR.
- ``fm``: two-operator FM (J. Chowning, "The synthesis of complex audio spectra by means of
  frequency modulation", JAES 1973): a sine carrier at the note, phase-modulated by a sine at
  ``ratio`` x the note with a decaying index; harmonic ratios for bass / leads / e-pianos,
  inharmonic ones (>= 2, so the carrier stays the lowest partial) for bells.
- ``wavetable``: four band-limited single-cycle tables (additive, drawn from the patch seed)
  morphed by an LFO.
- ``pluck``: Karplus-Strong plucked string (K. Karplus and A. Strong, CMJ 1983; D. Jaffe and J.
  O. Smith, "Extensions of the Karplus-Strong plucked-string algorithm", CMJ 1983): a noise
  burst with pick-position comb into a delay loop with a 3-tap damping filter and a 3rd-order
  Lagrange fractional delay tuned so the loop's phase delay at the note is exactly one period.
- ``mallet``: modal synthesis of a struck bar: exponentially decaying partials at the bar's
  mode ratios (marimba / vibraphone 1:4:10, xylophone 1:3:6, free bar 1:2.76:5.40:8.93),
  higher modes decaying faster, a strike click, vibraphone tremolo.
- ``noise_fx``: unpitched filtered-noise effects (riser, downlifter, impact, sweep): noise made
  in the STFT domain under a moving band-pass mask; a note's pitch is ignored and the sound lasts
  exactly the note.

Every note starts at sample ``round(start_s * sr)``; a part is high-passed at 10 Hz (no DC) and
scaled down only if its peak would pass 0.99.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Callable, ClassVar

import numpy as np
from scipy.signal import butter, istft, lfilter, sosfilt

from ..errors import ParameterError
from .song import Note
from .sources import SYNTH_PREFIX as SOURCE_PREFIX

SAMPLE_RATE = 44100
#: Level of a full-velocity note before the part's peak guard.
NOTE_LEVEL = 0.3
_MIN_NOTE_S = 0.03  # as Song.midi_events: a note lasts at least this long
_SEED_MAX = 2 ** 31 - 1


def _num(lo: float, hi: float, default: float, *, log: bool = False, unit: str = ""):
    """A float parameter drawn uniformly (``log``: log-uniformly) from ``[lo, hi]``."""
    return field(default=default, metadata={"range": (lo, hi), "log": log, "unit": unit})


def _int(lo: int, hi: int, default: int):
    return field(default=default, metadata={"range": (lo, hi), "integer": True})


def _choice(options: tuple, default):
    return field(default=default, metadata={"choices": options})


@dataclass(frozen=True)
class Patch:
    """Base of the voices' patches: validates every field against its declared range."""

    voice: ClassVar[str] = ""

    def __post_init__(self):
        for f in fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if "choices" in meta and value not in meta["choices"]:
                raise ParameterError(f"{type(self).__name__}.{f.name}={value!r}: use one of {meta['choices']}")
            if "range" in meta:
                lo, hi = meta["range"]
                if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
                    raise ParameterError(f"{type(self).__name__}.{f.name}={value!r} is outside [{lo}, {hi}]")

    @classmethod
    def ranges(cls) -> dict[str, tuple]:
        """``{field: (lo, hi)}`` or ``{field: (choice, ...)}``."""
        return {f.name: f.metadata.get("range", f.metadata.get("choices")) for f in fields(cls)}

    def to_json(self) -> dict:
        """``{"voice": name, **fields}``; :func:`patch_from_json` reverses it."""
        return {"voice": self.voice, **asdict(self)}


@dataclass(frozen=True)
class SubtractivePatch(Patch):
    """Analogue-style synth: bass (low cutoff, snappy filter envelope), lead, pad (slow attack)."""

    voice: ClassVar[str] = "subtractive"
    waveform: str = _choice(("saw", "square", "pulse"), "saw")
    pulse_width: float = _num(0.1, 0.5, 0.3)            # duty cycle of ``pulse``
    unison: int = _choice((1, 3), 1)
    detune_cents: float = _num(0.0, 16.0, 0.0, unit="cents")  # outer unison voices at +-detune/2
    sub_level: float = _num(0.0, 0.8, 0.0)              # sine at the fundamental
    cutoff_hz: float = _num(150.0, 8000.0, 1500.0, log=True, unit="Hz")  # at middle C, before envelope
    key_track: float = _num(0.0, 1.0, 0.5)              # cutoff follows pitch^key_track
    resonance_q: float = _num(0.5, 8.0, 0.707, log=True)
    slope_db_oct: int = _choice((12, 24), 24)
    filter_env_octaves: float = _num(0.0, 5.0, 2.0, unit="octaves")
    filter_attack_s: float = _num(0.001, 0.3, 0.002, log=True, unit="s")
    filter_decay_s: float = _num(0.03, 2.0, 0.3, log=True, unit="s")
    attack_s: float = _num(0.001, 1.5, 0.005, log=True, unit="s")
    decay_s: float = _num(0.02, 2.0, 0.2, log=True, unit="s")
    sustain: float = _num(0.0, 1.0, 0.7)
    release_s: float = _num(0.01, 2.0, 0.1, log=True, unit="s")
    vibrato_cents: float = _num(0.0, 20.0, 0.0, unit="cents")
    vibrato_hz: float = _num(3.0, 7.0, 5.0, unit="Hz")
    velocity_sense: float = _num(0.0, 1.0, 0.5)        # 1: velocity 64 is -12 dB and half the filter sweep
    seed: int = _int(0, _SEED_MAX, 0)                   # oscillator start phases


@dataclass(frozen=True)
class FMPatch(Patch):
    """Two-operator FM: bass and leads (ratio 1-3), e-piano / keys (ratio 1, fast index decay),
    bells (inharmonic ratios)."""

    voice: ClassVar[str] = "fm"
    ratio: float = _choice((1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 2.76, 3.46, 4.24), 1.0)  # modulator / carrier
    index: float = _num(0.0, 8.0, 2.0)                  # peak modulation index (radians)
    index_sustain: float = _num(0.0, 1.0, 0.3)          # fraction of ``index`` it decays to
    index_decay_s: float = _num(0.02, 2.0, 0.3, log=True, unit="s")
    attack_s: float = _num(0.001, 1.0, 0.003, log=True, unit="s")
    decay_s: float = _num(0.05, 4.0, 0.8, log=True, unit="s")
    sustain: float = _num(0.0, 1.0, 0.5)
    release_s: float = _num(0.01, 1.5, 0.15, log=True, unit="s")
    vibrato_cents: float = _num(0.0, 20.0, 0.0, unit="cents")
    vibrato_hz: float = _num(3.0, 7.0, 5.0, unit="Hz")
    velocity_sense: float = _num(0.0, 1.0, 0.5)        # scales level and index
    seed: int = _int(0, _SEED_MAX, 0)


@dataclass(frozen=True)
class WavetablePatch(Patch):
    """Four single-cycle tables drawn from ``seed`` (fundamental always the strongest harmonic),
    morphed by an LFO: evolving pads, leads, basses."""

    voice: ClassVar[str] = "wavetable"
    brightness: float = _num(0.5, 2.0, 1.0)            # harmonic h has amplitude ~ h^(-1/brightness)
    morph_start: float = _num(0.0, 1.0, 0.0)            # table position (0 first, 1 last)
    morph_depth: float = _num(0.0, 1.0, 0.5)
    morph_rate_hz: float = _num(0.05, 4.0, 0.5, log=True, unit="Hz")
    attack_s: float = _num(0.001, 1.5, 0.01, log=True, unit="s")
    decay_s: float = _num(0.02, 2.0, 0.3, log=True, unit="s")
    sustain: float = _num(0.0, 1.0, 0.7)
    release_s: float = _num(0.01, 2.0, 0.2, log=True, unit="s")
    vibrato_cents: float = _num(0.0, 20.0, 0.0, unit="cents")
    vibrato_hz: float = _num(3.0, 7.0, 5.0, unit="Hz")
    velocity_sense: float = _num(0.0, 1.0, 0.5)
    seed: int = _int(0, _SEED_MAX, 0)                   # the tables and start phases


@dataclass(frozen=True)
class PluckPatch(Patch):
    """Karplus-Strong string: guitar, bass, harp / pizzicato-like, synth plucks."""

    voice: ClassVar[str] = "pluck"
    decay_s: float = _num(0.3, 8.0, 2.0, log=True, unit="s")  # T60 of the fundamental
    damping: float = _num(0.0, 0.25, 0.1)               # loop low-pass [d, 1-2d, d]: higher is duller
    pick_position: float = _num(0.05, 0.5, 0.2)         # fraction of the string length
    brightness: float = _num(0.1, 1.0, 0.7)             # excitation low-pass (1: white noise burst)
    release_s: float = _num(0.02, 0.5, 0.08, log=True, unit="s")  # fade after note-off (muting)
    velocity_sense: float = _num(0.0, 1.0, 0.5)
    seed: int = _int(0, _SEED_MAX, 0)                   # the excitation noise


#: Mode frequency ratios of struck bars (N. H. Fletcher and T. D. Rossing, *The Physics of Musical
#: Instruments*, 2nd ed. 1998, ch. 19: tuned marimba / vibraphone bars 1:4:10, xylophone 1:3:6,
#: uniform free bar 1:2.76:5.40:8.93 as a glockenspiel).
BARS = {"marimba": (1.0, 3.99, 9.95), "vibraphone": (1.0, 4.0, 10.0), "xylophone": (1.0, 3.0, 6.0),
        "glockenspiel": (1.0, 2.756, 5.404, 8.933)}


@dataclass(frozen=True)
class MalletPatch(Patch):
    """Modal struck bar: marimba, vibraphone (tremolo), xylophone, glockenspiel."""

    voice: ClassVar[str] = "mallet"
    bar: str = _choice(tuple(BARS), "marimba")
    inharmonicity: float = _num(0.0, 0.02, 0.0)         # random relative detuning of modes above the first
    decay_s: float = _num(0.2, 4.0, 1.2, log=True, unit="s")  # T60 of the fundamental
    decay_tilt: float = _num(0.3, 1.5, 0.8)             # mode k decays in decay_s / ratio_k^tilt
    brightness: float = _num(0.0, 1.0, 0.5)             # level of the upper modes
    strike_noise: float = _num(0.0, 0.3, 0.05)          # level of the mallet click
    tremolo_hz: float = _num(1.0, 7.0, 5.0, unit="Hz")
    tremolo_depth: float = _num(0.0, 0.5, 0.0)
    damp_s: float = _num(0.05, 1.0, 0.3, log=True, unit="s")  # T60 after note-off (damper)
    velocity_sense: float = _num(0.0, 1.0, 0.5)
    seed: int = _int(0, _SEED_MAX, 0)


@dataclass(frozen=True)
class NoiseFXPatch(Patch):
    """Filtered-noise effects; a note's pitch is ignored, its duration is the effect's length."""

    voice: ClassVar[str] = "noise_fx"
    kind: str = _choice(("riser", "downlifter", "impact", "sweep"), "riser")
    low_hz: float = _num(60.0, 1000.0, 200.0, log=True, unit="Hz")
    high_hz: float = _num(2000.0, 16000.0, 8000.0, log=True, unit="Hz")
    bandwidth_octaves: float = _num(0.3, 3.0, 1.0, unit="octaves")
    curve: float = _num(0.5, 3.0, 1.5)                  # shape exponent of sweep and level
    sub_level: float = _num(0.0, 1.0, 0.0)              # impact: a falling sine thump (100 -> 40 Hz)
    fade_s: float = _num(0.005, 0.05, 0.01, log=True, unit="s")  # fade in (not impacts) and out
    velocity_sense: float = _num(0.0, 1.0, 0.5)
    seed: int = _int(0, _SEED_MAX, 0)


# ---------------------------------------------------------------------------------- helpers

def _hz(pitch: int) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


def _velocity_gain(velocity: int, sense: float) -> float:
    """0 dB at velocity 127, down to -24 dB x ``sense`` at velocity 0."""
    return 10.0 ** ((min(max(velocity, 0), 127) / 127.0 - 1.0) * 24.0 * sense / 20.0)


def _adsr(n_on: int, n_total: int, sr: int, attack_s: float, decay_s: float, sustain: float,
          release_s: float) -> np.ndarray:
    """Linear attack (its first step on the note's first sample), exponential decay (time
    constant ``decay_s / 3``) to ``sustain``, held to note-off at ``n_on``, then a quadratic
    release to exactly 0 at ``n_on + release``."""
    t = np.arange(1, n_total + 1) / sr
    a = max(attack_s, 1.0 / sr)
    env = np.where(t < a, t / a, sustain + (1.0 - sustain) * np.exp(-(t - a) * 3.0 / decay_s))
    t_off = n_on / sr
    level = t_off / a if t_off < a else sustain + (1.0 - sustain) * math.exp(-(t_off - a) * 3.0 / decay_s)
    rel = t >= t_off
    env[rel] = level * np.clip(1.0 - (t[rel] - t_off) / release_s, 0.0, 1.0) ** 2
    return env


def _phase(f0: float, n: int, sr: int, vibrato_cents: float, vibrato_hz: float, start: float) -> np.ndarray:
    """Running phase in cycles (float64); vibrato fades in over its first 0.3 s."""
    if vibrato_cents <= 0.0:
        return start + np.arange(n) * (f0 / sr)
    t = np.arange(n) / sr
    depth = vibrato_cents / 1200.0 * np.minimum(t / 0.3, 1.0)
    inc = (f0 / sr) * np.exp2(depth * np.sin(2 * np.pi * vibrato_hz * t))
    return start + np.concatenate(([0.0], np.cumsum(inc[:-1])))


def _subtractive_loop(inc, ratios, amps, phases, offset, sub_level, g, k, stages, out):
    """Oscillators and filter of :func:`_subtractive`, compiled by numba (one pass per sample).

    ``inc``: per-sample phase increment (cycles) of the fundamental; unison voice ``v`` runs at
    ``ratios[v]`` times it from phase ``phases[v]`` with level ``amps[v]``: a PolyBLEP saw, or
    (``offset`` > 0) a pulse, the difference of two saws ``offset`` cycles apart, halved. A sine
    at the fundamental is added at ``sub_level``. Then a resonant low-pass, the TPT
    state-variable filter (Zavalishin 2012, fig. 4.6) with per-sample ``g = tan(pi fc / sr)``,
    damping ``k = 1/Q``; ``stages`` 2 adds a second one with Q = 0.707 (24 dB/octave)."""
    n = inc.shape[0]
    ph = phases.copy()
    sub = 0.0
    s1a = s2a = s1b = s2b = 0.0
    kb = 1.4142135623730951
    saws = 2 if offset > 0.0 else 1
    scale = 0.5 if offset > 0.0 else 1.0
    for i in range(n):
        x = 0.0
        for v in range(ratios.shape[0]):
            dt = inc[i] * ratios[v]
            for j in range(saws):
                q = ph[v] + offset * j
                q -= math.floor(q)
                y = 2.0 * q - 1.0
                if q < dt:
                    t = q / dt
                    y -= t + t - t * t - 1.0
                elif q > 1.0 - dt:
                    t = (q - 1.0) / dt
                    y -= t * t + t + t + 1.0
                x += amps[v] * scale * (y if j == 0 else -y)
            ph[v] += dt
            ph[v] -= math.floor(ph[v])
        x += sub_level * math.sin(2.0 * math.pi * sub)
        sub += inc[i]
        sub -= math.floor(sub)
        gi = g[i]
        hp = (x - (k + gi) * s1a - s2a) / (1.0 + gi * (k + gi))
        bp = gi * hp + s1a
        s1a = gi * hp + bp
        lp = gi * bp + s2a
        s2a = gi * bp + lp
        if stages == 2:
            hp = (lp - (kb + gi) * s1b - s2b) / (1.0 + gi * (kb + gi))
            bp = gi * hp + s1b
            s1b = gi * hp + bp
            lp = gi * bp + s2b
            s2b = gi * bp + lp
        out[i] = lp


@functools.cache
def _subtractive_kernel():
    """:func:`_subtractive_loop` compiled (numba, cached on disk); imported on first use."""
    import numba

    return numba.njit(nogil=True, cache=True)(_subtractive_loop)


# ------------------------------------------------------------------------------------ voices

def _subtractive(note: Note, n_on: int, sr: int, p: SubtractivePatch, rng: np.random.Generator) -> np.ndarray:
    f0 = _hz(note.pitch)
    n = n_on + int(math.ceil(p.release_s * sr)) + 1
    starts = np.full(3, rng.random())  # key-synced: in phase at the onset, so unison beats are
    # amplitude only (a spectrum symmetric about each harmonic: the pitch centre stays on the note)
    cents = [0.0] if p.unison == 1 else [0.0, -p.detune_cents / 2, p.detune_cents / 2]
    amps = np.array([1.0] if p.unison == 1 else [1.0, 0.7, 0.7])
    phase = _phase(f0, n + 1, sr, p.vibrato_cents, p.vibrato_hz, 0.0)
    inc = np.diff(phase) if p.vibrato_cents > 0 else np.full(n, f0 / sr)
    # cutoff: base (key-tracked) x 2^(envelope octaves x attack-decay envelope x velocity)
    vel = _velocity_gain(note.velocity, p.velocity_sense)
    t = np.arange(n) / sr
    fa = max(p.filter_attack_s, 1.0 / sr)
    fenv = np.where(t < fa, t / fa, np.exp(-(t - fa) * 3.0 / p.filter_decay_s))
    base = p.cutoff_hz * (f0 / 261.63) ** p.key_track
    cutoff = np.clip(base * np.exp2(p.filter_env_octaves * (0.5 + 0.5 * vel) * fenv), 1.5 * f0, 0.45 * sr)
    offset = {"saw": 0.0, "square": 0.5, "pulse": p.pulse_width}[p.waveform]
    y = np.empty(n)
    _subtractive_kernel()(inc, 2.0 ** (np.array(cents) / 1200.0), amps / amps.sum(), starts[:amps.size],
                          offset, p.sub_level, np.tan(np.pi * cutoff / sr), 1.0 / p.resonance_q,
                          p.slope_db_oct // 12, y)
    return y * _adsr(n_on, n, sr, p.attack_s, p.decay_s, p.sustain, p.release_s) * vel


def _fm(note: Note, n_on: int, sr: int, p: FMPatch, rng: np.random.Generator) -> np.ndarray:
    f0 = _hz(note.pitch)
    n = n_on + int(math.ceil(p.release_s * sr)) + 1
    vel = _velocity_gain(note.velocity, p.velocity_sense)
    phase = _phase(f0, n, sr, p.vibrato_cents, p.vibrato_hz, rng.random())
    t = np.arange(n) / sr
    # Carson's rule: keep the sidebands (bandwidth ~ 2 (I + 1) f_mod) below 0.45 sr (no aliasing)
    index = min(p.index * (0.5 + 0.5 * vel), max(0.0, 0.45 * sr / (p.ratio * f0) - 1.0))
    env_i = index * (p.index_sustain + (1.0 - p.index_sustain) * np.exp(-t / p.index_decay_s))
    y = np.sin(2 * np.pi * phase + env_i * np.sin(2 * np.pi * p.ratio * phase))
    return y * _adsr(n_on, n, sr, p.attack_s, p.decay_s, p.sustain, p.release_s) * vel


_TABLE_SIZE = 2048
_N_TABLES = 4


@functools.lru_cache(maxsize=64)
def _table_spectra(seed: int, brightness: float) -> np.ndarray:
    """(4, 256) harmonic amplitudes of the patch's tables: a slope, random jitter, an even/odd
    balance and a formant bump per table; harmonic 1 is always 1 (the strongest)."""
    rng = np.random.default_rng([seed, 7])
    h = np.arange(1, 257, dtype=float)
    spectra = []
    for _ in range(_N_TABLES):
        slope = rng.uniform(0.6, 1.6) / brightness
        amp = h ** -slope * rng.uniform(0.3, 1.0, h.size)
        amp[1::2] *= rng.uniform(0.0, 1.0)  # even harmonics: from square-like to saw-like
        centre, width = rng.uniform(2, 24), rng.uniform(1, 6)
        amp *= 1.0 + rng.uniform(0, 3) * np.exp(-0.5 * ((h - centre) / width) ** 2)
        amp = np.minimum(amp / amp[0], 0.9)
        amp[0] = 1.0
        spectra.append(amp)
    return np.array(spectra)


def _tables(p: WavetablePatch, f0: float, sr: int) -> np.ndarray:
    """(4, size + 1) tables band-limited for ``f0`` (no harmonic above 0.45 sr), peak 1, wrapped."""
    amps = _table_spectra(p.seed, p.brightness)
    n_harm = max(1, min(amps.shape[1], int(0.45 * sr / f0)))
    # one phase per harmonic shared by all tables: morphing changes amplitudes only, so it can
    # never shift a harmonic's phase (which would bend its frequency)
    phases = np.random.default_rng([p.seed, 8]).uniform(0, 2 * np.pi, amps.shape[1])
    spec = np.zeros((_N_TABLES, _TABLE_SIZE // 2 + 1), dtype=complex)
    spec[:, 1:n_harm + 1] = amps[:, :n_harm] * np.exp(1j * phases[:n_harm])
    tables = np.fft.irfft(spec, n=_TABLE_SIZE, axis=1)
    tables /= np.abs(tables).max(axis=1, keepdims=True)
    return np.concatenate([tables, tables[:, :1]], axis=1)


def _wavetable(note: Note, n_on: int, sr: int, p: WavetablePatch, rng: np.random.Generator) -> np.ndarray:
    f0 = _hz(note.pitch)
    n = n_on + int(math.ceil(p.release_s * sr)) + 1
    tables = _tables(p, f0, sr)
    pos = (_phase(f0, n, sr, p.vibrato_cents, p.vibrato_hz, rng.random()) % 1.0) * _TABLE_SIZE
    i0 = pos.astype(np.int64)
    frac = pos - i0
    t = np.arange(n) / sr
    morph = np.clip(p.morph_start + p.morph_depth * (0.5 - 0.5 * np.cos(2 * np.pi * p.morph_rate_hz * t)), 0, 1)
    m = morph * (_N_TABLES - 1)
    k0 = np.minimum(m.astype(np.int64), _N_TABLES - 2)
    mf = m - k0
    a = tables[k0, i0] * (1 - frac) + tables[k0, i0 + 1] * frac
    b = tables[k0 + 1, i0] * (1 - frac) + tables[k0 + 1, i0 + 1] * frac
    vel = _velocity_gain(note.velocity, p.velocity_sense)
    return ((1 - mf) * a + mf * b) * _adsr(n_on, n, sr, p.attack_s, p.decay_s, p.sustain, p.release_s) * vel


def _lagrange(delay: float, order: int = 3) -> np.ndarray:
    """Lagrange interpolation FIR of fractional ``delay`` samples (best for order/2 - 1/2 .. +1/2)."""
    k = np.arange(order + 1)
    return np.array([np.prod([(delay - m) / (j - m) for m in k if m != j]) for j in k])


def _phase_delay(h: np.ndarray, w: float) -> float:
    return -np.angle(np.sum(h * np.exp(-1j * w * np.arange(h.size)))) / w


def pluck_loop(f0: float, sr: int, *, damping: float, decay_s: float) -> tuple[int, np.ndarray]:
    """Karplus-Strong loop for ``f0``: ``(lag, taps)`` of ``y[n] = x[n] + sum_j taps[j] y[n - lag - j]``.

    ``taps`` = gain x damping ``[d, 1 - 2d, d]`` (delay 1) * 3rd-order Lagrange fractional delay;
    the fraction is found by bisection so the loop's phase delay at ``f0`` is ``sr / f0`` exactly,
    the gain so the fundamental decays 60 dB in ``decay_s`` (and the loop gain stays below 1)."""
    period = sr / f0
    w0 = 2 * np.pi * f0 / sr
    damp = np.array([damping, 1 - 2 * damping, damping])
    lag = max(1, int(math.floor(period - 2.0)))  # fraction around 1..2 samples, where order 3 is flat

    def total(d):
        return lag + _phase_delay(np.convolve(damp, _lagrange(d)), w0)

    lo, hi = 0.5, 2.5
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if total(mid) < period else (lo, mid)
    taps = np.convolve(damp, _lagrange(0.5 * (lo + hi)))
    response = np.abs(np.fft.rfft(taps, 4096))
    gain_f0 = abs(np.sum(taps * np.exp(-1j * w0 * np.arange(taps.size))))
    g = 10.0 ** (-3.0 / (decay_s * f0)) / gain_f0
    return lag, taps * min(g, 0.99999 / response.max())


def _comb(x: np.ndarray, lag: int, taps: np.ndarray) -> np.ndarray:
    """``y[n] = x[n] + sum_j taps[j] y[n - lag - j]``: lfilter for short lags; for long ones
    (low notes, where lfilter's cost grows with the lag) one vectorised step per ``lag`` samples."""
    if lag < 128:
        a = np.zeros(lag + taps.size)
        a[0] = 1.0
        a[lag:] -= taps
        return lfilter([1.0], a, x)
    pad = lag + taps.size
    y = np.zeros(pad + x.size)
    for s in range(0, x.size, lag):
        e = min(s + lag, x.size)
        acc = x[s:e].copy()
        for j, c in enumerate(taps):
            start = pad + s - lag - j
            acc += c * y[start:start + e - s]
        y[pad + s:pad + e] = acc
    return y[pad:]


def _pluck(note: Note, n_on: int, sr: int, p: PluckPatch, rng: np.random.Generator) -> np.ndarray:
    f0 = _hz(note.pitch)
    n_rel = int(math.ceil(p.release_s * sr)) + 1
    n = n_on + n_rel
    vel = _velocity_gain(note.velocity, p.velocity_sense)
    period = max(2, int(round(sr / f0)))
    burst = rng.uniform(-1.0, 1.0, period)
    a = 1.0 - p.brightness * (0.6 + 0.4 * vel)  # softer notes are duller
    burst = lfilter([1.0 - a], [1.0, -a], burst)
    pick = int(round(p.pick_position * period))
    if 0 < pick < period:
        burst[pick:] -= burst[:-pick].copy()
    burst -= burst.mean()
    burst /= max(np.abs(burst).max(), 1e-9)
    x = np.zeros(n)
    x[:period] = burst
    lag, taps = pluck_loop(f0, sr, damping=p.damping, decay_s=p.decay_s)
    y = _comb(x, lag, taps)
    y[n_on:] *= np.clip(1.0 - np.arange(n_rel) / (p.release_s * sr), 0.0, 1.0) ** 2
    return y * vel


def _mallet(note: Note, n_on: int, sr: int, p: MalletPatch, rng: np.random.Generator) -> np.ndarray:
    f0 = _hz(note.pitch)
    ratios = np.array(BARS[p.bar])
    ratios[1:] *= 1.0 + p.inharmonicity * rng.uniform(-1, 1, ratios.size - 1)
    keep = ratios * f0 < 0.45 * sr
    ratios = ratios[keep]
    vel = _velocity_gain(note.velocity, p.velocity_sense)
    t60 = p.decay_s / ratios ** p.decay_tilt
    n_on_ring = n_on
    n = n_on + int(math.ceil(min(p.damp_s, p.decay_s) * sr)) + 1
    t = np.arange(n) / sr
    t_off = n_on_ring / sr
    # T60 decay before note-off, the damper's (never slower) after
    y = np.zeros(n)
    amps = ratios ** (-(1.6 - p.brightness * (0.6 + 0.4 * vel)))
    phases = rng.uniform(0, 2 * np.pi, ratios.size)
    for r, a, tau, ph in zip(ratios, amps, t60, phases):
        tau_off = min(tau, p.damp_s)
        env = np.exp(-6.91 * np.minimum(t, t_off) / tau - 6.91 * np.maximum(t - t_off, 0.0) / tau_off)
        y += a * env * np.sin(2 * np.pi * r * f0 * t + ph)
    y[-int(0.002 * sr):] *= np.linspace(1, 0, int(0.002 * sr))
    if p.strike_noise > 0:  # mallet click: 5 ms of low-passed noise
        m = min(n, int(0.005 * sr))
        click = lfilter([0.3], [1, -0.7], rng.standard_normal(m)) * np.linspace(1, 0, m) ** 2
        y[:m] += p.strike_noise * (0.5 + 0.5 * vel) * (click - click.mean())
    if p.tremolo_depth > 0:
        y *= 1.0 - p.tremolo_depth * (0.5 - 0.5 * np.cos(2 * np.pi * p.tremolo_hz * t))
    return y * vel / amps.sum()


_FX_FRAME = 1024
_FX_HOP = 256


def _noise_fx(note: Note, n_on: int, sr: int, p: NoiseFXPatch, rng: np.random.Generator) -> np.ndarray:
    n = n_on
    frames = n // _FX_HOP + 5
    u = np.clip(np.arange(frames) * _FX_HOP / max(n, 1), 0.0, 1.0)  # progress at each frame's centre
    lo, hi = math.log2(p.low_hz), math.log2(p.high_hz)
    if p.kind == "riser":
        centre, level = lo + (hi - lo) * u ** p.curve, 0.05 + 0.95 * u ** p.curve
    elif p.kind == "downlifter":
        centre, level = hi - (hi - lo) * u ** (1 / p.curve), 0.02 + 0.98 * (1.0 - u) ** p.curve  # -34 dB at the end
    elif p.kind == "impact":
        centre, level = lo + (hi - lo) * np.exp(-8 * u), 10.0 ** (-3.0 * u)  # -60 dB at the end
    else:  # sweep: up and back down
        centre, level = lo + (hi - lo) * np.sin(np.pi * u) ** p.curve, 0.3 + 0.7 * np.sin(np.pi * u)
    freqs = np.fft.rfftfreq(_FX_FRAME, 1.0 / sr)
    logf = np.log2(np.maximum(freqs, 1.0))
    mask = np.exp(-0.5 * ((logf[:, None] - centre[None, :]) / (p.bandwidth_octaves / 2)) ** 2) * level[None, :]
    mask[0] = 0.0
    spec = (rng.standard_normal(mask.shape) + 1j * rng.standard_normal(mask.shape)) * mask
    _, y = istft(spec, fs=sr, nperseg=_FX_FRAME, noverlap=_FX_FRAME - _FX_HOP, boundary=True)
    y = y[:n] if y.size >= n else np.pad(y, (0, n - y.size))
    y /= max(np.abs(y).max(), 1e-9)
    t = np.arange(n) / sr
    if p.kind == "impact" and p.sub_level > 0:
        f = 40.0 + 60.0 * np.exp(-t / 0.08)
        y += p.sub_level * np.sin(2 * np.pi * np.cumsum(f) / sr) * 10.0 ** (-3.0 * t / max(t[-1], 1e-3))
    fade = max(1, min(n // 2, int(p.fade_s * sr)))
    if p.kind != "impact":
        y[:fade] *= np.arange(1, fade + 1) / fade
    y[n - fade:] *= np.linspace(1.0, 0.0, fade + 1)[1:]  # last sample exactly 0, note ends on time
    return y * _velocity_gain(note.velocity, p.velocity_sense) / (1.0 + p.sub_level)


# ---------------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class Voice:
    """A synthesis voice: its ``patch`` class, the instrument ``families`` it can play (CONTRACT.md
    vocabulary), whether it is ``pitched``, and the per-note renderer."""

    name: str
    patch: type[Patch]
    families: tuple[str, ...]
    pitched: bool
    note: Callable[..., np.ndarray]

    @property
    def source(self) -> str:
        """Its source name, ``mixassist-synth:<name>``."""
        return f"{SOURCE_PREFIX}:{self.name}"


VOICES: dict[str, Voice] = {v.name: v for v in (
    Voice("subtractive", SubtractivePatch, ("synth", "bass"), True, _subtractive),
    Voice("fm", FMPatch, ("synth", "bass", "keys"), True, _fm),
    Voice("wavetable", WavetablePatch, ("synth", "bass"), True, _wavetable),
    Voice("pluck", PluckPatch, ("guitar", "bass", "strings", "synth"), True, _pluck),
    Voice("mallet", MalletPatch, ("keys", "percussion"), True, _mallet),
    Voice("noise_fx", NoiseFXPatch, ("fx",), False, _noise_fx),
)}


def voice(name: str) -> Voice:
    """The voice ``name`` (a key of :data:`VOICES` or its source name ``mixassist-synth:<name>``)."""
    key = name.split(":", 1)[1] if name.startswith(SOURCE_PREFIX + ":") else name
    if key not in VOICES:
        raise ParameterError(f"unknown synthesis voice {name!r}; use one of {', '.join(VOICES)} "
                             f"(or {SOURCE_PREFIX}:<voice>)")
    return VOICES[key]


def voices_for(family: str) -> tuple[str, ...]:
    """Names of the voices that can play instrument ``family`` (may be empty, e.g. ``drums``)."""
    return tuple(v.name for v in VOICES.values() if family in v.families)


def random_patch(voice_name: str, rng: np.random.Generator) -> Patch:
    """A patch of ``voice_name`` with every field drawn from its declared range: floats uniformly
    (log-uniformly where declared ``log``, rounded to 4 significant digits), integers and choices
    uniformly. Deterministic for a given ``rng`` state; draws fields in declaration order."""
    cls = voice(voice_name).patch
    values = {}
    for f in fields(cls):
        meta = f.metadata
        if "choices" in meta:
            values[f.name] = meta["choices"][int(rng.integers(len(meta["choices"])))]
        elif meta.get("integer"):
            lo, hi = meta["range"]
            values[f.name] = int(rng.integers(lo, hi + 1))
        else:
            lo, hi = meta["range"]
            x = math.exp(rng.uniform(math.log(lo), math.log(hi))) if meta["log"] else rng.uniform(lo, hi)
            values[f.name] = min(max(float(f"{x:.4g}"), lo), hi)
    return cls(**values)


def patch_from_json(data: dict) -> Patch:
    """The patch :meth:`Patch.to_json` wrote."""
    data = dict(data)
    cls = voice(data.pop("voice", "")).patch
    return cls(**data)


@functools.cache
def _dc_blocker(sr: int) -> np.ndarray:
    return butter(2, 10.0, "highpass", fs=sr, output="sos")


def render_part(notes: list[Note], voice_name: str, patch: Patch, sr: int = SAMPLE_RATE, *,
                duration_s: float | None = None) -> np.ndarray:
    """Render ``notes`` with voice ``voice_name`` (or its source name) and ``patch``.

    Returns ``np.ndarray [shape=(2, samples), dtype=float32]`` (both channels equal: placement is
    production's job). ``samples`` is ``round(duration_s * sr)`` (later sound is cut), or, when
    ``duration_s`` is None, the end of the last note's release. Each note starts at sample
    ``round(start_s * sr)``; notes overlap freely (polyphony). Deterministic: the same notes and
    patch give the same bytes (note ``i`` draws its noise from ``(patch.seed, i)``)."""
    v = voice(voice_name)
    if not isinstance(patch, v.patch):
        raise ParameterError(f"voice {v.name} needs a {v.patch.__name__}, not {type(patch).__name__}; "
                             f"draw one with random_patch({v.name!r}, rng)")
    if sr < 8000:
        raise ParameterError(f"sample rate {sr} Hz is too low; use 44100")
    rendered = []
    for i, note in enumerate(notes):
        onset = int(round(note.start_s * sr))
        n_on = max(int(round((note.end_s - note.start_s) * sr)), int(round(_MIN_NOTE_S * sr)))
        rng = np.random.default_rng([patch.seed, i])
        rendered.append((onset, v.note(note, n_on, sr, patch, rng)))
    end = max((o + y.size for o, y in rendered), default=0)
    n = end if duration_s is None else int(round(duration_s * sr))
    out = np.zeros(max(n, end))
    for onset, y in rendered:
        out[onset:onset + y.size] += y * NOTE_LEVEL
    out = sosfilt(_dc_blocker(sr), out[:n])
    peak = np.abs(out).max(initial=0.0)
    if peak > 0.99:
        out *= 0.99 / peak
    mono = out.astype(np.float32)
    return np.stack([mono, mono])
