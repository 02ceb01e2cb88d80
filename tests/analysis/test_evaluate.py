"""Calibration helpers of the analysis evaluation: temperature scaling on synthetic logits whose
true temperature is known."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.analysis.evaluate import calibration, fit_temperature


def overconfident(n: int = 20000, temperature: float = 3.0, seed: int = 0):
    """Labels drawn from softmax(z) over 5 classes, reported as logits ``temperature * z``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, (n, 5))
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    truth = (rng.random((n, 1)) > p.cumsum(-1)).sum(-1)
    return temperature * z, truth


def test_fit_temperature_recovers_the_true_temperature():
    logits, truth = overconfident()
    assert fit_temperature(logits, truth) == pytest.approx(3.0, rel=0.1)


def test_temperature_scaling_lowers_nll_and_calibration_error():
    logits, truth = overconfident()
    raw = calibration(logits, truth)
    scaled = calibration(logits, truth, fit_temperature(logits, truth))
    assert scaled["nll"] < raw["nll"] and scaled["ece"] < 0.02 < raw["ece"]
    assert scaled["accuracy"] == raw["accuracy"]  # a temperature never changes the top-1 class
    assert scaled["mean_confidence"] < raw["mean_confidence"]
