"""Song structure and arrangement: tempo, beats, downbeats, meter, key, sections, stem activity
(:func:`analyze_structure`), arrangement versions and level rides (:func:`plan_arrangement`),
and sample-accurate edits applied to every stem alike (:func:`apply_edits`).

Submodules import librosa on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from ..utils.lazy import lazy_getattr

_LAZY = {
    "analyze_structure": "mixassist.structure.analysis",
    "SongStructure": "mixassist.structure.analysis",
    "Section": "mixassist.structure.analysis",
    "plan_arrangement": "mixassist.structure.planner",
    "ArrangementPlan": "mixassist.structure.planner",
    "VERSIONS": "mixassist.structure.planner",
    "EditList": "mixassist.structure.edits",
    "Segment": "mixassist.structure.edits",
    "apply_edits": "mixassist.structure.edits",
    "score_song": "mixassist.structure.evaluate",
    "synthetic_song": "mixassist.structure.synthetic",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
