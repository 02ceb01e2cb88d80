"""Generator variety v3: meters, feels, rubato intros and drumless songs keep exact annotations;
variety v2 (the default) is unchanged byte for byte."""

import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest

from mixassist.analysis.structure_eval import parse_key
from mixassist.datasets.compose import (CLAP, DRUM_FAMILY, HAT, KICK, METER_WEIGHTS, RIDE, SIDE, SNARE,
                                        compose_song)
from mixassist.datasets.midifile import write_midi
from mixassist.datasets.render import render_channels
from mixassist.datasets.song import Part
from mixassist.errors import ParameterError
from tests.datasets.test_annotations import _envelope, _onset_near

JITTER_S = 0.0046  # drums: sigma 1.5 ms, clipped at 3 sigma


def _v3(condition, *, target_duration_s=60.0, seeds=range(400)):
    """The first v3 song (seeds in order) for which ``condition(song)`` holds."""
    for seed in seeds:
        song = compose_song(seed, variety="v3", target_duration_s=target_duration_s)
        if condition(song):
            return song
    raise AssertionError("no seed gives such a song")


def _part(song, name):
    return next((p for p in song.parts if p.name == name), None)


def _intro_end(song):
    return song.sections[0]["end_s"]


@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8", "12/8"])
def test_downbeats_are_bars_apart_and_every_drum_bar_has_its_kick_on_one(meter):
    song = _v3(lambda s: s.time_signature == meter and _part(s, "drums") and not s.feel["rubato_intro"])
    per_bar = {"4/4": 4, "3/4": 3, "6/8": 2, "12/8": 4}[meter]
    assert song.feel["beats_per_bar"] == per_bar
    assert song.feel["beat_unit"] == ("dotted quarter" if meter.endswith("/8") else "quarter")
    bar_s = per_bar * 60 / song.tempo_bpm
    assert np.allclose(np.diff(song.downbeats_s), bar_s)
    assert song.downbeats_s == song.beats_s[::per_bar]
    assert np.allclose(song.downbeats_s[:-1], [c["start_s"] for c in song.chords])  # a chord a bar
    drums = _part(song, "drums").notes
    kicks = np.array([n.start_s for n in drums if n.pitch == KICK])
    bars = {int(np.searchsorted(song.downbeats_s, n.start_s + 0.01, side="right")) - 1 for n in drums}
    assert len(bars) >= 8
    for b in bars:
        assert np.min(np.abs(kicks - song.downbeats_s[b])) <= JITTER_S, (meter, b)


@pytest.mark.parametrize("family", ["drive", "soft"])
@pytest.mark.parametrize("meter", ["6/8", "12/8"])
def test_compound_meters_put_the_snare_on_the_compound_backbeat(meter, family):
    """Snares and side sticks outside fills lie on counted beats 2 (and 4), never on a downbeat."""
    song = _v3(lambda s: s.time_signature == meter and _part(s, "drums") and DRUM_FAMILY[s.genre] == family)
    beats = np.array(song.beats_s)
    bar_s = song.feel["beats_per_bar"] * 60 / song.tempo_bpm
    fills = [(sec["end_s"] - bar_s / 2 - 0.01, sec["end_s"]) for sec in song.sections]  # fills: half a bar
    snares = [n.start_s for n in _part(song, "drums").notes if n.pitch in (SNARE, SIDE, CLAP)]
    grooves = [t for t in snares if not any(a <= t < b for a, b in fills)]
    assert len(grooves) >= 8
    assert all(np.min(np.abs(beats[1::2] - t)) <= JITTER_S for t in grooves)
    assert not any(np.min(np.abs(np.array(song.downbeats_s) - t)) <= 0.02 for t in snares)


def test_beats_are_steady_except_in_a_rubato_intro_where_they_follow_the_notes():
    """After the intro the beats are 60 / tempo apart; a rubato intro's beats vary (its length
    stays nominal) and its notes lie on the 16th grid interpolated between the annotated beats,
    not on the steady grid."""
    song = _v3(lambda s: s.feel["rubato_intro"] and not s.feel["swing"] and s.time_signature == "4/4")
    beats = np.array(song.beats_s)
    beat_s = 60 / song.tempo_bpm
    k = int(np.searchsorted(beats, _intro_end(song) - 1e-9))
    assert np.allclose(np.diff(beats[k:]), beat_s)
    intro = np.diff(beats[:k + 1])
    assert intro.max() / intro.min() > 1.2 and np.isclose(intro.sum(), k * beat_s)
    grid = np.concatenate([np.linspace(a, b, 4, endpoint=False) for a, b in zip(beats[:k], beats[1:k + 1])])
    steady = song.beats_s[0] + np.arange(4 * k) * beat_s / 4
    onsets = [n.start_s for p in song.parts if p.name in ("bass", "pad", "arp", "lead", "counter", "brass")
              or (p.name.startswith("comp") and not 24 <= p.setup.program <= 31)
              for n in p.notes if n.start_s < _intro_end(song) - 0.03]
    assert len(onsets) >= 8
    nearest = [int(np.argmin(np.abs(grid - t))) for t in onsets]
    assert max(abs(grid[i] - t) for i, t in zip(nearest, onsets)) <= 0.025
    assert max(abs(steady[i] - t) for i, t in zip(nearest, onsets)) > 0.08  # the steady grid would miss


def test_annotated_downbeats_fall_on_the_rendered_bar_starts_of_a_6_8_song():
    """Rendered drums of a short 6/8 song whose kick plays beat 1 only: every kick attack measured
    in the audio (below 120 Hz) is within 20 ms of an annotated downbeat, and every downbeat of a
    bar with drums has a kick attack within 20 ms."""
    song, length_s = _six_eight_song(), 14.0
    drums = _part(song, "drums")
    sr = 44100
    events = [e for e in song.midi_events() if e.channel == drums.channel]
    audio = render_channels(events, {drums.channel: drums.setup}, length_s, sr=sr)[drums.channel]
    env = _envelope(audio.astype(np.float64), sr, cutoff_hz=120)
    downbeats = np.array([d for d in song.downbeats_s if d < length_s - 0.5])
    kicks = [n.start_s for n in drums.notes if n.pitch == KICK and n.start_s < length_s - 0.5]
    played = [d for d in downbeats if min(abs(k - d) for k in kicks) < 0.01]
    assert len(played) >= 4
    errors_ms = []
    for d in played:
        onset = _onset_near(env, sr, d, window_s=0.03)
        assert onset is not None, f"no kick attack near downbeat {d:.3f} s"
        errors_ms.append(1000 * (onset - d))
    assert np.max(np.abs(errors_ms)) <= 20, errors_ms
    smooth = np.convolve(env, np.ones(88) / 88, mode="same")  # 2 ms
    above = smooth >= 0.3 * smooth.max()
    onsets = []  # rising edges, one per attack (a kick rings for up to ~0.3 s)
    for i in np.flatnonzero(above[1:] & ~above[:-1]) + 1:
        if not onsets or i / sr - onsets[-1] > 0.3:
            onsets.append(i / sr)
    assert len(onsets) >= len(played)
    assert all(np.min(np.abs(downbeats - t)) <= 0.02 for t in onsets), onsets


def _six_eight_song():
    """A short 6/8 song whose kick plays beat 1 only in its first 14 s (at least 4 bars)."""
    def ok(s):
        drums = _part(s, "drums")
        if s.time_signature != "6/8" or drums is None or s.feel["rubato_intro"]:
            return False
        kicks = [n.start_s for n in drums.notes if n.pitch == KICK and n.start_s < 14]
        return len(kicks) >= 4 and all(min(abs(k - d) for d in s.downbeats_s) < 0.01 for k in kicks)
    return _v3(ok, target_duration_s=20)


def test_drumless_songs_have_no_drum_part_and_the_rest_plays():
    songs = [compose_song(seed, variety="v3", target_duration_s=60) for seed in range(120)]
    drumless = [s for s in songs if not s.feel["drums"]]
    assert 0.04 <= len(drumless) / len(songs) <= 0.18
    for s in drumless:
        assert not {"drums", "percussion"} & {p.name for p in s.parts}
        assert not any(e.channel in (9, 10) for e in s.midi_events())
        assert "comp" in {p.name for p in s.parts} and s.beats_s and s.chords
    assert all(_part(s, "drums") for s in songs if s.feel["drums"] and s.genre not in ("ballad", "ambient"))


def test_half_time_grooves_have_the_snare_on_beat_three_and_count_quarters():
    song = _v3(lambda s: s.feel["half_time"] and _part(s, "drums"))
    assert song.time_signature == "4/4" and np.allclose(np.diff(song.beats_s), 60 / song.tempo_bpm)
    beats = np.array(song.beats_s)
    snares = [n.start_s for n in _part(song, "drums").notes if n.pitch in (SNARE, CLAP)]
    assert snares
    for t in snares:  # nothing before beat 3 (fills start there)
        bar = int(np.searchsorted(beats[::4], t + 0.01, side="right")) - 1
        assert t >= beats[4 * bar + 2] - JITTER_S, t


@pytest.mark.parametrize("unit", ["8th", "16th"])
def test_swing_moves_the_off_beats_toward_the_triplet(unit):
    song = _v3(lambda s: s.feel["swing_unit"] == unit and s.feel["swing"] >= 0.5 and _part(s, "drums")
               and not s.feel["rubato_intro"] and any(n.pitch in (HAT, RIDE) for n in _part(s, "drums").notes))
    swing, beat_s = song.feel["swing"], 60 / song.tempo_bpm
    sub = 0.5 if unit == "8th" else 0.25  # of a beat
    allowed = np.array([0.0, sub * (1 + swing / 3)] + ([0.5, 0.5 + sub * (1 + swing / 3)] if unit == "16th" else []))
    allowed = np.concatenate([allowed, [1.0]])
    offsets = [((n.start_s - song.beats_s[0]) / beat_s) % 1 for n in _part(song, "drums").notes if n.pitch in (HAT, RIDE)]
    assert max(np.min(np.abs(allowed - x)) for x in offsets) * beat_s <= JITTER_S
    assert any(abs(x - sub) * beat_s > 0.01 for x in offsets if abs(x - sub) < 0.3)  # really moved


def test_modal_keys_annotate_their_major_or_minor_equivalent():
    """dorian, phrygian, harmonic minor -> minor on the same tonic; lydian, mixolydian -> major;
    the key evaluation reads key_major_minor the same as key."""
    songs = [compose_song(seed, variety="v3", target_duration_s=30) for seed in range(80)]
    modes = {s.key.split()[1] for s in songs}
    assert {"dorian", "mixolydian", "lydian", "phrygian"} <= modes
    fold = {"major": "major", "lydian": "major", "mixolydian": "major", "minor": "minor",
            "dorian": "minor", "phrygian": "minor", "harmonic_minor": "minor"}
    for s in songs:
        tonic, mode = s.key.split()
        assert s.key_major_minor == f"{tonic} {fold[mode]}"
        assert parse_key(s.key_major_minor) == parse_key(s.key)  # what the key evaluation compares


def test_v3_is_deterministic_and_draws_its_distributions():
    a, b = compose_song(7, variety="v3"), compose_song(7, variety="v3")
    assert a == b and a.annotations() == b.annotations()
    assert a.annotations() != compose_song(8, variety="v3").annotations()
    feels = [compose_song(seed, variety="v3", target_duration_s=20) for seed in range(300)]
    for meter, p in METER_WEIGHTS.items():
        share = np.mean([s.time_signature == meter for s in feels])
        assert abs(share - p) < 0.08, (meter, share)
    tempi = [s.tempo_bpm for s in feels]
    assert min(tempi) >= 60 and max(tempi) <= 200 and max(tempi) > 180 and min(tempi) < 70
    assert 0.1 < np.mean([bool(s.feel["rubato_intro"]) for s in feels]) < 0.3
    assert 0.3 < np.mean([bool(s.feel["swing"]) for s in feels]) < 0.6


def test_unknown_variety_is_refused():
    with pytest.raises(ParameterError, match="v2, v3"):
        compose_song(0, variety="v4")


#: sha256 (first 16 hex digits) of the annotations and parts (JSON), and of song.mid, of
#: ``compose_song(seed, target_duration_s=120)`` as generator version 2 wrote them before v3 existed.
V2_FINGERPRINTS = {0: ("9079bd0907aa2b74", "bd7d62910a2bc2ee"), 1: ("defd9f2ace8a52cb", "337ce8b59dfcf31b"),
                   2: ("f4c19ab8511c12ea", "4249eb7a78e1c499"), 3: ("942f31841b4431d3", "0cbe16c8869cb5ce"),
                   4: ("4ac5b2468cf53255", "ad8dbc6804cbf4a5"), 5: ("194b7957a274af71", "dcf992d0a73725c9"),
                   6: ("dbe5c2f8bf2c1172", "1b8aa42c0da82d74"), 7: ("53fe1d311405fa7d", "f37e052b00e661a6")}


@pytest.mark.parametrize("seed", sorted(V2_FINGERPRINTS))
def test_the_v2_default_is_unchanged(seed, tmp_path):
    song = compose_song(seed, target_duration_s=120)
    explicit = compose_song(seed, target_duration_s=120, variety="v2")
    for name in song.__dataclass_fields__:
        assert getattr(song, name) == getattr(explicit, name), name
    assert song.feel is None and "feel" not in song.annotations()
    parts = [{k: v for k, v in asdict(p).items()  # v3's fields, at their defaults in v2
              if not (k in ("synth", "sample_kit", "slot", "piece", "side", "harmony", "sings",
                            "double_of", "retake", "layer_of", "transpose", "under_lu", "pan", "chain")
                      and v == Part.__dataclass_fields__[k].default)}
             for p in song.parts]
    data = {"ann": song.annotations(), "parts": parts}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=True).encode()).hexdigest()[:16]
    write_midi(tmp_path / "song.mid", song)
    midi = hashlib.sha256((tmp_path / "song.mid").read_bytes()).hexdigest()[:16]
    assert (digest, midi) == V2_FINGERPRINTS[seed]


def test_song_mid_and_the_sung_score_are_written_in_the_meter(tmp_path):
    import mido

    from mixassist.datasets.vocals import musicxml
    song = _v3(lambda s: s.time_signature == "6/8" and any(p.kind == "vocal" for p in s.parts))
    write_midi(tmp_path / "song.mid", song)
    midi = mido.MidiFile(tmp_path / "song.mid")
    meta = {m.type: m for m in midi.tracks[0]}
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (6, 8)
    assert np.isclose(mido.tempo2bpm(meta["set_tempo"].tempo), 1.5 * song.tempo_bpm, rtol=1e-5)
    t, starts = 0.0, []
    for msg in midi:
        t += msg.time
        if msg.type == "note_on":
            starts.append(t)
    expected = sorted(n.start_s for p in song.parts for n in p.notes)
    assert np.allclose(sorted(starts), expected, atol=0.002)
    vocal = next(p for p in song.parts if p.kind == "vocal")
    xml = musicxml(vocal.notes, tempo_bpm=song.tempo_bpm, t0_s=song.downbeats_s[0], n_bars=len(song.chords),
                   time_signature="6/8")
    assert "<beats>6</beats><beat-type>8</beat-type>" in xml and f'tempo="{1.5 * song.tempo_bpm:g}"' in xml
    assert xml.count("<measure ") == len(song.chords)
    durations = [sum(int(x.split("<")[0]) for x in m.split("<duration>")[1:]) for m in xml.split("<measure ")[1:]]
    assert set(durations) == {12}  # 12 sixteenths (divisions 4 a quarter) a bar
