"""Sung vocals: the song's vocal melody, with one lyric syllable per note, sung by pysinsy.

pysinsy (PyPI, wraps Sinsy, Modified BSD) bundles one HTS singing voice, ``nitech_jp_song070_f001``
(CC-BY-3.0), which sings Japanese: lyrics are random Japanese mora (ら, な, ま, ...), and the melody
is written as MusicXML on the song's 16th-note grid, in the song's meter. pysinsy's ``__init__`` imports the removed
``pkg_resources``; :func:`_import_pysinsy` supplies the one function it uses when setuptools no
longer ships it.

:func:`double_take` makes a lead's double (generator v3 sessions, :mod:`.session`) from the lead's
render: the one voice sings one score the same way every time, so the double is not sung again
but retaken note by note, moved in time and pitch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import types
from xml.sax.saxutils import escape

import numpy as np
from scipy import signal

from ..audio.convert import resample
from ..errors import MixAssistError
from .meter import meter_of
from .song import Note

STEPS_PER_BAR = 16  # in 4/4
_PITCH_SPELLING = (("C", 0), ("C", 1), ("D", 0), ("E", -1), ("E", 0), ("F", 0), ("F", 1), ("G", 0),
                   ("A", -1), ("A", 0), ("B", -1), ("B", 0))
_TYPES = {1: "16th", 2: "eighth", 3: "eighth", 4: "quarter", 6: "quarter", 8: "half", 12: "half", 16: "whole"}


class VocalError(MixAssistError):
    """The singing synthesiser is missing or failed."""


def _import_pysinsy():
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        shim = types.ModuleType("pkg_resources")

        def resource_filename(package: str, name: str) -> str:
            return os.path.join(os.path.dirname(importlib.util.find_spec(package).origin), name)

        shim.resource_filename = resource_filename
        sys.modules["pkg_resources"] = shim
    try:
        import pysinsy
    except ImportError as exc:
        raise VocalError(f"pysinsy is not installed ({exc}); install it with `pip install pysinsy` "
                         "(extra `mixassist[data]`)") from None
    return pysinsy


def musicxml(notes: list[Note], *, tempo_bpm: float, t0_s: float, n_bars: int,
             time_signature: str = "4/4") -> str:
    """MusicXML of ``notes`` quantised to 16ths of bars of ``time_signature`` starting at ``t0_s``;
    ``n_bars`` bars; ``tempo_bpm`` is the counted beat (the dotted quarter in 6/8, :mod:`.meter`)."""
    meter = meter_of(time_signature)
    steps = meter.steps_per_bar
    quarter_bpm = tempo_bpm * meter.quarters_per_beat
    step_s = 60.0 / quarter_bpm / 4
    grid = [None] * (n_bars * steps)
    for n in notes:
        start = int(round((n.start_s - t0_s) / step_s))
        length = max(1, int(round((n.end_s - n.start_s) / step_s)))
        end = min(len(grid), start + length, (start // steps + 1) * steps)
        for s in range(max(0, start), end):
            grid[s] = (n, s == start)
    measures = []
    for bar in range(n_bars):
        items, s = [], bar * steps
        cells = grid[s:s + steps]
        k = 0
        while k < steps:
            j = k + 1
            while j < steps and cells[j] is not None and not cells[j][1] and cells[k] is not None \
                    and cells[j][0] is cells[k][0]:
                j += 1
            if cells[k] is None:
                while j < steps and cells[j] is None:
                    j += 1
                items.append(f"<note><rest/><duration>{j - k}</duration></note>")
            else:
                note = cells[k][0]
                step, alter = _PITCH_SPELLING[note.pitch % 12]
                octave = note.pitch // 12 - 1
                kind = _TYPES.get(j - k, "quarter")
                items.append(
                    f"<note><pitch><step>{step}</step>{f'<alter>{alter}</alter>' if alter else ''}"
                    f"<octave>{octave}</octave></pitch><duration>{j - k}</duration><type>{kind}</type>"
                    f"<lyric><syllabic>single</syllabic><text>{escape(note.lyric or 'ら')}</text></lyric></note>")
            k = j
        head = ("<attributes><divisions>4</divisions><key><fifths>0</fifths></key>"
                f"<time><beats>{meter.numerator}</beats><beat-type>{meter.denominator}</beat-type></time>"
                f"</attributes><direction><sound tempo=\"{quarter_bpm:g}\"/></direction>") if bar == 0 else ""
        measures.append(f"<measure number=\"{bar + 1}\">{head}{''.join(items)}</measure>")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><score-partwise version=\"3.0\"><part-list>"
            "<score-part id=\"P1\"><part-name>Voice</part-name></score-part></part-list><part id=\"P1\">"
            + "".join(measures) + "</part></score-partwise>")


def sing(notes: list[Note], *, tempo_bpm: float, t0_s: float, n_bars: int, duration_s: float,
         sr: int = 44100, time_signature: str = "4/4") -> np.ndarray:
    """Sing ``notes``; returns ``np.ndarray [shape=(1, round(duration_s * sr))]`` float32, time-aligned
    so that score time 0 falls at ``t0_s``. ``tempo_bpm``: counted beats per minute in
    ``time_signature`` (the song's ``tempo_bpm``); the score has one steady tempo, so notes must lie
    on its grid (a v3 song's rubato intro never has vocals)."""
    pysinsy = _import_pysinsy()
    # Sinsy shifts a score that does not start with a rest; one rest bar in front keeps time exact.
    bar_s = 60.0 * meter_of(time_signature).beats_per_bar / tempo_bpm
    xml = musicxml(notes, tempo_bpm=tempo_bpm, t0_s=t0_s - bar_s, n_bars=n_bars + 1,
                   time_signature=time_signature)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "voice.xml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(xml)
        try:
            wav, wav_sr = pysinsy.synthesize(path)
        except Exception as exc:  # the C++ library reports failures as generic errors
            raise VocalError(f"pysinsy failed to sing the melody: {exc}") from None
    voice = (np.asarray(wav, dtype=np.float64) / 32768.0).astype(np.float32)[None, :]
    voice = resample(voice, int(wav_sr), sr) if wav_sr != sr else voice
    n = int(round(duration_s * sr))
    out = np.zeros((1, n), dtype=np.float32)
    offset = int(round((t0_s - bar_s) * sr))
    voice = voice[:, max(0, -offset):]
    offset = max(0, offset)
    take = max(0, min(voice.shape[1], n - offset))
    out[:, offset:offset + take] = voice[:, :take]
    return out


#: Crossfade (s) between a double's takes, centred on each cut (shorter between short takes).
DOUBLE_FADE_S = 0.01


def double_take(voice: np.ndarray, sr: int, retake: list[dict]) -> np.ndarray:
    """A double of ``voice`` ``np.ndarray [shape=(channels, n)]`` from ``retake``
    ``[{start_s, onset_s, shift_ms, cents}]`` (one take per note, sorted; a take runs from its
    ``start_s`` to the next one's, the last to the end): each take, crossfaded with its neighbours
    over :data:`DOUBLE_FADE_S` (complementary sin^2/cos^2 windows: unchanged takes add back to
    ``voice``), is resampled (FFT, band-limited) to ``1 / 2 ** (cents / 1200)`` of its length,
    so it sounds ``cents`` higher and plays that much faster, and added back with its
    ``onset_s`` moved ``shift_ms`` later (``session.retimed`` maps its times: a note's end moves
    ``shift_ms`` minus its length times ``1 - 2 ** (-cents / 1200)``, 5.8 ms per second of note
    and 10 cents). Returns float32 of ``voice``'s shape; what moves past either end is cut."""
    n = voice.shape[-1]
    cuts = [min(int(round(t["start_s"] * sr)), n) for t in retake] + [n]
    cuts[0] = 0
    half = [0] + [max(0, min(int(round(DOUBLE_FADE_S * sr / 2)), (c - a) // 2, (b - c) // 2))
                  for a, c, b in zip(cuts, cuts[1:-1], cuts[2:])] + [0]
    out = np.zeros(voice.shape, dtype=np.float64)
    for k, take in enumerate(retake):
        lo, hi = cuts[k] - half[k], cuts[k + 1] + half[k + 1]
        if hi - lo < 2:
            continue
        window = np.ones(hi - lo)
        if half[k]:
            window[:2 * half[k]] = np.sin(0.5 * np.pi * (np.arange(2 * half[k]) + 0.5) / (2 * half[k])) ** 2
        if half[k + 1]:
            window[hi - lo - 2 * half[k + 1]:] = np.cos(
                0.5 * np.pi * (np.arange(2 * half[k + 1]) + 0.5) / (2 * half[k + 1])) ** 2
        ratio = 2 ** (take["cents"] / 1200)
        length = max(1, int(round((hi - lo) / ratio)))
        seg = signal.resample(voice[:, lo:hi].astype(np.float64) * window, length, axis=-1)
        onset = int(round(take["onset_s"] * sr))
        at = onset + int(round(take["shift_ms"] * sr / 1000)) - int(round((onset - lo) / ratio))
        a, b = max(0, at), min(n, at + length)
        if b > a:
            out[:, a:b] += seg[:, a - at:b - at]
    return out.astype(np.float32)
