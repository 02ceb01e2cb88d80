"""No reserved source (DATA.md) is used anywhere in the data generator."""

from pathlib import Path

import pytest

from mixassist.datasets import licences
from mixassist.datasets.corpora import available_corpora
from mixassist.datasets.sources import DRUMKITS, PALETTES, SOUNDFONT_DIR, SOUNDFONTS, VOICE, source_licence
from mixassist.errors import ParameterError

DATA_MD_RESERVED = ("openttd-openmsx", "musescore-general-soundfont", "festvox-us-slt-hts", "warzone2100-music",
                    "ufoai-music", "singularity-music", "hyperrogue-music", "asc-music")


def test_reserved_list_matches_data_md():
    assert set(DATA_MD_RESERVED) <= set(licences.RESERVED)
    assert {".mod", ".xm", ".it", ".s3m"} <= set(licences.RESERVED_EXTENSIONS)


def test_no_source_is_reserved_and_every_source_has_a_licence():
    for row in licences.SOURCES:
        text = " ".join(row).lower()
        assert not any(r in text for r in DATA_MD_RESERVED), row
        assert row[3].strip(), f"{row[0]} has no licence"


def test_every_source_a_palette_plays_has_its_own_licence_row():
    for name in {VOICE, *(n for names in PALETTES.values() for n in names)}:
        own = [row[3] for row in licences.SOURCES if f"({name})" in row[0] or (
            name in SOUNDFONTS and row[0].startswith(SOUNDFONTS[name].package))]
        if name in DRUMKITS:
            assert own == [DRUMKITS[name].licence], name
        assert source_licence(name) in own or name.startswith(("mixassist-synth:", "pysinsy:")), name
    # each kit by its own row, not the first kit of its collection
    assert source_licence("hydrogen:Millo_MultiLayered2") == "GPL-2.0"
    assert source_licence("hydrogen:ElectricEmpireKit") == "GPL-2.0-or-later"
    assert source_licence("hydrogen:ColomboAcousticDrumkit").startswith("GPL-2.0-or-later with")
    assert source_licence("sonic-pi:electronic") == "CC0-1.0" and source_licence("FluidR3_GM") == "MIT"
    assert source_licence("mixassist-synth:fm") == "GPL-3.0-or-later" and source_licence("nope") == "?"


def test_soundfonts_are_the_allowed_files_not_symlinks_to_reserved_ones():
    for font in SOUNDFONTS.values():
        real = (SOUNDFONT_DIR / font.file).resolve()
        assert "musescore" not in str(real).lower()
        assert real.name in {"FluidR3_GM.sf2", "TimGM6mb.sf2", "Black_Pearl_4_LV2.sf2", "Red_Zeppelin_4_LV2.sf2",
                             "OPL-3_FM_128M.sf2", "sf_GMbank.sf2"}
        licences.check_source(font.package)


def test_corpus_items_are_allowed_midi_sources():
    items = available_corpora()
    assert {i.corpus for i in items} == {"freedoom", "planetblupi", "music21"}
    for item in items:
        licences.check_source(item.path)
        assert Path(item.path).suffix.lower() in (".wad", ".mid", ".mxl", ".krn", ".xml", ".musicxml", ".abc")


@pytest.mark.parametrize("name", ["/usr/share/games/openttd/openmsx/x.mid", "song.xm", "musescore-general-soundfont-lossless",
                                  "festvox-us-slt-hts"])
def test_check_source_refuses_reserved(name):
    with pytest.raises(ParameterError, match="reserved"):
        licences.check_source(name)
