"""The compiled filters and compressor against the pedalboard plugins they replace."""

import numpy as np
import pedalboard
import pytest

from mixassist.rendering.compiled import BiquadCascade, CompressorStream
from mixassist.planning.plan import PluginSpec
from mixassist.rendering.stream import ChainStream

FILTERS = [
    ("HighpassFilter", {"cutoff_frequency_hz": 40.0}),
    ("LowpassFilter", {"cutoff_frequency_hz": 7_000.0}),
    ("LowShelfFilter", {"cutoff_frequency_hz": 200.0, "gain_db": -6.0, "q": 0.7}),
    ("PeakFilter", {"cutoff_frequency_hz": 1_000.0, "gain_db": 9.0, "q": 4.0}),
    ("HighShelfFilter", {"cutoff_frequency_hz": 8_000.0, "gain_db": 3.5, "q": 0.5}),
    ("PeakFilter", {}),  # pedalboard's defaults
]


def _noise(sr: int, channels: int, seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(sr + channels)
    return (0.3 * rng.standard_normal((channels, int(seconds * sr)))).astype(np.float32)


def _streamed(stage, audio: np.ndarray, block: int) -> np.ndarray:
    return np.concatenate([stage.process(np.ascontiguousarray(audio[:, s:s + block]))
                           for s in range(0, audio.shape[1], block)], axis=1)


def _db(x: float) -> float:
    return 20 * np.log10(max(x, 1e-30))


@pytest.mark.parametrize("sr", [22_050, 44_100, 96_000])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_each_filter_matches_pedalboard(sr, channels):
    audio = _noise(sr, channels)
    for plugin, params in FILTERS:
        expected = getattr(pedalboard, plugin)(**params)(audio, sr)
        got = _streamed(BiquadCascade([(plugin, params)], sr, channels=channels), audio, 1000)
        error_db = _db(np.abs(got - expected).max()) - _db(np.abs(expected).max())
        # JUCE rounds coefficients and state to float32 (worst case here: -89 dB, a 200 Hz shelf
        # at 96 kHz, whose poles sit close to z = 1)
        assert error_db < -80.0, (plugin, params, error_db)


def test_cascade_matches_the_chain_in_pedalboard():
    sr = 44_100
    audio = _noise(sr, 2)
    board = pedalboard.Pedalboard([getattr(pedalboard, p)(**kw) for p, kw in FILTERS])
    expected = board(audio, sr)
    got = _streamed(BiquadCascade(FILTERS, sr), audio, 4_410)
    assert _db(np.abs(got - expected).max()) - _db(np.abs(expected).max()) < -80.0


def test_cascade_rings_out_to_exact_silence():
    """Denormal guard: a filter left ringing in silence settles on exact zeros."""
    sr = 44_100
    audio = np.zeros((2, 5 * sr), np.float32)
    audio[:, 0] = 1.0
    out = BiquadCascade(FILTERS, sr).process(audio)
    assert np.abs(out[:, 10:]).max() > 0 and np.all(out[:, -sr:] == 0.0)


@pytest.mark.parametrize("params", [
    {"threshold_db": -20.0, "ratio": 3.0, "attack_ms": 10.0, "release_ms": 100.0},
    {"threshold_db": -17.3, "ratio": 4.5, "attack_ms": 0.01, "release_ms": 30.0},
    {"threshold_db": -6.0, "ratio": 1.7, "attack_ms": 0.0005, "release_ms": 3.3},
    {"ratio": 8.0},  # pedalboard's defaults otherwise: 0 dB threshold
])
@pytest.mark.parametrize("sr", [32_000, 48_000])
def test_compressor_is_bit_identical_to_pedalboard(params, sr):
    t = np.arange(2 * sr) / sr
    audio = _noise(sr, 2) * (0.2 + 2.0 * (np.sin(2 * np.pi * 3 * t) > 0.5)).astype(np.float32)
    expected = pedalboard.Compressor(**params)(audio, sr)
    got = _streamed(CompressorStream(params, sr), audio, 3_000)
    assert np.abs(expected - audio).max() > 0.01  # it compresses
    np.testing.assert_array_equal(got, expected)


def test_chain_stream_matches_one_pedalboard_with_latency():
    """Filters, compressor and a plugin with latency, streamed: the chain's output equals
    pedalboard's whole-chain output, delayed by the chain's latency."""
    sr = 44_100
    audio = _noise(sr, 2, 3.0)
    chain = [PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 80.0}),
             PluginSpec("Compressor", {"threshold_db": -18.0, "ratio": 3.0}),
             PluginSpec("BrickwallLimiter", {"ceiling_db": -3.0, "lookahead_ms": 5.0}),
             PluginSpec("PeakFilter", {"cutoff_frequency_hz": 2_000.0, "gain_db": -4.0})]
    stream = ChainStream(chain, sr)
    assert stream.latency > 0
    board = pedalboard.Pedalboard([getattr(pedalboard, s.plugin)(**s.params) for s in chain])
    expected = board(audio, sr)
    got = _streamed(stream, np.pad(audio, ((0, 0), (0, stream.latency))), 4_096)
    got = got[:, stream.latency:]
    error_db = _db(np.abs(got - expected).max()) - _db(np.abs(expected).max())
    assert error_db < -80.0, error_db
