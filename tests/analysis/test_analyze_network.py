"""``analyze`` with and without the analysis network: a tiny random-weight network is applied
explicitly (never the shipped weights), and without one the labelled sources stay."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixassist.analysis.analyze import analyze, apply_network, drum_stems, vocal_stems
from mixassist.analysis.measure import measure_stems
from mixassist.analysis.network import AnalysisNet, StemPrediction, predict_stems, save_model
from mixassist.vocab import INSTRUMENTS

from .test_network import SR, song


def test_apply_network_fills_stems_and_keeps_given_labels():
    torch.manual_seed(0)
    net = AnalysisNet(channels=8, hidden=16).eval()
    stems = song()
    analysis = measure_stems(stems, SR, labels={"drums": "drums"})
    apply_network(analysis, predict_stems(net, stems, SR), given={"drums"})
    drums, keys = analysis.stem("drums"), analysis.stem("keys")
    assert drums.source == "given" and drums.instrument == "drums"
    assert keys.source == "network" and keys.instrument in INSTRUMENTS
    assert keys.instrument_probs[keys.instrument] == max(keys.instrument_probs.values())
    assert all(s.target_level_source == "network" for s in analysis.stems)
    # targets are on the level_db scale: their powers add up to the mix (0 dB) within rounding
    total = sum(10 ** (s.target_level_db / 10) for s in analysis.stems)
    assert abs(10 * np.log10(total)) < 0.05
    assert analysis.sources["target_level"] == "network"


def _heard(drums: float) -> StemPrediction:
    probs = dict.fromkeys(INSTRUMENTS, (1.0 - drums) / (len(INSTRUMENTS) - 1)) | {"drums": drums}
    return StemPrediction(probs, {"rhythm": 1.0}, np.zeros(1), -6.0, 2.0)


def test_drum_stems_by_label_then_name_then_network():
    """A name that says nothing ("Audio 01") is drums when the network hears drums; a name or a
    given label that says otherwise wins over the network."""
    preds = {"Audio 01": _heard(0.8), "Audio 02": _heard(0.2), "GTR L": _heard(0.9),
             "Kick In": _heard(0.0), "Track 3": _heard(0.9)}
    names = list(preds)
    assert drum_stems(names, {}, preds) == ["Audio 01", "Kick In", "Track 3"]
    assert drum_stems(names, {"Track 3": "keys"}, preds) == ["Audio 01", "Kick In"]
    assert drum_stems(names, {}, None) == ["Kick In"]  # no network: names alone


def test_vocal_stems_by_label_then_name_then_network():
    """The stems whose activity makes a section sung (the evidence for section names)."""
    def heard(vocals: float) -> StemPrediction:
        probs = dict.fromkeys(INSTRUMENTS, (1.0 - vocals) / (len(INSTRUMENTS) - 1))
        return StemPrediction(probs | {"vocals": vocals}, {"melody": 1.0}, np.zeros(1), -6.0, 2.0)

    preds = {"Audio 01": heard(0.8), "Audio 02": heard(0.2), "Lead Vox": heard(0.0),
             "GTR L": heard(0.9)}
    names = list(preds)
    assert vocal_stems(names, {}, preds) == ["Audio 01", "Lead Vox"]
    assert vocal_stems(names, {"Audio 02": "vocals"}, preds) == ["Audio 01", "Audio 02",
                                                                 "Lead Vox"]
    assert vocal_stems(names, {}, None) == ["Lead Vox"]


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
