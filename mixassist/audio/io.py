"""Reading and writing audio files.

Reading goes through ``soundfile`` (libsndfile 1.2: WAV, FLAC, AIFF, OGG/Vorbis, OGG/Opus, MP3; it
streams), then ``pedalboard.io`` for what libsndfile cannot decode. libsndfile comes first because
it reports damage: on a FLAC cut in half pedalboard 0.9.26 returns the declared length of digital
silence without an error, and it does not trim the MP3 encoder delay. Every failure is an
:class:`~mixassist.errors.AudioFileError` whose one-line message names the file and the problem.
Writing is atomic: a file appears under its name only once it is complete.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioContentError, AudioFileError, ParameterError
from ..utils.atomic import atomic_path
from .convert import as_audio, check_sample_rate, resample, validate_audio

#: Extension -> container family it must hold.
EXTENSIONS = {
    ".wav": "WAV", ".wave": "WAV", ".bwf": "WAV", ".flac": "FLAC", ".aif": "AIFF",
    ".aiff": "AIFF", ".aifc": "AIFF", ".ogg": "OGG", ".oga": "OGG", ".opus": "OGG", ".mp3": "MP3",
}
#: Formats :func:`save_audio` writes, by extension -> (soundfile format, default subtype).
WRITE_FORMATS = {
    ".wav": ("WAV", "FLOAT"), ".flac": ("FLAC", "PCM_24"), ".aiff": ("AIFF", "FLOAT"),
    ".aif": ("AIFF", "FLOAT"), ".ogg": ("OGG", "VORBIS"), ".opus": ("OGG", "OPUS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
_SNIFF_BYTES = 4096


def sniff_format(head: bytes) -> str | None:
    """Container family from the first bytes of a file, or None when unknown."""
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:3] == b"ID3":
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        body = head[10 + size:10 + size + 4]
        return "FLAC" if body == b"fLaC" else "MP3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "MP3"
    return None


def _wav_truncation(path: Path, head: bytes) -> str | None:
    """Describe a WAV whose data chunk claims more bytes than the file holds, else None."""
    if head[:4] != b"RIFF":
        return None
    size = path.stat().st_size
    pos = 12
    with open(path, "rb") as f:
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                missing = pos + 8 + chunk_size - size
                return f"is truncated: {missing} bytes of audio data are missing" if missing > 0 else None
            pos += 8 + chunk_size + (chunk_size & 1)
    return "is truncated or corrupt: it has no audio data chunk"


def check_file(path: str | os.PathLike) -> tuple[Path, str]:
    """Check that ``path`` is a readable, non-empty audio file whose content matches its extension.

    Returns the path and its container family ("WAV", "FLAC", "AIFF", "OGG" or "MP3").
    """
    path = Path(path)
    if not path.exists():
        raise AudioFileError("no such file", path)
    if path.is_dir():
        raise AudioFileError("is a directory, not an audio file", path)
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise AudioFileError(
            f"unsupported format '{ext or '(no extension)'}'; expected one of "
            f"{', '.join(sorted(set(EXTENSIONS)))}", path)
    if not os.access(path, os.R_OK):
        raise AudioFileError("permission denied: the file is not readable", path)
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise AudioFileError(f"cannot be read ({exc.strerror or exc})", path) from None
    if not head:
        raise AudioFileError("is empty (0 bytes)", path)
    found = sniff_format(head)
    expected = EXTENSIONS[ext]
    if found is None:
        raise AudioFileError(f"is not a {expected} file (unrecognised or corrupt header)", path)
    if found != expected:
        raise AudioFileError(
            f"holds {found} data but its extension '{ext}' says {expected}; rename it", path)
    if found == "WAV":
        problem = _wav_truncation(path, head)
        if problem:
            raise AudioFileError(problem, path)
    return path, found


class AudioReader:
    """Sequential reader of an audio file in blocks; constant memory whatever the duration.

    Attributes: ``path``, ``sr`` (Hz), ``channels``, ``frames`` (samples per channel; for MP3 an
    estimate until the end is reached). :meth:`read` returns float32 ``(channels, n)``.
    """

    def __init__(self, path: str | os.PathLike):
        self.path, self.container = check_file(path)
        self._pb = self._sf = None
        try:
            self._sf = sf.SoundFile(str(self.path))
            self.sr, self.channels, self.frames = self._sf.samplerate, self._sf.channels, self._sf.frames
        except Exception as sf_exc:  # noqa: BLE001 - libsndfile cannot decode it: try pedalboard
            try:
                from pedalboard.io import AudioFile

                self._pb = AudioFile(str(self.path))
                self.sr, self.channels = int(round(self._pb.samplerate)), self._pb.num_channels
                self.frames = int(self._pb.frames)
            except Exception:  # noqa: BLE001
                raise AudioFileError(
                    f"cannot be decoded as {self.container}: the file is corrupt or its codec is "
                    f"unsupported ({str(sf_exc).splitlines()[0][:120]})", self.path) from None
        check_sample_rate(self.sr, name=str(self.path))
        if self.frames <= 0:
            self.close()
            raise AudioContentError("contains no audio samples (empty, truncated or corrupt)",
                                    self.path)
        self.position = 0

    @property
    def duration_s(self) -> float:
        return self.frames / self.sr

    def read(self, n: int) -> np.ndarray:
        """Read up to ``n`` frames as float32 ``(channels, n')``; an empty array at the end."""
        try:
            if self._sf is not None:
                block = self._sf.read(n, dtype="float32", always_2d=True).T
            else:
                block = self._pb.read(n)
        except Exception as exc:  # noqa: BLE001
            raise AudioFileError(
                f"decoding failed at {self.position / self.sr:.2f} s: the file is truncated or "
                f"corrupt ({str(exc).splitlines()[0][:120]})", self.path) from None
        block = np.ascontiguousarray(block, dtype=np.float32)
        if block.size and not np.isfinite(block).all():
            raise AudioContentError(
                f"contains NaN or infinite samples near {self.position / self.sr:.2f} s", self.path)
        self.position += block.shape[1]
        return block

    def blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        """Yield successive ``(channels, <=block_frames)`` blocks until the end of the file.

        Raises :class:`AudioFileError` at the end if fewer frames came than the header declared.
        """
        while True:
            block = self.read(block_frames)
            if block.shape[1] == 0:
                break
            yield block
        if self.position < self.frames and self._sf is not None:
            raise AudioFileError(f"is truncated: {self.frames - self.position} of {self.frames} "
                                 "samples are missing", self.path)

    def close(self) -> None:
        for handle in (self._pb, self._sf):
            if handle is not None:
                handle.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def audio_info(path: str | os.PathLike) -> dict:
    """Sample rate, channels, frames and duration of a file, without decoding it."""
    with AudioReader(path) as reader:
        return {"sample_rate": reader.sr, "channels": reader.channels, "frames": reader.frames,
                "duration_s": reader.duration_s, "format": reader.container}


def load_audio(path: str | os.PathLike, *, sr: int | None = None,
               min_duration_s: float = 0.0) -> tuple[np.ndarray, int]:
    """Load an audio file.

    Parameters
    ----------
    path : file in one of :data:`EXTENSIONS`.
    sr : resample to this rate (Hz); None keeps the file's rate.
    min_duration_s : raise :class:`AudioContentError` if shorter.

    Returns
    -------
    audio : np.ndarray [shape=(channels, samples), dtype=float32]
    sr : int, sample rate in Hz.
    """
    with AudioReader(path) as reader:
        blocks = list(reader.blocks(1 << 20))
        native_sr = reader.sr
    audio = np.concatenate(blocks, axis=1) if blocks else np.zeros((reader.channels, 0), np.float32)
    audio = validate_audio(audio, native_sr, name=str(path), min_duration_s=min_duration_s)
    if sr is not None and sr != native_sr:
        audio = resample(audio, native_sr, check_sample_rate(sr))
        return audio, int(sr)
    return audio, native_sr


def save_audio(path: str | os.PathLike, audio: np.ndarray, sr: int, *,
               subtype: str | None = None) -> Path:
    """Write ``(channels, samples)`` audio to ``path`` atomically; the format follows the extension.

    WAV and AIFF default to 32-bit float (lossless for our float32 audio), FLAC to 24-bit.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in WRITE_FORMATS:
        raise ParameterError(f"{path}: cannot write '{ext}' files; use one of "
                             f"{', '.join(sorted(WRITE_FORMATS))}")
    audio = as_audio(audio, name=str(path))
    check_sample_rate(sr, name=str(path))
    fmt, default_subtype = WRITE_FORMATS[ext]
    with atomic_path(path) as tmp:
        try:
            sf.write(str(tmp), audio.T, int(sr), format=fmt, subtype=subtype or default_subtype)
        except (sf.LibsndfileError, ValueError, TypeError) as exc:
            reason = str(exc).split("Error : ")[-1].strip()
            raise ParameterError(f"{path}: cannot write {fmt} ({subtype or default_subtype}) at "
                                 f"{sr} Hz with {audio.shape[0]} channels: {reason}") from None
    return path


#: Largest data chunk (bytes) a RIFF WAV holds: its sizes are 32-bit.
WAV_MAX_BYTES = 2**32 - 2**20
_SAMPLE_BYTES = {"FLOAT": 4, "PCM_32": 4, "PCM_24": 3, "PCM_16": 2, "DOUBLE": 8}


def wav_format(frames: int | None, channels: int, subtype: str) -> str:
    """``"WAV"`` (``"WAVEX"`` past two channels), or ``"RF64"`` when ``frames`` would not fit
    the 32-bit sizes of RIFF (an hour of 192 kHz stereo float: 5.5 GB)."""
    size = (frames or 0) * channels * _SAMPLE_BYTES.get(subtype, 4)
    if size > WAV_MAX_BYTES:
        return "RF64"
    return "WAV" if channels <= 2 else "WAVEX"


class AudioWriter:
    """Write a file block by block; it appears under ``path`` only after :meth:`close`.

    ``frames``: the length the caller will write, when known: a file too big for RIFF is then
    written as RF64 (:func:`wav_format`). Used as a context manager; an exception inside the
    block discards the partial file.
    """

    def __init__(self, path: str | os.PathLike, sr: int, channels: int, *, subtype: str = "FLOAT",
                 frames: int | None = None):
        self.path = Path(path)
        self._ctx = atomic_path(self.path, suffix=".wav")
        tmp = self._ctx.__enter__()
        self._file = sf.SoundFile(str(tmp), "w", samplerate=int(sr), channels=channels,
                                  format=wav_format(frames, channels, subtype), subtype=subtype)
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        """Append float32 ``(channels, n)`` audio."""
        self._file.write(np.ascontiguousarray(block.T))
        self.frames += block.shape[1]

    def close(self, *, discard: bool = False) -> None:
        self._file.close()
        if discard:
            self._ctx.__exit__(RuntimeError, RuntimeError("discarded"), None)
        else:
            self._ctx.__exit__(None, None, None)

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(discard=exc_type is not None)
