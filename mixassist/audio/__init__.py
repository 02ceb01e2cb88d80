"""Audio I/O and conversions: float32 ``(channels, samples)`` arrays with an int sample rate."""

from .convert import resample, to_channels, validate_audio
from .io import AudioReader, AudioWriter, audio_info, check_file, load_audio, save_audio

__all__ = ["AudioReader", "AudioWriter", "audio_info", "check_file", "load_audio", "resample",
           "save_audio", "to_channels", "validate_audio"]
