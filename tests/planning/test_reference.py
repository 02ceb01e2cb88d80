"""Mixing toward references: the matching EQ, the units, the moves, and the whole job on the demo
song mixed toward its own reference balance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pedalboard
import pytest

from mixassist.analysis.reference import BalanceProfile, UnitBalance, stem_group, unit_groups
from mixassist.analysis.result import Analysis, Loudness, StemAnalysis
from mixassist.analysis.spectrum import OCTAVE_CENTRES_HZ
from mixassist.evaluation import octave_band_levels, tonal_distance_db
from mixassist.planning.filters import band_response_db, matching_eq
from mixassist.planning.reference import (MAX_STEM_EQ_DB, master_toward, reference_moves,
                                          tonal_correction)

SR = 44100
DATA = Path(__file__).resolve().parents[2] / "data"
FLAT = [-10.0] * 10


def _pink(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(int(seconds * SR)))
    freqs = np.fft.rfftfreq(int(seconds * SR), 1 / SR)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    x = np.fft.irfft(spectrum)
    return (0.1 * x / np.abs(x).max()).astype(np.float32)[None]


def test_the_matching_eq_makes_the_correction_it_was_asked_for():
    wanted = np.array([0.0, 2.0, -3.0, 1.5, 0.0, -2.0, 3.0, -1.0, 2.0, -4.0])
    chain = matching_eq(wanted, OCTAVE_CENTRES_HZ, SR)
    assert {s.plugin for s in chain} == {"PeakFilter"}
    assert np.abs(band_response_db(chain, OCTAVE_CENTRES_HZ, SR) - wanted).max() < 0.3
    # and pedalboard, which renders it, agrees on pink noise (63 Hz - 8 kHz)
    x = _pink(20.0)
    y = pedalboard.Pedalboard([pedalboard.PeakFilter(**s.params) for s in chain])(x, SR)
    centres = tuple(OCTAVE_CENTRES_HZ[1:9])
    measured = octave_band_levels(y, SR, centres=centres) - octave_band_levels(x, SR, centres=centres)
    assert np.abs(measured - wanted[1:9]).max() < 0.3


def test_the_matching_eq_leaves_out_bands_above_the_filters_range():
    chain = matching_eq([0, 0, 0, 0, 0, 0, 0, 0, 3.0, 3.0], OCTAVE_CENTRES_HZ, 22050)
    assert all(s.params["cutoff_frequency_hz"] < 0.45 * 22050 for s in chain)


def _stem(name, instrument="keys", *, leakage=False, loudness=-20.0):
    return StemAnalysis(name=name, instrument=instrument, instrument_probs={instrument: 1.0},
                        role="harmony", role_probs={"harmony": 1.0}, activity=[],
                        loudness_lufs=loudness, level_db=-6.0, target_level_db=-6.0,
                        confidence=1.0, extra={"leakage": True} if leakage else {})


def _analysis(*stems):
    return Analysis(sample_rate=SR, duration_s=30.0, tempo_bpm=120.0, beats_s=[], downbeats_s=[],
                    key="C major", sections=[], loudness=Loudness(-20.0, 5.0, -3.0),
                    stems=list(stems))


def test_stems_both_songs_have_are_units_of_their_own_the_rest_go_to_stem_groups():
    song = _analysis(_stem("Kick In", "drums"), _stem("piano"), _stem("GTR L", "guitar"),
                     _stem("lead", "vocals"), _stem("hiss", leakage=True))
    reference = _analysis(_stem("drums", "drums"), _stem("piano"), _stem("other"),
                          _stem("vocals", "vocals"), _stem("bass", "bass"))
    ours, (theirs,) = unit_groups(song, [reference])
    assert ours == {"piano": ["piano"], "drums": ["Kick In"], "other": ["GTR L"],
                    "vocals": ["lead"]}  # leakage belongs to no unit
    assert theirs == {"piano": ["piano"], "drums": ["drums"], "other": ["other"],
                      "vocals": ["vocals"]}  # the reference's bass: no part of ours
    assert stem_group(_stem("Bv 2", "vocals")) == "vocals" and stem_group(_stem("x", "fx")) == "other"


def _profile(name, levels: dict[str, float], octave=None, *, tempo=120.0, lra=6.0):
    units = {u: UnitBalance(level_db=v, rest_db=v + 1.0, power_db=v,
                            octave_db=list(octave or FLAT), width=0.1, stems=[u])
             for u, v in levels.items()}
    return BalanceProfile(name=name, units=units, octave_db=list(octave or FLAT),
                          loudness_lufs=-14.0, lra_lu=lra, true_peak_dbtp=-1.0, width=0.2,
                          tempo_bpm=tempo, duration_s=60.0)


def test_units_move_by_the_references_level_less_a_common_offset():
    song = _profile("song", {"drums": -4.0, "bass": -8.0, "vocals": -6.0})
    ref = _profile("ref", {"drums": -5.0, "bass": -5.0, "vocals": -8.0})
    moves = reference_moves(song, [ref], sr=SR, highpass_hz={})
    # wanted changes -1, +3, -2; their mean (0) is the common offset
    assert moves.gains == pytest.approx({"drums": -1.0, "bass": 3.0, "vocals": -2.0})
    assert "the reference puts bass at -5.0 LU re the mix" in moves.reasons["bass"][0]
    assert not moves.warnings and not moves.eq["bass"]


def test_several_references_are_averaged_and_their_spread_quoted():
    song = _profile("song", {"drums": -6.0, "vocals": -6.0})
    refs = [_profile("a", {"drums": -4.0, "vocals": -8.0}), _profile("b", {"drums": -6.0, "vocals": -8.0})]
    moves = reference_moves(song, refs, sr=SR, highpass_hz={})
    assert moves.gains["drums"] - moves.gains["vocals"] == pytest.approx(3.0)  # -5 vs -8 LU
    assert "spread 1.0 LU over the 2 that have it" in moves.reasons["drums"][0]
    assert moves.summary["units"]["drums"]["spread_db"] == pytest.approx(1.0)


def test_a_far_tempo_a_missing_part_and_another_sound_are_warned_of():
    song = _profile("song", {"drums": -6.0, "vocals": -6.0}, tempo=90.0)
    bright = [-40.0, -30.0, -20.0, -15.0, -10.0, -8.0, -5.0, -3.0, -2.0, -3.0]
    ref = _profile("ref", {"drums": -6.0}, bright, tempo=131.0)
    moves = reference_moves(song, [ref], sr=SR, highpass_hz={})
    text = " ".join(moves.warnings)
    assert "131 BPM" in text and "has no vocals" in text and "clearly different sound" in text
    assert "vocals" not in moves.gains  # no reference has it: left to the rest of the plan
    response = band_response_db(moves.eq["drums"], OCTAVE_CENTRES_HZ, SR)
    assert np.abs(response).max() <= MAX_STEM_EQ_DB + 0.3  # a capped tonal move


def test_a_reference_at_double_time_is_the_same_tempo_range():
    song = _profile("song", {"drums": -6.0}, tempo=90.0)
    assert not reference_moves(song, [_profile("ref", {"drums": -6.0}, tempo=178.0)], sr=SR,
                               highpass_hz={}).warnings


def test_the_focus_stays_on_top_of_the_match():
    song = _profile("song", {"drums": -6.0, "vocals": -6.0})
    ref = _profile("ref", {"drums": -6.0, "vocals": -6.0})
    moves = reference_moves(song, [ref], sr=SR, highpass_hz={}, focus_db={"vocals": 2.0})
    assert moves.gains == pytest.approx({"drums": 0.0, "vocals": 2.0})
    assert moves.summary["focus_db"] == {"vocals": 2.0} and "as the focus" in moves.reasons["vocals"][0]


def test_the_tonal_correction_matches_shape_where_both_have_content():
    ours = np.array([-60.0, -20.0, -12.0, -10.0, -10.0, -10.0, -12.0, -15.0, -20.0, -90.0])
    theirs = ours + np.array([0, 2, 2, 0, 0, 0, -2, -2, 0, 30.0])
    out = tonal_correction(ours, theirs, usable=np.ones(10, bool), limit_db=4.0)
    assert out[-1] == 0.0 and out[0] == 0.0  # no content in ours there (60 dB under its peak)
    assert out[1:9] == pytest.approx([2, 2, 0, 0, 0, -2, -2, 0])


def test_the_master_match_replaces_the_air_shelf_and_a_former_match():
    from mixassist.planning.mastering import master_chain
    from mixassist.planning.targets import resolve_target

    chain = master_chain(resolve_target("spotify"), sample_rate=SR)
    eq = matching_eq([0, 0, 0, 0, 0, 2.0, 0, 0, 0, 0], OCTAVE_CENTRES_HZ, SR)
    once = master_toward(chain, eq)
    assert [s.plugin for s in once][:2] == ["HighpassFilter", "PeakFilter"]
    assert "HighShelfFilter" not in [s.plugin for s in once]
    again = master_toward(once, eq[:1], glue=False)
    assert sum(s.plugin == "PeakFilter" for s in again) == 1
    assert [s.plugin for s in again][-1] == "BrickwallLimiter" and "Compressor" not in [
        s.plugin for s in again]


def _demo_folders(tmp_path: Path) -> tuple[Path, Path, dict]:
    """The demo's stems at the generator's reference balance (the reference) and the rough demo
    with a seeded tonal fault on every stem (the song)."""
    from mixassist.audio.io import load_audio, save_audio

    info = json.loads((DATA / "demo.json").read_text())
    reference, song = tmp_path / "reference", tmp_path / "song"
    reference.mkdir()
    song.mkdir()
    rng = np.random.default_rng(7)
    clean = {}
    for stem in info["stems"]:
        audio, sr = load_audio(DATA / "demo" / f"{stem['name']}.flac")
        rough = info["rough_balance_db"].get(stem["group"], 0.0)
        clean[stem["name"]] = audio * np.float32(10 ** (-rough / 20))
        save_audio(reference / f"{stem['name']}.wav", clean[stem["name"]], sr)
        tilt = pedalboard.Pedalboard([
            pedalboard.LowShelfFilter(cutoff_frequency_hz=200, gain_db=float(rng.uniform(-4, 4))),
            pedalboard.HighShelfFilter(cutoff_frequency_hz=3000, gain_db=float(rng.uniform(-4, 4)))])
        save_audio(song / f"{stem['name']}.wav", tilt(audio, sr), sr)
    return reference, song, clean


@pytest.mark.slow
def test_a_song_mixed_toward_its_own_reference_mix_ends_at_its_balance(tmp_path):
    """Acceptance: the demo (rough balance, a tonal fault per stem) mixed toward its reference
    mix ends within 1 dB MAE of it per stem, and at most half the input's tonal distance."""
    from mixassist.assistant import MixAssistant
    from mixassist.audio.io import load_audio
    from mixassist.loudness import integrated_loudness

    reference, song, clean = _demo_folders(tmp_path)
    result = MixAssistant(cache=False, references=(str(reference),)).process(
        song, out_dir=tmp_path / "out")
    sr = result.sr
    given = {n: load_audio(song / f"{n}.wav")[0] for n in clean}

    def levels(stems):
        mix = integrated_loudness(sum(stems.values()), sr)
        return {n: integrated_loudness(a, sr) - mix for n, a in stems.items()}

    got = levels({n: np.asarray(a) for n, a in result.stems.items()})  # the written files
    want, had = levels(clean), levels(given)
    after = np.mean([abs(got[n] - want[n]) for n in want])
    before = np.mean([abs(had[n] - want[n]) for n in want])
    assert after <= 1.0 < before, (after, before)
    reference_mix = sum(clean.values())
    assert tonal_distance_db(reference_mix, result.mix, sr) \
        <= 0.5 * tonal_distance_db(reference_mix, sum(given.values()), sr)
    plan = json.loads((tmp_path / "out" / "song" / "plan.json").read_text())
    assert plan["reference"]["references"] == ["reference"]
    assert any("the reference puts vocals" in r for r in plan["stems"]["vocals"]["reasons"])
    assert (tmp_path / "out" / "song" / "preview" / "reference.wav").is_file()
    assert "Toward the references" in (tmp_path / "out" / "song" / "report.html").read_text()
