"""``mixassist render PLAN.json --stems DIR -o OUT`` end to end on tiny synthetic stems."""

from __future__ import annotations

import pytest
import soundfile as sf

from mixassist.audio.io import save_audio
from mixassist.rendering.master import master_chain
from mixassist.planning.plan import BusPlan, MasterPlan, Plan, PluginSpec, StemPlan
from mixassist.planning.targets import PRESETS
from tests.conftest import sine

SR = 22_050


@pytest.fixture
def song(tmp_path):
    stems = tmp_path / "stems"
    for name, freq in (("bass", 110.0), ("vocals", 440.0)):
        save_audio(stems / f"{name}.wav", sine(freq, SR, 1.0, channels=1), SR)
    plan = Plan(sample_rate=SR, target=PRESETS["spotify"],
                stems={"bass": StemPlan(gain_db=-2.0, chain=[PluginSpec("HighpassFilter", {})]),
                       "vocals": StemPlan(pan=0.3, sends={"verb": -10.0})},
                buses={"verb": BusPlan([PluginSpec("Reverb", {"wet_level": 1.0, "dry_level": 0.0})])},
                master=MasterPlan(master_chain(PRESETS["spotify"])))
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_json())
    return tmp_path, plan_file, stems


def test_render_writes_mix_stems_and_plan(song, cli):
    tmp, plan_file, stems = song
    out = tmp / "out"
    assert cli(["render", plan_file, "--stems", stems, "-o", out])[0] == 0
    mix, sr = sf.read(out / "mix.wav", always_2d=True)
    assert sr == SR and mix.shape == (SR, 2)
    assert sorted(p.name for p in (out / "stems").iterdir()) == ["bass.wav", "vocals.wav"]
    rendered = Plan.from_json((out / "plan.json").read_text())
    assert any(r.startswith("loudness:") for r in rendered.master.reasons)
    assert rendered.stems == Plan.from_json(plan_file.read_text()).stems
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind


@pytest.mark.parametrize("edit, message", [
    (lambda text: text[:-20], "not valid JSON"),
    (lambda text: text.replace('"vocals"', '"voice"', 1), "voice have no audio"),
    (lambda text: text.replace('"pan": 0.3', '"pan": 3'), "stems.vocals.pan"),
])
def test_render_errors_are_one_line_and_write_nothing(song, cli, edit, message):
    tmp, plan_file, stems = song
    plan_file.write_text(edit(plan_file.read_text()))
    out = tmp / "out"
    code, _, err = cli(["render", plan_file, "--stems", stems, "-o", out])
    assert code == 1
    err = err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert str(plan_file) in err[0]
    assert not out.exists()
