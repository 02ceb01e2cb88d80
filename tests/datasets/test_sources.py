"""Sound-source palettes: what each holds, that songs use only their palette's sources, and that
every stem records its source so a benchmark can hold sources out."""

import json

import pytest

from mixassist.datasets.build import build_song, plan_songs
from mixassist.datasets.compose import compose_song
from mixassist.datasets.sources import PALETTES, SOUNDFONTS, VOICE, palette, presets
from mixassist.errors import ParameterError


def test_the_training_palette_is_what_the_shipped_models_heard_and_held_out_shares_nothing():
    train, held = palette("training"), palette("held-out")
    assert train.melodic == ("FluidR3_GM", "TimGM6mb")
    assert train.kits == ("AVL_BlackPearl", "AVL_RedZeppelin") and train.electronic == "FluidR3_GM"
    assert not set(PALETTES["training"]) & set(PALETTES["held-out"])
    assert held.melodic == ("OPL3_FM", "csound_GM") and held.kits == ()


def test_a_list_of_sources_is_a_palette_and_bad_ones_are_clear_errors():
    assert palette("OPL3_FM").melodic == ("OPL3_FM",)
    with pytest.raises(ParameterError, match="unknown sound source"):
        palette("FluidR3_GM,NoSuchFont")
    with pytest.raises(ParameterError, match="no General-MIDI bank"):
        palette("AVL_BlackPearl")


def test_presets_are_read_from_the_soundfont_and_missing_kits_fall_back_to_the_standard_kit():
    assert (0, 0) in presets("OPL3_FM") and (128, 0) in presets("OPL3_FM")
    assert (128, 25) not in presets("OPL3_FM") and (128, 25) in presets("csound_GM")
    held = palette("held-out")
    assert held.kit_programs("OPL3_FM", (8, 16)) == (0,)
    assert held.kit_programs("csound_GM", (8, 16)) == (8, 16)
    assert held.electronic == "csound_GM"


@pytest.mark.parametrize("seed", range(6))
def test_a_held_out_song_is_played_only_with_held_out_sources(seed):
    song = compose_song(seed, target_duration_s=20, sources=palette("held-out"))
    fonts = {p.setup.soundfont for p in song.parts if p.setup is not None}
    assert fonts and fonts <= set(PALETTES["held-out"])
    for part in song.parts:
        if part.setup is not None:
            assert (part.setup.bank, part.setup.program) in presets(part.setup.soundfont)


def test_every_stem_records_its_source(tiny_dataset):
    metas = sorted(tiny_dataset.glob("songs/*/song.json"))
    assert metas
    for meta in metas:
        data = json.loads(meta.read_text(encoding="utf-8"))
        assert data["palette"] == "training"
        sources = {s["source"] for s in data["stems"]}
        assert sources <= set(PALETTES["training"]) | {VOICE}
        assert data["sound_sources"] == sorted(sources)
    manifest = json.loads((tiny_dataset / "manifest.json").read_text(encoding="utf-8"))
    assert all(s["source"] in SOUNDFONTS or s["source"] == VOICE for e in manifest["songs"] for s in e["stems"])


def test_a_folder_of_another_palette_is_refused_on_resume(tmp_path):
    plan = plan_songs(hours=10 / 3600, seed=3, min_duration_s=8, max_duration_s=10, corpus_fraction=0.0,
                      sources="held-out", generator=2)[0]
    data = build_song(plan, tmp_path)
    assert set(data["sound_sources"]) <= set(PALETTES["held-out"]) | {VOICE}
    other = plan_songs(hours=10 / 3600, seed=3, min_duration_s=8, max_duration_s=10, corpus_fraction=0.0,
                       generator=2)[0]
    with pytest.raises(ParameterError, match=r"built with --sources held-out \(this build: training\);"):
        build_song(other, tmp_path)
