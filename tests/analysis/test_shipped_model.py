"""The shipped analysis network (``mixassist/models/mixassist-analysis.safetensors``): it is trained, names
the demo song's stems and restores the demo's deliberately wrong balance.

The demo (``data/demo``, built by ``scripts/make_demo.py`` from a seed no training set uses) is
a generated song whose stems were moved away from their reference levels by known gains, so the
correction the network should suggest is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixassist.analysis.analyze import DEFAULT_MODEL
from mixassist.analysis.network import load_model, predict_stems, read_metadata
from mixassist.audio.io import load_audio
from mixassist.loudness import integrated_loudness

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"
#: Gains (dB) that scripts/make_demo.py (ROUGH_BALANCE_DB) applied to the reference levels.
ROUGH_DB = {"vocals": -8.0, "bass": +5.0, "drums": -3.0, "percussion": -3.0, "comp": +3.0}
EXPECTED = {"drums": ("drums", "rhythm"), "percussion": ("percussion", "rhythm"), "bass": ("bass", "low_end"),
            "vocals": ("vocals", "melody")}


@pytest.fixture(scope="module")
def demo():
    stems = {}
    for name in ROUGH_DB:
        stems[name], sr = load_audio(DEMO / f"{name}.flac")
    return stems, sr, predict_stems(load_model(DEFAULT_MODEL), stems, sr)


def test_shipped_model_is_trained():
    meta = read_metadata(DEFAULT_MODEL)
    assert meta["step"] >= 1000 and meta["train_songs"] >= 50
    assert meta["valid_metrics"]["instrument_acc"] >= 0.85
    assert DEFAULT_MODEL.stat().st_size <= 20 * 2**20


def test_names_the_demo_stems(demo):
    _, _, pred = demo
    for name, (instrument, role) in EXPECTED.items():
        p = pred[name]
        assert max(p.instrument_probs, key=p.instrument_probs.get) == instrument, name
        assert max(p.role_probs, key=p.role_probs.get) == role, name


def test_suggested_gains_undo_the_rough_balance(demo):
    stems, sr, pred = demo
    mix = integrated_loudness(sum(stems.values()), sr)
    names = list(ROUGH_DB)
    suggested = np.array([pred[n].target_level_db - (integrated_loudness(stems[n], sr) - mix) for n in names])
    wanted = -np.array([ROUGH_DB[n] for n in names])
    error = np.abs((suggested - suggested.mean()) - (wanted - wanted.mean()))
    no_change = np.abs(wanted - wanted.mean())
    assert error.mean() < 0.5 * no_change.mean()
    assert suggested[names.index("vocals")] > 4.0 and suggested[names.index("bass")] < -2.0
