"""Source separation with Demucs, in-process and streaming (see :mod:`.engine`, :mod:`.models`).

Exports are lazy, so the training and metric modules import without the audio I/O stack."""

from ..utils.lazy import lazy_getattr

_LAZY = {
    "Separator": "mixassist.separation.engine",
    "resolve_device": "mixassist.separation.engine",
    "separate": "mixassist.separation.engine",
    "LoadedModel": "mixassist.separation.models",
    "list_models": "mixassist.separation.models",
    "pull": "mixassist.separation.models",
    "resolve_model": "mixassist.separation.models",
    "save_safetensors": "mixassist.separation.models",
}
__all__ = list(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY, globals())
