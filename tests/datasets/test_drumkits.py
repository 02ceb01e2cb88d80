"""Recorded Hydrogen drum kits (:mod:`mixassist.datasets.drumkits`) as v3 drum sources."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import soundfile as sf

from mixassist.datasets.drumkits import load_kit, render_notes
from mixassist.datasets.song import Note
from mixassist.datasets.sources import DRUMKITS, PALETTES, palette
from mixassist.errors import ParameterError

SR = 44100
KIT = "hydrogen:ColomboAcousticDrumkit"


def _db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


@pytest.mark.parametrize("source", sorted(DRUMKITS))
def test_every_kit_loads_and_maps_kick_snare_and_hats(source):
    from mixassist.datasets.licences import SOURCES

    kit = load_kit(source)
    assert kit.instruments and DRUMKITS[source].licence  # Colombo's is in its README, not drumkit.xml
    assert any(source in row[0] and row[3] == DRUMKITS[source].licence for row in SOURCES)
    kinds = {key: kit.keys[key].kind for key in (36, 38, 42, 44, 46)}
    assert kinds == {36: "kick", 38: "snare", 42: "hat_closed", 44: kinds[44], 46: "hat_open"}
    assert kinds[44] in ("hat_pedal", "hat_closed")  # a kit without a pedal hat plays the closed one
    assert all(lay.file.is_file() for inst in kit.instruments for lay in inst.layers)


def test_the_mapping_follows_the_names():
    kit = load_kit("ForzeeStereo")  # 48 kHz, multi-layered, a full kit
    names = {key: kit.keys[key].name.split(" (")[0] for key in (36, 37, 38, 42, 44, 46, 51, 52, 54, 55)}
    assert names == {36: "Kick", 37: "Rim Click", 38: "Snare", 42: "Hi-Hat Closed", 44: "Hi-Hat Pedal",
                     46: "Hi-Hat Open", 51: "Ride", 52: "China", 54: "Tambourine", 55: "Splash"}
    assert kit.keys[49].name.startswith("Crash (")  # a plain crash before the crash/ride
    toms = [kit.keys[k].name.split(" (")[0] for k in (41, 45, 50)]
    assert toms == ["Tom Low", "Tom Mid", "Tom High"]
    assert 62 not in kit.keys  # congas: not in this kit, silent


def test_the_sonic_pi_kits_map_their_samples_by_name_and_level_them():
    from mixassist.datasets.drumkits import KIT_LEVEL, SONIC_PI_CYMBAL_PEAK

    kit = load_kit("sonic-pi:acoustic")
    files = {key: [lay.file.stem for lay in kit.keys[key].layers] for key in (35, 36, 41, 50, 49, 55, 56)}
    assert files == {35: ["drum_heavy_kick"], 36: ["drum_bass_soft", "drum_bass_hard"],
                     41: ["drum_tom_lo_soft", "drum_tom_lo_hard"], 50: ["drum_tom_hi_soft", "drum_tom_hi_hard"],
                     49: ["drum_cymbal_soft", "drum_cymbal_hard"], 55: ["drum_splash_soft", "drum_splash_hard"],
                     56: ["drum_cowbell"]}
    assert kit.keys[36].layer(40).file.stem == "drum_bass_soft" and kit.keys[36].layer(100).file.stem == "drum_bass_hard"
    # each instrument's loudest sample peaks at 1 (hats and cymbals at their share) times the
    # kit level; the one-sample closed hat played at full velocity shows it
    for key, peak in ((36, 1.0), (38, 1.0), (42, SONIC_PI_CYMBAL_PEAK), (49, SONIC_PI_CYMBAL_PEAK)):
        loudest = max(float(np.abs(sf.read(lay.file, always_2d=True)[0]).max()) for lay in kit.keys[key].layers)
        assert kit.keys[key].level * loudest == pytest.approx(peak, rel=1e-4), key
    y = render_notes([Note(0.0, 0.1, 42, 127)], kit, SR)
    assert float(np.abs(y).max()) == pytest.approx(SONIC_PI_CYMBAL_PEAK * KIT_LEVEL, rel=1e-4)
    electronic = load_kit("sonic-pi:electronic")
    names = {key: electronic.keys[key].name for key in (37, 38, 40, 42, 46, 41, 50)}
    assert names == {37: "Rim Click", 38: "Snare", 40: "Snare Hi", 42: "Hi-Hat Closed", 46: "Hi-Hat Open",
                     41: "Tom", 50: "Tom"}


def test_missing_sonic_pi_samples_name_the_package(monkeypatch, tmp_path):
    import mixassist.datasets.drumkits as drumkits

    monkeypatch.setattr(drumkits, "SONIC_PI_DIR", tmp_path)
    load_kit.cache_clear()
    try:
        with pytest.raises(ParameterError, match="apt-get install -y sonic-pi-samples"):
            load_kit("sonic-pi:acoustic")
        with pytest.raises(ParameterError, match="sonic-pi:electronic"):
            load_kit("sonic-pi:lofi")
    finally:
        load_kit.cache_clear()


def test_a_missing_kit_names_the_package():
    with pytest.raises(ParameterError, match="apt-get install -y hydrogen-drumkits"):
        load_kit("hydrogen:NoSuchKit")


def test_a_kick_starts_at_its_onset_and_its_level_follows_velocity():
    onset_s = 0.5
    loud = render_notes([Note(onset_s, onset_s + 0.1, 36, 120)], KIT, SR, duration_s=1.5)
    soft = render_notes([Note(onset_s, onset_s + 0.1, 36, 40)], KIT, SR, duration_s=1.5)
    assert loud.shape == (2, int(1.5 * SR)) and loud.dtype == np.float32
    start = int(round(onset_s * SR))
    assert not np.any(loud[:, :start]) and np.all(loud[:, start] != 0)  # starts at its onset sample
    assert _db(loud[:, start:start + int(0.01 * SR)]) > -40  # the attack is there at once
    assert _db(loud[:, start:]) - _db(soft[:, start:]) > 6  # a softer hit is quieter


def test_velocity_picks_the_layer():
    kit = load_kit("Millo_MultiLayered2")
    kick = kit.keys[36]
    assert len(kick.layers) > 1 and kick.layer(10).file != kick.layer(127).file
    assert kick.layer(127).max_velocity == 1.0


def test_an_open_hat_is_choked_by_the_next_closed_hat():
    open_only = render_notes([Note(0.1, 0.2, 46, 100)], KIT, SR, duration_s=2.0)
    choked = render_notes([Note(0.1, 0.2, 46, 100), Note(0.4, 0.5, 42, 1)], KIT, SR, duration_s=2.0)
    late = slice(int(0.6 * SR), int(2.0 * SR))
    assert _db(open_only[:, late]) > -60  # the open hat rings on
    closed = render_notes([Note(0.4, 0.5, 42, 1)], KIT, SR, duration_s=2.0)
    assert _db(choked[:, late] - closed[:, late]) < -100  # after the choke only the closed hat plays
    before = slice(int(0.1 * SR), int(0.4 * SR))
    assert np.array_equal(choked[:, before], open_only[:, before])  # rings until the closed hat


def test_rendering_is_deterministic_fast_and_resamples():
    rng = np.random.default_rng(0)
    keys = (35, 36, 37, 38, 40, 42, 44, 46, 41, 45, 48, 49, 51, 57)
    notes = [Note(float(t), float(t) + 0.1, int(rng.choice(keys)), int(rng.integers(30, 128)))
             for t in np.sort(rng.uniform(0, 60, 1000))]
    for source in ("ForzeeStereo", "Millo_MultiLayered2"):  # 48 kHz and 44.1 kHz samples
        a = render_notes(notes, source, SR, duration_s=62.0)
        t = time.perf_counter()
        b = render_notes(notes, source, SR, duration_s=62.0)
        elapsed = time.perf_counter() - t
        assert a.tobytes() == b.tobytes()
        assert 62.0 / elapsed > 100, f"{source}: {62.0 / elapsed:.0f}x real time"
        assert np.all(np.isfinite(a)) and np.max(np.abs(a)) > 0.05
    layer = load_kit("ForzeeStereo").keys[36].layer(127)
    info = sf.info(layer.file)
    assert info.samplerate == 48000
    y = render_notes([Note(0.0, 0.1, 36, 127)], "ForzeeStereo", SR)  # to the end of the sample
    assert abs(y.shape[1] - info.frames * SR / 48000) <= 1


def test_palettes_hold_the_kits_out():
    train, held = set(PALETTES["training-v3"]), set(PALETTES["held-out-v3"])
    kits_train, kits_held = train & set(DRUMKITS), held & set(DRUMKITS)
    assert len(kits_train) >= 3 and kits_held and not kits_train & kits_held
    assert not held & train
    assert {"OPL3_FM", "csound_GM"} <= held
    for name in ("training", "held-out"):
        assert not set(PALETTES[name]) & set(DRUMKITS)
    assert palette("FluidR3_GM," + KIT).drumkits == (KIT,)


def test_a_tiny_v3_build_plays_its_drums_with_the_kit(tmp_path):
    from mixassist.datasets import build_dataset

    build_dataset(tmp_path, jobs=1, hours=15 / 3600, seed=3, min_duration_s=14.0, max_duration_s=18.0,
                  corpus_fraction=0.0, sources="FluidR3_GM," + KIT, generator=3)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    song = manifest["songs"][0]
    data = json.loads((tmp_path / song["annotations"]).read_text())
    drums = [s for s in data["stems"] if s.get("slot") == "drums"]
    assert len(drums) >= 2 and {s.get("piece") for s in drums} >= {"kick", "snare"}  # split into pieces
    assert all(s["source"] == KIT and s["kind"] in ("sampled", "room") and s["channel"] is None for s in drums)
    assert [s["kind"] for s in drums].count("sampled") >= 2  # a room mic, if drawn, besides the pieces
    assert KIT in data["sound_sources"]
    mix = sf.read(tmp_path / song["mixture"], dtype="float64", always_2d=True)[0]
    total = sum(sf.read(tmp_path / song["folder"] / s["file"], dtype="float64", always_2d=True)[0]
                for s in song["stems"])
    assert 10 * np.log10((np.sum((mix - total) ** 2) + 1e-30) / np.sum(mix ** 2)) < -90
    kick = sf.read(tmp_path / song["folder"] / next(s["file"] for s in drums if s["piece"] == "kick"))[0]
    assert _db(kick) > -50


def test_a_sampled_kit_splits_into_pieces_without_channels(monkeypatch):
    from mixassist.datasets import session

    monkeypatch.setattr(session, "SPLIT_DRUMS", 1.0)
    monkeypatch.setattr(session, "ROOM", 0.0)
    monkeypatch.setattr(session, "NAMES", (("slot", 1.0),))
    notes = [Note(0.25 * i, 0.25 * i + 0.1, key, 100) for i, key in enumerate((36, 38, 42, 46, 45, 49))]
    kit = session.Part("drums", "drums", "rhythm", None, None, notes, kind="sampled", sample_kit=KIT)
    pieces = session.arrange_session([kit], np.random.default_rng(0), free_channels=[])
    assert [p.piece for p in pieces] == ["kick", "snare", "hats", "toms", "cymbals"]
    assert all(p.kind == "sampled" and p.sample_kit == KIT and p.channel is None for p in pieces)
    assert [n.pitch for n in pieces[2].notes] == [42, 46]  # a hat piece keeps its choke
    whole = render_notes(notes, KIT, SR, duration_s=2.0)
    summed = sum(render_notes(p.notes, p.sample_kit, SR, duration_s=2.0) for p in pieces)
    assert np.allclose(whole, summed, atol=1e-6)  # the pieces sum to the kit
