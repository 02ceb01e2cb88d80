"""MIDI corpora: freedoom WAD lumps, planetblupi and music21 become labelled songs."""

import numpy as np
import pytest

from mixassist.datasets import build
from mixassist.datasets.corpora import available_corpora, load_corpus_song
from mixassist.errors import CorpusError, MixAssistWarning
from mixassist.vocab import INSTRUMENTS, ROLES


@pytest.fixture(scope="module")
def items():
    return available_corpora()


def test_corpora_are_found(items):
    counts = {c: sum(i.corpus == c for i in items) for c in ("freedoom", "planetblupi", "music21")}
    assert counts["freedoom"] >= 60 and counts["planetblupi"] == 10 and counts["music21"] >= 400, counts


@pytest.mark.parametrize("corpus", ["freedoom", "planetblupi", "music21"])
def test_corpus_song_is_labelled_and_cut(items, corpus):
    item = next(i for i in items if i.corpus == corpus)
    song = load_corpus_song(item, seed=1, song_id="x", max_duration_s=30.0)
    assert song.source == corpus and song.licence and song.sections == []
    assert song.duration_s <= 32.0 + 1e-6
    assert len(song.parts) >= 2 and len({p.channel for p in song.parts}) == len(song.parts)
    for p in song.parts:
        assert p.instrument in INSTRUMENTS and p.role in ROLES
        assert all(n.start_s < song.duration_s - 2.0 for n in p.notes)
    assert np.all(np.diff(song.beats_s) > 0) and song.downbeats_s[0] == song.beats_s[0]
    assert " " in song.key and len(song.chords) == len(song.downbeats_s)


def test_unreadable_score_is_replaced_by_a_composed_song(items, monkeypatch):
    # music21 cannot expand this chorale's repeats; seed 10303 drew it and the build died.
    bad = next(i for i in items if i.name == "bach/bwv277.krn")
    with pytest.raises(CorpusError, match="bwv277.krn: music21 cannot turn it into MIDI"):
        load_corpus_song(bad, seed=1, song_id="x")
    monkeypatch.setattr(build, "available_corpora", lambda: [bad])
    with pytest.warns(MixAssistWarning, match=r"bwv277.krn.*song \d{5} is composed instead") as seen:
        plans = build.plan_songs(hours=0.05, seed=1, corpus_fraction=1.0)
    assert plans and all(p.corpus_item is None for p in plans) and len(seen) == len(plans)
