"""MixOptions: one validated set of mix options for the CLI, the API, batch runs and the server."""

from __future__ import annotations

import pickle

import pytest

from mixassist import MixAssistant, MixOptions
from mixassist.errors import ParameterError


def test_defaults_round_trip_and_pickle():
    options = MixOptions(target="apple", focus="vocals", amount=0.5, version="radio-edit")
    assert MixOptions.from_dict(options.to_dict()) == options
    assert pickle.loads(pickle.dumps(options)) == options  # what batch workers receive
    assert MixOptions().to_dict()["target"] == "spotify"
    assert MixOptions(focus="  ").focus is None


@pytest.mark.parametrize("bad, match", [
    ({"amount": 2}, "between 0 and 1"), ({"amount": "lots"}, "a number"),
    ({"version": "remix"}, "unknown version"), ({"target": "nowhere"}, "spotify"),
    ({"dj_bars": 24}, "16 or 32"), ({"loop_bars": 0}, "1-64"), ({"radio_length_s": 0}, "positive"),
])
def test_bad_options_fail_when_made(bad, match):
    with pytest.raises(ParameterError, match=match):
        MixOptions(**bad)


def test_unknown_option_names_are_errors():
    with pytest.raises(ParameterError, match="unknown mix option.*tagret"):
        MixOptions.from_dict({"tagret": "apple"})
    with pytest.raises(ParameterError, match="unknown mix option"):
        MixOptions().replace(ammount=0.3)


def test_assistant_takes_options_or_fields():
    by_options = MixAssistant(MixOptions(target="apple", amount=0.25), cache=False)
    by_fields = MixAssistant(target="apple", amount=0.25, cache=False)
    assert by_options.options == by_fields.options
    assert by_fields.target.name == "apple" and by_fields.amount == 0.25
    on_top = MixAssistant(MixOptions(target="apple"), focus="vocals", cache=False)
    assert on_top.options == MixOptions(target="apple", focus="vocals")
