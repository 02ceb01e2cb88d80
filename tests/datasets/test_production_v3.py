"""Production variety v3 (generator version 3) and the v2 chain it must leave untouched: lo-fi
path, generated rooms, rides, stereo width, synced delays, stage rates, mixture mastering."""

import collections
import hashlib
import json

import numpy as np
import pedalboard
import pytest

from mixassist.datasets.production import (DELAY_SYNC_BEATS, OWN_STAGES, apply_chain, draw_chain, gain_rides,
                                           lofi, master_mixture, produce, stereo_width)
from mixassist.datasets.rooms import room_ir, schroeder_rt60
from mixassist.errors import ParameterError

SR = 44100
FAMILIES = ("drums", "bass", "keys", "guitar", "synth", "strings", "vocals", "brass", "percussion", "fx",
            "woodwinds")
#: sha256 of the v2 chains and output bytes of the loop in test_v2_is_unchanged, taken before v3
#: existed (pedalboard 0.9.26, numpy 2.4.6). The audio hash also changes with a pedalboard upgrade.
V2_CHAIN_SHA256 = "08bb1d5df4a7fc74e27ef61c26d22ea7f03484a2ee219408f125ca857b487575"
V2_AUDIO_SHA256 = "2c9379d8b38a4393940ed96bbcc12e546ca9ee1651a5dd759521b4b7865cf8ca"


def _db(x) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-30))


def _v3_chains(n, *, tempo_bpm=None, duration_s=120.0, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(n):
        family = FAMILIES[i % len(FAMILIES)]
        yield family, draw_chain(rng, instrument=family, role="low_end" if family == "bass" else "harmony",
                                 duration_s=duration_s, variety="v3", tempo_bpm=tempo_bpm)


def _stage(chain, plugin):
    return next((s for s in chain if s["plugin"] == plugin), None)


def test_v2_is_unchanged():
    """v2 stays byte for byte what it was (the v2 datasets and their rng stream must not move):
    the rng continues across calls as in build.render_song; tempo_bpm is ignored by v2."""
    t = np.arange(SR // 2) / SR
    sig = (0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t)).astype(np.float32)[None]
    sig2 = np.concatenate([sig, 0.5 * sig[:, ::-1]], 0)
    h_chain, h_audio = hashlib.sha256(), hashlib.sha256()
    for seed in range(12):
        for inst, role in (("guitar", "harmony"), ("bass", "low_end"), ("drums", "rhythm"), ("keys", "pad"),
                           ("vocals", "lead")):
            for x in (sig, sig2):
                rng = np.random.default_rng([seed, 1])
                y, chain = produce(x, SR, instrument=inst, role=role, rng=rng)
                y2, chain2 = produce(x, SR, instrument=inst, role=role, rng=rng, variety="v2", tempo_bpm=97.0)
                h_chain.update(json.dumps([chain, chain2], sort_keys=True).encode())
                h_audio.update(y.tobytes())
                h_audio.update(y2.tobytes())
    assert h_chain.hexdigest() == V2_CHAIN_SHA256
    assert h_audio.hexdigest() == V2_AUDIO_SHA256


def test_unknown_variety_is_refused():
    with pytest.raises(ParameterError, match="v2, v3"):
        produce(np.zeros((1, 100), np.float32), SR, instrument="keys", role="pad",
                rng=np.random.default_rng(0), variety="v4")


def test_v3_is_deterministic_and_its_chain_describes_the_stem():
    t = np.arange(3 * SR) / SR
    x = (0.4 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 2 * t)) / 2).astype(np.float32)[None]
    for seed in range(6):
        for family in ("keys", "drums", "vocals"):
            y, chain = produce(x, SR, instrument=family, role="harmony", rng=np.random.default_rng(seed),
                               variety="v3", tempo_bpm=120.0)
            y2, chain2 = produce(x, SR, instrument=family, role="harmony", rng=np.random.default_rng(seed),
                                 variety="v3", tempo_bpm=120.0)
            assert chain == chain2 and np.array_equal(y, y2)
            assert y.shape == (2, x.shape[1]) and y.dtype == np.float32
            json.dumps(chain)  # the manifest can hold it
            assert np.array_equal(apply_chain(x, SR, json.loads(json.dumps(chain))), y)  # replayable


def test_v3_stages_are_valid_pedalboard_calls_or_own_stages():
    for _, chain in _v3_chains(400, tempo_bpm=128.0):
        for stage in chain:
            if stage["plugin"] not in OWN_STAGES:
                getattr(pedalboard, stage["plugin"])(**stage["params"])


def test_every_v3_stage_appears_at_a_plausible_rate():
    n = 3000
    counts = collections.Counter()
    depths, rates = set(), []
    for _, chain in _v3_chains(n):
        counts.update({s["plugin"] for s in chain})
        if (lo := _stage(chain, "LoFi")) is not None:
            depths.add(lo["params"]["bit_depth"])
            rates.append(lo["params"]["sample_rate_hz"])
    rate = {k: v / n for k, v in counts.items()}
    expected = {"HighpassFilter": (1, 1), "LowShelfFilter": (1, 1), "PeakFilter": (1, 1), "HighShelfFilter": (1, 1),
                "Pan": (1, 1), "Compressor": (0.7, 0.8), "LowpassFilter": (0.1, 0.2), "Distortion": (0.1, 0.25),
                "Chorus": (0.05, 0.2), "Phaser": (0.03, 0.12), "Delay": (0.1, 0.3), "StereoWidth": (0.25, 0.45),
                "Reverb": (0.3, 0.5), "RoomReverb": (0.3, 0.5), "LoFi": (0.06, 0.16), "GainRides": (0.33, 0.47)}
    for plugin, (lo, hi) in expected.items():
        assert lo <= rate.get(plugin, 0.0) <= hi, (plugin, rate.get(plugin))
    assert set(rate) == set(expected)
    assert depths == {8, 9, 10, 11, 12}
    assert min(rates) < 9000 and max(rates) > 21000 and max(rates) <= 22050


def test_bass_and_low_end_keep_the_low_end_mono_and_dry_of_delays():
    for family, chain in _v3_chains(440):
        if family == "bass":
            assert chain[0]["plugin"] in ("HighpassFilter", "LoFi")
            assert _stage(chain, "HighpassFilter")["params"]["cutoff_frequency_hz"] <= 40
            assert _stage(chain, "Delay") is None and _stage(chain, "Pan")["params"]["pan"] == 0.0
            if (w := _stage(chain, "StereoWidth")) is not None:
                assert w["params"]["width"] <= 0.9


@pytest.mark.parametrize("tempo", [None, 72.0, 128.0, 175.0])
def test_delays_are_free_or_synced_to_the_tempo(tempo):
    delays = [_stage(c, "Delay") for _, c in _v3_chains(800, tempo_bpm=tempo)]
    delays = [d for d in delays if d is not None]
    assert len(delays) > 50
    for d in delays:
        seconds = d["params"]["delay_seconds"]
        if tempo is None:
            assert d["sync"] is None and 0.06 <= seconds <= 0.6
        else:
            assert seconds == pytest.approx(DELAY_SYNC_BEATS[d["sync"]] * 60 / tempo, abs=1e-4)
            assert seconds <= 1.0
    if tempo is not None:
        assert len({d["sync"] for d in delays}) >= 4


@pytest.mark.parametrize("rate_hz", [8000, 11025, 16000, 22050])
@pytest.mark.parametrize("antialias", [False, True])
def test_lofi_reduces_the_bandwidth_to_its_nyquist(rate_hz, antialias):
    x = (0.5 * np.random.default_rng(rate_hz).standard_normal((2, SR))).astype(np.float32)
    stage = {"plugin": "LoFi", "params": {"sample_rate_hz": rate_hz, "bit_depth": 10, "antialias": antialias}}
    y = apply_chain(x, SR, [stage])
    spec = np.abs(np.fft.rfft(y[:, 4096:], axis=1)) ** 2
    f = np.fft.rfftfreq(y.shape[1] - 4096, 1 / SR)
    above = 10 * np.log10(spec[:, f > rate_hz / 2].sum() / spec.sum())
    assert above < -40.0, above
    assert _db(y) > _db(x) - 20 * np.log10(SR / rate_hz) - 3  # the band below stays (no mute)


def test_lofi_without_reconstruction_is_sample_and_hold():
    x = np.random.default_rng(0).uniform(-1, 1, (1, SR)).astype(np.float32)
    y = lofi(x, SR, sample_rate_hz=11025, bit_depth=24, reconstruct=False)  # 24 bits: ~the samples themselves
    assert np.count_nonzero(np.diff(y[0])) <= 11025
    held = x[0, (np.arange(SR) // 4) * 4]  # 44100 / 11025 = 4: every 4th sample, held, no interpolation
    assert np.allclose(y[0], held, atol=2 ** -22)
    y8 = lofi(x, SR, sample_rate_hz=8000, bit_depth=24, reconstruct=False)
    values = np.sort(x[0])  # at 8 kHz (5.5125 samples per step) too, every output is an input sample
    i = np.clip(np.searchsorted(values, y8[0]), 1, SR - 1)
    assert np.all(np.minimum(np.abs(values[i] - y8[0]), np.abs(values[i - 1] - y8[0])) <= 2 ** -22)


@pytest.mark.parametrize("bits", [8, 9, 10, 11, 12])
def test_lofi_quantises_to_its_bit_depth(bits):
    ramp = np.linspace(-1.0, 1.0, 2 * SR, dtype=np.float32)[None]
    y = lofi(ramp, SR, sample_rate_hz=8000, bit_depth=bits, reconstruct=False)
    assert len(np.unique(y)) == 2 ** bits
    half = np.linspace(-0.5, 0.5, 2 * SR, dtype=np.float32)[None]  # quantised at the sample's own peak
    assert len(np.unique(lofi(half, SR, sample_rate_hz=8000, bit_depth=bits, reconstruct=False))) == 2 ** bits


def test_generated_rooms_decay_at_their_drawn_rt60_and_are_stereo():
    rooms = [_stage(c, "RoomReverb") for _, c in _v3_chains(200, seed=3)]
    rooms = [r["params"] for r in rooms if r is not None][:10]
    assert len(rooms) == 10 and min(r["decay_s"] for r in rooms) < 0.8 and max(r["decay_s"] for r in rooms) > 1.2
    for params in rooms:
        room = {k: params[k] for k in ("size_m", "decay_s", "hf_damping", "predelay_ms", "crossover_hz")}
        ir = room_ir(np.random.default_rng(params["seed"]), SR, **room)
        assert np.array_equal(ir, room_ir(np.random.default_rng(params["seed"]), SR, **room))
        for ch in range(2):
            assert schroeder_rt60(ir[ch], SR) == pytest.approx(params["decay_s"], rel=0.2)
        assert abs(np.corrcoef(ir)[0, 1]) < 0.2  # decorrelated channels
        assert ir.shape[1] / SR < params["predelay_ms"] / 1000 + 1.2 * params["decay_s"]
        onset = int(np.argmax(np.abs(ir[0]) > 0)) / SR
        assert onset == pytest.approx(params["predelay_ms"] / 1000, abs=0.002)


@pytest.mark.parametrize("damping", [0.3, 0.6, 0.9])
def test_room_damping_shortens_the_high_frequencies(damping):
    ir = room_ir(np.random.default_rng(0), SR, size_m=12, decay_s=1.5, hf_damping=damping)
    # an octave above the 4 kHz crossover: RT60 = decay_s * hf_damping
    assert schroeder_rt60(ir[0], SR, band_hz=(8000, 16000)) == pytest.approx(1.5 * damping, rel=0.2)


def test_room_ir_refuses_impossible_rooms():
    with pytest.raises(ParameterError, match="RT60"):
        room_ir(np.random.default_rng(0), SR, size_m=10, decay_s=0.0)


def test_rides_change_the_level_by_their_recorded_db():
    x = (0.3 * np.sin(2 * np.pi * 500 * np.arange(12 * SR) / SR)).astype(np.float32)[None].repeat(2, 0)
    rides = [{"start_s": 1.0, "end_s": 4.0, "gain_db": -3.7}, {"start_s": 6.0, "end_s": 10.5, "gain_db": 2.4}]
    y = gain_rides(x, SR, rides=rides, ramp_s=0.5)
    for r in rides:
        a, b = int((r["start_s"] + 0.5) * SR), int((r["end_s"] - 0.5) * SR)
        assert _db(y[:, a:b]) - _db(x[:, a:b]) == pytest.approx(r["gain_db"], abs=0.5)
    assert _db(y[:, 11 * SR:]) == pytest.approx(_db(x[:, 11 * SR:]), abs=0.01)
    assert _db(y[:, :SR]) == pytest.approx(_db(x[:, :SR]), abs=0.01)


def test_rides_in_a_drawn_chain_ride_the_produced_stem():
    t = np.arange(10 * SR) / SR
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
    found = 0
    for seed in range(40):
        chain = draw_chain(np.random.default_rng(seed), instrument="strings", role="pad", duration_s=10.0,
                           variety="v3")
        if chain[-1]["plugin"] != "GainRides" or any(s["plugin"] in ("Delay", "Reverb", "RoomReverb") for s in chain):
            continue
        found += 1
        y, bare = apply_chain(x, SR, chain), apply_chain(x, SR, chain[:-1])
        for r in chain[-1]["params"]["rides"]:
            a, b = int((r["start_s"] + 0.5) * SR), int((r["end_s"] - 0.5) * SR)
            if b - a > SR // 10:
                assert _db(y[:, a:b]) - _db(bare[:, a:b]) == pytest.approx(r["gain_db"], abs=0.5)
    assert found >= 2


def test_rides_stay_inside_the_stem_and_apart():
    for _, chain in _v3_chains(600, duration_s=45.0):
        if (rides := _stage(chain, "GainRides")) is not None:
            spans = [(r["start_s"], r["end_s"]) for r in rides["params"]["rides"]]
            assert all(0 <= a < b <= 45.0 for a, b in spans)
            assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
            assert all(-4 <= r["gain_db"] <= 3 for r in rides["params"]["rides"])
    assert all(_stage(c, "GainRides") is None for _, c in _v3_chains(200, duration_s=5.0))


def test_stereo_width_keeps_the_mid_and_scales_the_side():
    x = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32)
    assert np.allclose(stereo_width(x, 1.0), x, atol=1e-6)
    mono = stereo_width(x, 0.0)
    assert np.array_equal(mono[0], mono[1]) and np.allclose(mono[0], x.mean(axis=0), atol=1e-6)
    wide = stereo_width(x, 1.5)
    assert np.allclose(wide[0] - wide[1], 1.5 * (x[0] - x[1]), atol=1e-5)


def test_v3_output_is_finite_and_peak_safe():
    rng = np.random.default_rng(11)
    t = np.arange(2 * SR) / SR
    notes = np.sin(2 * np.pi * 196 * t) * np.exp(-5 * (t % 0.25))
    x = (0.5 * notes / np.abs(notes).max()).astype(np.float32)[None]
    x = np.concatenate([x, (0.5 * rng.uniform(-1, 1, x.shape)).astype(np.float32)])  # a tone and a noise channel
    for i in range(44):
        y, _ = produce(x, SR, instrument=FAMILIES[i % len(FAMILIES)], role="harmony", rng=rng, variety="v3",
                       tempo_bpm=140.0)
        assert np.all(np.isfinite(y))
        assert np.max(np.abs(y)) <= 4 * 0.5  # at most +12 dB over the input's peak


def test_master_mixture_is_occasional_light_and_replayable():
    t = np.arange(4 * SR) / SR
    mix = (0.5 * np.sin(2 * np.pi * 110 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
           + 0.1 * np.random.default_rng(1).standard_normal((2, t.size))).astype(np.float32)
    out, chain = master_mixture(mix, SR, np.random.default_rng(3), probability=1.0)
    assert [s["plugin"] for s in chain] == ["Gain", "Compressor", "LowShelfFilter", "HighShelfFilter", "Limiter", "Gain"]
    assert np.array_equal(apply_chain(mix, SR, chain), out)
    assert np.all(np.isfinite(out)) and out.shape == mix.shape
    body = slice(SR, None)  # after the compressor's and limiter's attack
    peak_in, peak_out = (20 * np.log10(np.max(np.abs(a[:, body]))) for a in (mix, out))
    assert peak_out == pytest.approx(peak_in, abs=0.5)  # the same peak ...
    assert 0.3 < _db(out[:, body]) - _db(mix[:, body]) < 6.0  # ... denser and louder, lightly
    same, nothing = master_mixture(mix, SR, np.random.default_rng(3), probability=0.0)
    assert same is mix and nothing == []
    rng = np.random.default_rng(0)
    rate = np.mean([bool(master_mixture(mix[:, :256], SR, rng)[1]) for _ in range(1000)])
    assert 0.25 < rate < 0.35


def test_render_song_produces_with_the_variety_it_is_given(system_packages):
    from mixassist.datasets.build import render_song
    from mixassist.datasets.compose import compose_song

    song = compose_song(5, target_duration_s=12.0, song_id="x", variety="v3")
    v3_only = {"LoFi", "Phaser", "Delay", "StereoWidth", "RoomReverb", "GainRides", "LowpassFilter"}
    plugins = {}
    for variety in ("v2", "v3"):
        _, info = render_song(song, seed=5, variety=variety)
        plugins[variety] = {s["plugin"] for stem in info.values() for s in stem["chain"]}
    assert not plugins["v2"] & v3_only
    assert plugins["v3"] & v3_only
