"""Shared fixtures. Tests never touch the network: offline mode is forced for the whole session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["MIXASSIST_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["MIXASSIST_CACHE"] = tempfile.mkdtemp(prefix="mixassist-test-cache-")
atexit.register(shutil.rmtree, os.environ["MIXASSIST_CACHE"], ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mixassist.analysis.structure import analyze_structure  # noqa: E402
from mixassist.analysis.synthetic import synthetic_song  # noqa: E402
from mixassist.cli import main  # noqa: E402


def sine(freq_hz: float, sr: int, duration_s: float, *, channels: int = 2, amp: float = 0.25,
         ) -> np.ndarray:
    """A float32 sine shaped (channels, samples); channel k is scaled by 1 - 0.1 k to tell them apart."""
    t = np.arange(int(round(sr * duration_s))) / sr
    wave = amp * np.sin(2 * np.pi * freq_hz * t)
    return np.stack([wave * (1 - 0.1 * k) for k in range(channels)]).astype(np.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def tiny_model():
    from mixassist.separation.testing import tiny_htdemucs

    return tiny_htdemucs()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_model):
    """The tiny model saved as a demucs .th package."""
    from mixassist.separation.testing import save_th

    return save_th(tiny_model, tmp_path_factory.mktemp("model") / "tiny.th")


@pytest.fixture(scope="session")
def load_script():
    """``load_script("benchmarks/x.py")``: a script of the repository imported as a module."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def load(relative: str):
        spec = importlib.util.spec_from_file_location(Path(relative).stem, root / relative)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def cli(capsys):
    """``cli(args) -> (exit code, stdout, stderr)``; user errors must not raise out of main()."""

    def run(args) -> tuple[int, str, str]:
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run


# --- one short procedural song and its structure, shared by the analysis, planning and
# --- rendering tests (computed once per session)
SHORT_FORM = (("intro", 4), ("verse", 8), ("pre-chorus", 4), ("chorus", 8), ("verse", 8),
              ("pre-chorus", 4), ("chorus", 8), ("bridge", 4), ("chorus", 8), ("outro", 4))


@pytest.fixture(scope="session")
def song():
    """A 120 BPM, 4/4, A minor song of 60 bars (2 min) at 22.05 kHz with exact annotations."""
    return synthetic_song(tempo_bpm=120.0, key="A minor", form=SHORT_FORM, sr=22050, seed=7)


@pytest.fixture(scope="session")
def structure(song):
    return analyze_structure(song.stems, song.sr)
