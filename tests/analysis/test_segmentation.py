"""Section boundaries and labels."""

from __future__ import annotations

import numpy as np
import pytest

from mixassist.analysis import segmentation
from mixassist.analysis.structure import Section, analyze_structure
from mixassist.analysis.structure_eval import (boundary_f_measure, label_accuracy,
                                               named_share)
from mixassist.errors import ParameterError


def aba_song(sr: int, *, tempo_bpm: float = 120.0, bars=(8, 8, 8)):
    """A/B/A of different timbre on a steady kick: A = bright sawtooth chords, B = soft sine
    pad plus hats. Returns ``(stems, boundaries_s)``."""
    period = 60.0 / tempo_bpm
    lengths = [b * 4 * period for b in bars]
    total = sum(lengths)
    n = int(total * sr)
    t = np.arange(n) / sr
    rng = np.random.default_rng(5)
    bounds = np.cumsum([0.0] + lengths)
    in_b = (t >= bounds[1]) & (t < bounds[2])
    saw = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 12))
    pad = np.sin(2 * np.pi * 330 * t) + 0.5 * np.sin(2 * np.pi * 415.3 * t)
    keys = np.where(in_b, 0.08 * pad, 0.1 * saw)
    drums = np.zeros(n)
    kt = np.arange(int(0.12 * sr)) / sr
    kick = np.sin(2 * np.pi * 60 * kt) * np.exp(-kt * 30)
    for b in np.arange(0, total - 0.2, period):
        s = int(b * sr)
        drums[s:s + len(kick)] += 0.5 * kick
        if in_b[s]:
            h = s + int(period / 2 * sr)
            drums[h:h + 400] += 0.1 * rng.standard_normal(len(drums[h:h + 400]))
    stems = {"drums": drums[None].astype(np.float32), "keys": keys[None].astype(np.float32)}
    return stems, bounds


def test_aba_boundaries_within_3_s():
    sr = 22050
    stems, bounds = aba_song(sr)
    s = analyze_structure(stems, sr)
    est = [x.start_s for x in s.sections[1:]]
    for b in bounds[1:3]:
        assert np.min(np.abs(np.array(est) - b)) <= 3.0, (b, est)
    # The two A sections are labelled alike, B differently.
    labels = [x.label for x in s.sections]
    assert len(set(labels)) >= 2


def test_song_boundaries_and_arrangement_map(song, structure):
    assert boundary_f_measure(song.sections, structure.sections, window=3.0) >= 0.7
    # Every section boundary lies on a detected downbeat (or at the song's ends).
    downbeats = np.array(structure.downbeats_s)
    for sec in structure.sections[1:]:
        assert np.min(np.abs(downbeats - sec.start_s)) < 1e-3
    # Arrangement map: the intro is the pad alone, choruses have all four stems.
    assert structure.sections[0].stems == ["other"]
    full = [sec for sec in structure.sections if set(sec.stems) == set(song.stems)]
    assert full


def test_activity_intervals(song, structure):
    """Drums are silent in the 4-bar intro (8 s) and play from the verse on."""
    drums = structure.activity["drums"]
    assert drums and abs(drums[0][0] - 8.0) < 0.3


def test_novelty_peaks_at_a_block_change():
    feats = np.concatenate([np.tile([[1.0], [0.0]], 12), np.tile([[0.0], [1.0]], 12)], axis=1)
    feats += 0.05 * np.random.default_rng(0).standard_normal(feats.shape)
    nov = segmentation.novelty(segmentation.self_similarity(feats - feats.mean(1, keepdims=True)), 4)
    assert segmentation.pick_boundaries(nov, min_bars=2) == [12]


def names(namings):
    return [n.name for n in namings]


def test_name_segments_pop_form():
    clusters = np.array([0, 1, 2, 1, 2, 3, 2, 4])
    energy = np.array([-30, -20, -14, -20, -14, -18, -14, -30.0])
    bars = np.array([4, 8, 8, 8, 8, 4, 8, 4])
    drums = np.array([0, 1, 1, 1, 1, 1, 1, 0.0])
    sung = np.array([0, 1, 1, 1, 1, 0, 1, 0.0])
    namings = segmentation.name_segments(clusters, energy, bars, drums, sung)
    assert names(namings) == [
        "intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"]
    assert all(n.reason.startswith(n.name) for n in namings)
    # a sung first part is no intro (it keeps its letter)
    assert segmentation.name_segments(clusters, energy, bars, drums,
                                      np.where(np.arange(8) == 0, 1.0, sung))[0].name is None


def test_letters_give_repeats_the_same_letter_and_variants_a_prime():
    """A B A B: the same material, the same letter; a repeat whose stems or level (3 dB) differ
    from the first occurrence is primed."""
    full = frozenset({"drums", "keys", "vocals"})
    clusters = np.array([0, 1, 0, 1])
    assert segmentation.letter_segments(clusters, np.array([-20, -16, -20, -16.0]),
                                        [full] * 4) == ["A", "B", "A", "B"]
    assert segmentation.letter_segments(clusters, np.array([-20, -16, -24, -16.0]),
                                        [full, full, full, full - {"drums"}]
                                        ) == ["A", "B", "A'", "B'"]
    assert [segmentation.letter(c) for c in (0, 1, 25, 26)] == ["A", "B", "Z", "AA"]


def test_chorus_named_only_where_the_evidence_holds():
    """A B A B, B sung and 4 dB louder: B is the chorus, A (unsung) keeps its letter. B only
    0.5 dB louder, or not sung: no chorus, every section lettered, each saying why."""
    clusters, bars, drums = np.array([0, 1, 0, 1]), np.full(4, 8), np.ones(4)
    sung_b = np.array([0, 1, 0, 1.0])
    namings = segmentation.name_segments(clusters, np.array([-20, -16, -20, -16.0]), bars,
                                         drums, sung_b)
    assert names(namings) == [None, "chorus", None, "chorus"]
    assert "4.0 dB" in namings[1].reason and namings[0].reason
    close = segmentation.name_segments(clusters, np.array([-20, -19.5, -20, -19.5]), bars,
                                       drums, sung_b)
    assert names(close) == [None] * 4
    assert all("no clearly louder repeated part" in n.reason for n in close)
    unsung_b = segmentation.name_segments(clusters, np.array([-20, -16, -20, -16.0]), bars,
                                          drums, 1.0 - sung_b)
    assert names(unsung_b) == [None] * 4
    assert all("(B) is not sung" in n.reason for n in unsung_b)
    # with a sung A as well, A is the verse
    verse = segmentation.name_segments(clusters, np.array([-20, -16, -20, -16.0]), bars,
                                       drums, np.ones(4))
    assert names(verse) == ["verse", "chorus", "verse", "chorus"]


def test_an_unsung_song_without_repeats_is_lettered():
    namings = segmentation.name_segments(np.arange(4), np.full(4, -20.0), np.full(4, 8),
                                         np.ones(4), np.zeros(4))
    assert names(namings) == [None] * 4
    assert all(n.reason == "no sung part: sections lettered" for n in namings)
    sung = segmentation.name_segments(np.arange(4), np.full(4, -20.0), np.full(4, 8),
                                      np.ones(4), np.ones(4))
    assert all(n.reason == "no repeated part: sections lettered" for n in sung)


def test_an_unsung_aba_song_is_lettered_end_to_end():
    """drums + keys, no vocal stem: A B A with letters in ``label``, nothing named."""
    sr = 22050
    stems, _ = aba_song(sr)
    s = analyze_structure(stems, sr)
    assert [x.letter.rstrip("'") for x in s.sections] == ["A", "B", "A"]
    assert [x.label for x in s.sections] == [x.letter for x in s.sections]
    assert not any(x.named for x in s.sections)
    assert all("no sung part" in x.label_reason for x in s.sections)
    # the caller names the vocal stems: keys, playing throughout, make every section sung
    sung = analyze_structure(stems, sr, vocals=["keys"])
    assert not any("no sung part" in x.label_reason for x in sung.sections)
    with pytest.raises(ParameterError, match="vocals names stem"):
        analyze_structure(stems, sr, vocals=["lead"])


def test_label_accuracy_is_the_fraction_of_time_labelled_right():
    ref = [{"start_s": 0.0, "end_s": 10.0, "label": "intro"},
           {"start_s": 10.0, "end_s": 30.0, "label": "verse"},
           {"start_s": 30.0, "end_s": 40.0, "label": "Pre_Chorus"}]
    assert label_accuracy(ref, ref) == 1.0
    # 0-10 s right, 10-20 s wrong, 20-30 s right, 30-40 s right after mapping "prechorus".
    est = [Section(0.0, 10.0, "intro"), Section(10.0, 20.0, "chorus"),
           Section(20.0, 30.0, "verse"), Section(30.0, 40.0, "prechorus")]
    assert abs(label_accuracy(ref, est) - 0.75) < 0.01
    # Labels outside the vocabulary and times no estimate covers count as wrong.
    est = [Section(0.0, 10.0, "dj-intro"), Section(10.0, 20.0, "verse")]
    assert abs(label_accuracy(ref, est) - 0.25) < 0.01


def test_lettered_sections_count_as_unnamed_in_the_label_scores():
    """A letter names no section: wrong in ``label_acc``, outside ``named_share`` and
    ``label_acc_named``, so naming less cannot pass for naming better."""
    ref = [{"start_s": 0.0, "end_s": 10.0, "label": "verse"},
           {"start_s": 10.0, "end_s": 20.0, "label": "chorus"},
           {"start_s": 20.0, "end_s": 40.0, "label": "verse"}]
    est = [Section(0.0, 10.0, "verse"), Section(10.0, 20.0, "B"), Section(20.0, 30.0, "A'"),
           Section(30.0, 40.0, "chorus")]
    assert abs(label_accuracy(ref, est) - 0.25) < 0.01
    assert abs(named_share(ref, est) - 0.5) < 0.01
    assert abs(label_accuracy(ref, est, named_only=True) - 0.5) < 0.01
    assert label_accuracy(ref, est[1:3], named_only=True) is None
