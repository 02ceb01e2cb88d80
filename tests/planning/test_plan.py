"""The plan: exact JSON round trips and one-line validation errors that name the place."""

from __future__ import annotations

import json

import pytest

from mixassist.errors import MixAssistWarning, PlanError
from mixassist.planning.edits import EditList, Segment
from mixassist.planning.mastering import master_chain
from mixassist.planning.plan import (PLAN_VERSION, Arrangement, ArrangementSection, BusPlan,
                                     GainRamp, MasterPlan, Plan, PluginSpec, StemPlan)
from mixassist.planning.targets import PRESETS


def full_plan() -> Plan:
    target = PRESETS["club"]
    return Plan(
        sample_rate=48_000, target=target, amount=0.75,
        stems={
            "vocals": StemPlan(
                gain_db=-1.5, pan=0.1, width=1.2,
                chain=[PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 90.0}),
                       PluginSpec("Compressor", {"threshold_db": -18.0, "ratio": 3.0,
                                                 "attack_ms": 5.0, "release_ms": 120.0})],
                sends={"reverb": -14.0, "delay": -20.0},
                automation=[GainRamp(0.0, 2.5, -3.0), GainRamp(2.5, 4.0, 1.5)],
                reasons=["vocals sit 2 dB under the target level"]),
            "drums": StemPlan(mute=True, reasons=["muted in the breakdown version"]),
        },
        buses={"reverb": BusPlan([PluginSpec("Reverb", {"wet_level": 1.0, "dry_level": 0.0})],
                                 ["one shared plate"]),
               "delay": BusPlan([PluginSpec("Delay", {"delay_seconds": 0.25, "mix": 1.0})])},
        master=MasterPlan(master_chain(target, sample_rate=48_000), ["glue"]),
        arrangement=Arrangement(
            "radio", [ArrangementSection(0.0, 4.0, "intro", 0.0, 4.0, ["drums", "vocals"])],
            edits=EditList(48_000, [Segment(0, 4 * 48_000), Segment(0, 48_000, ("vocals",))]),
            length_s=5.0),
    )


def test_json_round_trip_is_exact():
    plan = full_plan().validate()
    text = plan.to_json()
    again = Plan.from_json(text)
    assert again == plan
    assert again.to_json() == text
    assert json.loads(text)["version"] == PLAN_VERSION


def test_contract_fields_present():
    data = full_plan().to_dict()
    assert {"version", "sample_rate", "target", "stems", "buses", "master", "arrangement"} <= set(data)
    assert set(data["target"]) == {"name", "lufs", "true_peak_dbtp"}
    stem = data["stems"]["vocals"]
    assert {"gain_db", "pan", "mute", "chain", "sends", "automation", "reasons"} <= set(stem)
    assert stem["chain"][0] == {"plugin": "HighpassFilter", "params": {"cutoff_frequency_hz": 90.0}}


def test_integers_become_floats_so_round_trip_stays_exact():
    data = full_plan().to_dict()
    data["stems"]["vocals"]["chain"][1]["params"]["ratio"] = 4
    data["stems"]["vocals"]["gain_db"] = -2
    plan = Plan.from_dict(data)
    assert plan.stems["vocals"].chain[1].params["ratio"] == 4.0
    assert isinstance(plan.stems["vocals"].chain[1].params["ratio"], float)
    assert Plan.from_json(plan.to_json()) == plan


def test_minimal_plan_gets_defaults():
    plan = Plan.from_dict({"sample_rate": 44_100, "target": {"lufs": -12}, "stems": {"bass": {}}})
    assert plan.target.true_peak_dbtp == -1.0
    assert plan.stems["bass"] == StemPlan()
    assert plan.amount == 1.0


def _edit(path: str, value):
    """A valid plan dict with ``path`` (dots; ints index lists) set to ``value``."""
    data = full_plan().to_dict()
    *head, last = path.split(".")
    node = data
    for key in head:
        node = node[int(key)] if key.isdigit() else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("path, value, expected", [
    ("stems.vocals.chain.0.plugin", "SuperEQ", ["stems.vocals.chain[0]", "unknown plugin 'SuperEQ'"]),
    ("stems.vocals.chain.0.params", {"cutoff_hz": 90.0}, ["stems.vocals.chain[0]", "'cutoff_hz'"]),
    ("stems.vocals.chain.1.params.ratio", 0.5, ["stems.vocals.chain[1]", "Compressor.ratio", "outside"]),
    ("stems.vocals.chain.1.params.ratio", "3", ["Compressor.ratio must be a number"]),
    ("stems.vocals.chain.1.params.ratio", True, ["Compressor.ratio must be a number"]),
    ("master.chain.3.params.true_peak", 1, ["BrickwallLimiter.true_peak must be true or false"]),
    ("stems.vocals.chain.0.params.cutoff_frequency_hz", 30_000.0, ["Nyquist", "stems.vocals"]),
    ("stems.vocals.pan", 1.5, ["stems.vocals.pan", "outside [-1, 1]"]),
    ("stems.vocals.pan", "left", ["stems.vocals.pan must be a number"]),
    ("stems.vocals.mute", "yes", ["stems.vocals.mute must be true or false"]),
    ("stems.vocals.width", -1.0, ["stems.vocals.width"]),
    ("stems.vocals.sends", {"plate": -10.0}, ["stems.vocals.sends", "'plate'", "not defined"]),
    ("stems.vocals.automation.0", {"start_s": 2.0, "end_s": 1.0, "gain_db": -3.0},
     ["stems.vocals.automation[0]", "end_s 1 must be after start_s 2"]),
    ("stems.vocals.automation.1", {"start_s": 2.0, "end_s": 3.0, "gain_db": 0.0},
     ["stems.vocals.automation[0] and [1] overlap"]),
    ("stems.vocals.automation.1", {"start_s": 3.0, "gain_db": 0.0}, ["automation[1] is missing end_s"]),
    ("arrangement.sections.0.end_s", -1.0, ["arrangement.sections[0].end_s", "outside"]),
    ("arrangement.sections.0.stems", ["kazoo"], ["arrangement.sections[0].stems", "kazoo"]),
    ("arrangement.sections.0", {"start_s": 0.0}, ["arrangement.sections[0] is missing end_s"]),
    ("arrangement.edits.sample_rate", 44_100, ["arrangement.edits are for 44100 Hz", "48000"]),
    ("arrangement.edits.segments.1.stems", ["kazoo"], ["edits.segments[1].stems", "kazoo"]),
    ("arrangement.edits.segments.1.end", 0, ["edits.segments[1]", "0 <= start < end"]),
    ("arrangement.edits.segments", "all", ["arrangement.edits"]),
    ("buses.reverb.chain.0.params.room_size", 2.0, ["buses.reverb.chain[0]", "Reverb.room_size"]),
    ("amount", 1.5, ["amount = 1.5 is outside [0, 1]"]),
    ("target", {"lufs": 3.0}, ["target.lufs"]),
    ("sample_rate", 44_100.5, ["sample_rate must be an integer"]),
    ("version", PLAN_VERSION + 1, ["upgrade mixassist"]),
])
def test_validation_errors_name_the_place(path, value, expected):
    with pytest.raises(PlanError) as info:
        Plan.from_dict(_edit(path, value))
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


def test_bad_json_is_a_plan_error():
    with pytest.raises(PlanError, match="not valid JSON"):
        Plan.from_json("{\"sample_rate\": 44100,")


def test_stem_mismatch_errors_name_the_stems():
    plan = full_plan()
    with pytest.raises(PlanError, match="drums have no audio"):
        plan.check_stems(["vocals"])
    with pytest.raises(PlanError, match="guitar are not in the plan"):
        plan.check_stems(["vocals", "drums", "guitar"])
    plan.check_stems(["drums", "vocals"])


def test_arrangement_is_typed():
    plan = Plan.from_json(full_plan().to_json())
    (section,) = plan.arrangement.sections
    assert isinstance(section, ArrangementSection) and section.stems == ["drums", "vocals"]
    assert isinstance(plan.arrangement.edits, EditList)
    assert plan.arrangement.edits.segments[1].stems == ("vocals",)
    # the song as is: no edit list, {} in plan.json
    bare = Plan.from_dict({"sample_rate": 44_100, "target": {"lufs": -12}})
    assert bare.arrangement.edits is None and bare.to_dict()["arrangement"]["edits"] == {}


def test_unknown_fields_are_kept_with_a_warning():
    data = full_plan().to_dict()
    data["stems"]["vocals"]["colour"] = "warm"
    data["arrangement"]["sections"][0]["energy"] = 0.7
    data["producer"] = "me"
    with pytest.warns(MixAssistWarning) as warned:
        plan = Plan.from_dict(data)
    assert plan.stems["vocals"].extra == {"colour": "warm"}
    assert plan.to_dict() == data  # written back unchanged
    where = sorted(str(w.message).split(":")[1].strip() for w in warned)
    assert where == ["arrangement.sections[0]", "stems.vocals", "top level"]
