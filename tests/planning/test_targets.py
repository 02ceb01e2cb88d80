"""Loudness targets: CONTRACT.md's preset list and the name/number resolution."""

from __future__ import annotations

import pytest

from mixassist.errors import ParameterError
from mixassist.planning.targets import PRESETS, Target, resolve_target

CONTRACT = [("spotify", -14, -1), ("apple", -16, -1), ("youtube", -14, -1), ("tidal", -14, -1),
            ("amazon", -14, -2), ("deezer", -15, -1), ("soundcloud", -14, -1), ("aes", -16, -1),
            ("broadcast", -23, -1), ("club", -8, -0.3)]


def test_presets_are_exactly_the_contract_list_in_order():
    assert [(t.name, t.lufs, t.true_peak_dbtp) for t in PRESETS.values()] == CONTRACT
    assert list(PRESETS) == [name for name, _, _ in CONTRACT]


@pytest.mark.parametrize("spec", ["spotify", "Spotify", " SPOTIFY "])
def test_resolve_by_name(spec):
    assert resolve_target(spec) is PRESETS["spotify"]


@pytest.mark.parametrize("spec, lufs", [(-12, -12.0), (-9.5, -9.5), ("-12", -12.0),
                                        ("-10.5 LUFS", -10.5), ("-18lufs", -18.0)])
def test_resolve_number_means_that_lufs_at_minus_one_dbtp(spec, lufs):
    target = resolve_target(spec)
    assert (target.lufs, target.true_peak_dbtp) == (lufs, -1.0)
    assert resolve_target(target) is target


@pytest.mark.parametrize("spec", ["loud", "", "nan", "inf", True, None, [-14]])
def test_invalid_target_lists_the_names(spec):
    with pytest.raises(ParameterError, match="spotify, apple"):
        resolve_target(spec)


@pytest.mark.parametrize("spec", ["-200", 5, -71])
def test_out_of_range_number_is_refused(spec):
    with pytest.raises(ParameterError, match="outside -70..0 LUFS"):
        resolve_target(spec)


def test_target_validation_and_round_trip():
    target = Target("custom", -11.0, -0.5)
    assert target.to_dict() == {"name": "custom", "lufs": -11.0, "true_peak_dbtp": -0.5}
    assert Target.from_dict(target.to_dict()) == target
    with pytest.raises(ParameterError):
        Target("hot", -10.0, 1.0)                  # ceiling above 0 dBTP
    with pytest.raises(ParameterError):
        Target("bad", float("nan"), -1.0)
    with pytest.raises(ParameterError):
        Target.from_dict({"name": "x", "lufs": -14})
    with pytest.raises(AttributeError):
        target.lufs = -9.0                         # frozen
