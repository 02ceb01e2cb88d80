"""Generator v3 sessions: drum pieces, doubles, track names, and the balance of a slot's tracks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mixassist.datasets import session
from mixassist.datasets.balance import balance, draw_targets, loudness_lufs
from mixassist.datasets.render import ChannelSetup
from mixassist.datasets.session import arrange_session
from mixassist.datasets.song import Note, Part

KIT = ChannelSetup("FluidR3_GM", 0, bank=128, drum=True)
#: A recorder's track name: ``Audio 07``, ``Track 7`` or the number alone, ``07``.
NUMBERED = re.compile(r"(Audio|Track) \d+|\d\d")


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
    _only(monkeypatch, SPLIT_DRUMS=1.0, ROOM=0.0, NAMES=(("slot", 1.0),))
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
    _only(monkeypatch, SPLIT_DRUMS=1.0, ROOM=1.0, DOUBLE=1.0, NAMES=((kind, 1.0),))
    parts = [_drums(), _guitar(), Part("bass", "bass", "low_end", 2, ChannelSetup("FluidR3_GM", 33),
                                       [Note(0, 1, 40, 90)])]
    names = [p.name for p in arrange_session(parts, np.random.default_rng(2),
                                             free_channels=[3, 4, 5, 6, 7, 8])]
    assert len(set(names)) == len(names) == 9
    if kind == "engineer":
        assert {"Kick In", "GTR L", "GTR R", "Bass DI"} <= set(names)
        assert names[5] in session.ENGINEER_NAMES["room"]
    else:
        assert all(NUMBERED.fullmatch(n) for n in names), names


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


# ---- backing vocals and string sections -------------------------------------------------------

KEY = "D dorian"
SCALE_PCS = {(2 + d) % 12 for d in (0, 2, 3, 5, 7, 9, 10)}
SECTIONS = [{"start_s": 0.0, "end_s": 4.0, "label": "verse"},
            {"start_s": 4.0, "end_s": 8.0, "label": "chorus"}]
DOWNBEATS = [0.0, 2.0, 4.0, 6.0, 8.0]


def _lead() -> Part:
    pitches = [62, 64, 65, 67, 69, 71, 72, 74] * 2  # D dorian, 57-74 like the composer's
    notes = [Note(0.5 * i, 0.5 * i + 0.45, p, 90, lyric="ら") for i, p in enumerate(pitches)]
    return Part("vocals", "vocals", "melody", None, None, notes, kind="vocal")


def _arrange(parts, seed, free=(3, 4, 5, 6, 7, 8)):
    return arrange_session(parts, np.random.default_rng(seed), free_channels=list(free), key=KEY,
                           sections=SECTIONS, downbeats_s=DOWNBEATS)


def test_backing_vocals_are_drawn_at_their_rate_and_sing_in_key():
    drawn = 0
    for seed in range(400):
        parts = _arrange([_lead()], seed)
        assert parts[0].role == "melody" and parts[0].notes == _lead().notes
        backing = [p for p in parts[1:] if not p.double_of]
        assert len(parts) - 1 - len(backing) <= (not backing)  # a double only without backing
        drawn += bool(backing)
        assert len(backing) in (0, 1, 2)
        for bv in backing:
            assert (bv.kind, bv.instrument, bv.role) == ("vocal", "vocals", "harmony")
            assert bv.harmony in {h[0] for h in session.HARMONIES} and bv.sings
            lead = {n.start_s: n for n in _lead().notes}
            assert bv.notes and all(n.start_s in lead and n.lyric == lead[n.start_s].lyric
                                    for n in bv.notes)
            assert all(n.pitch % 12 in SCALE_PCS for n in bv.notes)  # in the key
            low, high = session.BACKING_RANGE
            assert all(low <= n.pitch <= high for n in bv.notes)
            steps = [abs(n.pitch - lead[n.start_s].pitch) % 12 for n in bv.notes]
            wanted = {"third": {3, 4, 8, 9}, "sixth": {3, 4, 8, 9}, "octave": {0}}[bv.harmony.split()[0]]
            assert set(steps) <= wanted, (bv.harmony, steps)
            if bv.sings == "chorus":
                assert all(4.0 <= n.start_s < 8.0 for n in bv.notes)
            if bv.sings == "phrase_ends":
                assert all(2.0 <= n.start_s < 4.0 or 6.0 <= n.start_s for n in bv.notes)
        if len(backing) == 2:
            assert backing[0].harmony != backing[1].harmony
    assert drawn / 400 == pytest.approx(session.BACKING, abs=0.06)


def test_no_key_no_backing_vocals():
    for seed in range(50):
        parts = arrange_session([_lead()], np.random.default_rng(seed), free_channels=[])
        assert len(parts) == 1


def test_a_third_above_is_diatonic():
    scale = [p for p in range(128) if p % 12 in SCALE_PCS]
    # D dorian: a third above D is F (minor third), above F is A (major), above C is E
    assert [session._harmony(p, 2, scale) for p in (62, 65, 72)] == [65, 69, 76]
    assert session._harmony(74, 7, scale) == 74  # an octave above the top: brought back in range


@pytest.mark.parametrize("kind", ["engineer", "numbered"])
def test_backing_vocals_are_named_as_sessions_name_them(monkeypatch, kind):
    _only(monkeypatch, BACKING=1.0, BACKING_COUNT=((2, 1.0),), NAMES=((kind, 1.0),))
    names = [p.name for p in _arrange([_lead(), _guitar()], 3)]
    assert len(set(names)) == len(names) == 4
    if kind == "engineer":
        assert names[0] == "Lead Vox" and tuple(names[1:3]) in session.BACKING_NAMES
    else:
        assert all(NUMBERED.fullmatch(n) for n in names), names


def test_backing_vocals_sit_under_the_lead():
    sr = 44100
    rng = np.random.default_rng(5)
    noise = rng.standard_normal((2, sr * 4)).astype(np.float32)
    stems = {"bass": 0.1 * noise, "lead": 0.01 * noise, "bv1": 0.5 * noise, "bv2": 0.3 * noise}
    loudness = {n: loudness_lufs(a, sr) for n, a in stems.items()}
    for seed in range(20):
        out, gains = balance(stems, sr, rng=np.random.default_rng(seed), loudness=loudness,
                             vocal_names=("lead",), backing_names=("bv1", "bv2"))
        lead = loudness_lufs(out["lead"], sr)
        for bv in ("bv1", "bv2"):
            under = loudness_lufs(out[bv], sr) - lead
            assert -8.05 <= under <= -3.95, under


def _strings() -> Part:
    chords = [(74, 67, 62, 55), (60, 52, 45, 33), (50,), (79,)]  # the last two: lone notes
    notes = [Note(float(i), i + 0.9, p, 80) for i, chord in enumerate(chords) for p in chord]
    return Part("pad", "strings", "harmony", 0, ChannelSetup("FluidR3_GM", 48), notes)


def test_a_chord_is_spread_top_down_over_the_sections():
    assert session.string_section([74, 67, 62, 55]) == ["violins", "violas", "cellos", "cellos"]
    assert session.string_section([33, 45, 52, 60]) == ["basses", "cellos", "violas", "violins"]
    assert session.string_section([50]) == ["violas"] and session.string_section([79]) == ["violins"]
    assert session.string_section([30]) == ["basses"] and session.string_section([110]) == ["violins"]


def test_strings_are_split_into_sections_by_range(monkeypatch):
    _only(monkeypatch, SPLIT_STRINGS=1.0, NAMES=(("slot", 1.0),))
    parts = _arrange([_strings()], 0, free=[3, 4, 5])
    assert [p.name for p in parts] == ["violins", "violas", "cellos", "basses"]
    assert [p.channel for p in parts] == [0, 3, 4, 5]
    assert {p.slot for p in parts} == {"pad"} and {p.instrument for p in parts} == {"strings"}
    for p in parts:
        _, low, high = next(s for s in session.STRING_SECTIONS if s[0] == p.piece)
        assert all(low <= n.pitch <= high for n in p.notes), p.piece
    key = lambda n: (n.start_s, n.pitch)  # noqa: E731
    assert sorted((n for p in parts for n in p.notes), key=key) == sorted(_strings().notes, key=key)
    _only(monkeypatch, NAMES=(("engineer", 1.0),))
    assert [p.name for p in _arrange([_strings()], 0, free=[3, 4, 5])] == ["Vln 1", "Vla", "Celli", "Basses"]


def test_strings_stay_whole_without_channels_or_by_chance(monkeypatch):
    _only(monkeypatch, SPLIT_STRINGS=1.0, NAMES=(("slot", 1.0),))
    (whole,) = _arrange([_strings()], 0, free=[3])
    assert whole.name == "pad" and whole.slot == "pad" and len(whole.notes) == 10
    split = sum(len(_arrange([_strings()], seed, free=[3, 4, 5])) > 1 for seed in range(300))
    assert split == 300
    monkeypatch.undo()
    split = sum(len(_arrange([_strings()], seed, free=[3, 4, 5])) > 1 for seed in range(2000))
    assert split / 2000 == pytest.approx(session.SPLIT_STRINGS, abs=0.03)


# ---- room mics and doubles of the lead --------------------------------------------------------

def test_a_room_mic_is_the_whole_kit_through_a_room(monkeypatch):
    _only(monkeypatch, SPLIT_DRUMS=1.0, ROOM=1.0, NAMES=(("slot", 1.0),))
    *pieces, room = arrange_session([_drums()], np.random.default_rng(0), free_channels=[1, 2, 3, 4])
    assert [p.piece for p in pieces] == ["kick", "snare", "hats", "toms", "cymbals"]
    assert (room.name, room.kind, room.piece, room.slot) == ("room", "room", "room", "drums")
    assert (room.instrument, room.role, room.group) == ("drums", "rhythm", "drums")
    assert room.channel is None and room.notes == [] and room.setup == KIT  # the kit's source
    assert [s["plugin"] for s in room.chain] == ["RoomReverb", "HighpassFilter", "Compressor"]
    verb = room.chain[0]["params"]
    assert (verb["wet_level"], verb["dry_level"]) == (1.0, 0.0)
    assert 4.0 <= verb["size_m"] <= 15.0 and 0.25 <= verb["decay_s"] <= 2.0
    low, high = session.ROOM_UNDER_KIT_LU
    assert low <= room.under_lu <= high
    _only(monkeypatch, NAMES=(("engineer", 1.0),))
    names = {arrange_session([_drums()], np.random.default_rng(seed), free_channels=[1, 2, 3, 4])[-1].name
             for seed in range(60)}
    assert names == set(session.ENGINEER_NAMES["room"])


def test_room_mics_are_drawn_at_their_rate_for_split_kits_only(monkeypatch):
    _only(monkeypatch, SPLIT_DRUMS=1.0)
    rooms = sum(arrange_session([_drums()], np.random.default_rng(seed), free_channels=[1, 2, 3, 4])[-1]
                .kind == "room" for seed in range(1000))
    assert rooms / 1000 == pytest.approx(session.ROOM, abs=0.05)
    _only(monkeypatch, SPLIT_DRUMS=0.0, ROOM=1.0)
    assert all(len(arrange_session([_drums()], np.random.default_rng(seed), free_channels=[1, 2, 3, 4])) == 1
               for seed in range(50))


def _phrased_lead() -> Part:
    """Three phrases of two notes (rests of 0.3 s between them)."""
    notes = [Note(t, t + 0.45, p, 90, lyric="ら") for t, p in
             ((0.5, 62), (1.0, 64), (2.25, 65), (2.75, 67), (4.0, 69), (4.5, 67))]
    return Part("vocals", "vocals", "melody", None, None, notes, kind="vocal")


def test_a_double_retakes_the_lead_phrase_by_phrase(monkeypatch):
    _only(monkeypatch, BACKING=0.0, LEAD_DOUBLE=1.0, NAMES=(("slot", 1.0),))
    lead, double = _arrange([_phrased_lead()], 0)
    assert (double.name, double.kind, double.instrument, double.role) == (
        "vocals double", "vocal", "vocals", "melody")
    assert double.double_of == lead.name == "vocals" and not double.harmony
    assert [t["onset_s"] for t in double.retake] == [n.start_s for n in lead.notes]
    assert [t["start_s"] for t in double.retake] == [0.0, 0.975, 1.85, 2.725, 3.6, 4.475]  # halfway
    shifts = [t["shift_ms"] for t in double.retake]
    assert shifts[0::2] == shifts[1::2] and all(10.0 <= abs(s) <= 30.0 for s in shifts)  # per phrase
    cents = [t["cents"] for t in double.retake]
    assert len(set(cents)) == 6 and len({np.sign(c) for c in cents}) == 1  # the song's, drifting
    assert max(cents) - min(cents) <= 2 * session.DOUBLE_DRIFT_CENTS
    assert all(1.0 <= abs(c) <= 12.0 for c in cents)
    low, high = session.DOUBLE_UNDER_LEAD_LU
    assert low <= double.under_lu <= high
    for a, b, take in zip(lead.notes, double.notes, double.retake):
        assert b.start_s == session.retimed(a.start_s, take) and (b.pitch, b.lyric) == (a.pitch, a.lyric)
        assert b.start_s - a.start_s == pytest.approx(take["shift_ms"] / 1000, abs=1e-6)
        assert abs(b.end_s - a.end_s - take["shift_ms"] / 1000) < 0.004


def test_doubles_are_drawn_at_their_rate_without_backing_vocals():
    doubles = backed = 0
    for seed in range(1500):
        parts = _arrange([_phrased_lead()], seed)
        backing = any(p.harmony for p in parts)
        double = [p for p in parts if p.double_of]
        assert not (backing and double) and len(double) <= 1
        backed += backing
        doubles += bool(double)
        if double:
            assert double[0].double_of == parts[0].name  # the lead's name, however tracks are named
            if parts[0].name != "vocals" and not NUMBERED.fullmatch(parts[0].name):
                assert double[0].name in session.ENGINEER_NAMES["double"]
    assert doubles / (1500 - backed) == pytest.approx(session.LEAD_DOUBLE, abs=0.04)


def test_a_follower_takes_its_leaders_gain():
    sr = 44100
    noise = np.random.default_rng(6).standard_normal((2, sr * 4)).astype(np.float32)
    stems = {"bass": 0.1 * noise, "lead": 0.02 * noise, "double": 0.004 * noise}
    loudness = {n: loudness_lufs(a, sr) for n, a in stems.items()}
    out, gains = balance(stems, sr, rng=np.random.default_rng(7), loudness=loudness,
                         vocal_names=("lead",), follow={"double": "lead"})
    assert gains["double"] == gains["lead"] and set(gains) == set(stems)
    assert loudness_lufs(out["lead"], sr) - loudness_lufs(out["double"], sr) == pytest.approx(
        loudness["lead"] - loudness["double"], abs=0.01)
