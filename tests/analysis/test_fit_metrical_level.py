"""The fitting script of the metrical-level model (scripts/fit_metrical_level.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from mixassist.analysis import rhythm

_SCRIPT = Path(__file__).parents[2] / "scripts" / "fit_metrical_level.py"
_spec = importlib.util.spec_from_file_location("fit_metrical_level", _SCRIPT)
fit_metrical_level = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fit_metrical_level)


def test_labels_name_the_factor_within_tolerance():
    tracked = np.array([120.0, 120.0, 60.0, 100.0])
    ref = np.array([60.5, 120.0, 121.0, 150.0])
    assert fit_metrical_level.labels(tracked, ref).tolist() == [0, 1, 2, -1]


def test_fit_recovers_a_separable_rule_and_respects_the_mask():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, len(rhythm.LEVEL_FEATURES)))
    y = np.digitize(x[:, 0], [-0.5, 0.5])  # feature 0 alone sets the factor
    mask = np.ones((300, 3), dtype=bool)
    model = fit_metrical_level.fit(x, mask, y, l2=0.1)
    assert np.mean(fit_metrical_level.predict(x, mask, model) == y) > 0.95
    only_keep = np.zeros_like(mask)
    only_keep[:, 1] = True
    assert (fit_metrical_level.predict(x, only_keep, model) == 1).all()


def test_groove_clips_are_seeded_and_within_their_tempo_range():
    name, audio, sr, tempo = fit_metrical_level.groove_clip(3, seconds=5.0)
    lo, hi = fit_metrical_level.GROOVES[name][3]
    assert lo <= tempo <= hi and audio.shape == (1, 5 * sr)
    assert np.array_equal(audio, fit_metrical_level.groove_clip(3, seconds=5.0)[1])
