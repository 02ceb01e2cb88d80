"""``analyze(stems, sr)``: the analysis document of one song (CONTRACT.md ``analysis.json``).

Today it combines the song structure (:func:`mixassist.structure.analyze_structure`) with the
measured stem features (:func:`mixassist.analysis.measure.measure_stems`). Instrument, role and
target level come from given labels, name hints and the reference-balance table — each stem's
``source`` field says which — until the analysis network is trained and shipped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .measure import measure_stems
from .result import Analysis


def analyze(stems: dict[str, np.ndarray], sr: int, *, labels: dict[str, str] | None = None,
            progress: Callable[[int, int], None] | None = None) -> Analysis:
    """Analyse the stems of one song (their sum is the mix).

    Parameters
    ----------
    stems : ``{name: np.ndarray [shape=(channels, samples)]}`` at ``sr``.
    sr : sample rate, Hz.
    labels : optional ``{name: instrument}`` (CONTRACT.md vocabulary) for stems whose
        instrument is known.
    progress : ``callback(done, total)`` as each signal is measured.
    """
    from ..structure import analyze_structure

    structure = analyze_structure(stems, sr)
    return measure_stems(stems, sr, labels=labels, structure=structure, progress=progress)
