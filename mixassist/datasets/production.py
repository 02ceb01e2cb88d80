"""Per-stem random production with pedalboard, so stems sound produced rather than raw General MIDI.

Variety ``v2`` (generator version 2), each stage drawn per stem: high-pass -> three-band EQ (low
shelf, peak, high shelf, RBJ Audio-EQ-Cookbook biquads as implemented by pedalboard) ->
compressor -> saturation -> chorus -> stereo placement (constant-power pan law, -3 dB at centre)
-> reverb (Freeverb).

Variety ``v3`` (generator version 3) draws a richer chain: a lo-fi sampler path (8-12 bits,
8-22.05 kHz sample-and-hold playback), high-pass, EQ (with a second peak and a low-pass),
compressor, saturation, chorus or phaser, delay (free or tempo-synced), mid/side stereo width,
pan, reverb (Freeverb or a convolution with a generated room, :mod:`.rooms`) and slow gain rides.

The chain is returned as ``[{plugin, params}]`` (CONTRACT.md plan style) so the manifest records
it, and :func:`apply_chain` replays it: a stem is fully described by its chain. ``plugin`` is a
pedalboard class (``params`` its keyword arguments) or one of mixassist's own stages
(:data:`OWN_STAGES`). :func:`master_mixture` is an occasional light mastering of a mixture.
"""

from __future__ import annotations

import numpy as np
import pedalboard as pb
from scipy import signal

from ..errors import ParameterError
from .rooms import room_ir

#: Production varieties: ``v2`` (generator version 2, the default) and ``v3``.
VARIETIES = ("v2", "v3")

#: Typical placement spread (|pan| upper bound) per instrument family; the low end and the lead stay central.
_PAN_SPREAD = {"drums": 0.05, "bass": 0.0, "vocals": 0.05, "percussion": 0.6, "keys": 0.6, "guitar": 0.8,
               "strings": 0.6, "brass": 0.6, "woodwinds": 0.6, "synth": 0.6, "fx": 0.8}


def _chain(rng: np.random.Generator, instrument: str, role: str) -> list[dict]:
    u = lambda lo, hi: round(float(rng.uniform(lo, hi)), 2)  # noqa: E731
    low_end = instrument in ("bass", "drums") or role == "low_end"
    chain = [{"plugin": "HighpassFilter", "params": {"cutoff_frequency_hz": u(20, 40) if low_end else u(60, 200)}}]
    chain.append({"plugin": "LowShelfFilter", "params": {"cutoff_frequency_hz": u(80, 250), "gain_db": u(-4, 4), "q": 0.707}})
    chain.append({"plugin": "PeakFilter", "params": {"cutoff_frequency_hz": u(300, 4000), "gain_db": u(-5, 5), "q": u(0.7, 2.0)}})
    chain.append({"plugin": "HighShelfFilter", "params": {"cutoff_frequency_hz": u(3000, 10000), "gain_db": u(-4, 5), "q": 0.707}})
    if rng.random() < 0.75:
        chain.append({"plugin": "Compressor", "params": {"threshold_db": u(-30, -10), "ratio": u(1.5, 6),
                                                         "attack_ms": u(1, 30), "release_ms": u(40, 300)}})
    if rng.random() < {"guitar": 0.5, "bass": 0.25, "synth": 0.3, "drums": 0.2}.get(instrument, 0.05):
        chain.append({"plugin": "Distortion", "params": {"drive_db": u(2, 14 if instrument == "guitar" else 6)}})
    if instrument in ("keys", "guitar", "synth", "strings") and rng.random() < 0.3:
        chain.append({"plugin": "Chorus", "params": {"rate_hz": u(0.3, 2), "depth": u(0.1, 0.4), "mix": u(0.2, 0.5)}})
    spread = _PAN_SPREAD.get(instrument, 0.5)
    chain.append({"plugin": "Pan", "params": {"pan": u(-spread, spread)}})
    if rng.random() < (0.5 if low_end else 0.85):
        wet = u(0.03, 0.12) if low_end else u(0.05, 0.3)
        chain.append({"plugin": "Reverb", "params": {"room_size": u(0.2, 0.85), "damping": u(0.2, 0.7),
                                                     "wet_level": wet, "dry_level": round(1 - wet, 2),
                                                     "width": u(0.6, 1.0)}})
    return chain


def pan(audio: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan of ``(2, n)`` audio: ``position`` -1 (left) .. 1 (right); gains
    cos/sin of (position + 1) * pi / 4, i.e. -3 dB per side at the centre."""
    angle = (position + 1.0) * np.pi / 4
    return (audio * np.array([[np.cos(angle)], [np.sin(angle)]], dtype=np.float32) * np.sqrt(2)).astype(np.float32)


_constant_power_pan = pan  # for the ``Pan`` stage, whose keyword argument is called ``pan``


#: Per-family rates of the v3 stages a family does not always get (default: ``"*"``).
_LOFI_RATE = {"drums": 0.15, "percussion": 0.15, "keys": 0.12, "synth": 0.12, "fx": 0.15, "bass": 0.1,
              "vocals": 0.04, "*": 0.08}
_PHASER_RATE = {"guitar": 0.15, "synth": 0.15, "keys": 0.12, "fx": 0.1, "strings": 0.05, "*": 0.03}
_DELAY_RATE = {"vocals": 0.35, "guitar": 0.3, "synth": 0.3, "fx": 0.3, "keys": 0.2, "brass": 0.15,
               "woodwinds": 0.15, "strings": 0.1, "percussion": 0.1, "drums": 0.05, "*": 0.1}
_CHORUS_FAMILIES = ("keys", "guitar", "synth", "strings")
#: Tempo-synced delay times in beats (``.`` dotted, ``t`` triplet).
DELAY_SYNC_BEATS = {"1/4": 1.0, "1/4.": 1.5, "1/8": 0.5, "1/8.": 0.75, "1/8t": 1 / 3, "1/16": 0.25}
#: Probability that a stem gets gain rides, and their ramp time.
RIDE_RATE, RIDE_RAMP_S = 0.4, 0.5


def _chain_v3(rng: np.random.Generator, instrument: str, role: str, *, duration_s: float,
              tempo_bpm: float | None) -> list[dict]:
    u = lambda lo, hi: round(float(rng.uniform(lo, hi)), 2)  # noqa: E731
    rate = lambda table: table.get(instrument, table["*"])  # noqa: E731
    low_end = instrument in ("bass", "drums") or role == "low_end"
    chain = []
    if rng.random() < rate(_LOFI_RATE):
        chain.append({"plugin": "LoFi", "params": {"sample_rate_hz": int(rng.integers(8000, 22051)),
                                                   "bit_depth": int(rng.integers(8, 13)),
                                                   "antialias": bool(rng.random() < 0.5)}})
    chain.append({"plugin": "HighpassFilter", "params": {"cutoff_frequency_hz": u(20, 40) if low_end else u(60, 250)}})
    chain.append({"plugin": "LowShelfFilter", "params": {"cutoff_frequency_hz": u(60, 250), "gain_db": u(-5, 5), "q": 0.707}})
    chain.append({"plugin": "PeakFilter", "params": {"cutoff_frequency_hz": u(200, 5000), "gain_db": u(-6, 6), "q": u(0.5, 3.0)}})
    if rng.random() < 0.3:
        chain.append({"plugin": "PeakFilter", "params": {"cutoff_frequency_hz": u(500, 8000), "gain_db": u(-6, 4), "q": u(0.7, 4.0)}})
    chain.append({"plugin": "HighShelfFilter", "params": {"cutoff_frequency_hz": u(2500, 12000), "gain_db": u(-6, 5), "q": 0.707}})
    if rng.random() < 0.15:
        chain.append({"plugin": "LowpassFilter", "params": {"cutoff_frequency_hz": u(4000, 16000)}})
    if rng.random() < 0.75:
        chain.append({"plugin": "Compressor", "params": {"threshold_db": u(-30, -8), "ratio": u(1.5, 8),
                                                         "attack_ms": u(0.5, 40), "release_ms": u(30, 400)}})
    if rng.random() < {"guitar": 0.5, "bass": 0.3, "synth": 0.35, "drums": 0.25}.get(instrument, 0.08):
        chain.append({"plugin": "Distortion", "params": {"drive_db": u(2, 16 if instrument == "guitar" else 8)}})
    mod = rng.random()
    if instrument in _CHORUS_FAMILIES and mod < 0.3:
        chain.append({"plugin": "Chorus", "params": {"rate_hz": u(0.2, 2.5), "depth": u(0.1, 0.5), "mix": u(0.2, 0.5)}})
    elif mod >= 1 - rate(_PHASER_RATE):
        chain.append({"plugin": "Phaser", "params": {"rate_hz": u(0.1, 1.5), "depth": u(0.3, 0.9),
                                                     "centre_frequency_hz": u(400, 2500), "feedback": u(0.0, 0.6),
                                                     "mix": u(0.2, 0.5)}})
    if not (role == "low_end" or instrument == "bass") and rng.random() < rate(_DELAY_RATE):
        sync = None
        if tempo_bpm:
            fits = [k for k, beats in DELAY_SYNC_BEATS.items() if beats * 60 / tempo_bpm <= 1.0]
            sync = fits[int(rng.integers(len(fits)))] if fits else None
        seconds = round(DELAY_SYNC_BEATS[sync] * 60 / tempo_bpm, 4) if sync else u(0.06, 0.6)
        chain.append({"plugin": "Delay", "params": {"delay_seconds": seconds, "feedback": u(0.05, 0.5),
                                                    "mix": u(0.08, 0.3)}, "sync": sync})
    if rng.random() < (0.2 if low_end else 0.4):
        chain.append({"plugin": "StereoWidth", "params": {"width": u(0.0, 0.9) if low_end else u(0.5, 1.6)}})
    spread = _PAN_SPREAD.get(instrument, 0.5)
    chain.append({"plugin": "Pan", "params": {"pan": u(-spread, spread)}})
    if rng.random() < (0.5 if low_end else 0.85):
        wet = u(0.03, 0.12) if low_end else u(0.05, 0.3)
        if rng.random() < 0.5:
            chain.append({"plugin": "Reverb", "params": {"room_size": u(0.2, 0.9), "damping": u(0.2, 0.8),
                                                         "wet_level": wet, "dry_level": round(1 - wet, 2),
                                                         "width": u(0.5, 1.0)}})
        else:
            size = round(float(np.exp(rng.uniform(np.log(3), np.log(30)))), 1)
            chain.append({"plugin": "RoomReverb", "params": {
                "size_m": size, "decay_s": draw_room_decay_s(size, rng),
                "hf_damping": u(0.3, 0.9), "predelay_ms": u(0, 40), "crossover_hz": 4000.0,
                "seed": int(rng.integers(2 ** 31)), "wet_level": wet, "dry_level": round(1 - wet, 2)}})
    if duration_s >= 8 and rng.random() < RIDE_RATE:
        k = int(rng.integers(1, min(3, int(duration_s // 4)) + 1))
        slot, rides = duration_s / k, []
        for i in range(k):
            length = min(round(slot * float(rng.uniform(0.3, 0.9)), 2), 30.0)
            start = round(i * slot + float(rng.uniform(0, slot - length)), 2)
            rides.append({"start_s": start, "end_s": round(start + length, 2), "gain_db": u(-4, 3)})
        chain.append({"plugin": "GainRides", "params": {"rides": rides, "ramp_s": RIDE_RAMP_S}})
    return chain


def draw_room_decay_s(size_m: float, rng: np.random.Generator) -> float:
    """A generated room's RT60 (s) for its size (m): 0.25 s + 0.06 s/m, times 0.7-1.3, in 0.25-2 s."""
    return round(float(np.clip((0.25 + 0.06 * size_m) * rng.uniform(0.7, 1.3), 0.25, 2.0)), 2)


def draw_chain(rng: np.random.Generator, *, instrument: str, role: str, duration_s: float,
               variety: str = "v2", tempo_bpm: float | None = None) -> list[dict]:
    """The random chain :func:`produce` applies to a stem of ``duration_s``, without applying it."""
    if variety not in VARIETIES:
        raise ParameterError(f"variety={variety!r}: use one of {', '.join(VARIETIES)}")
    if variety == "v2":
        return _chain(rng, instrument, role)
    return _chain_v3(rng, instrument, role, duration_s=duration_s, tempo_bpm=tempo_bpm)


def stereo_width(audio: np.ndarray, width: float) -> np.ndarray:
    """Mid/side width of ``(2, n)`` audio: the side ``(L - R) / 2`` scaled by ``width``
    (0 mono, 1 unchanged, > 1 wider); the mid ``(L + R) / 2`` is kept."""
    mid = 0.5 * (audio[0] + audio[1])
    side = 0.5 * width * (audio[0] - audio[1])
    return np.stack([mid + side, mid - side]).astype(np.float32)


def _elliptic_lowpass(sr: int, stop_hz: float, *, pass_ratio: float = 0.8) -> np.ndarray:
    """A minimal-order elliptic low-pass (0.5 dB ripple to ``pass_ratio * stop_hz``, >= 60 dB
    down from ``stop_hz``) as second-order sections."""
    order, wn = signal.ellipord(pass_ratio * stop_hz, stop_hz, 0.5, 60, fs=sr)
    return signal.ellip(order, 0.5, 60, wn, output="sos", fs=sr)


def lofi(audio: np.ndarray, sr: int, *, sample_rate_hz: int, bit_depth: int, antialias: bool = False,
         reconstruct: bool = True) -> np.ndarray:
    """Old-sampler playback of ``np.ndarray [shape=(channels, n)]``: sample-and-hold at
    ``sample_rate_hz`` (no interpolation: pedalboard's ``Resample`` with ``ZeroOrderHold`` quality),
    quantised to ``bit_depth`` bits relative to the signal's peak (the sample recorded at full
    scale: ``2 ** bit_depth`` levels, rounding), then held back at ``sr``.

    ``antialias``: an elliptic low-pass at ``sample_rate_hz / 2`` first (the sampler's input
    filter); without it, content above that folds down (aliasing, the gritty sound of
    samples resampled without filtering). ``reconstruct``: the output filter of the sampler's
    DAC, an elliptic low-pass >= 60 dB down from ``sample_rate_hz / 2``, removing the hold's
    images; off, the staircase itself comes back.
    """
    if not 1000 <= sample_rate_hz <= sr:
        raise ParameterError(f"sample_rate_hz={sample_rate_hz}: use 1000 .. {sr}")
    if not 2 <= bit_depth <= 24:
        raise ParameterError(f"bit_depth={bit_depth}: use 2 .. 24 bits")
    x = np.ascontiguousarray(audio, dtype=np.float32)
    if antialias:
        x = signal.sosfilt(_elliptic_lowpass(sr, sample_rate_hz / 2), x, axis=-1).astype(np.float32)
    held = pb.Resample(float(sample_rate_hz), quality=pb.Resample.Quality.ZeroOrderHold)(x, sr)
    peak = float(np.max(np.abs(held))) if held.size else 0.0
    if peak > 0:
        half = 2 ** (bit_depth - 1)
        held = (np.clip(np.round(held / peak * half), -half, half - 1) * (peak / half)).astype(np.float32)
    if reconstruct:
        held = signal.sosfilt(_elliptic_lowpass(sr, sample_rate_hz / 2), held, axis=-1)
    return np.ascontiguousarray(held, dtype=np.float32)


def room_reverb(audio: np.ndarray, sr: int, *, wet_level: float, dry_level: float, seed: int,
                **room) -> np.ndarray:
    """Convolution reverb of ``(2, n)`` audio with the generated room
    ``rooms.room_ir(np.random.default_rng(seed), sr, **room)``: the mid ``(L + R) / 2`` feeds both
    (decorrelated) channels of the room; ``dry_level * x + wet_level * wet``, length kept."""
    ir = room_ir(np.random.default_rng(seed), sr, **room)
    mid = 0.5 * (audio[0] + audio[1])
    wet = signal.oaconvolve(np.stack([mid, mid]), ir, axes=1)[:, :audio.shape[1]]
    return (dry_level * audio + wet_level * wet).astype(np.float32)


def ride_curve_db(n: int, sr: int, rides: list[dict], ramp_s: float = RIDE_RAMP_S) -> np.ndarray:
    """Gain in dB per sample of fader rides ``[{start_s, end_s, gain_db}]``: each ramps linearly
    (in dB) from 0 to ``gain_db`` over ``ramp_s`` from ``start_s``, holds, and is back at 0 by
    ``end_s``; rides add where they overlap."""
    t = np.arange(n) / sr
    db = np.zeros(n)
    for ride in rides:
        a, b = ride["start_s"], ride["end_s"]
        ramp = max(min(ramp_s, (b - a) / 2), 1e-6)
        db += ride["gain_db"] * np.clip(np.minimum(t - a, b - t) / ramp, 0.0, 1.0)
    return db


def gain_rides(audio: np.ndarray, sr: int, *, rides: list[dict], ramp_s: float = RIDE_RAMP_S) -> np.ndarray:
    """``audio`` with the fader rides of :func:`ride_curve_db` applied."""
    gain = 10 ** (ride_curve_db(audio.shape[-1], sr, rides, ramp_s) / 20)
    return (audio * gain.astype(np.float32)).astype(np.float32)


#: mixassist's own stages (the other ``plugin`` names are pedalboard classes): name -> f(audio, sr, **params).
OWN_STAGES = {
    "Pan": lambda x, sr, *, pan: _constant_power_pan(x, pan),
    "StereoWidth": lambda x, sr, *, width: stereo_width(x, width),
    "LoFi": lofi,
    "RoomReverb": room_reverb,
    "GainRides": gain_rides,
}


def apply_chain(audio: np.ndarray, sr: int, chain: list[dict]) -> np.ndarray:
    """Apply a recorded chain ``[{plugin, params}]`` to ``np.ndarray [shape=(1 or 2, samples)]``;
    returns stereo ``(2, samples)`` float32. Consecutive pedalboard plugins run as one
    ``Pedalboard``; stages of :data:`OWN_STAGES` run between them."""
    out = np.repeat(audio, 2, axis=0) if audio.shape[0] == 1 else audio
    out = np.ascontiguousarray(out, dtype=np.float32)
    board = []
    for stage in chain:
        own = OWN_STAGES.get(stage["plugin"])
        if own is None:
            board.append(getattr(pb, stage["plugin"])(**stage["params"]))
            continue
        if board:
            out = pb.Pedalboard(board)(out, sr)
            board = []
        out = own(out, sr, **stage["params"])
    if board:
        out = pb.Pedalboard(board)(out, sr)
    return np.ascontiguousarray(out, dtype=np.float32)


def produce(audio: np.ndarray, sr: int, *, instrument: str, role: str, rng: np.random.Generator,
            variety: str = "v2", tempo_bpm: float | None = None,
            pan: float | None = None) -> tuple[np.ndarray, list[dict]]:
    """Apply a random production chain to ``np.ndarray [shape=(1 or 2, samples)]``.

    Returns the stereo result ``(2, samples)`` float32 and the chain as ``[{plugin, params}]``
    (:func:`apply_chain` replays it). ``variety``: ``"v2"`` (the default; generator version 2,
    unchanged) or ``"v3"`` (generator version 3, module docstring and docs/datasets.md).
    ``tempo_bpm``: the song's tempo, for v3's synced delays (``None``: free delay times); v2
    ignores it. ``pan``: the ``Pan`` stage's position (-1 .. 1; a double's side) instead of the
    drawn one (the draws stay the same).
    """
    chain = draw_chain(rng, instrument=instrument, role=role, duration_s=audio.shape[-1] / sr,
                       variety=variety, tempo_bpm=tempo_bpm)
    if pan is not None:
        chain = [{**s, "params": {**s["params"], "pan": pan}} if s["plugin"] == "Pan" else s
                 for s in chain]
    return apply_chain(audio, sr, chain), chain


#: How often :func:`master_mixture` masters a mixture (it is drawn per call).
MASTERING_PROBABILITY = 0.3


def master_mixture(mix: np.ndarray, sr: int, rng: np.random.Generator, *,
                   probability: float = MASTERING_PROBABILITY) -> tuple[np.ndarray, list[dict]]:
    """An occasional light mastering of a mixture ``np.ndarray [shape=(channels, n)]``, for
    separator training: with ``probability``, glue compression, an EQ tilt and a limiter;
    otherwise ``mix`` unchanged and ``[]``.

    The mixture is brought to a 0 dBFS peak first (``Gain``), compressed gently (threshold -18..-8 dB,
    ratio 1.5-2.5), tilted (shelves at 300 Hz and 3 kHz, -1.5..+1.5 dB in
    opposite directions), limited (pedalboard's ``Limiter`` with 1-4 dB of gain reduction: it
    brings its threshold to full scale) and given back its input peak: louder and denser at the
    same peak, as a master is. Returns ``(mastered, chain)``, all pedalboard classes
    (:func:`apply_chain` replays it). The mastered mixture is not the sum of the stems: apply it
    on the fly to a training mixture (the stems stay the targets); do not store it as
    ``mixture.flac``.
    """
    if rng.random() >= probability:
        return mix, []
    u = lambda lo, hi: round(float(rng.uniform(lo, hi)), 2)  # noqa: E731
    peak = float(np.max(np.abs(mix)))
    if not np.isfinite(peak) or peak <= 0:
        return mix, []
    peak_db = round(20 * np.log10(peak), 4)
    tilt = u(-1.5, 1.5)
    chain = [{"plugin": "Gain", "params": {"gain_db": -peak_db}},
             {"plugin": "Compressor", "params": {"threshold_db": u(-18, -8), "ratio": u(1.5, 2.5),
                                                 "attack_ms": u(10, 40), "release_ms": u(80, 300)}},
             {"plugin": "LowShelfFilter", "params": {"cutoff_frequency_hz": 300.0, "gain_db": -tilt, "q": 0.707}},
             {"plugin": "HighShelfFilter", "params": {"cutoff_frequency_hz": 3000.0, "gain_db": tilt, "q": 0.707}},
             {"plugin": "Limiter", "params": {"threshold_db": u(-4, -1), "release_ms": u(50, 200)}},
             {"plugin": "Gain", "params": {"gain_db": peak_db}}]
    board = pb.Pedalboard([getattr(pb, s["plugin"])(**s["params"]) for s in chain])
    return board(np.ascontiguousarray(mix, dtype=np.float32), sr), chain
