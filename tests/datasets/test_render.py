"""fluidsynth one-pass rendering: per-channel outputs, timing, determinism."""

import numpy as np

from mixassist.datasets.render import ChannelSetup, MidiEvent, render_channels

SR = 44100


def _events(channel, key, times, *, velocity=100, length_s=0.2):
    out = []
    for t in times:
        out += [MidiEvent(t, 1, channel, "note_on", key, velocity), MidiEvent(t + length_s, 0, channel, "note_off", key)]
    return out


def test_channels_render_separately_and_notes_start_on_time():
    setups = {0: ChannelSetup("FluidR3_GM", 0), 1: ChannelSetup("TimGM6mb", 32),
              9: ChannelSetup("AVL_BlackPearl", 0, drum=True)}
    events = _events(0, 72, [0.5]) + _events(1, 40, [1.0]) + _events(9, 36, [1.5])
    out = render_channels(events, setups, 2.5, sr=SR)
    assert set(out) == {0, 1, 9} and all(a.shape == (2, int(2.5 * SR)) and a.dtype == np.float32 for a in out.values())
    for ch, t in ((0, 0.5), (1, 1.0), (9, 1.5)):
        env = np.abs(out[ch]).sum(axis=0)
        onset = np.argmax(env > 0.05 * env.max()) / SR
        # fluidsynth starts notes on its 64-sample block (1.45 ms); samples add a few ms of attack
        assert 0 <= onset - t < 0.006, (ch, onset)
        assert np.max(np.abs(out[ch][:, :int((t - 0.01) * SR)])) == 0.0  # nothing leaks into other times


def test_render_is_deterministic():
    setups = {2: ChannelSetup("FluidR3_GM", 48), 9: ChannelSetup("FluidR3_GM", 0, bank=128, drum=True)}
    events = _events(2, 60, [0.1, 0.4, 0.7], length_s=0.5) + _events(9, 38, [0.2, 0.6])
    a, b = render_channels(events, setups, 1.5, sr=SR), render_channels(events, setups, 1.5, sr=SR)
    assert all(np.array_equal(a[ch], b[ch]) for ch in setups)
