"""mixassist: an arrangement and mixing assistant for music producers.

Public API (CONTRACT.md): ``load_audio``, ``save_audio``, ``separate``, ``analyze``,
``measure_loudness``, ``render``, ``MixAssistant``. Heavy modules (torch, demucs) are imported
on first use, so ``import mixassist`` and ``mixassist --help`` stay fast.
"""

from __future__ import annotations

from .errors import (AudioContentError, AudioError, AudioFileError, MixAssistError,
                     MixAssistWarning, ModelError, ParameterError, PlanError)
from .utils.lazy import lazy_getattr

from ._version import __version__

_LAZY = {
    "load_audio": "mixassist.audio.io",
    "save_audio": "mixassist.audio.io",
    "separate": "mixassist.separation",
    "Separator": "mixassist.separation",
    "measure_loudness": "mixassist.loudness",
    "integrated_loudness": "mixassist.loudness",
    "true_peak_dbtp": "mixassist.loudness",
    "Target": "mixassist.planning.targets",
    "resolve_target": "mixassist.planning.targets",
    "render": "mixassist.rendering.render",
    "RenderResult": "mixassist.rendering.render",
    "Plan": "mixassist.planning.plan",
    "load_stems": "mixassist.audio.stems",
    "measure_stems": "mixassist.analysis.measure",
    "Analysis": "mixassist.analysis.result",
    "predict_plan": "mixassist.planning.predict",
    "analyze": "mixassist.analysis.analyze",
    "MixAssistant": "mixassist.assistant",
    "MixResult": "mixassist.assistant",
    "MixOptions": "mixassist.options",
    "build_dataset": "mixassist.datasets",
    "analyze_structure": "mixassist.analysis.structure",
    "plan_arrangement": "mixassist.planning.arrangement",
    "apply_edits": "mixassist.rendering.edits",
    "EditList": "mixassist.planning.edits",
    "AnalysisNet": "mixassist.analysis.network",
    "predict_stems": "mixassist.analysis.network",
    "run_batch": "mixassist.batch",
}

__all__ = sorted([*_LAZY, "AudioContentError", "AudioError", "AudioFileError", "MixAssistError",
                  "MixAssistWarning", "ModelError", "ParameterError", "PlanError", "__version__"])


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
