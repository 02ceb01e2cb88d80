"""Reading a folder of stems and writing a rendered mix folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import AudioFileError, MixAssistWarning
from .convert import resample, to_channels
from .io import EXTENSIONS, AudioReader, load_audio
from .signal import FileSignal, Signal, as_signal, write_resampled, write_signal


def stem_files(folder: str | os.PathLike) -> dict[str, Path]:
    """``{name: path}`` of every audio file in ``folder`` (not recursive), names from file stems.

    Raises :class:`AudioFileError` when the folder is missing, holds no audio file, or two files
    share a name (``vocals.wav`` and ``vocals.flac``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AudioFileError("is not a folder of stems", folder)
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith("."))
    if not files:
        raise AudioFileError(f"holds no audio files ({', '.join(sorted(EXTENSIONS))})", folder)
    names = Counter(p.stem for p in files)
    if dupes := sorted(n for n, c in names.items() if c > 1):
        raise AudioFileError(f"has several files for stem(s) {', '.join(dupes)}; keep one each",
                             folder)
    return {p.stem: p for p in files}


def aligned(stems: dict[str, np.ndarray], channels: int | None = 2) -> dict[str, np.ndarray]:
    """The stems as float32 ``(channels, samples)`` arrays of one length (the longest; shorter
    ones padded with silence at the end), as the renderer and the mixdown take them; with
    ``channels`` None each keeps its own channels."""
    out = {name: np.asarray(a, np.float32) if channels is None
           else to_channels(np.asarray(a, np.float32), channels) for name, a in stems.items()}
    length = max((a.shape[1] for a in out.values()), default=0)
    return {name: np.pad(a, ((0, 0), (0, length - a.shape[1]))) if a.shape[1] < length else a
            for name, a in out.items()}


def mixdown(stems: dict[str, np.ndarray], channels: int = 2) -> np.ndarray:
    """The sum of the stems, ``(channels, samples)`` float32, as long as the longest."""
    parts = aligned(stems, channels)
    mix = np.zeros((channels, max((a.shape[1] for a in parts.values()), default=0)), np.float32)
    for a in parts.values():
        mix += a
    return mix


def load_stems(folder: str | os.PathLike, *, sr: int | None = None,
               ) -> tuple[dict[str, np.ndarray], int]:
    """Load every audio file of ``folder`` as one stem.

    Parameters
    ----------
    folder : a folder of audio files; each file's name (without extension) names its stem.
    sr : resample every stem to this rate (Hz). None: keep the common rate; when the files
        differ, they are resampled to the highest one, with a :class:`MixAssistWarning`.

    Returns
    -------
    stems : ``{name: np.ndarray [shape=(channels, samples), dtype=float32]}``, all as long as
        the longest (shorter files padded with silence at the end: a stem that stops early).
    sr : int, the sample rate of every stem, Hz.
    """
    loaded = {name: load_audio(path) for name, path in stem_files(folder).items()}
    rates = {rate for _, rate in loaded.values()}
    if sr is None:
        sr = max(rates)
        if len(rates) > 1:
            warnings.warn(f"{folder}: stems have different sample rates "
                          f"({', '.join(map(str, sorted(rates)))} Hz); resampled to {sr} Hz",
                          MixAssistWarning, stacklevel=2)
    stems = {name: resample(audio, rate, sr) for name, (audio, rate) in loaded.items()}
    return aligned(stems, channels=None), sr


#: Containers read in place by seeking (sample-exact); others are decoded to WAV first.
SEEKABLE = ("WAV", "FLAC", "AIFF")


def convert_to_wav(path: str | os.PathLike, out: str | os.PathLike, sr: int) -> FileSignal:
    """Decode ``path`` block by block into the float32 WAV ``out`` at ``sr`` Hz (resampled when
    its rate differs, :func:`~.signal.write_resampled`); constant memory."""
    with AudioReader(path) as reader:
        return write_resampled(reader.blocks(1 << 18), reader.sr, sr, reader.channels, out)


def stem_signals(folder: str | os.PathLike, workdir: str | os.PathLike,
                 ) -> tuple[dict[str, Signal], int]:
    """The audio files of ``folder`` as stems read block by block where they lie
    (:class:`~.signal.FileSignal`), like :func:`load_stems` without loading them: WAV, FLAC and
    AIFF files at the common rate are read in place; files of other containers (MP3, Ogg,
    whose decoders do not seek sample-exactly) or at another rate (the highest wins, with a
    :class:`MixAssistWarning`) are first converted into ``workdir`` (:func:`convert_to_wav`).
    The stems keep their own channels and lengths (see
    :func:`~.signal.aligned_signals`). Returns ``(stems, sr)``."""
    files = stem_files(folder)
    infos = {}
    for name, path in files.items():
        with AudioReader(path) as reader:  # checks the file; its rate and container
            infos[name] = reader
    rates = {reader.sr for reader in infos.values()}
    sr = max(rates)
    if len(rates) > 1:
        warnings.warn(f"{folder}: stems have different sample rates "
                      f"({', '.join(map(str, sorted(rates)))} Hz); resampled to {sr} Hz",
                      MixAssistWarning, stacklevel=2)
    stems: dict[str, Signal] = {}
    for name, path in files.items():
        reader = infos[name]
        if reader.container in SEEKABLE and reader.sr == sr:
            stems[name] = FileSignal(path)
        else:
            Path(workdir).mkdir(parents=True, exist_ok=True)
            stems[name] = convert_to_wav(path, Path(workdir) / f"{name}.wav", sr)
    return stems, sr


def save_mix_folder(folder: str | os.PathLike, mix, stems: dict, sr: int,
                    plan_json: str) -> Path:
    """Write ``folder/mix.wav``, ``folder/stems/<name>.wav`` and ``folder/plan.json``; the audio
    (arrays at ``sr`` or signals) is written block by block.

    Everything is written into a hidden staging folder first and moved into place (renames on
    one file system) only once all of it is written, so an error leaves the previous contents of
    ``folder`` untouched. Other files in ``folder`` are kept; ``folder/stems/`` is replaced as a
    whole.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".render.", suffix=".part", dir=folder))
    try:
        (staging / "stems").mkdir()
        for name, audio in stems.items():
            write_signal(staging / "stems" / f"{name}.wav", as_signal(audio, sr, name=name))
        write_signal(staging / "mix.wav", as_signal(mix, sr, name="mix"))
        (staging / "plan.json").write_text(plan_json + "\n", encoding="utf-8")
        old = staging / "old-stems"
        if (folder / "stems").exists():
            os.replace(folder / "stems", old)
        os.replace(staging / "stems", folder / "stems")
        os.replace(staging / "mix.wav", folder / "mix.wav")
        os.replace(staging / "plan.json", folder / "plan.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
