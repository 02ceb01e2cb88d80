"""A zip of stems for any DAW: the files given (processed stems, dry stems, plan.json) and a
README.txt that says how to line them up (tempo, sections, per-stem gain and pan)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import ExportError
from ..planning.amount import blend_plan
from ..planning.plan import Plan
from ..utils.atomic import atomic_path

README = "README.txt"


def write_stems_zip(path: str | os.PathLike, files: dict[str, Path], *, readme: str) -> Path:
    """Write a zip at ``path`` (atomically) holding ``files`` and ``README.txt``; return the path.

    ``files`` maps the name inside the archive (``stems/vocals.wav``, ``plan.json``) to the file
    on disk. Audio is stored uncompressed (WAV does not deflate); text is deflated.
    """
    path = Path(path)
    for arcname, source in files.items():
        pure = PurePosixPath(arcname)
        if not arcname or pure.is_absolute() or ".." in pure.parts or arcname == README:
            raise ExportError(f"{path}: archive name {arcname!r} must be a relative path inside "
                              f"the archive (not {README}, which is written from readme)")
        if not Path(source).is_file():
            raise ExportError(f"{path}: {arcname!r} comes from {source}, which does not exist")
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr(README, readme, compress_type=zipfile.ZIP_DEFLATED)
            for arcname, source in files.items():
                audio = Path(source).suffix.lower() in (".wav", ".flac", ".aif", ".aiff")
                archive.write(source, arcname, compress_type=zipfile.ZIP_STORED if audio
                              else zipfile.ZIP_DEFLATED)
    return path


def stems_readme(plan: Plan, *, tempo_bpm: float | None, title: str = "mixassist stems") -> str:
    """The README.txt of a stems archive: tempo, sections with their start times, per-stem gain
    and pan, and how the files add up."""
    lines = [title, "=" * len(title), "",
             f"Sample rate: {plan.sample_rate} Hz. Tempo: "
             + (f"{tempo_bpm:g} BPM." if tempo_bpm else "unknown."),
             "Every file starts at 0:00; place them all at the start of the session.", ""]
    if plan.arrangement.sections:
        lines.append("Sections (start, label):")
        lines += [f"  {_clock(s.start_s)}  {s.label}" for s in plan.arrangement.sections]
        lines.append("")
    lines.append("Stems (the plan's gain and pan at its amount; the processed stems have them):")
    for name, stem in blend_plan(plan, sample_rate=plan.sample_rate).stems.items():
        sends = ", ".join(f"{bus} {db:g} dB" for bus, db in stem.sends.items()) or "none"
        lines.append(f"  {name}: gain {stem.gain_db:+.2f} dB, pan {stem.pan:+.2f}"
                     f"{', muted' if stem.mute else ''}; sends {sends}")
    lines += ["",
              "The processed stems (processed/) are each stem after its insert chain, fader,",
              "rides, width and pan. Summed, they are the mix before the master chain, less the",
              "returns of the effect buses (reverb, delay), which no stem holds. The unprocessed",
              "stems (unprocessed/) are the input stems on the output's timeline (after any",
              "arrangement edit); plan.json has every setting (mixassist render re-renders it)."]
    return "\n".join(lines) + "\n"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(float(seconds), 60.0)
    return f"{int(minutes)}:{rest:06.3f}"
