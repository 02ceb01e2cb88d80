"""A v3 song with a synth layer and a doubled synthesis-voice part, built: labels, the layer's level
under its synth, the double's sides, the sum check, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mixassist.datasets import session
from mixassist.datasets.balance import loudness_lufs

from .built_song_checks import assert_mixture_is_the_sum, assert_same_bytes, read_stem

#: A composed v3 song (ambient, about 19 s): a synth pad a synthesis voice plays and FM keys comping.
SEED = 34
#: Every layer and double drawn.
SHARES = {"LAYER": 1.0, "DOUBLE": 1.0}


@pytest.fixture(scope="module")
def built(tmp_path_factory, session_song):
    return session_song(tmp_path_factory.mktemp("layer_build"), SEED, **SHARES)


def test_the_layer_is_labelled_and_sits_its_drawn_level_under_its_synth(built):
    folder, data = built
    stems = {s["name"]: s for s in data["stems"]}
    (layer,) = [s for s in data["stems"] if s.get("layer_of")]
    main = stems[layer["layer_of"]]
    assert (layer["instrument"], layer["role"], layer["slot"], layer["kind"]) == (
        "synth", main["role"], main["slot"], "synth")
    assert layer["source"].startswith("mixassist-synth:") and main["kind"] == "synth"
    assert "layer_of" not in main and layer.get("transpose", 0) in (0, 12)
    under = (loudness_lufs(read_stem(folder, main).astype(np.float32), 44100)
             - loudness_lufs(read_stem(folder, layer).astype(np.float32), 44100))
    low, high = session.LAYER_UNDER_LU
    assert under == pytest.approx(layer["under_lu"], abs=0.05) and low - 0.05 <= under <= high + 0.05
    on_disk = json.loads((folder / "song.json").read_text())
    assert {s["name"]: s.get("layer_of") for s in on_disk["stems"]}[layer["name"]] == main["name"]


def test_the_doubled_synth_is_panned_left_and_right(built):
    folder, data = built
    sides = {s["side"]: s for s in data["stems"] if s.get("side") and s["kind"] == "synth"}
    assert set(sides) == {"L", "R"} and sides["L"]["slot"] == sides["R"]["slot"]
    pans = {side: next(c["params"]["pan"] for c in s["chain"] if c["plugin"] == "Pan")
            for side, s in sides.items()}
    assert pans["L"] == -pans["R"] and pans["R"] >= session.DOUBLE_PAN[0]
    for side, stem in sides.items():
        left, right = np.sum(read_stem(folder, stem) ** 2, axis=1)
        assert (left > right) == (side == "L"), (side, left, right)


def test_the_mixture_is_the_sum_of_the_stems(built):
    assert_mixture_is_the_sum(*built)


def test_the_same_seed_builds_the_same_bytes(built, tmp_path, session_song):
    assert_same_bytes(built, session_song(tmp_path, SEED, **SHARES))

