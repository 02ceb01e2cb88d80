"""Freepats (Debian ``freepats``): Gravis UltraSound patches, played by sample playback.

A patch file (``GF1PATCH110``) holds one instrument of one layer of samples, each with its pitch
range, root frequency, sample rate, loop points and mode bits (8/16-bit, signed/unsigned,
looped, ping-pong). Freepats' melodic set is ``/usr/share/midi/freepats/Tone_000/NNN_Name.pat``,
``NNN`` the General-MIDI program (0-based); 72 of the 128 programs are there (:func:`programs`).

:func:`render_part` plays :class:`~.song.Note` s with one program:

- a note plays the sample whose frequency range holds the note's frequency (the nearest root
  otherwise), resampled by linear interpolation to the note's pitch, looping between the loop
  points (ping-pong where the sample says so) for as long as the note sounds;
- amplitude ``velocity / 127 *`` :data:`PATCH_LEVEL` / (the patch's loudest sample peak), panned
  by the sample's balance (0-15, 7 centre; constant power);
- at the note's end a :data:`RELEASE_S` linear fade; an unlooped sample ends where its data ends.

The patches' own envelopes, tremolo and vibrato are not emulated (the samples carry their decay).
Rendering is numpy per note, no randomness: the same notes give the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from .song import Note

FREEPATS_DIR = Path("/usr/share/midi/freepats/Tone_000")
PACKAGE = "freepats"
SOURCE = "freepats"
#: Peak of a patch's loudest sample at velocity 127.
PATCH_LEVEL = 0.5
#: Length (s) of the fade after a note's end.
RELEASE_S = 0.25
_HEADER, _INSTRUMENT, _LAYER, _SAMPLE = 129, 63, 47, 96


@dataclass(frozen=True)
class Sample:
    """One sample of a patch: float32 ``data`` at ``rate`` Hz, its range ``low_hz``-``high_hz``,
    ``root_hz``, loop ``loop_start``-``loop_end`` (samples; ``looped``, ``pingpong``) and ``pan``
    (0 left - 1 right; the patch's balance 0-15, 7 centre)."""

    data: np.ndarray
    rate: int
    low_hz: float
    high_hz: float
    root_hz: float
    loop_start: int
    loop_end: int
    looped: bool
    pingpong: bool
    pan: float


def read_patch(path: Path) -> tuple[Sample, ...]:
    """The samples of the GUS patch at ``path``; :class:`ParameterError` naming the file when it
    is not one."""
    raw = Path(path).read_bytes()
    if not raw.startswith(b"GF1PATCH1") or len(raw) < _HEADER + _INSTRUMENT + _LAYER:
        raise ParameterError(f"{path}: not a Gravis UltraSound patch (GF1PATCH) file")
    count = raw[_HEADER + _INSTRUMENT + 6]  # the first layer's samples
    offset, samples = _HEADER + _INSTRUMENT + _LAYER, []
    for _ in range(count):
        head = raw[offset:offset + _SAMPLE]
        if len(head) < _SAMPLE:
            raise ParameterError(f"{path}: truncated patch")
        size, loop_start, loop_end = struct.unpack("<III", head[8:20])
        rate = struct.unpack("<H", head[20:22])[0]
        low, high, root = (v / 1000 for v in struct.unpack("<III", head[22:34]))
        balance, modes = head[36], head[55]
        body = raw[offset + _SAMPLE:offset + _SAMPLE + size]
        wide, unsigned = bool(modes & 1), bool(modes & 2)
        dtype = ("<u2" if unsigned else "<i2") if wide else ("u1" if unsigned else "i1")
        data = np.frombuffer(body[:len(body) // 2 * 2] if wide else body, dtype=dtype).astype(np.float32)
        if unsigned:
            data -= 32768.0 if wide else 128.0
        data /= 32768.0 if wide else 128.0
        step = 2 if wide else 1
        if modes & 16:  # reversed
            data = data[::-1].copy()
        samples.append(Sample(data, rate, low, high, root, loop_start // step, loop_end // step,
                              bool(modes & 4) and loop_end > loop_start, bool(modes & 8), min(balance / 14, 1.0)))
        offset += _SAMPLE + size
    if not samples:
        raise ParameterError(f"{path}: the patch holds no sample")
    return tuple(samples)


@lru_cache(maxsize=None)
def programs() -> dict[int, Path]:
    """General-MIDI program (0-127) -> its freepats patch file, for the programs freepats has."""
    if not FREEPATS_DIR.is_dir():
        raise ParameterError(f"{FREEPATS_DIR}: freepats missing; install it with `apt-get install -y {PACKAGE}`")
    found = {}
    for path in sorted(FREEPATS_DIR.glob("[0-9][0-9][0-9]_*.pat")):
        found[int(path.name[:3])] = path
    return found


@lru_cache(maxsize=64)
def load_program(program: int) -> tuple[tuple[Sample, ...], float]:
    """The samples of GM ``program`` and their level (:data:`PATCH_LEVEL` / loudest peak)."""
    path = programs().get(program)
    if path is None:
        raise ParameterError(f"freepats has no patch for General-MIDI program {program}")
    samples = read_patch(path)
    peak = max(float(np.abs(s.data).max()) for s in samples)
    return samples, PATCH_LEVEL / max(peak, 1e-6)


def _pick(samples: tuple[Sample, ...], hz: float) -> Sample:
    inside = [s for s in samples if s.low_hz <= hz <= s.high_hz]
    return inside[0] if inside else min(samples, key=lambda s: abs(np.log(s.root_hz / hz)))


def _positions(sample: Sample, hz: float, sr: int, n: int) -> np.ndarray:
    """Read positions (fractional sample indices) of ``n`` output samples playing ``sample`` at
    ``hz``: past the loop's end they wrap (or reflect, ping-pong) into the loop."""
    pos = np.arange(n, dtype=np.float64) * (hz / sample.root_hz * sample.rate / sr)
    if sample.looped:
        start, length = sample.loop_start, sample.loop_end - sample.loop_start
        late = pos > sample.loop_end
        if sample.pingpong:
            m = np.mod(pos[late] - start, 2 * length)
            pos[late] = start + np.where(m < length, m, 2 * length - m)
        else:
            pos[late] = start + np.mod(pos[late] - start, length)
    return pos


def render_part(notes: list[Note], program: int, sr: int = 44100, *,
                duration_s: float | None = None) -> np.ndarray:
    """Play ``notes`` with freepats' GM ``program``.

    Returns ``np.ndarray [shape=(2, samples), dtype=float32]``: ``samples`` is
    ``round(duration_s * sr)`` (later sound is cut) or, when None, the end of the last note's
    release."""
    samples, level = load_program(program)
    release = int(round(RELEASE_S * sr))
    if duration_s is None:
        n = max((int(round(note.end_s * sr)) + release for note in notes), default=0)
    else:
        n = int(round(duration_s * sr))
    out = np.zeros((2, n), dtype=np.float32)
    fade = np.linspace(1.0, 0.0, release, dtype=np.float32)
    for note in notes:
        onset = int(round(note.start_s * sr))
        if onset >= n or note.velocity <= 0:
            continue
        hz = 440.0 * 2 ** ((note.pitch - 69) / 12)
        sample = _pick(samples, hz)
        held = max(1, int(round((note.end_s - note.start_s) * sr)))
        length = min(held + release, n - onset)
        pos = _positions(sample, hz, sr, length)
        if not sample.looped:
            length = min(length, int(np.searchsorted(pos, sample.data.size - 1)))
            pos = pos[:length]
        if length <= 0:
            continue
        tone = np.interp(pos, np.arange(sample.data.size), sample.data).astype(np.float32)
        tail = tone[held:]
        tail *= fade[:tail.size]
        gain = note.velocity / 127 * level
        left, right = np.cos(sample.pan * np.pi / 2), np.sin(sample.pan * np.pi / 2)
        out[0, onset:onset + length] += tone * np.float32(gain * left * np.sqrt(2))
        out[1, onset:onset + length] += tone * np.float32(gain * right * np.sqrt(2))
    return out
