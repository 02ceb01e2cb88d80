"""Source separation with Demucs, in-process and streaming (see :mod:`.engine`, :mod:`.models`)."""

from .engine import Separator, resolve_device, separate
from .models import LoadedModel, list_models, pull, resolve_model, save_safetensors

__all__ = ["LoadedModel", "Separator", "list_models", "pull", "resolve_device", "resolve_model",
           "save_safetensors", "separate"]
