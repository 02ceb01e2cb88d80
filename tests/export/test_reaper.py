"""The REAPER session of a tiny plan, read back with the RPP parser."""

from __future__ import annotations

import math
import shutil

import pytest

from mixassist.errors import ExportError
from mixassist.export import parse_rpp, reaper_session, write_reaper_session
from mixassist.export import reaeq
from mixassist.export.mapping import FX_MAP, bandwidth_oct
from mixassist.export.reaper import BUS_PREFIX, RAMP_S, envelope_points
from mixassist.planning.plan import GainRamp

from .conftest import LENGTH_S, SR


def _files(plan):
    return {name: f"source/{name}.wav" for name in plan.stems}


def _session(plan, **kw):
    args = dict(stem_files=_files(plan), tempo_bpm=123.0, sample_rate=SR, length_s=LENGTH_S)
    return parse_rpp(reaper_session(plan, **(args | kw)))


def _tracks(root):
    tracks = list(root.find_all("TRACK"))
    stems = [t for t in tracks if not t.value("NAME").startswith(BUS_PREFIX)]
    buses = [t for t in tracks if t.value("NAME").startswith(BUS_PREFIX)]
    return stems, buses


def _db(linear):
    return 20 * math.log10(linear)


def test_one_track_per_stem_in_plan_order_and_one_per_bus(plan):
    stems, buses = _tracks(_session(plan))
    assert [t.value("NAME") for t in stems] == list(plan.stems)
    assert [t.value("NAME") for t in buses] == [BUS_PREFIX + b for b in plan.buses]
    assert all(t.find("ITEM") is not None for t in stems)
    assert all(t.find("ITEM") is None for t in buses)


def test_volume_pan_and_mute_are_the_plan_s(plan):
    stems, _ = _tracks(_session(plan))
    for track in stems:
        stem = plan.stems[track.value("NAME")]
        assert _db(float(track.value("VOLPAN", 0))) == pytest.approx(stem.gain_db, abs=0.05)
        assert float(track.value("VOLPAN", 1)) == pytest.approx(stem.pan, abs=1e-9)
        assert track.value("MUTESOLO", 0) == ("1" if stem.mute else "0")


def test_tempo_meter_sample_rate_and_markers(plan):
    root = _session(plan, meter=(3, 4))
    assert root.find("TEMPO").args == ["123", "3", "4"]
    assert root.value("SAMPLERATE") == str(SR)
    markers = [(float(m.args[1]), m.args[2]) for m in root.find_all("MARKER")]
    assert markers == [(s.start_s, s.label) for s in plan.arrangement.sections]


def test_unknown_tempo_is_written_as_120_and_said(plan):
    root = _session(plan, tempo_bpm=None)
    assert root.value("TEMPO") == "120"
    assert any("tempo unknown" in n.name for n in root.find("NOTES").children)


def test_items_name_their_stem_by_relative_path_that_survives_moving_the_folder(
        plan, session_dir, tmp_path):
    write_reaper_session(session_dir / "session.rpp", plan, stem_files=_files(plan),
                         tempo_bpm=120.0, sample_rate=SR, length_s=LENGTH_S)
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(session_dir, moved)
    shutil.rmtree(session_dir)
    root = parse_rpp((moved / "session.rpp").read_text(encoding="utf-8"))
    stems, _ = _tracks(root)
    for track in stems:
        item = track.find("ITEM")
        assert float(item.value("POSITION")) == 0.0
        assert float(item.value("LENGTH")) == pytest.approx(LENGTH_S)
        source = item.find("SOURCE")
        assert source.args == ["WAVE"]
        rel = source.value("FILE")
        assert not rel.startswith("/") and ":" not in rel
        assert (moved / rel).is_file()
        assert rel == f"source/{track.value('NAME')}.wav"


def test_sends_reach_their_bus_post_fader_at_the_plan_s_level(plan):
    stems, buses = _tracks(_session(plan))
    index = {t.value("NAME"): i for i, t in enumerate(stems)}
    names = list(index)
    for bus in buses:
        name = bus.value("NAME")[len(BUS_PREFIX):]
        got = {names[int(r.args[0])]: (r.args[1], _db(float(r.args[2])))
               for r in bus.find_all("AUXRECV")}
        want = {s: lvl[name] for s, lvl in ((s, p.sends) for s, p in plan.stems.items())
                if name in lvl}
        assert set(got) == set(want)
        for stem, (mode, db) in got.items():
            assert mode == "0"  # post-fader
            assert db == pytest.approx(want[stem], abs=0.05)
    # both buses hold an effect that is not written: muted, and said in the notes
    assert all(b.value("MUTESOLO") == "1" for b in buses)


def test_rides_become_volume_envelope_points_at_the_ramp_times(plan):
    stems, _ = _tracks(_session(plan))
    vocals = next(t for t in stems if t.value("NAME") == "vocals")
    assert all(t.find("VOLENV2") is None for t in stems if t is not vocals)
    points = [tuple(float(a) for a in p.args[:2]) for p in vocals.find("VOLENV2").find_all("PT")]
    for ramp in plan.stems["vocals"].automation:
        g = 10 ** (ramp.gain_db / 20)
        assert (ramp.start_s, pytest.approx(1.0)) in points
        assert (pytest.approx(ramp.start_s + RAMP_S), pytest.approx(g)) in points
        assert (ramp.end_s, pytest.approx(g)) in points
        assert (pytest.approx(ramp.end_s + RAMP_S), pytest.approx(1.0)) in points
    times = [t for t, _ in points]
    assert times == sorted(times)


def test_the_ramp_is_the_renderer_s():
    from mixassist.rendering.automation import RAMP_MS
    assert RAMP_S == pytest.approx(RAMP_MS / 1000)


def test_back_to_back_rides_go_straight_from_one_gain_to_the_next():
    points = envelope_points([GainRamp(1.0, 2.0, 6.0), GainRamp(2.0, 3.0, -6.0)])
    at_two = [p for p in points if p[0] == 2.0]
    assert len(at_two) == 1 and at_two[0][1] == pytest.approx(10 ** (6 / 20))
    assert points[-1] == (pytest.approx(3.0 + RAMP_S), 1.0, 0)


def _reaeq_bands(track):
    vsts = [v for v in track.walk("VST") if v.args[0] == "VST: ReaEQ (Cockos)"]
    out = []
    for vst in vsts:
        plugin_id, state = reaeq.unwrap([c.name for c in vst.children])
        assert plugin_id == reaeq.REAEQ_ID
        out.append(reaeq.read_chunk(state))
    return out


def test_eq_lands_as_reaeq_bands(plan):
    stems, _ = _tracks(_session(plan))
    vocals = next(t for t in stems if t.value("NAME") == "vocals")
    [bands] = _reaeq_bands(vocals)
    hp, peak, shelf = bands
    assert (hp.kind, hp.freq_hz) == ("high_pass", 80.0)
    assert peak.kind == "band"
    assert peak.freq_hz == pytest.approx(1000.0)
    assert peak.gain_db == pytest.approx(-6.0, abs=1e-9)
    assert peak.bandwidth_oct == pytest.approx(bandwidth_oct(1.4))
    assert peak.bandwidth_oct == pytest.approx(1.0098, abs=1e-3)  # Q 1.4 is about 1 octave
    assert (shelf.kind, shelf.freq_hz, shelf.gain_db) == ("high_shelf", 8000.0,
                                                          pytest.approx(2.0))


def test_master_eq_goes_to_the_master_fx_and_the_rest_to_the_notes(plan):
    root = _session(plan)
    [[hp, shelf]] = _reaeq_bands(root.find("MASTERFXLIST"))
    assert (hp.kind, hp.freq_hz, shelf.kind, shelf.gain_db) == (
        "high_pass", 25.0, "low_shelf", pytest.approx(-1.0))
    notes = [n.name for n in root.find("NOTES").children]
    assert all(n.startswith("|") for n in notes)
    assert any("ReaLimit: Ceiling -1.3 dB" in n for n in notes)
    assert any("drums: add ReaComp: Thresh -18 dB, Ratio 3:1, Attack 15 ms, Release 120 ms"
               in n for n in notes)
    assert any("ReaDelay: Length (time) 500 ms" in n for n in notes)


def test_every_mapped_plugin_is_in_the_docs_table():
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "export.md").read_text("utf-8")
    for plugin, fx in FX_MAP.items():
        assert f"`{plugin}`" in doc and fx.reaper in doc
        for p in fx.params:
            assert f"`{p.source}`" in doc


def test_reaeq_chunk_round_trips():
    bands = [reaeq.Band("band", 1000.0, -6.0, 1.01), reaeq.Band("high_pass", 80.0, 0.0, 1.9),
             reaeq.Band("low_shelf", 100.0, 3.0, 0.8, enabled=False)]
    lines = reaeq.wrap(reaeq.chunk(bands))
    plugin_id, state = reaeq.unwrap(lines)
    assert plugin_id == reaeq.REAEQ_ID
    back = reaeq.read_chunk(state)
    assert [(b.kind, b.freq_hz, b.bandwidth_oct, b.enabled) for b in back] == \
        [(b.kind, b.freq_hz, b.bandwidth_oct, b.enabled) for b in bands]
    assert [b.gain_db for b in back] == pytest.approx([b.gain_db for b in bands])
    # REAPER's wrapper: id 'qeer', opaque chunk, 2 pins each way, the state's size, flag 1
    import base64
    import struct
    header = base64.b64decode(lines[0])
    assert header[:4] == b"qeer" and len(header) == 60
    assert struct.unpack_from("<I", header, 4)[0] == 0xFEED5EEE
    assert struct.unpack_from("<iii", header, 48) == (len(state), 1, 0x00100000)
    assert all(len(line) <= reaeq.LINE_CHARS for line in lines)
    # ReaEQ's own numbers (docs/export.md): version 33, then each band's type first
    assert struct.unpack_from("<ii", state, 0) == (33, 3)
    assert [struct.unpack_from("<i", state, 8 + 33 * k)[0] for k in range(3)] == [8, 4, 0]


def test_amount_is_applied_as_the_renderer_does(plan):
    plan.amount = 0.0
    stems, _ = _tracks(_session(plan))
    assert all(float(t.value("VOLPAN")) == pytest.approx(1.0) for t in stems)


@pytest.mark.parametrize("files, problem", [
    ({"drums": "source/drums.wav", "bass": "source/bass.wav"}, "vocals have no file"),
    ({"drums": "d.wav", "bass": "b.wav", "vocals": "v.wav", "keys": "k.wav"},
     "names keys, which the plan does not have"),
    ({"drums": "/abs/drums.wav", "bass": "b.wav", "vocals": "v.wav"}, "relative"),
    ({"drums": "../drums.wav", "bass": "b.wav", "vocals": "v.wav"}, "relative"),
    ({"drums": "C:/x/drums.wav", "bass": "b.wav", "vocals": "v.wav"}, "relative")])
def test_bad_stem_files_are_clear_errors(plan, files, problem):
    with pytest.raises(ExportError, match=problem):
        reaper_session(plan, stem_files=files, tempo_bpm=120.0, sample_rate=SR,
                       length_s=LENGTH_S)


def test_a_missing_stem_file_is_named(plan, session_dir):
    (session_dir / "source" / "bass.wav").unlink()
    with pytest.raises(ExportError, match=r"session.rpp: stem 'bass' names 'source/bass.wav', "
                                          "which does not exist"):
        write_reaper_session(session_dir / "session.rpp", plan, stem_files=_files(plan),
                             tempo_bpm=120.0, sample_rate=SR, length_s=LENGTH_S)
    assert not (session_dir / "session.rpp").exists()


@pytest.mark.parametrize("kw, problem", [({"length_s": 0.0}, "length_s"),
                                         ({"sample_rate": 44100.0}, "sample_rate"),
                                         ({"tempo_bpm": -1.0}, "tempo_bpm"),
                                         ({"meter": (4,)}, "meter")])
def test_bad_numbers_are_clear_errors(plan, kw, problem):
    with pytest.raises(ExportError, match=problem):
        _session(plan, **kw)
