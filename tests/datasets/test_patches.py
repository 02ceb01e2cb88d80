"""Freepats' Gravis UltraSound patches (:mod:`mixassist.datasets.patches`) as a v3 melodic source."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from mixassist.datasets.patches import RELEASE_S, load_program, programs, read_patch, render_part
from mixassist.datasets.song import Note
from mixassist.errors import ParameterError

SR = 44100


def write_patch(path, waves, *, rate=SR, root_hz=440.0, loop=None, wide=True, unsigned=False, pingpong=False):
    """A one-layer GUS patch of ``waves`` (float arrays), each over 20 Hz-20 kHz around ``root_hz``
    (a list of (low, high, root) when several), looped over ``loop`` (start, end) samples."""
    ranges = root_hz if isinstance(root_hz, list) else [(20.0, 20000.0, root_hz)]
    body = b""
    for wave, (low, high, root) in zip(waves, ranges):
        step = 2 if wide else 1
        if wide:
            ints = np.round(np.clip(wave, -1, 1) * 32767).astype(np.int32) + (32768 if unsigned else 0)
            data = ints.astype("<u2" if unsigned else "<i2").tobytes()
        else:
            ints = np.round(np.clip(wave, -1, 1) * 127).astype(np.int32) + (128 if unsigned else 0)
            data = ints.astype("u1" if unsigned else "i1").tobytes()
        start, end = (loop or (0, 0))
        modes = (1 if wide else 0) | (2 if unsigned else 0) | (4 if loop else 0) | (8 if pingpong else 0)
        head = (b"wave\0\0\0" + bytes([0]) + struct.pack("<III", len(data), start * step, end * step)
                + struct.pack("<H", rate) + struct.pack("<III", round(low * 1000), round(high * 1000), round(root * 1000))
                + struct.pack("<h", 0) + bytes([7]) + bytes(12) + bytes(6) + bytes([modes]) + bytes(40))
        assert len(head) == 96
        body += head + data
    header = b"GF1PATCH110\0ID#000002\0" + bytes(60) + bytes([1, 14, 0]) + struct.pack("<HHI", 1, 127, 0) + bytes(36)
    instrument = struct.pack("<H", 0) + b"test".ljust(16, b"\0") + struct.pack("<I", 0) + bytes([1]) + bytes(40)
    layer = bytes([0, 0]) + struct.pack("<I", 0) + bytes([len(waves)]) + bytes(40)
    path.write_bytes(header + instrument + layer + body)
    return path


def _f0(y: np.ndarray, guess: float) -> float:
    x = y[0].astype(np.float64) * np.hanning(y.shape[1])
    n = 1 << 21
    spectrum = np.abs(np.fft.rfft(x, n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    band = (freqs > guess / 1.2) & (freqs < guess * 1.2)
    return float(freqs[np.argmax(spectrum * band)])


def _cents(f: float, target: float) -> float:
    return 1200 * np.log2(f / target)


@pytest.fixture
def sine_patch(tmp_path, monkeypatch):
    """A patch of one 440 Hz sine (0.2 s; its loop, 0.1 s from 10 ms, holds 44 whole periods),
    installed as program 0."""
    import mixassist.datasets.patches as patches

    t = np.arange(int(0.2 * SR)) / SR
    path = write_patch(tmp_path / "000_Sine.pat", [0.8 * np.sin(2 * np.pi * 440.0 * t)],
                       loop=(441, 441 + 4410))  # 10 ms in, 0.1 s = 44 whole periods long
    monkeypatch.setattr(patches, "FREEPATS_DIR", tmp_path)
    programs.cache_clear(), load_program.cache_clear()
    yield path
    programs.cache_clear(), load_program.cache_clear()


def test_a_patch_is_read_with_its_pitch_range_loop_and_format(tmp_path):
    wave = np.linspace(-0.5, 0.5, 1000)
    for wide in (True, False):
        for unsigned in (True, False):
            (s,) = read_patch(write_patch(tmp_path / "p.pat", [wave], rate=22050, root_hz=261.626,
                                          loop=(100, 900), wide=wide, unsigned=unsigned))
            assert s.rate == 22050 and s.root_hz == pytest.approx(261.626) and s.looped
            assert (s.loop_start, s.loop_end) == (100, 900) and s.pan == pytest.approx(0.5)
            np.testing.assert_allclose(s.data, wave, atol=1 / 100 if not wide else 1e-4)
    (tmp_path / "bad.pat").write_bytes(b"RIFF0000WAVE")
    with pytest.raises(ParameterError, match="bad.pat: not a Gravis UltraSound patch"):
        read_patch(tmp_path / "bad.pat")


def test_notes_play_their_pitch_loop_while_held_and_release(sine_patch):
    for pitch, hz in ((69, 440.0), (81, 880.0), (62, 293.665)):
        y = render_part([Note(0.0, 1.0, pitch, 100)], 0, SR)
        assert abs(_cents(_f0(y[:, :SR], hz), hz)) < 2, pitch
    y = render_part([Note(0.0, 2.0, 69, 127)], 0, SR)  # 0.2-s sample, looped for 2 s
    assert y.shape[1] == int(round((2.0 + RELEASE_S) * SR))
    rms = lambda a, b: float(np.sqrt(np.mean(y[0, int(a * SR):int(b * SR)] ** 2)))  # noqa: E731
    assert rms(1.8, 1.95) == pytest.approx(rms(0.02, 0.15), rel=0.02)  # sustained by the loop
    assert rms(2.0 + 0.8 * RELEASE_S, 2.0 + RELEASE_S) < 0.25 * rms(1.8, 1.95)  # released
    soft = render_part([Note(0.0, 2.0, 69, 64)], 0, SR)
    assert np.abs(soft).max() == pytest.approx(np.abs(y).max() * 64 / 127, rel=1e-3)
    np.testing.assert_array_equal(render_part([Note(0.0, 2.0, 69, 127)], 0, SR), y)  # deterministic


def test_an_unlooped_sample_ends_with_its_data(tmp_path, monkeypatch):
    import mixassist.datasets.patches as patches

    t = np.arange(int(0.1 * SR)) / SR
    write_patch(tmp_path / "005_Blip.pat", [0.5 * np.sin(2 * np.pi * 440.0 * t)])
    monkeypatch.setattr(patches, "FREEPATS_DIR", tmp_path)
    programs.cache_clear(), load_program.cache_clear()
    try:
        y = render_part([Note(0.0, 1.0, 81, 100)], 5, SR, duration_s=1.0)  # an octave up: 0.05 s
        assert np.abs(y[:, int(0.06 * SR):]).max() == 0 and np.abs(y[:, :int(0.04 * SR)]).max() > 0.1
        with pytest.raises(ParameterError, match="no patch for General-MIDI program 7"):
            render_part([Note(0.0, 1.0, 60, 100)], 7, SR)
    finally:
        programs.cache_clear(), load_program.cache_clear()


def test_the_sample_whose_range_holds_the_note_plays(tmp_path, monkeypatch):
    """A 494 Hz note is in the quiet low sample's range though the loud high sample's root is
    nearer: the low one plays it, at its pitch; a 880 Hz note plays the high one."""
    import mixassist.datasets.patches as patches
    from mixassist.datasets.patches import PATCH_LEVEL

    t = np.arange(SR) / SR
    low, high = 0.2 * np.sin(2 * np.pi * 110.0 * t), 0.8 * np.sin(2 * np.pi * 880.0 * t)
    write_patch(tmp_path / "010_Two.pat", [low, high], root_hz=[(20.0, 500.0, 110.0), (500.0, 20000.0, 880.0)])
    monkeypatch.setattr(patches, "FREEPATS_DIR", tmp_path)
    programs.cache_clear(), load_program.cache_clear()
    try:
        y = render_part([Note(0.0, 0.5, 71, 127)], 10, SR)
        assert abs(_cents(_f0(y, 493.88), 493.88)) < 2
        assert np.abs(y).max() == pytest.approx(PATCH_LEVEL * 0.25, rel=0.01)
        y = render_part([Note(0.0, 0.5, 81, 127)], 10, SR)
        assert np.abs(y).max() == pytest.approx(PATCH_LEVEL, rel=0.01)
    finally:
        programs.cache_clear(), load_program.cache_clear()


@pytest.mark.parametrize("program", [0, 40, 73])  # piano, violin, flute
def test_freepats_patches_play_the_pitch_asked_for(program):
    assert len(programs()) >= 70
    for pitch in (60, 69):
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        y = render_part([Note(0.0, 1.0, pitch, 100)], program, SR)[:, int(0.1 * SR):int(0.9 * SR)]
        assert abs(_cents(_f0(y, hz), hz)) < 10, (program, pitch)


def test_the_held_out_palette_plays_some_parts_with_freepats():
    from mixassist.datasets.compose import compose_song
    from mixassist.datasets.sources import PALETTES, palette

    assert "freepats" in PALETTES["held-out-v3"]
    assert not {"freepats"} & (set(PALETTES["training-v3"]) | set(PALETTES["training"]))
    assert palette("FluidR3_GM,freepats").patches == ("freepats",)
    kinds = set()
    for seed in range(6):
        song = compose_song(seed, sources=palette("FluidR3_GM,freepats"), variety="v3")
        for part in song.parts:
            kinds.add(part.kind)
            if part.kind == "patch":
                assert part.channel is None and part.setup.program in programs()
    assert "patch" in kinds and "midi" in kinds
