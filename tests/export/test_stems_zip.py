"""The stems archive: the files given, a README that tells how they line up, atomic writing."""

from __future__ import annotations

import zipfile

import pytest

from mixassist.errors import ExportError
from mixassist.export import stems_readme, write_stems_zip


def test_the_zip_holds_the_files_and_the_readme(tmp_path, plan):
    files = {}
    for name in plan.stems:
        for kind in ("stems", "dry"):
            f = tmp_path / kind / f"{name}.wav"
            f.parent.mkdir(exist_ok=True)
            f.write_bytes(f"{kind}:{name}".encode())
            files[f"{kind}/{name}.wav"] = f
    (tmp_path / "plan.json").write_text(plan.to_json(), encoding="utf-8")
    files["plan.json"] = tmp_path / "plan.json"
    readme = stems_readme(plan, tempo_bpm=123.0)
    out = write_stems_zip(tmp_path / "out" / "stems.zip", files, readme=readme)
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == sorted([*files, "README.txt"])
        assert z.read("stems/vocals.wav") == b"stems:vocals"
        assert z.read("README.txt").decode() == readme
        assert z.getinfo("stems/vocals.wav").compress_type == zipfile.ZIP_STORED
    assert [p.name for p in out.parent.iterdir()] == ["stems.zip"]  # no temporary left


def test_the_readme_has_tempo_sections_gains_pans_and_the_sum(plan):
    text = stems_readme(plan, tempo_bpm=123.0)
    assert "123 BPM" in text
    assert "0:04.000  verse" in text and "0:09.000  chorus 1" in text
    assert "vocals: gain +0.50 dB, pan +0.50" in text
    assert "bass: gain +2.00 dB, pan -0.30, muted" in text
    assert "mix before the master chain" in text
    assert "unknown" in stems_readme(plan, tempo_bpm=None)


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        write_stems_zip(tmp_path / "s.zip", {"a.wav": tmp_path / "nope.wav"}, readme="")
    (tmp_path / "a.wav").write_bytes(b"x")
    for bad in ("../a.wav", "/a.wav", "README.txt"):
        with pytest.raises(ExportError, match="archive name"):
            write_stems_zip(tmp_path / "s.zip", {bad: tmp_path / "a.wav"}, readme="")
    assert not (tmp_path / "s.zip").exists()
