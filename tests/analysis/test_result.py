"""The Analysis document: every CONTRACT.md field, exact JSON round trip, clear errors."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest

from mixassist.analysis.labels import label_stem, reference_levels
from mixassist.analysis.measure import measure_stems
from mixassist.analysis.result import Analysis
from mixassist.errors import MixAssistWarning, ParameterError
from mixassist.vocab import INSTRUMENTS, ROLES, STEM_GROUPS

CONTRACT_TOP = ["version", "sample_rate", "duration_s", "tempo_bpm", "beats_s", "downbeats_s",
                "key", "sections", "loudness", "stems"]
CONTRACT_STEM = ["name", "instrument", "instrument_probs", "role", "role_probs", "activity",
                 "loudness_lufs", "level_db", "target_level_db", "confidence"]


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    sr = 22_050
    rng = np.random.default_rng(7)
    t = np.arange(4 * sr) / sr
    stems = {
        "drums": (0.2 * rng.standard_normal((2, t.size)) * (t % 0.5 < 0.05)).astype(np.float32),
        "bass": np.tile(0.3 * np.sin(2 * np.pi * 55 * t), (2, 1)).astype(np.float32),
        "other": (0.05 * rng.standard_normal((2, t.size))).astype(np.float32),
        "vocals": (0.1 * np.sin(2 * np.pi * 330 * t) * (t > 1))[None].astype(np.float32),
    }
    structure = {"tempo_bpm": 120.0, "beats_s": [0.0, 0.5, 1.0], "downbeats_s": [0.0],
                 "key": "A minor", "meter": "4/4", "activity": {"drums": [[0.0, 4.0]]},
                 "sections": [{"start_s": 0.0, "end_s": 4.0, "label": "verse", "bars": 2}]}
    return measure_stems(stems, sr, structure=structure)


def test_every_contract_field_present(analysis):
    data = json.loads(analysis.to_json())
    assert list(data)[:len(CONTRACT_TOP)] == CONTRACT_TOP
    assert set(data["loudness"]) >= {"integrated_lufs", "lra_lu", "true_peak_dbtp"}
    # a section's stems come from the stems' activity (vocals enter at 1 s: 3/4 of the verse)
    assert data["sections"] == [{"start_s": 0.0, "end_s": 4.0, "label": "verse",
                                 "stems": ["drums", "bass", "other", "vocals"], "bars": 2}]
    assert data["tempo_bpm"] == 120.0 and data["key"] == "A minor" and data["meter"] == "4/4"
    assert "activity" not in data  # measured per stem instead
    assert data["sources"]["structure"] == "given"
    for stem in data["stems"]:
        assert set(stem) >= set(CONTRACT_STEM) | {"source", "target_level_source", "features"}
        assert stem["instrument"] in INSTRUMENTS and stem["role"] in ROLES
        assert list(stem["instrument_probs"]) == list(INSTRUMENTS)
        assert list(stem["role_probs"]) == list(ROLES)
        assert sum(stem["instrument_probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert sum(stem["role_probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert stem["source"] in ("given", "name-hint", "unknown")
        assert stem["target_level_source"] == "reference-table"
        for region in stem["activity"]:
            assert set(region) == {"start_s", "end_s"} and region["start_s"] < region["end_s"]
    other = next(s for s in data["stems"] if s["name"] == "other")
    assert other["source"] == "unknown" and other["confidence"] < 0.3
    # vocals is mono and enters at 1 s
    vocals = next(s for s in data["stems"] if s["name"] == "vocals")
    assert vocals["activity"][0]["start_s"] == pytest.approx(1.0, abs=0.2)


def test_json_round_trip_is_exact(analysis):
    text = analysis.to_json()
    again = Analysis.from_json(text)
    assert again == analysis
    assert again.to_json() == text


def test_unknown_fields_survive_and_missing_fields_are_named(analysis):
    data = analysis.to_dict()
    data["producer_notes"] = {"mood": "dark"}
    data["stems"][0]["network_embedding"] = [0.1, 0.2]
    with pytest.warns(MixAssistWarning) as warned:  # kept, and said
        again = Analysis.from_dict(data)
    assert again.to_dict() == data
    assert [str(w.message).split(":")[1].strip() for w in warned] == ["top level", "stems[0]"]
    assert "producer_notes" in str(warned[0].message)
    with warnings.catch_warnings():  # what mixassist writes itself reads back silently
        warnings.simplefilter("error")
        assert Analysis.from_json(analysis.to_json()) == analysis
    broken = analysis.to_dict()
    del broken["stems"][1]["level_db"]
    with pytest.raises(ParameterError, match=r"stems\[1\] is missing level_db"):
        Analysis.from_dict(broken)
    with pytest.raises(ParameterError, match="not valid JSON"):
        Analysis.from_json("{")
    with pytest.raises(ParameterError, match="version"):
        Analysis.from_dict({**analysis.to_dict(), "version": 99})


def test_section_letters_read_back_silently_and_old_files_still_read(analysis):
    """``letter``, ``named`` and ``label_reason`` extend a section (Section.EXTENSIONS); files
    written before them (no such fields) read as they did."""
    data = analysis.to_dict()
    assert "letter" not in data["sections"][0]  # an older file
    lettered = copy.deepcopy(data)
    lettered["sections"][0] |= {"label": "A", "letter": "A", "named": False,
                                "label_reason": "no sung part: sections lettered"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Analysis.from_dict(data) == analysis
        again = Analysis.from_dict(lettered)
    assert again.sections[0].label == "A"
    assert again.sections[0].extra == {"bars": 2, "letter": "A", "named": False,
                                       "label_reason": "no sung part: sections lettered"}
    assert again.to_dict() == lettered


def test_vocabularies_in_contract_order():
    assert STEM_GROUPS == ("drums", "bass", "other", "vocals")
    assert INSTRUMENTS == ("drums", "percussion", "bass", "keys", "guitar", "strings", "brass",
                           "woodwinds", "synth", "vocals", "fx")
    assert ROLES == ("rhythm", "low_end", "harmony", "melody", "texture")


@pytest.mark.parametrize("name, instrument, role, source", [
    ("Kick In.wav", "drums", "rhythm", "name-hint"),
    ("bass drum", "drums", "rhythm", "name-hint"),
    ("SynthBass_02.flac", "bass", "low_end", "name-hint"),
    ("LeadVox", "vocals", "melody", "name-hint"),
    ("BV 3", "vocals", "harmony", "name-hint"),
    ("bassoon", "woodwinds", "melody", "name-hint"),
    ("other", "keys", "harmony", "unknown"),
    ("track 7", "keys", "harmony", "unknown"),
])
def test_name_hints(name, instrument, role, source):
    labels = label_stem(name)
    assert (labels.instrument, labels.role, labels.source) == (instrument, role, source)
    given = label_stem(name, "brass")
    assert given.instrument == "brass" and given.source == "given" and given.confidence == 1.0


def test_reference_levels_put_the_lead_3_lu_below_the_rest():
    levels = reference_levels([("drums", "rhythm"), ("bass", "low_end"), ("keys", "harmony"),
                               ("vocals", "melody")])
    power = 10 ** (np.array(levels) / 10)
    assert power.sum() == pytest.approx(1.0)
    assert 10 * np.log10(power[3] / power[:3].sum()) == pytest.approx(-3.0)
