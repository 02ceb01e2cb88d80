"""A v3 song with a room mic and a double of the lead, built: labels, levels, the sum check, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mixassist.datasets import session
from mixassist.datasets.balance import loudness_lufs

from .built_song_checks import assert_mixture_is_the_sum, assert_same_bytes, read_stem

#: A composed v3 song (about 22 s, a Hydrogen kit split into kick, snare and hats, a sung lead).
SEED = 18
#: A room mic and a lead double drawn.
SHARES = {"SPLIT_DRUMS": 1.0, "ROOM": 1.0, "BACKING": 0.0, "LEAD_DOUBLE": 1.0}


@pytest.fixture(scope="module")
def built(tmp_path_factory, session_song):
    return session_song(tmp_path_factory.mktemp("room_and_double"), SEED, **SHARES)


def test_the_room_and_the_double_are_labelled_and_leveled(built):
    folder, data = built
    stems = {s["name"]: s for s in data["stems"]}
    (room,) = [s for s in data["stems"] if s.get("piece") == "room"]
    kit = [s for s in data["stems"] if s.get("slot") == "drums" and s is not room]
    assert len(kit) >= 2 and (room["instrument"], room["role"], room["group"]) == ("drums", "rhythm", "drums")
    assert {(s["instrument"], s["role"], s["source"]) for s in kit} == {("drums", room["role"], room["source"])}
    assert room["kind"] == "room" and room["chain"] and room["activity"]
    assert [c["plugin"] for c in room["chain"]] == ["RoomReverb", "HighpassFilter", "Compressor"]
    audio = read_stem(folder, room)
    assert np.corrcoef(audio)[0, 1] < 0.5  # the room's own stereo
    kit_lufs = loudness_lufs(sum(read_stem(folder, s) for s in kit).astype(np.float32), 44100)
    under = kit_lufs - loudness_lufs(audio.astype(np.float32), 44100)
    assert under == pytest.approx(room["under_lu"], abs=0.05)
    (double,) = [s for s in data["stems"] if s.get("double_of")]
    lead = stems[double["double_of"]]
    assert (double["instrument"], double["role"]) == ("vocals", "melody") and "double_of" not in lead
    assert double["source"] == lead["source"] and double["retake"] and double["chain"] != lead["chain"]
    under = lead["loudness_lufs"] - double["loudness_lufs"]
    assert under == pytest.approx(double["under_lu"], abs=0.05)
    assert json.loads((folder / "song.json").read_text())["stems"][-1]["double_of"] == lead["name"]


def test_the_mixture_is_still_the_sum_of_the_stems(built):
    assert_mixture_is_the_sum(*built)


def test_the_same_seed_builds_the_same_bytes(built, tmp_path, session_song):
    assert_same_bytes(built, session_song(tmp_path, SEED, **SHARES))


def test_the_room_is_the_kit_as_rendered_through_its_chain(built, monkeypatch):
    from mixassist.datasets.build import SongPlan, make_song
    from mixassist.datasets.drumkits import render_notes
    from mixassist.datasets.production import apply_chain

    folder, data = built
    for name, value in (("SPLIT_DRUMS", 1.0), ("ROOM", 1.0), ("BACKING", 0.0), ("LEAD_DOUBLE", 1.0)):
        monkeypatch.setattr(session, name, value)
    song = make_song(SongPlan(0, "00000", SEED, "train", 20.0, None, "training-v3", 3))
    (room,) = [s for s in data["stems"] if s.get("piece") == "room"]
    pieces = [p for p in song.parts if p.slot == "drums" and p.kind == "sampled"]
    raw = sum(render_notes(p.notes, p.sample_kit, 44100, duration_s=song.duration_s) for p in pieces)
    expected = apply_chain(raw, 44100, room["chain"]).astype(np.float64)
    stored = read_stem(folder, room)
    expected = expected[:, :stored.shape[1]]
    gain = np.sum(stored * expected) / np.sum(expected ** 2)  # its level, whatever it is
    residual = stored - gain * expected
    assert 10 * np.log10(np.sum(residual ** 2) / np.sum(stored ** 2)) < -60
