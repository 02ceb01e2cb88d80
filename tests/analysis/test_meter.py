"""Meter (4/4, 3/4, 6/8, 12/8), downbeats consistent with it, and the tempo's confidence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mixassist.analysis import rhythm
from mixassist.analysis.measure import measure_stems
from mixassist.analysis.result import TEMPO_UNSURE, Analysis
from mixassist.analysis.structure import TRIPLE_MIN, analyze_structure
from mixassist.analysis.structure_eval import beat_f_measure, score_song, tempo_acc1
from mixassist.analysis.synthetic import groove
from mixassist.report import _tempo


@pytest.mark.parametrize("time_signature, tempo_bpm", [("3/4", 120.0), ("6/8", 90.0),
                                                       ("12/8", 70.0)])
def test_grooves_read_with_their_meter_tempo_and_downbeats(time_signature, tempo_bpm):
    song = groove(time_signature, tempo_bpm=tempo_bpm, seed=3)
    est = analyze_structure(song.stems, song.sr)
    assert est.meter == time_signature
    assert tempo_acc1(song.tempo_bpm, est.tempo_bpm)  # the counted beat: dotted quarter in x/8
    assert beat_f_measure(song.beats_s, est.beats_s) > 0.9
    assert beat_f_measure(song.downbeats_s, est.downbeats_s) > 0.9
    # a bar is beats_per_bar counted beats: 2 in 6/8, 4 in 12/8, 3 in 3/4
    bar_beats = np.diff(est.downbeats_s) / (60.0 / est.tempo_bpm)
    assert np.median(bar_beats) == pytest.approx(song.beats_per_bar, abs=0.1)
    assert est.tempo_confidence >= TEMPO_UNSURE and est.tempo_candidates_bpm == []
    ref = {"tempo_bpm": song.tempo_bpm, "beats_s": song.beats_s, "key": song.key,
           "downbeats_s": song.downbeats_s, "sections": [], "time_signature": time_signature}
    assert score_song(ref, est)["meter_acc"] == 1.0


def test_subdivision_tells_two_from_three_and_keeps_a_shuffle_duple():
    frames = np.arange(0, 1200, 24)  # a beat every 24 frames
    env = np.zeros(1224)

    def with_hits(*fractions):
        e = env.copy()
        e[frames] = 1.0
        for f in fractions:
            e[frames + int(round(24 * f))] = 0.6
        return e

    straight = rhythm.subdivision_strength(with_hits(0.5), frames)
    compound = rhythm.subdivision_strength(with_hits(1 / 3, 2 / 3), frames)
    shuffle = rhythm.subdivision_strength(with_hits(2 / 3), frames)
    assert straight == pytest.approx([0.0, 0.6, 0.0], abs=0.01)
    assert rhythm.triple_division_score(straight) < TRIPLE_MIN
    assert rhythm.triple_division_score(compound) > TRIPLE_MIN
    assert rhythm.triple_division_score(shuffle) < TRIPLE_MIN


def test_compound_bar_follows_the_chords():
    scores = np.tile([2.0, -1.0, 1.0, -1.0], 8)  # kick on 1 and 3: two bars of 6/8 or one of 12/8
    per_bar_of_four = np.tile([1.0, 0.0, 0.0, 0.0], 8)
    per_bar_of_two = np.tile([1.0, 0.0, 0.8, 0.0], 8)
    assert rhythm.compound_bar(scores, per_bar_of_four) == 4
    assert rhythm.compound_bar(scores, per_bar_of_two) == 2


def test_tempo_confidence_is_the_margin_and_names_both_tempi():
    conf, cands = rhythm.tempo_confidence({0.5: 0.05, 1.0: 0.9, 2.0: 0.05}, 120.0)
    assert conf == pytest.approx(0.85) and cands[0] == 120.0
    conf, cands = rhythm.tempo_confidence({0.5: 0.45, 1.0: 0.55}, 120.0)
    assert conf == pytest.approx(0.1) and cands == [120.0, 60.0]
    conf, cands = rhythm.tempo_confidence({0.5: 0.6, 1.0: 0.4}, 120.0)
    assert conf == 0.0 and cands == [60.0, 120.0]
    assert rhythm.tempo_confidence({}, 120.0) == (0.0, [])


def _analysis(structure):
    sr = 22_050
    t = np.arange(2 * sr) / sr
    stems = {"bass": np.tile(0.3 * np.sin(2 * np.pi * 55 * t), (2, 1)).astype(np.float32)}
    return measure_stems(stems, sr, structure=structure)


def test_meter_and_tempo_confidence_round_trip_at_the_top_level():
    a = _analysis({"tempo_bpm": 120.0, "beats_s": [0.0, 0.5], "downbeats_s": [0.0],
                   "key": "A minor", "meter": "6/8", "tempo_confidence": 0.3,
                   "tempo_candidates_bpm": [120.0, 80.0], "sections": []})
    data = json.loads(a.to_json())
    assert data["meter"] == "6/8" and data["tempo_confidence"] == 0.3
    assert data["tempo_candidates_bpm"] == [120.0, 80.0]
    back = Analysis.from_json(a.to_json())
    assert back == a and back.meter == "6/8" and back.tempo_confidence == 0.3
    assert "meter" not in back.extra and "tempo_confidence" not in back.extra
    assert _tempo(back) == "120 or 80 BPM (unsure)"


def test_an_old_analysis_without_meter_or_confidence_loads():
    a = _analysis({"tempo_bpm": 120.0, "beats_s": [], "downbeats_s": [], "key": "C major",
                   "sections": []})
    data = json.loads(a.to_json())
    for k in ("meter", "tempo_confidence", "tempo_candidates_bpm"):
        data.pop(k)
    old = Analysis.from_dict(data)
    assert old.meter is None and old.tempo_confidence is None and old.tempo_candidates_bpm == []
    assert _tempo(old) == "120.0 BPM"
