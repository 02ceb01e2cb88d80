"""The measured balance of a song, to mix another song toward it (``mix --reference``).

A song's balance is measured over *units*: groups of its stems that a reference and the song
being mixed both have. A stem whose name every reference also has is a unit of its own (two
sessions of one song, stems named alike); the other stems are grouped into the four stem groups
(:data:`~mixassist.vocab.STEM_GROUPS`) by name or label (:func:`stem_group`), so a folder of
eight tracks compares with a separated reference's four stems. Leakage and silent stems belong
to no unit.

Per unit :func:`measure_balance` measures, from the summed audio of its stems: its integrated
loudness re the mix's (LU, ITU-R BS.1770-4, the scale of ``level_db``) and re the rest of the
mix, its octave-band tonal balance (dB re its total power, as ``Features.octave_db``) and its
stereo width; and for the mix: loudness, loudness range, true peak, tonal balance and width.
Stems may be arrays or :class:`~mixassist.audio.signal.Signal` s: units, the mix and the rests are
:class:`~mixassist.audio.signal.MixSignal` s, every figure measured block by block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..audio.signal import MixSignal, Signal, aligned_signals
from ..loudness import integrated_loudness, measure_loudness
from ..vocab import STEM_GROUPS
from .features import spectral_balance, stereo_image
from .result import Analysis, StemAnalysis
from .spectrum import band_spectrogram

#: Instruments of each stem group other than ``other``.
GROUP_OF_INSTRUMENT = {"drums": "drums", "percussion": "drums", "bass": "bass", "vocals": "vocals"}


def stem_group(stem: StemAnalysis) -> str:
    """The stem group of ``stem``: its name when that is a group, else by its instrument."""
    if stem.name in STEM_GROUPS:
        return stem.name
    return GROUP_OF_INSTRUMENT.get(stem.instrument, "other")


def _plays(stem: StemAnalysis) -> bool:
    return stem.loudness_lufs is not None and not stem.extra.get("leakage")


def unit_groups(song: Analysis, references: Sequence[Analysis]
                ) -> tuple[dict[str, list[str]], list[dict[str, list[str]]]]:
    """The units of ``song`` and of each reference: ``({unit: [stem names]}, [per reference])``.

    A reference that lacks a unit has no entry for it."""
    names = [{s.name for s in ref.stems if _plays(s)} for ref in references]
    own = sorted(s.name for s in song.stems if _plays(s) and all(s.name in n for n in names))
    ours: dict[str, list[str]] = {name: [name] for name in own}
    for stem in song.stems:
        if _plays(stem) and stem.name not in ours:
            ours.setdefault(stem_group(stem), []).append(stem.name)
    theirs = []
    for ref in references:
        units: dict[str, list[str]] = {name: [name] for name in own}
        for stem in ref.stems:
            if _plays(stem) and stem.name not in own:
                units.setdefault(stem_group(stem), []).append(stem.name)
        theirs.append({unit: stems for unit, stems in units.items() if unit in ours})
    return ours, theirs


@dataclass
class UnitBalance:
    """One unit: ``level_db`` LU re the mix, ``rest_db`` LU re the mix without it (None when the
    unit is the whole mix), ``power_db`` its mean square re the mix's (dB, unweighted: what its
    octave bands add to the mix's), ``octave_db`` dB re its total power at
    ``OCTAVE_CENTRES_HZ``, ``width`` side/mid energy ratio, ``stems`` its stems."""

    level_db: float
    rest_db: float | None
    power_db: float
    octave_db: list[float]
    width: float
    stems: list[str]


@dataclass
class BalanceProfile:
    """The measured balance of one song (see the module docstring)."""

    name: str
    units: dict[str, UnitBalance]
    octave_db: list[float]
    loudness_lufs: float
    lra_lu: float
    true_peak_dbtp: float
    width: float
    tempo_bpm: float | None
    duration_s: float


def tonal_balance(audio: np.ndarray | Signal, sr: int) -> tuple[list[float], float]:
    """Octave-band balance (dB re total power, ``OCTAVE_CENTRES_HZ``) and stereo width of
    ``audio`` ``(channels, samples)`` (or a signal) at ``sr`` Hz, over its whole length."""
    spec = band_spectrogram(audio, sr)
    every = np.ones(spec.power.shape[0], bool)
    octave = [round(float(v), 2) for v in spectral_balance(spec, every)["octave_db"]]
    return octave, round(float(stereo_image(spec)["width"]), 3)


def mean_square(signal: Signal) -> float:
    """Mean square of ``signal`` over all its samples and channels (float64, block by block)."""
    total = sum(float(np.einsum("ij,ij->", b, b, dtype=np.float64)) for _, b in signal.blocks())
    return total / (signal.samples * signal.channels)


def measure_balance(name: str, stems: dict[str, np.ndarray | Signal], sr: int,
                    analysis: Analysis, units: dict[str, list[str]]) -> BalanceProfile:
    """The :class:`BalanceProfile` of a song.

    Parameters
    ----------
    name : the song's name (a file name), for the reasons.
    stems : ``{name: np.ndarray [shape=(channels, samples)] or Signal}`` at ``sr`` Hz, the
        song's stems (stereo, as long as the longest).
    analysis : its analysis (tempo and duration are taken from it).
    units : ``{unit: [stem names]}`` from :func:`unit_groups`.
    """
    audio = aligned_signals(stems, sr)
    mix = MixSignal(audio)
    loud = measure_loudness(mix, sr)
    mix_lufs = loud["integrated_lufs"]
    mix_power = max(mean_square(mix), 1e-30)
    out = {}
    for unit, names in units.items():
        part = MixSignal({n: audio[n] for n in names})
        lufs = integrated_loudness(part, sr)
        if not np.isfinite(lufs):
            continue
        rest = integrated_loudness(MixSignal(audio, gains=dict.fromkeys(names, 0.0)), sr)
        octave, width = tonal_balance(part, sr)
        out[unit] = UnitBalance(level_db=round(lufs - mix_lufs, 2),
                                rest_db=round(lufs - rest, 2) if np.isfinite(rest) else None,
                                power_db=round(10.0 * float(np.log10(
                                    max(mean_square(part), 1e-30) / mix_power)), 2),
                                octave_db=octave, width=width, stems=list(names))
    octave, width = tonal_balance(mix, sr)
    return BalanceProfile(name=name, units=out, octave_db=octave,
                          loudness_lufs=round(float(loud["integrated_lufs"]), 2),
                          lra_lu=round(float(loud["lra_lu"]), 2),
                          true_peak_dbtp=round(float(loud["true_peak_dbtp"]), 2), width=width,
                          tempo_bpm=analysis.tempo_bpm, duration_s=round(mix.samples / sr, 3))


@dataclass
class ReferenceComparison:
    """The song's balance and each reference's, measured over the same units."""

    song: BalanceProfile
    references: list[BalanceProfile]


def compare(song: tuple[str, dict[str, np.ndarray], int, Analysis],
            references: Sequence[tuple[str, dict[str, np.ndarray], int, Analysis]]
            ) -> ReferenceComparison:
    """Measure the song and its references over their common units (:func:`unit_groups`).

    Each argument is ``(name, stems, sr, analysis)``, as the assistant's ``analysed`` returns
    them; the references' sample rates may differ from the song's."""
    name, stems, sr, analysis = song
    ours, theirs = unit_groups(analysis, [ref[3] for ref in references])
    return ReferenceComparison(
        song=measure_balance(name, stems, sr, analysis, ours),
        references=[measure_balance(r_name, r_stems, r_sr, r_analysis, units)
                    for (r_name, r_stems, r_sr, r_analysis), units in zip(references, theirs)])
