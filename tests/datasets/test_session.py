"""Generator v3 sessions: drum pieces, doubles, track names, and the balance of a slot's tracks."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.datasets import session
from mixassist.datasets.balance import balance, draw_targets, loudness_lufs
from mixassist.datasets.render import ChannelSetup
from mixassist.datasets.session import arrange_session
from mixassist.datasets.song import Note, Part

KIT = ChannelSetup("FluidR3_GM", 0, bank=128, drum=True)


def _drums() -> Part:
    keys = (36, 38, 42, 45, 49, 36, 42, 38)
    notes = [Note(0.25 * i, 0.25 * i + 0.1, key, 100) for i, key in enumerate(keys)]
    return Part("drums", "drums", "rhythm", 9, KIT, notes)


def _guitar() -> Part:
    notes = [Note(0.5 * i, 0.5 * i + 0.4, 60 + i % 5, 90) for i in range(16)]
    return Part("comp", "guitar", "harmony", 0, ChannelSetup("FluidR3_GM", 27), notes)


def _only(monkeypatch, **shares):
    """Every draw of the session goes the given way (shares of 0 or 1)."""
    for name, value in shares.items():
        monkeypatch.setattr(session, name, value)


def test_a_split_kit_is_its_pieces_each_on_a_free_channel(monkeypatch):
    _only(monkeypatch, SPLIT_DRUMS=1.0, NAMES=(("slot", 1.0),))
    pieces = arrange_session([_drums()], np.random.default_rng(0), free_channels=[1, 2, 3, 4])
    assert [p.name for p in pieces] == ["kick", "snare", "hats", "toms", "cymbals"]
    assert {p.slot for p in pieces} == {"drums"} and {p.instrument for p in pieces} == {"drums"}
    assert [p.channel for p in pieces] == [9, 1, 2, 3, 4]
    assert {n.pitch for n in pieces[0].notes} == {36} and {n.pitch for n in pieces[2].notes} == {42}
    key = lambda n: (n.start_s, n.pitch)  # noqa: E731
    assert sorted((n for p in pieces for n in p.notes), key=key) == sorted(_drums().notes, key=key)


def test_without_free_channels_the_kit_stays_whole(monkeypatch):
    _only(monkeypatch, SPLIT_DRUMS=1.0, NAMES=(("slot", 1.0),))
    (kit,) = arrange_session([_drums()], np.random.default_rng(0), free_channels=[1])
    assert kit.name == "drums" and kit.slot == "drums" and len(kit.notes) == 8


def test_a_double_is_a_second_take_left_and_right(monkeypatch):
    _only(monkeypatch, DOUBLE=1.0, NAMES=(("slot", 1.0),))
    left, right = arrange_session([_guitar()], np.random.default_rng(1), free_channels=[5])
    assert (left.name, right.name) == ("comp L", "comp R") and left.slot == right.slot == "comp"
    assert right.channel == 5 and left.notes == _guitar().notes
    shift = np.array([b.start_s - a.start_s for a, b in zip(left.notes, right.notes)])
    assert np.all(np.abs(shift) <= session.DOUBLE_JITTER_S) and np.any(shift != 0)


@pytest.mark.parametrize("kind", ["engineer", "numbered"])
def test_track_names_are_unique(monkeypatch, kind):
    _only(monkeypatch, SPLIT_DRUMS=1.0, DOUBLE=1.0, NAMES=((kind, 1.0),))
    parts = [_drums(), _guitar(), Part("bass", "bass", "low_end", 2, ChannelSetup("FluidR3_GM", 33),
                                       [Note(0, 1, 40, 90)])]
    names = [p.name for p in arrange_session(parts, np.random.default_rng(2),
                                             free_channels=[3, 4, 5, 6, 7, 8])]
    assert len(set(names)) == len(names) == 8
    if kind == "engineer":
        assert {"Kick In", "GTR L", "GTR R", "Bass DI"} <= set(names)
    else:
        assert all(n.split()[0] in ("Audio", "Track") for n in names)


def test_the_tracks_of_one_slot_are_balanced_as_one():
    sr = 44100
    rng = np.random.default_rng(3)
    noise = rng.standard_normal((2, sr * 4)).astype(np.float32)
    stems = {"kick": 0.3 * noise, "snare": 0.05 * noise, "bass": 0.1 * noise}
    loudness = {n: loudness_lufs(a, sr) for n, a in stems.items()}
    out, gains = balance(stems, sr, rng=np.random.default_rng(4), loudness=loudness, genre="pop",
                         vocal_names=(), slots={"kick": "drums", "snare": "drums"})
    assert gains["kick"] == gains["snare"]  # the kit's own balance inside the slot is kept
    targets = draw_targets(["drums", "bass"], "pop", np.random.default_rng(4))
    assert loudness_lufs(out["kick"] + out["snare"], sr) == pytest.approx(targets["drums"] - 20, abs=0.05)
