"""A tiny plan with every kind of setting the session writes, and its stem files on disk."""

from __future__ import annotations

import pytest

from mixassist.planning.plan import (Arrangement, ArrangementSection, BusPlan, GainRamp,
                                     MasterPlan, Plan, PluginSpec, StemPlan)
from mixassist.planning.targets import Target

SR = 48_000
LENGTH_S = 12.5


def tiny_plan() -> Plan:
    return Plan(
        sample_rate=SR, target=Target("spotify", -14.0, -1.0),
        stems={
            "drums": StemPlan(gain_db=-1.5, pan=0.0, chain=[
                PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 30.0}),
                PluginSpec("Compressor", {"threshold_db": -18.0, "ratio": 3.0, "attack_ms": 15.0,
                                          "release_ms": 120.0})],
                sends={"reverb": -26.0}),
            "bass": StemPlan(gain_db=2.0, pan=-0.3, mute=True),
            "vocals": StemPlan(gain_db=0.5, pan=0.5, chain=[
                PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 80.0}),
                PluginSpec("PeakFilter", {"cutoff_frequency_hz": 1000.0, "gain_db": -6.0,
                                          "q": 1.4}),
                PluginSpec("HighShelfFilter", {"cutoff_frequency_hz": 8000.0, "gain_db": 2.0,
                                               "q": 0.7})],
                sends={"reverb": -16.0, "delay": -22.0},
                automation=[GainRamp(2.0, 4.0, 3.0), GainRamp(8.0, 9.5, -6.0)]),
        },
        buses={
            "reverb": BusPlan(chain=[
                PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 200.0}),
                PluginSpec("Reverb", {"room_size": 0.5, "damping": 0.5, "wet_level": 1.0,
                                      "dry_level": 0.0, "width": 1.0})]),
            "delay": BusPlan(chain=[
                PluginSpec("Delay", {"delay_seconds": 0.5, "feedback": 0.3, "mix": 1.0})]),
        },
        master=MasterPlan(chain=[
            PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 25.0}),
            PluginSpec("LowShelfFilter", {"cutoff_frequency_hz": 120.0, "gain_db": -1.0,
                                          "q": 0.7071}),
            PluginSpec("BrickwallLimiter", {"ceiling_db": -1.3, "release_ms": 100.0})]),
        arrangement=Arrangement(sections=[ArrangementSection(0.0, 4.0, "intro"),
                                          ArrangementSection(4.0, 9.0, "verse"),
                                          ArrangementSection(9.0, 12.5, "chorus 1")]),
    ).validate()


@pytest.fixture
def plan() -> Plan:
    return tiny_plan()


@pytest.fixture
def session_dir(tmp_path, plan):
    """A folder with ``source/<stem>.wav`` for every stem (contents do not matter here)."""
    folder = tmp_path / "song"
    (folder / "source").mkdir(parents=True)
    for name in plan.stems:
        (folder / "source" / f"{name}.wav").write_bytes(b"RIFF....WAVE")
    return folder
