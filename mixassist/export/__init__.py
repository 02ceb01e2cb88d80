"""Export a mix plan for other software: a REAPER session and a stems archive for any DAW.

:func:`write_reaper_session` writes an ``.rpp`` that references the stems by relative path
(:mod:`.reaper`); :func:`write_stems_zip` packs the stems, the plan and a README
(:mod:`.stems_zip`); :func:`parse_rpp` / :func:`dumps` read and write RPP text (:mod:`.rpp`).
The plugin mapping is :data:`FX_MAP` (:mod:`.mapping`); docs/export.md says what is verified.
"""

from .mapping import FX_MAP
from .reaper import reaper_session, write_reaper_session
from .rpp import RppNode, dumps, parse_rpp
from .stems_zip import stems_readme, write_stems_zip

__all__ = ["FX_MAP", "RppNode", "dumps", "parse_rpp", "reaper_session", "stems_readme",
           "write_reaper_session", "write_stems_zip"]
