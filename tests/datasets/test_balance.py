"""Reference balance: the house-style levels per slot and genre, the sung lead over the rest, and the
per-song engineer style of generator v3."""

import json

import numpy as np
import pytest

from mixassist.datasets.balance import (ENGINEER_SD_LU, GENRE_SLOT_OFFSETS_LU, SLOT_LEVELS_LU, TASTE_SD_LU,
                                        VOCAL_OVER_REST_LU, balance, draw_engineer, loudness_lufs)

SR = 44100


def _noise(seed, gain):
    return (gain * np.random.default_rng(seed).standard_normal((2, 3 * SR))).astype(np.float32)


def _draws(stems, genre, n=40):
    lufs = {n: loudness_lufs(a, SR) for n, a in stems.items()}
    for seed in range(n):
        yield balance(stems, SR, rng=np.random.default_rng(seed), loudness=lufs, genre=genre)


@pytest.mark.parametrize("genre", ["pop", "metal"])
def test_vocal_sits_relative_to_the_rest_at_the_genre_offset(genre):
    stems = {"drums": _noise(1, 0.3), "bass": _noise(2, 0.05), "comp": _noise(3, 0.2), "vocals": _noise(4, 0.01)}
    offsets = []
    for out, gains in _draws(stems, genre):
        rest = out["drums"] + out["bass"] + out["comp"]
        offsets.append(loudness_lufs(out["vocals"], SR) - loudness_lufs(rest, SR))
    mean = VOCAL_OVER_REST_LU[genre]
    assert all(mean - 2 * TASTE_SD_LU - 0.05 <= o <= mean + 2 * TASTE_SD_LU + 0.05 for o in offsets)
    assert np.mean(offsets) == pytest.approx(mean, abs=0.5)
    assert 0.5 * TASTE_SD_LU < np.std(offsets) < 1.5 * TASTE_SD_LU


def test_slot_levels_follow_slot_and_genre():
    stems = {"drums": _noise(1, 0.3), "pad": _noise(2, 0.05)}
    lufs = {n: loudness_lufs(a, SR) for n, a in stems.items()}
    for genre in ("pop", "ambient"):
        diffs = []
        for out, gains in _draws(stems, genre):
            assert loudness_lufs(out["pad"], SR) - lufs["pad"] == pytest.approx(gains["pad"], abs=0.01)
            diffs.append(loudness_lufs(out["pad"], SR) - loudness_lufs(out["drums"], SR))
        offsets = GENRE_SLOT_OFFSETS_LU[genre]
        expected = (SLOT_LEVELS_LU["pad"] + offsets.get("pad", 0.0)) - (SLOT_LEVELS_LU["drums"]
                                                                        + offsets.get("drums", 0.0))
        assert np.mean(diffs) == pytest.approx(expected, abs=0.6), genre


def test_corpus_balance_is_kept():
    stems = {"a": _noise(1, 0.3), "b": _noise(2, 0.05)}
    out, gains = balance(stems, SR, rng=None, loudness={})
    assert gains == {"a": 0.0, "b": 0.0} and out["a"] is stems["a"]


def test_loudness_of_silence_is_floored():
    assert loudness_lufs(np.zeros((2, SR), np.float32), SR) == -70.0


# --- engineer style (generator v3) --------------------------------------------------------------

#: The instrumental stems of :func:`_session_stems`.
ENGINEER_BED = ("kick", "snare", "bass", "pad", "fx")


def _session_stems():
    """A split kit (kick, snare: slot drums), bass, pad, fx, a sung lead, a backing vocal and a double."""
    stems = {"kick": _noise(1, 0.3), "snare": _noise(2, 0.2), "bass": _noise(3, 0.05), "pad": _noise(4, 0.1),
             "fx": _noise(5, 0.02), "vocals": _noise(6, 0.01), "bv": _noise(7, 0.01), "dbl": _noise(8, 0.005)}
    kwargs = dict(loudness={n: loudness_lufs(a, SR) for n, a in stems.items()}, genre="rock",
                  vocal_names=("vocals",), slots={"kick": "drums", "snare": "drums"}, backing_names=("bv",),
                  follow={"dbl": "vocals"})
    return stems, kwargs


def test_engineer_offsets_spread_as_documented_and_are_clipped_at_2_sd():
    styles = [draw_engineer(np.random.default_rng([seed, 5])) for seed in range(4000)]
    assert all(set(s) == set(ENGINEER_SD_LU) for s in styles)
    for name, sd in ENGINEER_SD_LU.items():
        x = np.array([s[name] for s in styles])
        assert np.all(np.abs(x) <= 2 * sd), name
        assert 0.02 < np.mean(np.abs(x) == 2 * sd) < 0.08, name  # N(0, 1) beyond 2 SD: 4.6 %
        assert abs(np.mean(x)) < 0.1 * sd, name
        assert 0.92 * sd < np.std(x) < 1.0 * sd, name  # N(0, 1) clipped at 2 SD: SD 0.96


def test_engineer_offsets_move_the_balance_gains_by_the_recorded_offsets():
    stems, kwargs = _session_stems()
    style = {"vocals_lu": 1.3, "bass_lu": -0.7, "drums_lu": 1.1, "ambience_lu": -2.4}
    out0, house = balance(stems, SR, rng=np.random.default_rng(11), **kwargs)
    out1, gains = balance(stems, SR, rng=np.random.default_rng(11), engineer=style, **kwargs)
    moved = {n: gains[n] - house[n] for n in stems}
    for name, offset in (("kick", 1.1), ("snare", 1.1), ("bass", -0.7), ("pad", -2.4), ("fx", -2.4)):
        assert moved[name] == pytest.approx(offset, abs=1e-9), name
    assert moved["bv"] == pytest.approx(moved["vocals"], abs=1e-9) and gains["dbl"] == gains["vocals"]

    def over_rest(out):
        return loudness_lufs(out["vocals"], SR) - loudness_lufs(sum(out[n] for n in ENGINEER_BED), SR)
    assert over_rest(out1) - over_rest(out0) == pytest.approx(1.3, abs=0.01)


#: Gains (dB) of :func:`_session_stems` with ``default_rng(11)`` and no engineer style, computed by
#: balance.py before the engineer style was added (generator v2 draws, which must not move).
V2_GAINS_DB = {"kick": -17.224909147258035, "snare": -17.224909147258035, "bass": -1.2460824411160374,
               "pad": -12.903769975684671, "fx": -2.669878136754882, "vocals": 13.221719665676648,
               "bv": 6.711355598632871, "dbl": 13.221719665676648}


def test_without_an_engineer_style_the_v2_balance_is_unchanged():
    stems, kwargs = _session_stems()
    _, gains = balance(stems, SR, rng=np.random.default_rng(11), **kwargs)
    assert gains == pytest.approx(V2_GAINS_DB, abs=1e-9)


def test_v3_songs_record_their_engineer_style_and_v2_songs_have_none(tmp_path, monkeypatch):
    """song.json's ``engineer`` is the style drawn from the song's own stream; rendering is stubbed."""
    from mixassist.datasets import build

    def one_stem(song, *, seed, variety):
        audio = _noise(seed % 1000, 0.1)
        return {"x": audio}, {"x": {"name": "x", "source": "noise", "loudness_lufs": loudness_lufs(audio, SR)}}

    monkeypatch.setattr(build, "render_song", one_stem)
    for generator, sources in ((2, "training"), (3, "training-v3")):
        plan = build.SongPlan(0, "00000", 123, "train", 20.0, None, sources, generator)
        data = json.loads(json.dumps(build.build_song(plan, tmp_path / str(generator))))
        stored = json.loads((tmp_path / str(generator) / "songs" / "00000" / "song.json").read_text())
        assert stored == data
        if generator == 2:
            assert "engineer" not in stored
        else:
            assert stored["engineer"] == draw_engineer(np.random.default_rng([123, 5]))


def test_render_song_applies_the_song_s_engineer_style():
    from mixassist.datasets.build import SongPlan, make_song, render_song

    song = make_song(SongPlan(0, "00000", 123, "train", 8.0, None, "training-v3", 3))
    song.parts = [p for p in song.parts if p.slot in ("pad", "comp")]  # two cheap synth parts
    assert {p.slot for p in song.parts} == {"pad", "comp"}
    gains = {}
    for ambience in (0.0, 2.0):
        song.engineer = {**song.engineer, "ambience_lu": ambience}
        _, info = render_song(song, seed=123, variety="v3")
        gains[ambience] = {info[n]["slot"]: info[n]["balance_gain_db"] for n in info}
    assert gains[2.0]["pad"] - gains[0.0]["pad"] == pytest.approx(2.0, abs=0.002)
    assert gains[2.0]["comp"] == gains[0.0]["comp"]
