"""Stem and track names as engineers type them: whole words and console/DAW abbreviations."""

from __future__ import annotations

import pytest

from mixassist.analysis.labels import label_stem
from mixassist.analysis.names import is_drum_name, name_instrument, name_role, name_words

# (track name as found in real sessions, instrument, role); None: the name says nothing.
TRACKS = [
    ("Kick In", "drums", "rhythm"), ("Kick Out", "drums", "rhythm"), ("Snr", "drums", "rhythm"),
    ("Snare Top", "drums", "rhythm"), ("Bottom Snare", "drums", "rhythm"),
    ("OH L", "drums", "rhythm"), ("OH R", "drums", "rhythm"), ("Hi-Hat", "drums", "rhythm"),
    ("HH", "drums", "rhythm"), ("Floor Tom", "drums", "rhythm"), ("Tom 1", "drums", "rhythm"),
    ("Room L", "drums", "rhythm"), ("Bass Drum", "drums", "rhythm"),
    ("01_Kick.wav", "drums", "rhythm"), ("Perc Loop", "percussion", "rhythm"),
    ("Shaker", "percussion", "rhythm"), ("Bass DI", "bass", "low_end"),
    ("Synth Bass", "bass", "low_end"), ("808", "bass", "low_end"), ("GTR L", "guitar", "harmony"),
    ("EGtr", "guitar", "harmony"), ("AcGtr", "guitar", "harmony"),
    ("Lead Guitar", "guitar", "melody"), ("Keys", "keys", "harmony"),
    ("Rhodes", "keys", "harmony"), ("Piano L", "keys", "harmony"), ("Pad", "synth", "texture"),
    ("custom_pad", "synth", "texture"), ("Lead Synth", "synth", "melody"),
    ("Str Ens", "strings", "harmony"), ("Horns", "brass", "harmony"),
    ("Sax Solo", "woodwinds", "melody"), ("Ld Vox", "vocals", "melody"),
    ("LeadVox_02.wav", "vocals", "melody"), ("Bv 2", "vocals", "harmony"),
    ("BGV 3", "vocals", "harmony"), ("Backing Vox", "vocals", "harmony"),
    ("Choir", "vocals", "harmony"), ("FX Riser", "fx", "texture"),
    ("Audio 07", None, None), ("Track 3", None, None), ("other", None, None),
]


@pytest.mark.parametrize("name, instrument, role", TRACKS)
def test_track_names(name, instrument, role):
    assert name_instrument(name) == instrument
    labels = label_stem(name)
    if instrument is None:
        assert labels.source == "unknown"
    else:
        assert labels.source == "name-hint" and labels.instrument == instrument
        assert labels.role == role
    assert is_drum_name(name) == (instrument in ("drums", "percussion"))


def test_only_whole_words_count():
    # substrings of longer words are not hints: "custom" holds "tom", "Lead Guitar" no vocal
    assert not is_drum_name("custom_pad") and not is_drum_name("Bottom End")
    assert name_instrument("Lead Guitar") != "vocals"
    assert name_words("LeadVox_02.wav") == ["lead", "vox"]
    assert name_role("Ld Vox") == "melody" and name_role("Bass DI") is None
