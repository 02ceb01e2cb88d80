"""Analysis: what every stem is, where it plays and how it sits in the mix.

:func:`~.measure.measure_stems` fills an :class:`~.result.Analysis` with measured features
(loudness, level, activity, spectral balance, dynamics, stereo image, masking, pitch range); the
analysis network (later) adds instrument, role and target-level predictions on top.
"""

from __future__ import annotations

from .measure import measure_stems
from .result import Analysis, Features, Loudness, Masking, Region, Section, StemAnalysis

__all__ = ["Analysis", "Features", "Loudness", "Masking", "Region", "Section", "StemAnalysis",
           "measure_stems"]
