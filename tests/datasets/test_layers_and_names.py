"""Generator v3 sessions: synth layers, doubles of synthesis-voice and freepats parts, and the
recorder's track names (padded, unpadded, the number alone)."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import numpy as np
import pytest

from mixassist.datasets import session
from mixassist.datasets.render import ChannelSetup
from mixassist.datasets.session import arrange_session
from mixassist.datasets.song import Note, Part
from mixassist.datasets.synth import random_patch

SYNTHS = ("mixassist-synth:fm", "mixassist-synth:mallet", "mixassist-synth:subtractive")


def _synth(name: str, instrument: str, role: str, voice: str, seed: int = 0) -> Part:
    notes = [Note(0.5 * i, 0.5 * i + 0.4, 60 + i % 7, 90) for i in range(12)]
    patch = random_patch(voice, np.random.default_rng(seed)).to_json()
    return Part(name, instrument, role, None, None, notes, kind="synth", program_name=voice,
                synth={"voice": voice, "patch": patch})


def _pad() -> Part:
    return _synth("pad", "synth", "texture", "mixassist-synth:wavetable")


def _patch_keys() -> Part:
    notes = [Note(0.5 * i, 0.5 * i + 0.4, 60 + i % 5, 90) for i in range(12)]
    return Part("comp", "keys", "harmony", None, ChannelSetup("freepats", 0), notes, kind="patch")


def _arrange(parts: list[Part], seed: int, **kwargs) -> list[Part]:
    return arrange_session(parts, np.random.default_rng(seed), free_channels=[], **kwargs)


def _only(monkeypatch, **shares):
    for name, value in shares.items():
        monkeypatch.setattr(session, name, value)


# ---- synth layers -------------------------------------------------------------------------------

def test_a_layer_is_a_second_voice_on_the_same_notes(monkeypatch):
    _only(monkeypatch, LAYER=1.0, NAMES=(("slot", 1.0),))
    octaves = 0
    for seed in range(40):
        main, layer = _arrange([_pad()], seed, synths=SYNTHS)
        assert (main.name, main.slot, main.layer_of) == ("pad", "pad", None)
        assert main.notes == _pad().notes and main.synth == _pad().synth
        assert (layer.name, layer.kind, layer.instrument, layer.role, layer.slot) == (
            "pad layer", "synth", "synth", "texture", "pad")
        assert layer.layer_of == "pad" and layer.channel is None
        # a voice of the palette that plays synth (mallet does not), with its own patch
        assert layer.synth["voice"] in ("mixassist-synth:fm", "mixassist-synth:subtractive")
        assert layer.program_name == layer.synth["voice"] and layer.synth["patch"] != main.synth["patch"]
        assert layer.transpose in (0, 12)
        assert [n.pitch - layer.transpose for n in layer.notes] == [n.pitch for n in main.notes]
        assert [(n.start_s, n.end_s, n.velocity) for n in layer.notes] == [
            (n.start_s, n.end_s, n.velocity) for n in main.notes]
        low, high = session.LAYER_UNDER_LU
        assert low <= layer.under_lu <= high
        octaves += layer.transpose == 12
    assert 0 < octaves < 40
    (_, layer) = _arrange([_pad()], 0)  # no palette voices: the part's own voice, a new patch
    assert layer.synth["voice"] == _pad().synth["voice"] and layer.synth["patch"] != _pad().synth["patch"]


def test_layers_are_drawn_at_their_rate_for_synth_voices_playing_synth_only():
    layers = octaves = 0
    for seed in range(2000):
        parts = _arrange([_pad()], seed, synths=SYNTHS)
        layered = [p for p in parts if p.layer_of]
        assert len(parts) == 1 + len(layered) and len(layered) <= 1
        layers += bool(layered)
        octaves += sum(p.transpose == 12 for p in layered)
    assert layers / 2000 == pytest.approx(session.LAYER, abs=0.03)
    assert octaves / layers == pytest.approx(session.LAYER_OCTAVE, abs=0.07)
    keys = _synth("comp", "keys", "harmony", "mixassist-synth:fm")
    midi_synth = Part("lead", "synth", "melody", 0, ChannelSetup("FluidR3_GM", 81), _pad().notes)
    for seed in range(300):  # a synthesis voice playing keys, a soundfont playing a synth lead
        assert not any(p.layer_of for p in _arrange([keys, midi_synth], seed, synths=SYNTHS))


# ---- doubles of synthesis voices and freepats ----------------------------------------------------

@pytest.mark.parametrize("make", [lambda: _synth("comp", "guitar", "harmony", "mixassist-synth:pluck"),
                                  _patch_keys], ids=["synth", "patch"])
def test_synth_and_patch_parts_are_doubled_left_and_right(monkeypatch, make):
    _only(monkeypatch, DOUBLE=1.0, NAMES=(("slot", 1.0),))
    part = make()
    left, right = _arrange([part], 4)  # no free MIDI channel needed
    assert (left.name, right.name) == ("comp L", "comp R") and left.slot == right.slot == "comp"
    assert (left.side, right.side) == ("L", "R") and left.channel is right.channel is None
    assert (left.kind, left.instrument, left.role) == (right.kind, right.instrument, right.role) == (
        part.kind, part.instrument, part.role)
    assert left.notes == part.notes and left.setup == right.setup == part.setup
    shift = np.array([b.start_s - a.start_s for a, b in zip(left.notes, right.notes)])
    assert np.all(np.abs(shift) <= session.DOUBLE_JITTER_S) and np.any(shift != 0)
    assert [a.pitch for a in left.notes] == [b.pitch for b in right.notes]
    low, high = session.DOUBLE_PAN
    assert left.pan == -right.pan and low <= right.pan <= high  # panned opposite, left left
    if part.synth:  # the same patch, its own noise and phases
        other = {k: v for k, v in right.synth["patch"].items() if k != "seed"}
        assert other == {k: v for k, v in part.synth["patch"].items() if k != "seed"}
        assert right.synth["patch"]["seed"] != part.synth["patch"]["seed"]
        assert left.synth == part.synth


def test_doubles_are_drawn_at_their_rate_for_every_kind():
    kinds = {"midi": Part("comp", "guitar", "harmony", 0, ChannelSetup("FluidR3_GM", 27), _pad().notes),
             "synth": _synth("comp", "keys", "harmony", "mixassist-synth:fm"),
             "patch": _patch_keys()}
    for kind, part in kinds.items():
        doubled = sum(len(arrange_session([part], np.random.default_rng(seed), free_channels=[5])) == 2
                      for seed in range(1500))
        assert doubled / 1500 == pytest.approx(session.DOUBLE, abs=0.04), kind
    # a synth-voice synth part that can be layered is doubled only when it is not layered
    arp = _synth("arp", "synth", "harmony", "mixassist-synth:subtractive")
    sides = Counter(bool(p.side) for seed in range(2000) for p in _arrange([arp], seed)
                    if not p.layer_of and p.side != "R")
    assert sides[True] / 2000 == pytest.approx((1 - session.LAYER) * session.DOUBLE, abs=0.03)
    # a MIDI part still needs a free channel
    assert all(len(_arrange([kinds["midi"]], seed)) == 1 for seed in range(100))


# ---- names ------------------------------------------------------------------------------------------

NUMBERED = re.compile(r"(?P<word>Audio|Track) (?P<n>\d+)|(?P<bare>\d\d)")


def _session(seed: int) -> list[Part]:
    """A session of many tracks: a guitar, two keys parts (doubled, both would be ``Keys L``), a
    pad that may be layered, a bass."""
    bass = Part("bass", "bass", "low_end", 1, ChannelSetup("FluidR3_GM", 33), [Note(0, 1, 40, 90)])
    guitar = Part("comp", "guitar", "harmony", 0, ChannelSetup("FluidR3_GM", 27), _pad().notes)
    keys = [dataclasses.replace(_patch_keys(), name=name) for name in ("comp2", "arp")]
    return arrange_session([guitar, *keys, _pad(), bass], np.random.default_rng(seed),
                           free_channels=[5, 6], synths=SYNTHS)


def test_numbered_tracks_are_padded_unpadded_or_the_number_alone(monkeypatch):
    _only(monkeypatch, NAMES=(("numbered", 1.0),))
    forms = Counter()
    for seed in range(1000):
        parts = _session(seed)
        names = [p.name for p in parts]
        assert len(set(names)) == len(names), names
        matches = [NUMBERED.fullmatch(n) for n in names]
        assert all(matches), names
        numbers = sorted(int(m["n"] or m["bare"]) for m in matches)
        assert numbers == list(range(numbers[0], numbers[0] + len(names)))  # one count a session
        if matches[0]["bare"]:
            assert all(m["bare"] for m in matches)
            forms["bare"] += 1
        else:
            assert len({m["word"] for m in matches}) == 1
            padded = {len(m["n"]) == 2 for m in matches if int(m["n"]) < 10}
            assert len(padded) == 1, names
            forms["padded" if padded.pop() else "unpadded"] += 1
        for p in parts:  # the name is never the only label
            assert p.instrument and p.role and p.slot
    assert forms["bare"] / 1000 == pytest.approx(dict(session.NUMBERED_WORDS)[""], abs=0.05)
    assert forms["padded"] / (1000 - forms["bare"]) == pytest.approx(session.PADDED, abs=0.05)
    assert session.numbered("Track", 3, padded=False) == "Track 3"
    assert session.numbered("Audio", 7, padded=True) == "Audio 07"
    assert session.numbered("", 7, padded=False) == "07"


def test_a_synth_and_its_layer_are_named_as_sessions_name_them(monkeypatch):
    _only(monkeypatch, LAYER=1.0, NAMES=(("engineer", 1.0),))
    styles = set()
    second = _synth("lead", "synth", "melody", "mixassist-synth:fm")
    for seed in range(200):
        parts = _arrange([_pad(), second], seed, synths=SYNTHS)
        names = [p.name for p in parts]
        assert len(set(names)) == len(names) == 4, names
        pair = next(s for s in session.LAYER_NAMES
                    if (s[0].format("Synth"), s[1].format("Synth")) == tuple(names[:2]))
        styles.add(pair)
        assert parts[1].layer_of == names[0] and parts[3].layer_of == names[2]
        assert names[2:] == [pair[0].format("Lead Syn"), pair[1].format("Lead Syn")]  # not "Synth"
    assert styles == set(session.LAYER_NAMES)
    _only(monkeypatch, NAMES=(("numbered", 1.0),))
    parts = _arrange([_pad()], 0, synths=SYNTHS)
    assert parts[1].layer_of == parts[0].name and NUMBERED.fullmatch(parts[0].name)


def test_every_name_form_appears_and_names_stay_unique():
    forms = Counter()
    for seed in range(600):
        names = [p.name for p in _session(seed)]
        assert len(set(names)) == len(names), names
        for n in names:
            m = NUMBERED.fullmatch(n)
            forms["bare" if m and m["bare"] else "padded" if m and len(m["n"]) == 2
                  else "unpadded" if m else "named"] += 1
        forms["layer"] += any(p.layer_of for p in _session(seed))
    assert all(forms[k] for k in ("bare", "padded", "unpadded", "named", "layer")), forms
