"""Arrangement versions: edit points on downbeats, clean cuts, exact lengths, seamless loops."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from mixassist.errors import ParameterError, PlanError
from mixassist.rendering.edits import apply_edits
from mixassist.planning.arrangement import VERSIONS, plan_arrangement, section_kinds


def plan(structure, song, version, **kw):
    return plan_arrangement(structure, song.sr, version=version, stem_names=list(song.stems), **kw)


def cut_windows(p, sr):
    """Output sample ranges touched by each edit's crossfade."""
    xf = int(round(p.edits.crossfade_ms * sr / 1000))
    return [(max(0, o - xf - 1), o + 2) for o, _ in p.edits.edit_points()]


def assert_clean_cuts(p, song):
    """No cut creates a step larger than the largest sample-to-sample step elsewhere."""
    out = apply_edits(song.stems, song.sr, p.edits)
    mix = np.sum(list(out.values()), axis=0)
    step = np.max(np.abs(np.diff(mix, axis=1)), axis=0)
    elsewhere = np.ones(len(step), bool)
    for a, b in cut_windows(p, song.sr):
        elsewhere[a:b] = False
    for a, b in cut_windows(p, song.sr):
        assert step[a:b].max() <= step[elsewhere].max()
    return out


@pytest.mark.parametrize("target_s", [70.0, 90.0, 100.0])
def test_radio_length_and_edit_points(song, structure, target_s):
    p = plan(structure, song, "radio", target_length_s=target_s)
    assert abs(p.length_s - target_s) <= 2.0
    points = p.edits.edit_points()
    assert points  # the 2-min song is cut
    downbeats = np.array(structure.downbeats_s)
    for _, src in points:  # every edit point is a detected downbeat (to the sample)
        assert np.min(np.abs(downbeats * song.sr - src)) <= 1.0
    out = assert_clean_cuts(p, song)
    assert all(v.shape[1] == p.edits.length for v in out.values())
    assert p.notes  # every cut has a reason


def test_radio_keeps_a_song_already_short_enough(song, structure):
    p = plan(structure, song, "radio", target_length_s=200.0)
    assert not p.edits.edit_points() and "nothing cut" in p.notes[0]


@pytest.mark.parametrize("dj_bars", [16, 32])
def test_extended_adds_drum_and_bass_intro_and_outro(song, structure, dj_bars):
    p = plan(structure, song, "extended", dj_bars=dj_bars)
    bar_s = 4 * 60.0 / 120.0
    intro = [s for s in p.sections if s["label"] == "dj-intro"]
    outro = [s for s in p.sections if s["label"] == "dj-outro"]
    assert sum(s["end_s"] - s["start_s"] for s in intro) == pytest.approx(dj_bars * bar_s, abs=0.05)
    assert sum(s["end_s"] - s["start_s"] for s in outro) == pytest.approx(dj_bars * bar_s, abs=0.05)
    out = assert_clean_cuts(p, song)
    intro_s = sum(s["end_s"] - s["start_s"] for s in intro)
    n_intro = int((intro_s - p.edits.crossfade_ms / 1000) * song.sr) - 1
    assert np.all(out["vocals"][:, :n_intro] == 0) and np.all(out["other"][:, :n_intro] == 0)
    assert np.any(out["drums"][:, :n_intro] != 0) and np.any(out["bass"][:, :n_intro] != 0)
    downbeats = np.array(structure.downbeats_s)
    for _, src in p.edits.edit_points():
        assert np.min(np.abs(downbeats * song.sr - src)) <= 1.0


@pytest.mark.parametrize("bars", [4, 8])
def test_loop_is_whole_bars_and_seamless(song, structure, bars):
    p = plan(structure, song, "loop", loop_bars=bars)
    assert p.length_s == pytest.approx(bars * 2.0, abs=0.05)  # 120 BPM 4/4: 2 s a bar
    (seg,) = p.edits.segments  # the loop starts and ends on detected downbeats (to the sample)
    downbeats = np.array(structure.downbeats_s) * song.sr
    assert all(np.min(np.abs(downbeats - x)) <= 1.0 for x in (seg.start, seg.end))
    out = apply_edits(song.stems, song.sr, p.edits)
    mix = np.sum(list(out.values()), axis=0)
    twice = np.concatenate([mix, mix], axis=1)
    own = np.max(np.abs(np.diff(mix, axis=1)))
    seam = mix.shape[1]
    assert np.max(np.abs(np.diff(twice[:, seam - 2000:seam + 2000], axis=1))) <= own


def test_instrumental_and_acapella_mute_by_role(song, structure):
    inst = plan(structure, song, "instrumental")
    assert inst.mutes == {"vocals": True} and inst.edits.is_identity(inst.edits.length)
    aca = plan(structure, song, "acapella")
    assert set(aca.mutes) == {"drums", "bass", "other"}
    assert all(r.stem == "vocals" for r in aca.rides)


def test_acapella_and_extended_need_parts_that_play(song, structure):
    # The analysis of an instrumental through the separator: a vocal stem of leakage, which
    # plays nowhere (empty activity).
    silent_vocals = replace(structure, activity=structure.activity | {"vocals": []})
    with pytest.raises(PlanError, match="play nowhere"):
        plan_arrangement(silent_vocals, song.sr, version="acapella")
    inst = plan_arrangement(silent_vocals, song.sr, version="instrumental")
    assert inst.mutes == {"vocals": True}
    silent_drums = replace(structure, activity=structure.activity | {"drums": []})
    with pytest.raises(PlanError, match="drum stem.* play nowhere"):
        plan_arrangement(silent_drums, song.sr, version="extended")


def named_like_the_annotation(song, structure):
    """``structure`` with each section named as the annotation at its middle."""
    def name_at(t):
        return next(a["label"] for a in song.sections if a["start_s"] <= t < a["end_s"])

    return replace(structure, sections=[
        replace(s, label=name_at(0.5 * (s.start_s + s.end_s)), named=True)
        for s in structure.sections])


def test_full_rides_have_reasons_and_follow_sections(song, structure):
    p = plan(named_like_the_annotation(song, structure), song, "full")
    assert p.rides and all(r.reason for r in p.rides)
    choruses = [s for s in p.sections if s["label"] == "chorus"]
    lifts = [r for r in p.rides if r.stem == "vocals" and r.gain_db > 0]
    assert len(lifts) == len(choruses)
    for stem, items in p.automation.items():
        assert all(i["end_s"] > i["start_s"] for i in items)
        assert len(p.reasons[stem]) >= len(items)


def test_apply_to_mix_plan(song, structure):
    from mixassist.planning.plan import Plan, StemPlan
    from mixassist.planning.targets import PRESETS

    mix_plan = Plan(sample_rate=song.sr, target=PRESETS["spotify"],
                    stems={k: StemPlan() for k in song.stems})
    p = plan(named_like_the_annotation(song, structure), song, "instrumental")
    p.apply_to(mix_plan)
    assert mix_plan.stems["vocals"].mute and mix_plan.arrangement.version == "instrumental"
    assert any(mix_plan.stems[k].automation for k in song.stems)
    mix_plan.validate()


def test_errors(song, structure):
    with pytest.raises(ParameterError, match="unknown version"):
        plan(structure, song, "remix")
    with pytest.raises(ParameterError):
        plan(structure, song, "extended", dj_bars=12)
    with pytest.raises(PlanError, match="vocals"):
        plan_arrangement(structure, song.sr, version="instrumental", stem_names=["mix"])
    with pytest.raises(PlanError, match="drums"):
        plan_arrangement(structure, song.sr, version="extended", stem_names=["mix"])
    assert set(VERSIONS) == {"full", "instrumental", "acapella", "radio", "extended", "loop"}


@pytest.mark.parametrize("version", ["radio", "extended"])
def test_cuts_of_smooth_stems_are_clean(song, structure, version):
    """On sustained tones, where a hard cut would jump (the check fails without crossfades),
    every crossfaded cut stays below the largest step elsewhere."""
    n = song.stems["drums"].shape[1]
    t = np.arange(n) / song.sr
    stems = {"drums": (0.3 * np.sin(2 * np.pi * 82.4 * t))[None].astype(np.float32),
             "bass": (0.4 * np.sin(2 * np.pi * 55 * t) + 0.1 * np.sin(2 * np.pi * 131 * t)
                      )[None].astype(np.float32),
             "other": (0.2 * np.sin(2 * np.pi * 261.6 * t * (1 + 1e-3 * t)))[None].astype(np.float32)}
    results = {}
    for xf_ms in (20.0, 0.0):
        p = plan_arrangement(structure, song.sr, version=version, stem_names=list(stems),
                             crossfade_ms=xf_ms, target_length_s=80.0)
        mix = np.sum(list(apply_edits(stems, song.sr, p.edits).values()), axis=0)[0]
        step = np.abs(np.diff(mix))
        xf = int(round(20.0 * song.sr / 1000))
        elsewhere = np.ones(len(step), bool)
        windows = [(max(0, o - xf - 1), o + xf + 2) for o, _ in p.edits.edit_points()]
        for a, b in windows:
            elsewhere[a:b] = False
        results[xf_ms] = max(step[a:b].max() for a, b in windows) / step[elsewhere].max()
    assert results[20.0] <= 1.0 < results[0.0]


@pytest.mark.slow
def test_plans_from_a_measured_analysis(song, structure):
    """The planner reads the mix analysis (mixassist.analysis) as well as a SongStructure."""
    from mixassist.analysis.measure import measure_stems

    analysis = measure_stems(song.stems, song.sr,
                             structure=named_like_the_annotation(song, structure))
    p = plan_arrangement(analysis, song.sr, version="radio", target_length_s=90.0)
    assert abs(p.length_s - 90.0) <= 2.0
    assert set(p.reasons) == set(song.stems)
    roles = {s.name: s.role for s in analysis.stems}
    lead = [r.stem for r in p.rides if r.gain_db > 0 and "lead" in r.reason]
    assert lead and all(roles[n] == "melody" for n in lead)


@pytest.mark.slow
def test_section_stems_come_from_the_analysis_activity(song, structure):
    """One activity rule: the analysis' sections list the stems its activity says play, and the
    planner takes them as given (it recomputes them, by the same rule, only for a file without)."""
    from mixassist.analysis.activity import playing_stems
    from mixassist.analysis.measure import measure_stems

    analysis = measure_stems(song.stems, song.sr, structure=structure)
    activity = {s.name: [(r.start_s, r.end_s) for r in s.activity] for s in analysis.stems}
    for section in analysis.sections:
        assert section.stems == playing_stems(activity, section.start_s, section.end_s)
    analysis.sections[0].stems = ["bass"]  # what the document says is what the planner uses
    assert plan_arrangement(analysis, song.sr).sections[0]["stems"] == ["bass"]


def test_vocals_by_whole_words_not_substrings(song, structure):
    """A 'Lead Guitar' is no vocal and 'custom_pad' no drum: instrumental keeps the guitar."""
    renamed = {"drums": "Kick In", "bass": "Bass DI", "other": "Lead Guitar", "vocals": "Ld Vox"}
    activity = {renamed[k]: v for k, v in structure.activity.items()}
    sections = [replace(s, stems=[renamed[n] for n in s.stems]) for s in structure.sections]
    named = replace(structure, activity=activity, sections=sections)
    inst = plan_arrangement(named, song.sr, version="instrumental")
    assert inst.mutes == {"Ld Vox": True}


@pytest.mark.parametrize("meter, tempo", [("6/8", 80.0), ("12/8", 70.0), ("3/4", 110.0)])
def test_a_compound_or_triple_loop_repeats_on_its_bar(meter, tempo):
    """Issue 17: a 6/8 (12/8, 3/4) groove analysed and cut by the loop version spans whole bars
    of its meter, starts and ends on its true downbeats, and repeats without a step."""
    from mixassist.analysis.structure import analyze_structure
    from mixassist.analysis.synthetic import GROOVE_METERS, groove

    song = groove(meter, tempo_bpm=tempo, bars=16, seed=2)
    structure = analyze_structure(song.stems, song.sr)
    assert structure.meter == meter
    p = plan(structure, song, "loop", loop_bars=4)
    bar_s = GROOVE_METERS[meter][0] * 60.0 / tempo
    assert p.length_s == pytest.approx(4 * bar_s, rel=0.01)
    (seg,) = p.edits.segments
    truth = np.array(song.downbeats_s) * song.sr
    tolerance = 0.03 * song.sr  # 30 ms: a detected downbeat on the true one
    assert all(np.min(np.abs(truth - x)) <= tolerance for x in (seg.start, seg.end))
    out = apply_edits(song.stems, song.sr, p.edits)
    mix = np.sum(list(out.values()), axis=0)
    twice = np.concatenate([mix, mix], axis=1)
    seam = mix.shape[1]
    own = np.max(np.abs(np.diff(mix, axis=1)))
    assert np.max(np.abs(np.diff(twice[:, seam - 2000:seam + 2000], axis=1))) <= own


def lettered_song(b_label: str = "B"):
    """A B A B C at 120 BPM (2 s bars): A 8 bars at -24 dB, B 8 bars at -16 dB with vocals,
    C 4 bars at -26 dB; every section lettered, or B named ``b_label``."""
    spans = [("A", 0, 16, -24.0), ("B", 16, 32, -16.0), ("A", 32, 48, -24.0),
             ("B", 48, 64, -16.0), ("C", 64, 72, -26.0)]
    band = ["drums", "bass", "keys"]
    sections = [{"start_s": float(a), "end_s": float(b), "label": b_label if let == "B" else let,
                 "letter": let, "level_db": lv, "stems": band + ["vocals"] * (let == "B")}
                for let, a, b, lv in spans]
    activity = {n: [(0.0, 72.0)] for n in band} | {"vocals": [(16.0, 32.0), (48.0, 64.0)]}
    return SimpleNamespace(duration_s=72.0, downbeats_s=np.arange(0.0, 72.0, 2.0).tolist(),
                           beats_s=np.arange(0.0, 72.0, 0.5).tolist(), sections=sections,
                           activity=activity)


def test_section_kinds_of_letters():
    """The loudest repeated letter is what an edit keeps as the hook, other repeats as verses,
    a letter heard once at an end as intro/outro; a named chorus leaves the letters none."""
    secs = lettered_song().sections
    assert section_kinds(secs) == ["verse", "chorus", "verse", "chorus", "outro"]
    secs[2] = secs[2] | {"letter": "A'"}  # a varied repeat is the same part
    assert section_kinds(secs) == ["verse", "chorus", "verse", "chorus", "outro"]
    named = [s | {"label": "chorus"} if s["letter"] == "C" else s for s in secs]
    assert section_kinds(named) == ["verse", "verse", "verse", "verse", "chorus"]


def test_lettered_sections_get_no_rides_that_claim_a_chorus():
    """Rides claim a section's function: none on letters; named, the chorus lifts the lead."""
    lettered = plan_arrangement(lettered_song(), 8000, version="full")
    assert lettered.rides == [] and not any("chorus" in n for n in lettered.notes)
    named = plan_arrangement(lettered_song("chorus"), 8000, version="full")
    lifts = [r for r in named.rides if r.stem == "vocals" and r.gain_db > 0]
    assert [(r.start_s, r.end_s) for r in lifts] == [(16.0, 32.0), (48.0, 64.0)]


def test_radio_edit_of_lettered_sections_keeps_the_loudest_repeat():
    """38 s of A B A B C (72 s): both B kept, both A dropped, C trimmed by a bar, and the notes
    call the sections by their letters."""
    p = plan_arrangement(lettered_song(), 8000, version="radio", target_length_s=38.0)
    assert [(s["label"], s["source_start_s"], s["source_end_s"]) for s in p.sections] == [
        ("B", 16.0, 32.0), ("B", 48.0, 64.0), ("C", 64.0, 70.0)]
    assert abs(p.length_s - 38.0) <= 0.1
    assert any("the C (heard once, at the end) ends" in n for n in p.notes)
    assert not any(w in n for n in p.notes for w in ("chorus", "verse", "outro"))
