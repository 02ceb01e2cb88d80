"""Set-up for the data-generator tests: a check that the system and Python packages are there
(``scripts/setup.sh`` installs them) and one tiny dataset built once per session.

Nothing is skipped silently: when a requirement is missing, every test here errors saying how to
install it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PIP_PACKAGES = ("pysinsy", "music21", "mido")
_FILES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
          "/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2", "/usr/share/games/doom/freedoom2.wad",
          "/usr/share/planetblupi/music/music000.mid", "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2",
          "/usr/share/sounds/sf2/sf_GMbank.sf2", "/usr/share/midi/freepats/Tone_000/000_Acoustic_Grand_Piano.pat")


def _missing() -> list[str]:
    from ctypes.util import find_library

    from mixassist.datasets.drumkits import (DRUMKIT_DIR, PACKAGE, SONIC_PI_DIR, SONIC_PI_KITS,
                                             SONIC_PI_PACKAGE)
    from mixassist.datasets.sources import DRUMKITS, SONIC_PI_PREFIX
    missing = [f for f in _FILES if not Path(f).is_file()]
    missing += [f"{DRUMKIT_DIR / k.folder / 'drumkit.xml'} (Debian {PACKAGE})" for n, k in DRUMKITS.items()
                if not n.startswith(SONIC_PI_PREFIX) and not (DRUMKIT_DIR / k.folder / "drumkit.xml").is_file()]
    missing += sorted({f"{SONIC_PI_DIR / f'{stem}.flac'} (Debian {SONIC_PI_PACKAGE})"
                       for kit in SONIC_PI_KITS.values() for _, stems in kit for stem in stems
                       if not (SONIC_PI_DIR / f"{stem}.flac").is_file()})
    if not find_library("fluidsynth"):
        missing.append("libfluidsynth")
    return missing


@pytest.fixture(scope="session", autouse=True)
def system_packages() -> None:
    missing = _missing()
    if missing:
        pytest.fail(f"data-generator requirements missing ({', '.join(missing)}); run "
                    "`./scripts/setup.sh`, which installs the Debian packages they come from",
                    pytrace=False)
    absent = [p for p in PIP_PACKAGES if importlib.util.find_spec(p) is None]
    if absent:
        pytest.fail(f"Python packages missing: {', '.join(absent)}; install them with "
                    f"`.venv/bin/pip install {' '.join(absent)}` (extra `mixassist[data]`)", pytrace=False)


#: Two short procedural songs; seed chosen so that song 00000 has drums and vocals (asserted in tests).
TINY = {"hours": 40 / 3600, "seed": 10, "min_duration_s": 18.0, "max_duration_s": 26.0, "corpus_fraction": 0.0,
        "generator": 2}


@pytest.fixture(scope="session")
def session_song(system_packages):
    """``session_song(root, seed, SHARE=value, ...)``: song 0 of a generator-v3 ``seed`` (palette
    training-v3, about 20 s) built into ``root`` with the :mod:`mixassist.datasets.session` shares
    named (``LAYER=1.0``...) set while it is drawn; returns its folder and its song.json data."""
    from mixassist.datasets import session
    from mixassist.datasets.build import SongPlan, build_song

    def build(root: Path, seed: int, **shares: float) -> tuple[Path, dict]:
        patch = pytest.MonkeyPatch()
        for name, value in shares.items():
            patch.setattr(session, name, value)
        try:
            data = build_song(SongPlan(0, "00000", seed, "train", 20.0, None, "training-v3", 3), root)
        finally:
            patch.undo()
        return root / "songs" / "00000", data

    return build


@pytest.fixture(scope="session")
def tiny_spec() -> dict:
    """The build options of :func:`tiny_dataset`."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, system_packages) -> Path:
    from mixassist.datasets import build_dataset
    root = tmp_path_factory.mktemp("tiny_dataset")
    build_dataset(root, jobs=1, **TINY)
    return root
