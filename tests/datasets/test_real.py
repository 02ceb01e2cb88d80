"""The real-music corpus builder on a package made here (dpkg-deb -b), never the network."""

import json
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
import soundfile as sf

from mixassist.datasets.real import (RealPackage, build_real_corpus, corpus_songs, dep5_licence, dep5_stanzas,
                                     middle_excerpt, packages)
from mixassist.errors import ParameterError

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020 Somebody
License: GPL-2+

Files: sound/cdtracks/special*
Copyright: 2021 Somebody Else
License: CC0-1.0

Files: debian/*
License: GPL-3+
"""


def _ogg(path, seconds, seed):
    rng = np.random.default_rng(seed)
    sf.write(path, 0.1 * rng.standard_normal(int(seconds * 8000)), 8000, format="OGG", subtype="VORBIS")


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    """A folder with fake-music_1.0_all.deb: a 31-s song, its byte copy, a 5-s jingle, a tracker
    module, and a 32-s song inside a zip archive (as games ship them)."""
    base = tmp_path_factory.mktemp("deb")
    root = base / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: fake-music\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: t <t@example.org>\nDescription: test\n")
    doc = root / "usr/share/doc/fake-music"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)
    music = root / "usr/share/games/fake/music"
    music.mkdir(parents=True)
    _ogg(music / "song.ogg", 31, 1)
    shutil.copy(music / "song.ogg", music / "zz-copy.ogg")  # sorts after the original
    _ogg(music / "jingle.ogg", 5, 2)
    (music / "tune.mod").write_bytes(b"M.K." * 100)
    _ogg(base / "special.ogg", 32, 3)
    with zipfile.ZipFile(root / "usr/share/games/fake/music.pk3", "w") as z:
        z.write(base / "special.ogg", "sound/cdtracks/special.ogg")
    out = base / "debs"
    out.mkdir()
    subprocess.run(["dpkg-deb", "-Zgzip", "-b", str(root), str(out / "fake-music_1.0_all.deb")],
                   check=True, capture_output=True)
    return out


TABLE = (RealPackage("fake-music", "test", ("usr/share/games/fake/music/*",
                                            "usr/share/games/fake/music.pk3:sound/cdtracks/*"), "noise"),)


def test_corpus_keeps_long_unique_audio_with_licences_from_the_copyright_file(debs, tmp_path):
    manifest = build_real_corpus(tmp_path / "corpus", debs=debs, table=TABLE)
    songs = {s["song_id"]: s for s in manifest["songs"]}
    assert set(songs) == {"fake-music/song", "fake-music/special"}  # no copy, jingle or module
    assert songs["fake-music/song"]["licence"] == "GPL-2+"
    assert songs["fake-music/special"]["licence"] == "CC0-1.0"
    assert songs["fake-music/song"]["duration_s"] == pytest.approx(31, abs=0.01)
    assert songs["fake-music/song"]["codec"] == "OGG/VORBIS"
    assert manifest["hours_per_split"]["test"] == pytest.approx(63 / 3600, abs=1e-3)
    for song in songs.values():
        assert (tmp_path / "corpus" / song["file"]).is_file()
    assert (tmp_path / "corpus" / "copyright" / "fake-music").read_text() == COPYRIGHT
    assert json.loads((tmp_path / "corpus" / "manifest.json").read_text()) == manifest


def test_a_rerun_resumes_without_the_package(debs, tmp_path):
    first = build_real_corpus(tmp_path / "c", debs=debs, table=TABLE)
    empty = tmp_path / "no-debs"
    empty.mkdir()
    assert build_real_corpus(tmp_path / "c", debs=empty, table=TABLE) == first


def test_missing_deb_and_reserved_or_unknown_packages_are_clear_errors(tmp_path):
    with pytest.raises(ParameterError, match="no fake-music_"):
        build_real_corpus(tmp_path / "c", debs=tmp_path, table=TABLE)
    with pytest.raises(ParameterError, match="reserved"):
        packages(["warzone2100-music"])
    with pytest.raises(ParameterError, match="unknown real-music package"):
        packages(["no-such-music"])


def test_the_corpus_table_splits_by_package_and_uses_no_reserved_source():
    table = packages()
    assert {p.split for p in table} == {"train", "dev", "test"}
    assert len({p.name for p in table}) == len(table)
    assert sum(p.split == "test" for p in table) >= 2


def test_dep5_last_matching_stanza_wins_and_source_paths_match_installed_tails():
    stanzas = dep5_stanzas(COPYRIGHT)
    assert dep5_licence(stanzas, "usr/share/games/fake/music/a.ogg")[0] == "GPL-2+"
    assert dep5_licence(stanzas, "usr/x/music.pk3:sound/cdtracks/special.ogg")[0] == "CC0-1.0"
    assert dep5_stanzas("This package was debianized by ...") == []


def test_corpus_songs_picks_a_split_caps_each_package_and_names_the_folder_on_error(tmp_path):
    songs = [{"song_id": f"{p}/{i}", "package": p, "split": split, "file": f"audio/{p}/{i}.ogg"}
             for p, split in (("a", "test"), ("b", "dev"), ("c", "test")) for i in range(3)]
    (tmp_path / "manifest.json").write_text(json.dumps({"songs": songs}))
    assert [s["song_id"] for s in corpus_songs(tmp_path, "test")] == ["a/0", "a/1", "a/2", "c/0", "c/1", "c/2"]
    assert [s["song_id"] for s in corpus_songs(tmp_path, "test", per_package=2)] == ["a/0", "a/1", "c/0", "c/1"]
    with pytest.raises(ParameterError, match=r"no songs in split 'train' \(it has dev, test\)"):
        corpus_songs(tmp_path, "train")
    with pytest.raises(ParameterError, match="not a real-music corpus"):
        corpus_songs(tmp_path / "missing", "test")
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ParameterError, match="no list of songs"):
        corpus_songs(tmp_path / "list", "test")


def test_middle_excerpt_is_the_centre_or_everything():
    audio = np.arange(10, dtype=np.float32).reshape(1, 10)
    np.testing.assert_array_equal(middle_excerpt(audio, 1, 4), [[3, 4, 5, 6]])
    assert middle_excerpt(audio, 1, 0) is audio and middle_excerpt(audio, 1, 12) is audio
