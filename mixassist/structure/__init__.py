"""Song structure and arrangement: tempo, beats, downbeats, meter, key, sections, stem activity
(:func:`analyze_structure`), arrangement versions and level rides (:func:`plan_arrangement`),
and sample-accurate edits applied to every stem alike (:func:`apply_edits`).

Submodules import librosa on first use, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib

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


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mixassist.structure' has no attribute {name!r}")
