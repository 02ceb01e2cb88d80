"""``analyze`` with and without the analysis network: a tiny random-weight network is applied
explicitly (never the shipped weights), and without one the labelled sources stay."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixassist.analysis.analyze import analyze, apply_network
from mixassist.analysis.measure import measure_stems
from mixassist.analysis.network import AnalysisNet, save_model
from mixassist.vocab import INSTRUMENTS

from .test_network import SR, song


def test_apply_network_fills_stems_and_keeps_given_labels():
    torch.manual_seed(0)
    net = AnalysisNet(channels=8, hidden=16).eval()
    stems = song()
    analysis = measure_stems(stems, SR, labels={"drums": "drums"})
    apply_network(analysis, stems, SR, net, given={"drums"})
    drums, keys = analysis.stem("drums"), analysis.stem("keys")
    assert drums.source == "given" and drums.instrument == "drums"
    assert keys.source == "network" and keys.instrument in INSTRUMENTS
    assert keys.instrument_probs[keys.instrument] == max(keys.instrument_probs.values())
    assert all(s.target_level_source == "network" for s in analysis.stems)
    # targets are on the level_db scale: their powers add up to the mix (0 dB) within rounding
    total = sum(10 ** (s.target_level_db / 10) for s in analysis.stems)
    assert abs(10 * np.log10(total)) < 0.05
    assert analysis.sources["target_level"] == "network"


def test_analyze_with_a_network_file_uses_it(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny.safetensors"
    save_model(path, AnalysisNet(channels=8, hidden=16).eval())
    analysis = analyze(song(), SR, model=path, labels={"drums": "drums"})
    assert analysis.stem("drums").source == "given"
    assert {s.source for s in analysis.stems if s.name != "drums"} == {"network"}
    assert all(s.target_level_source == "network" for s in analysis.stems)
    assert analysis.sources["target_level"] == "network"


def test_analyze_without_network_sources_stay_labelled():
    analysis = analyze(song(), SR, model=False, labels={"drums": "drums"})
    assert analysis.stem("drums").source == "given"
    assert all(s.source != "network" and s.target_level_source == "reference-table"
               for s in analysis.stems)
    assert analysis.sources["target_level"] == "reference-table"
    assert analysis.sources["instrument"] == "labels and name hints (no network)"


def test_missing_network_is_a_clear_error(tmp_path, monkeypatch):
    import mixassist.analysis.analyze as analyze_mod
    from mixassist.errors import ModelError

    monkeypatch.setattr(analyze_mod, "DEFAULT_MODEL", tmp_path / "absent.safetensors")
    with pytest.raises(ModelError, match="not installed"):
        analyze(song(), SR)
