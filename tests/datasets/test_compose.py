"""Procedural songs: labels in the CONTRACT vocabularies, consistent annotations, determinism."""

import numpy as np
import pytest

from mixassist.datasets.compose import ENERGY, GENRES, compose_song
from mixassist.vocab import INSTRUMENTS, ROLES

SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_song_annotations_are_consistent(seed):
    song = compose_song(seed, target_duration_s=150)
    genre = GENRES[song.genre]
    assert genre.tempo_bpm[0] <= song.tempo_bpm <= genre.tempo_bpm[1]
    assert np.allclose(np.diff(song.beats_s), 60 / song.tempo_bpm)
    assert song.downbeats_s == song.beats_s[::4]
    assert song.sections[0]["start_s"] == song.beats_s[0]
    for a, b in zip(song.sections[:-1], song.sections[1:]):
        assert a["end_s"] == b["start_s"] and a["label"] in ENERGY
    assert len(song.chords) == len(song.downbeats_s) - 1
    assert all(":" in c["label"] for c in song.chords)
    for part in song.parts:
        assert part.instrument in INSTRUMENTS and part.role in ROLES
        assert all(0 <= n.start_s < n.end_s <= song.duration_s for n in part.notes)


def test_consecutive_sections_differ_in_their_playing_parts():
    """The parts sounding in the bar before each boundary differ from those in the bar after
    (effects excluded: their risers end at boundaries on purpose)."""
    for seed in SEEDS:
        song = compose_song(seed, target_duration_s=200)
        bar = 240 / song.tempo_bpm

        def sounding(lo, hi):
            return {p.name for p in song.parts if p.name != "fx"
                    and any(n.start_s < hi and n.end_s > lo for n in p.notes)}

        for section in song.sections[1:]:
            b = section["start_s"]
            assert sounding(b - bar, b - 0.05) != sounding(b + 0.05, b + bar), (seed, section)


def test_compose_is_deterministic_and_seeds_differ():
    a, b, c = compose_song(5), compose_song(5), compose_song(6)
    assert a.annotations() == b.annotations() and a.parts == b.parts
    assert a.annotations() != c.annotations()


def test_all_families_and_roles_appear_over_many_songs():
    families, roles = set(), set()
    for seed in range(60):
        for p in compose_song(seed).parts:
            families.add(p.instrument)
            roles.add(p.role)
    assert families == set(INSTRUMENTS)
    assert roles == set(ROLES)
