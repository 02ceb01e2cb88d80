"""Fixtures of the structure tests: one short procedural song and its analysis, shared."""

from __future__ import annotations

import pytest

from mixassist.structure.analysis import analyze_structure
from mixassist.structure.synthetic import synthetic_song

SHORT_FORM = (("intro", 4), ("verse", 8), ("pre-chorus", 4), ("chorus", 8), ("verse", 8),
              ("pre-chorus", 4), ("chorus", 8), ("bridge", 4), ("chorus", 8), ("outro", 4))


@pytest.fixture(scope="session")
def song():
    """A 120 BPM, 4/4, A minor song of 60 bars (2 min) at 22.05 kHz with exact annotations."""
    return synthetic_song(tempo_bpm=120.0, key="A minor", form=SHORT_FORM, sr=22050, seed=7)


@pytest.fixture(scope="session")
def structure(song):
    return analyze_structure(song.stems, song.sr)
