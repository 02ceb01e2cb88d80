"""Receiving an upload safely: streamed to disk with a size limit, checked by content.

An upload is one audio file (a song, separated by the job) or a ``.zip`` of stems (one audio
file per stem). Nothing the client sends becomes a path: the server names every file itself;
a zip member's name gives only the stem's name, and only when it is a plain word
(:data:`STEM_NAME`). Every refusal is an :class:`UploadError` carrying an HTTP status and a
one-line message; the caller removes the staging folder, so a refused upload leaves nothing.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from ..audio.io import EXTENSIONS, AudioReader, sniff_format
from ..errors import MixAssistError
from .worker import SONG_NAME

#: Stem names accepted from zip members (the file name without its extension).
STEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _+-]{0,63}$")
#: Canonical extension for each container family found by content.
FAMILY_EXTENSION = {"WAV": ".wav", "FLAC": ".flac", "AIFF": ".aiff", "OGG": ".ogg", "MP3": ".mp3"}
MAX_ZIP_MEMBERS = 32
#: The repeatable multipart field of reference songs, and how many one job may have.
REFERENCE_FIELD = "reference"
MAX_REFERENCES = 3
MAX_FIELD_BYTES = 256
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 16


class UploadError(Exception):
    """A refused upload: ``status`` (HTTP 4xx) and a one-line ``message`` for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class MultipartReceiver:
    """Feed a ``multipart/form-data`` body chunk by chunk; the ``file`` part goes to
    ``file_path``, each ``reference`` part (repeatable, at most ``max_references``) to
    ``reference_dir/<k>`` (k = 1, 2, ...).

    Stops (raises :class:`UploadError` 413) as soon as a file passes ``max_bytes``, so an
    oversize upload is never stored whole; a reference past ``max_references`` is a 400 at its
    headers. Text fields are kept in :attr:`fields` (each at most :data:`MAX_FIELD_BYTES`);
    :attr:`references` holds ``(filename, path)`` of every non-empty reference received.
    """

    def __init__(self, content_type: str, file_path: Path, *, max_bytes: int,
                 reference_dir: Path | None = None, max_references: int = 0):
        kind, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise UploadError(415, "send the upload as multipart/form-data with a 'file' field")
        self.file_path, self.max_bytes = file_path, max_bytes
        self.reference_dir, self.max_references = reference_dir, max_references
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_bytes = 0
        self.references: list[tuple[str, Path]] = []
        self._reference: tuple[str, Path] | None = None  # the reference part being received
        self._reference_parts = 0
        self._part_bytes = 0
        self._handle = None
        self._headers: dict[bytes, bytes] = {}
        self._header = [b"", b""]
        self._name: str | None = None
        self._value = bytearray()
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
            "on_part_end": self._part_end})

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except UploadError:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed body
            raise UploadError(400, f"malformed multipart body ({exc})") from None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _part_begin(self) -> None:
        self._headers, self._name, self._value = {}, None, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header[0] += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._header[1] += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header[0].lower()] = self._header[1]
        self._header = [b"", b""]

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        self._part_bytes = 0
        if self._name == "file":
            if self.filename is not None:
                raise UploadError(400, "send exactly one file per upload")
            self.filename = params.get(b"filename", b"upload").decode("utf-8", "replace")
            self._handle = open(self.file_path, "wb")
        elif self._name == REFERENCE_FIELD:
            if self.reference_dir is None or self.max_references <= 0:
                raise UploadError(400, "this upload takes no reference songs")
            if len(self.references) >= self.max_references:
                raise UploadError(400, f"too many reference songs: send at most "
                                       f"{self.max_references}")
            self._reference_parts += 1
            filename = params.get(b"filename", b"").decode("utf-8", "replace")
            self.reference_dir.mkdir(exist_ok=True)
            self._reference = (filename, self.reference_dir / str(self._reference_parts))
            self._handle = open(self._reference[1], "wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name == "file" or self._name == REFERENCE_FIELD:
            self._part_bytes += end - start
            if self._name == "file":
                self.file_bytes = self._part_bytes
            if self._part_bytes > self.max_bytes:
                what = "the upload" if self._name == "file" else \
                    f"reference {display_name(self._reference[0])}"
                raise UploadError(413, f"{what} is larger than the limit of "
                                       f"{self.max_bytes / 2**20:g} MB")
            self._handle.write(data[start:end])
        else:
            self._value += data[start:end]
            if len(self._value) > MAX_FIELD_BYTES:
                raise UploadError(400, f"form field {self._name!r} is too long")

    def _part_end(self) -> None:
        if self._name == "file":
            self.close()
        elif self._name == REFERENCE_FIELD:
            self.close()
            filename, path = self._reference
            if filename or self._part_bytes:  # an empty file input sends an empty part: none
                self.references.append(self._reference)
            else:
                path.unlink()
            self._reference = None
        elif self._name:
            self.fields[self._name] = self._value.decode("utf-8", "replace")


def display_name(filename: str | None) -> str:
    """An upload's filename as shown to people (never used for a path): its last part,
    printable, at most 120 characters (``upload`` when nothing is left)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:120] or "upload"


def _check_audio(path: Path, shown_as: str, *, max_duration_s: float) -> float:
    """Decode ``path`` end to end; its duration in seconds. Refuses non-audio and damage."""
    try:
        with AudioReader(path) as reader:
            if reader.duration_s > max_duration_s:
                raise UploadError(413, f"{shown_as}: {reader.duration_s:.0f} s of audio is longer "
                                       f"than the limit of {max_duration_s:g} s")
            for _ in reader.blocks(_CHUNK):
                pass
            return reader.duration_s
    except MixAssistError as exc:
        raise UploadError(422, str(exc).replace(str(path), shown_as)) from None


def _member_stem(info: zipfile.ZipInfo) -> tuple[str, str] | None:
    """``(stem name, extension)`` of a zip member; None for folders and hidden/system files."""
    name = info.filename
    parts = name.split("/")
    if (name.startswith("/") or "\\" in name or ":" in name or ".." in parts
            or "\x00" in name):
        raise UploadError(400, f"zip member {name!r} has an unsafe path; use plain file names")
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        raise UploadError(400, f"zip member {name!r} is a symbolic link; links are not accepted")
    if info.is_dir() or parts[0] == "__MACOSX" or parts[-1].startswith("."):
        return None
    stem, ext = os.path.splitext(parts[-1])
    if ext.lower() not in EXTENSIONS:
        raise UploadError(422, f"zip member {name!r} is not an audio file; the zip may hold only "
                               f"stems ({', '.join(sorted(set(EXTENSIONS)))})")
    if not STEM_NAME.match(stem):
        raise UploadError(422, f"zip member {name!r}: name stems with letters, digits, spaces, "
                               "'_', '+' or '-' (e.g. vocals.wav)")
    return stem, ext.lower()


def _extract_stems(archive: Path, folder: Path, *, max_bytes: int, max_duration_s: float) -> int:
    """Extract the stems of ``archive`` into ``folder`` (flat, server-named); the stem count."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [(info, _member_stem(info)) for info in zf.infolist()]
            members = [(info, named) for info, named in members if named is not None]
            if not members:
                raise UploadError(422, "the zip holds no audio files; put one file per stem in it")
            if len(members) > MAX_ZIP_MEMBERS:
                raise UploadError(413, f"the zip holds {len(members)} stems; the limit is "
                                       f"{MAX_ZIP_MEMBERS}")
            seen: set[str] = set()
            for _, (stem, _ext) in members:
                if stem.lower() in seen:
                    raise UploadError(422, f"the zip has several files for stem {stem!r}; "
                                           "keep one each")
                seen.add(stem.lower())
            folder.mkdir()
            written = 0
            for info, (stem, ext) in members:
                with zf.open(info) as src, open(folder / f"{stem}{ext}", "wb") as dst:
                    while block := src.read(_CHUNK):
                        written += len(block)
                        if written > max_bytes:
                            raise UploadError(413, "the zip's stems unpack to more than the limit "
                                                   f"of {max_bytes / 2**20:g} MB")
                        dst.write(block)
            for info, (stem, ext) in members:
                _check_audio(folder / f"{stem}{ext}", info.filename,
                             max_duration_s=max_duration_s)
            return len(members)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise UploadError(422, f"the zip is damaged or uses an unsupported feature ({exc})") from None


def stage_input(upload: Path, input_dir: Path, *, display_name: str, max_bytes: int,
                max_duration_s: float, name: str = SONG_NAME) -> str:
    """Turn the received file into a job input under ``input_dir``; returns the job kind.

    ``'stems'``: a zip, extracted to ``input_dir/<name>/``; ``'song'``: one audio file, moved to
    ``input_dir/<name>.<ext>`` with the extension of the format its content holds.
    """
    with open(upload, "rb") as f:
        head = f.read(4096)
    if not head:
        raise UploadError(422, f"{display_name}: the upload is empty")
    input_dir.mkdir()
    if head.startswith(_ZIP_MAGIC):
        _extract_stems(upload, input_dir / name, max_bytes=4 * max_bytes,
                       max_duration_s=max_duration_s)
        upload.unlink()
        return "stems"
    family = sniff_format(head)
    if family is None:
        raise UploadError(415, f"{display_name}: not an audio file or a zip of stems (its content "
                               "is no WAV, FLAC, AIFF, OGG, MP3 or ZIP)")
    song = input_dir / f"{name}{FAMILY_EXTENSION[family]}"
    os.replace(upload, song)
    _check_audio(song, display_name, max_duration_s=max_duration_s)
    return "song"


def reference_name(display_name: str, k: int) -> str:
    """The file (or folder) name a reference is stored under: its upload's name without the
    extension, kept to :data:`STEM_NAME`'s characters (the plan and the report name references
    by it), else ``reference-<k>``."""
    stem = re.sub(r"[^A-Za-z0-9 _+-]+", "_", os.path.splitext(display_name)[0])
    stem = re.sub(r"\s+", " ", stem).strip(" _")[:64].strip()
    return stem if STEM_NAME.match(stem) else f"reference-{k}"


def stage_reference(upload: Path, folder: Path, *, display_name: str, k: int, max_bytes: int,
                    max_duration_s: float) -> Path:
    """Check a received reference song like the song (content sniffed, decoded end to end, the
    duration limit) and that it is long enough to measure
    (:func:`mixassist.assistant.check_reference`); store it as ``folder/<name>.<ext>`` (a zip of
    stems: ``folder/<name>/``) and return that path. Every refusal names ``display_name``."""
    from ..assistant import check_reference

    label = f"reference {display_name}"
    name = reference_name(display_name, k)
    path = folder / name
    try:
        stage_input(upload, folder, display_name=label, max_bytes=max_bytes,
                    max_duration_s=max_duration_s, name=name)
        path = next(p for p in folder.iterdir() if p.name == name or p.stem == name)
        check_reference(path)
    except UploadError as exc:
        message = exc.message if exc.message.startswith(label) else f"{label}: {exc.message}"
        raise UploadError(exc.status, message) from None
    except MixAssistError as exc:
        detail = str(exc).replace(f"{path}: ", "").replace(str(path), display_name)
        raise UploadError(422, f"{label}: {detail}") from None
    return path
