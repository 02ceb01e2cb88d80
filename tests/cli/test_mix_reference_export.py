"""``mixassist mix --reference ... --export ...`` end to end on synthetic stem folders."""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import pytest

from mixassist.audio import save_audio
from mixassist.export import parse_rpp
from mixassist.testing import synthetic_stems

SR = 44100


def _folder(path, seconds=12.0, gains=None):
    path.mkdir()
    for name, audio in synthetic_stems(seconds, SR).items():
        gain = 10 ** ((gains or {}).get(name, 0.0) / 20)
        save_audio(path / f"{name}.wav", audio * np.float32(gain), SR)
    return path


@pytest.fixture
def song(tmp_path):
    return _folder(tmp_path / "song")


@pytest.mark.parametrize("make, problem", [
    (lambda d: d / "missing.wav", "no such file"),
    (lambda d: (d / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk") and d / "corrupt.wav",
     "corrupt"),
    (lambda d: save_audio(d / "clip.wav", np.full((2, 3 * SR), 0.1, np.float32), SR)
     or d / "clip.wav", "is 3.0 s long; a reference needs at least 10 s"),
    (lambda d: save_audio(d / "silent.wav", np.zeros((2, 12 * SR), np.float32), SR)
     or d / "silent.wav", "is silent"),
])
def test_a_bad_reference_is_one_line_naming_it_and_nothing_is_written(cli, song, tmp_path, make,
                                                                        problem):
    reference = make(tmp_path)
    code, out, err = cli(["mix", song, "-o", tmp_path / "out", "--reference", reference])
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and str(reference) in lines[0] and problem in lines[0], err
    assert not (tmp_path / "out" / "song").exists()


@pytest.mark.slow
def test_reaper_export_of_a_mix_toward_a_reference(cli, song, tmp_path):
    reference = _folder(tmp_path / "reference", gains={"vocals": 6.0, "bass": -3.0})
    out = tmp_path / "out"
    code, _, err = cli(["mix", song, "-o", out, "--reference", reference, "--export", "reaper"])
    assert code == 0, err
    folder = out / "song"
    plan = json.loads((folder / "plan.json").read_text())
    moved = plan["reference"]["units"]
    # same stem names: each stem is its own unit, moved toward the reference's balance
    assert sorted(moved) == sorted(plan["stems"])
    assert plan["stems"]["vocals"]["gain_db"] - plan["stems"]["bass"]["gain_db"] \
        == pytest.approx(9.0, abs=1.5)
    root = parse_rpp((folder / "session.rpp").read_text())
    tracks = [t for t in root.find_all("TRACK") if t.value("NAME") in plan["stems"]]
    assert [t.value("NAME") for t in tracks] == list(plan["stems"])
    for track in tracks:
        stem = plan["stems"][track.value("NAME")]
        volume = float(track.value("VOLPAN", 0))
        assert 20 * math.log10(volume) == pytest.approx(stem["gain_db"], abs=0.05)
        assert float(track.value("VOLPAN", 1)) == pytest.approx(stem["pan"], abs=1e-6)
        path = track.find("ITEM").find("SOURCE").value("FILE")
        assert not path.startswith("/") and (folder / path).is_file()
    markers = [float(m.args[1]) for m in root.find_all("MARKER")]
    assert markers == pytest.approx([s["start_s"] for s in plan["arrangement"]["sections"]])


@pytest.mark.slow
def test_stems_zip_export_holds_processed_and_unprocessed_stems_and_the_plan(cli, song, tmp_path):
    code, _, err = cli(["mix", song, "-o", tmp_path / "out", "--export", "stems-zip"])
    assert code == 0, err
    folder = tmp_path / "out" / "song"
    with zipfile.ZipFile(folder / "stems.zip") as archive:
        names = set(archive.namelist())
    stems = {p.stem for p in song.iterdir()}
    assert {f"song/processed/{s}.wav" for s in stems} | {f"song/unprocessed/{s}.wav" for s in stems} \
        | {"song/plan.json"} <= names
    assert not (folder / "source").exists()


def test_an_unknown_export_is_refused(cli, song, tmp_path):
    code, _, err = cli(["mix", song, "-o", tmp_path / "out", "--export", "logic"])
    assert code != 0 and "unknown export 'logic'" in err


@pytest.mark.slow
def test_the_focus_stays_on_top_of_the_reference_match(song, tmp_path):
    from mixassist.assistant import MixAssistant
    from mixassist.loudness import integrated_loudness

    reference = _folder(tmp_path / "reference", gains={"vocals": -3.0})

    def vocal_lead(**options):
        result = MixAssistant(cache=False, references=(str(reference),), **options).process(song)
        rest = sum(a for n, a in result.stems.items() if n != "vocals")
        return integrated_loudness(result.stems["vocals"], SR) - integrated_loudness(rest, SR)

    assert vocal_lead(focus="vocals") - vocal_lead() == pytest.approx(2.0, abs=0.5)


@pytest.mark.slow
def test_stems_of_unequal_length_export_an_edited_version(tmp_path):
    """A stem folder whose stems end at different times, as a loop with a Reaper session, toward
    a reference folder whose stems end at different times too."""
    from mixassist.assistant import MixAssistant
    from mixassist.audio import load_audio

    song = _folder(tmp_path / "song", seconds=16.0)
    reference = _folder(tmp_path / "reference", seconds=12.0)
    for folder, seconds in ((song, 9.0), (reference, 11.0)):
        audio, _ = load_audio(folder / "keys.wav")
        save_audio(folder / "keys.wav", audio[:, :int(seconds * SR)], SR)
    result = MixAssistant(cache=False, references=(str(reference),), export="reaper",
                          version="loop", loop_bars=2).process(song, out_dir=tmp_path / "out")
    source = result.folder / "source"
    lengths = {load_audio(p)[0].shape[1] for p in source.iterdir()}
    assert lengths == {result.mix.shape[1]}  # every source stem on the output's timeline


def test_a_silent_song_gets_the_plain_players(tmp_path):
    from mixassist.assistant import MixAssistant

    song = tmp_path / "song"
    song.mkdir()
    for name in ("a", "b"):
        save_audio(song / f"{name}.wav", np.zeros((2, 5 * SR), np.float32), SR)
    with pytest.warns(Warning):
        result = MixAssistant(cache=False).process(song, out_dir=tmp_path / "out")
    report = (result.folder / "report.html").read_text()
    assert 'src="input.wav"' in report and not (result.folder / "preview").exists()
