"""benchmarks/structure_real_music.py: its agreement and onset-evidence measures on known answers."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("benchmarks/structure_real_music.py")


def test_relation_names_the_metrical_level_within_four_percent(bench):
    assert bench.relation(120, 60) == 2.0 and bench.relation(60, 120) == 0.5
    assert bench.relation(120, 80) == 1.5 and bench.relation(80, 120) == pytest.approx(2 / 3)
    assert bench.relation(180, 60) == 3.0 and bench.relation(100, 103.5) == 1.0
    assert bench.relation(100, 105) is None and bench.relation(100, 137) is None
    assert bench.relation(0, 120) is None


def test_onset_alignment_tells_on_beat_half_tempo_and_off_beat_grids(bench):
    frame_rate = 100.0
    env = np.zeros(2000)
    env[::50] = 1.0  # an onset every 0.5 s (120 BPM), nothing between
    env[25::50] = 0.2  # weaker eighths
    beats = np.arange(0, 19.5, 0.5)
    assert bench.onset_alignment(env, frame_rate, beats) == pytest.approx(5.0)
    assert bench.onset_alignment(env, frame_rate, beats + 0.25) == pytest.approx(0.2)
    assert bench.onset_alignment(env, frame_rate, beats[::2]) == pytest.approx(1.0)
    assert np.isnan(bench.onset_alignment(env, frame_rate, beats[:3]))


def test_beat_agreement_is_one_on_the_same_grid_and_zero_on_the_off_beats(bench):
    beats = np.arange(0, 20, 0.5)
    assert bench.beat_agreement(beats, beats + 0.03) == 1.0
    assert bench.beat_agreement(beats, beats + 0.25) == 0.0
    assert bench.beat_agreement(beats[::2], beats) == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert np.isnan(bench.beat_agreement([], beats))


def test_a_synthetic_song_reads_alike_three_ways_and_the_summary_counts_it(bench):
    from mixassist.analysis.synthetic import synthetic_song

    song = synthetic_song(tempo_bpm=120.0, form=(("verse", 8), ("chorus", 8)), sr=22050)
    row = bench.song_row(song.mix, song.sr, lambda audio, sr: song.stems)
    assert row["stems"]["bpm"] == pytest.approx(120, rel=0.04) and row["stems_vs_mix"] == 1.0
    assert row["stems_vs_librosa"] is not None and row["beat_f_stems_vs_librosa"] > 0.9
    _, _, env = bench.librosa_reading(song.mix.mean(axis=0), song.sr)
    true_grid = bench.onset_alignment(env, song.sr / bench.HOP, song.beats_s)
    off_beats = bench.onset_alignment(env, song.sr / bench.HOP, song.beats_s + 30 / song.tempo_bpm)
    assert row["stems"]["alignment"] == pytest.approx(true_grid, abs=0.05) and true_grid > 1.1 > 1 > off_beats
    assert row["stems"]["meter"] == "4/4"
    off = {**row, "stems_vs_librosa": 2.0, "stems": {**row["stems"], "alignment": 0.5}}
    s = bench.summary({"a": row, "b": off})
    assert s["songs"] == 2 and s["stems_vs_librosa"]["related"] == pytest.approx(0.5)
    assert s["disagree"] == 1 + (row["stems_vs_librosa"] != 1.0)
    assert s["stems_better_aligned"] == (row["stems_vs_librosa"] != 1.0
                                         and row["stems"]["alignment"] > row["librosa"]["alignment"])
