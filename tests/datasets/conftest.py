"""Set-up for the data-generator tests: system packages (installed with apt when missing and
allowed) and one tiny dataset built once per session.

Nothing is skipped silently: when a requirement is missing and cannot be installed, every test
here errors with the exact command that installs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

#: Debian packages the data generator needs (libfluidsynth, soundfonts, recorded drums, MIDI corpora).
APT_PACKAGES = ("libfluidsynth3", "fluid-soundfont-gm", "timgm6mb-soundfont", "avldrums.lv2-soundfont",
                "freedoom", "planetblupi-music-midi")
PIP_PACKAGES = ("pysinsy", "music21", "mido")
_FILES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
          "/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2", "/usr/share/games/doom/freedoom2.wad",
          "/usr/share/planetblupi/music/music000.mid")


def _missing() -> list[str]:
    from ctypes.util import find_library
    missing = [f for f in _FILES if not Path(f).is_file()]
    if not find_library("fluidsynth"):
        missing.append("libfluidsynth")
    return missing


def _ensure_system_packages() -> None:
    """Install the apt packages when files are missing and we may (root, apt-get, MIXASSIST_NO_APT unset)."""
    if not _missing():
        return
    if os.geteuid() == 0 and shutil.which("apt-get") and not os.environ.get("MIXASSIST_NO_APT"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], env=env, check=False,
                       capture_output=True)


@pytest.fixture(scope="session", autouse=True)
def system_packages() -> None:
    _ensure_system_packages()
    missing = _missing()
    if missing:
        pytest.fail(f"data-generator requirements missing ({', '.join(missing)}); install them with "
                    f"`sudo apt-get install -y {' '.join(APT_PACKAGES)}`", pytrace=False)
    absent = [p for p in PIP_PACKAGES if importlib.util.find_spec(p) is None]
    if absent:
        pytest.fail(f"Python packages missing: {', '.join(absent)}; install them with "
                    f"`.venv/bin/pip install {' '.join(absent)}` (extra `mixassist[data]`)", pytrace=False)


#: Two short procedural songs; seed chosen so that song 00000 has drums and vocals (asserted in tests).
TINY = {"hours": 40 / 3600, "seed": 10, "min_duration_s": 18.0, "max_duration_s": 26.0, "corpus_fraction": 0.0}


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
