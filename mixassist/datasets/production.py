"""Per-stem random production with pedalboard, so stems sound produced rather than raw General MIDI.

Chain (each stage drawn per stem): high-pass -> three-band EQ (low shelf, peak, high shelf, RBJ
Audio-EQ-Cookbook biquads as implemented by pedalboard) -> compressor -> saturation -> chorus ->
stereo placement (constant-power pan law, -3 dB at centre) -> reverb (Freeverb). The chain is
returned as ``[{plugin, params}]`` (CONTRACT.md plan style) so the manifest records it.
"""

from __future__ import annotations

import numpy as np
import pedalboard as pb

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


def produce(audio: np.ndarray, sr: int, *, instrument: str, role: str,
            rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """Apply a random production chain to ``np.ndarray [shape=(1 or 2, samples)]``.

    Returns the stereo result ``(2, samples)`` float32 and the chain as ``[{plugin, params}]``
    (``Pan`` is mixassist's own constant-power pan; the rest are pedalboard classes).
    """
    chain = _chain(rng, instrument, role)
    out = np.repeat(audio, 2, axis=0) if audio.shape[0] == 1 else audio
    out = np.ascontiguousarray(out, dtype=np.float32)
    board = []
    for stage in chain:
        if stage["plugin"] == "Pan":
            if board:
                out = pb.Pedalboard(board)(out, sr)
                board = []
            out = pan(out, stage["params"]["pan"])
        else:
            board.append(getattr(pb, stage["plugin"])(**stage["params"]))
    if board:
        out = pb.Pedalboard(board)(out, sr)
    return np.ascontiguousarray(out, dtype=np.float32), chain
