"""One-pass multi-channel rendering of MIDI events with libfluidsynth (driven in-process via ctypes).

All 16 MIDI channels are rendered in a single synthesiser with ``synth.audio-groups = 16`` and
``synth.audio-channels = 16``, so every channel has its own stereo output and the stems' sum *is*
the full render (rendering channels separately would differ by voice reuse, see DATA.md). Built-in
reverb and chorus are off: production is applied per stem afterwards (:mod:`.production`).

Events are applied at exact sample positions between ``fluid_synth_process`` calls; fluidsynth
itself quantises note starts to its 64-sample internal block (1.45 ms at 44.1 kHz).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from functools import lru_cache
import numpy as np

from ..errors import MixAssistError
from .sources import soundfont_path

N_CHANNELS = 16
BLOCK_FRAMES = 4096
_CHANNEL_TYPE_MELODIC, _CHANNEL_TYPE_DRUM = 0, 1


class RenderError(MixAssistError):
    """fluidsynth is missing or failed, or a soundfont would not load (an unknown or uninstalled
    soundfont is a :class:`~mixassist.errors.ParameterError` of :func:`.sources.soundfont_path`)."""


@dataclass(frozen=True, order=True)
class MidiEvent:
    """One MIDI event at ``time_s``: kind is ``note_on``, ``note_off``, ``cc`` or ``pitch_bend``.

    ``data1``/``data2``: (key, velocity), (controller, value) or (bend 0..16383, unused).
    Sorting puts note-offs before note-ons at the same time so repeated notes retrigger.
    """

    time_s: float
    order: int  # 0 = note_off/cc, 1 = note_on
    channel: int
    kind: str
    data1: int
    data2: int = 0


@dataclass(frozen=True)
class ChannelSetup:
    """What a channel plays: ``soundfont`` (a key of :data:`.sources.SOUNDFONTS`; for a ``patch``
    part a patch set of :data:`.sources.PATCH_SETS`), ``bank``, ``program``."""

    soundfont: str
    program: int
    bank: int = 0
    drum: bool = False


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("fluidsynth") or "libfluidsynth.so.3"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise RenderError(f"libfluidsynth not found ({exc}); install it with "
                          "`apt-get install -y libfluidsynth3`") from None
    vp, ci, cd, cs = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_char_p
    sig = {
        "new_fluid_settings": (vp, []), "delete_fluid_settings": (None, [vp]),
        "fluid_settings_setint": (ci, [vp, cs, ci]), "fluid_settings_setnum": (ci, [vp, cs, cd]),
        "new_fluid_synth": (vp, [vp]), "delete_fluid_synth": (None, [vp]),
        "fluid_synth_sfload": (ci, [vp, cs, ci]),
        "fluid_synth_program_select": (ci, [vp, ci, ci, ci, ci]),
        "fluid_synth_set_channel_type": (ci, [vp, ci, ci]),
        "fluid_synth_noteon": (ci, [vp, ci, ci, ci]), "fluid_synth_noteoff": (ci, [vp, ci, ci]),
        "fluid_synth_cc": (ci, [vp, ci, ci, ci]), "fluid_synth_pitch_bend": (ci, [vp, ci, ci]),
        "fluid_synth_process": (ci, [vp, ci, ci, ctypes.POINTER(ctypes.c_void_p), ci,
                                     ctypes.POINTER(ctypes.c_void_p)]),
        "fluid_set_log_function": (vp, [ci, vp, vp]),
    }
    for fname, (res, args) in sig.items():
        fn = getattr(lib, fname)
        fn.restype, fn.argtypes = res, args
    for level in range(5):  # silence fluidsynth's console logging (missing-preset warnings etc.)
        lib.fluid_set_log_function(level, None, None)
    return lib


class _Synth:
    """A fluidsynth instance with 16 stereo outputs; ``sfload`` ids are cached per soundfont."""

    def __init__(self, sr: int):
        lib = self.lib = _lib()
        self.settings = lib.new_fluid_settings()
        for key, value in ((b"synth.audio-groups", N_CHANNELS), (b"synth.audio-channels", N_CHANNELS),
                           (b"synth.effects-groups", 1), (b"synth.reverb.active", 0),
                           (b"synth.chorus.active", 0), (b"synth.cpu-cores", 1),
                           (b"synth.polyphony", 512), (b"synth.midi-channels", N_CHANNELS)):
            lib.fluid_settings_setint(self.settings, key, value)
        lib.fluid_settings_setnum(self.settings, b"synth.sample-rate", float(sr))
        lib.fluid_settings_setnum(self.settings, b"synth.gain", 0.2)
        self.synth = lib.new_fluid_synth(self.settings)
        if not self.synth:
            raise RenderError("fluidsynth could not create a synthesiser")
        self.fonts: dict[str, int] = {}

    def font_id(self, name: str) -> int:
        if name not in self.fonts:
            fid = self.lib.fluid_synth_sfload(self.synth, str(soundfont_path(name)).encode(), 0)
            if fid < 0:
                raise RenderError(f"{soundfont_path(name)}: fluidsynth could not load this soundfont")
            self.fonts[name] = fid
        return self.fonts[name]

    def close(self) -> None:
        self.lib.delete_fluid_synth(self.synth)
        self.lib.delete_fluid_settings(self.settings)


def render_channels(events: list[MidiEvent], channels: dict[int, ChannelSetup], duration_s: float,
                    *, sr: int = 44100) -> dict[int, np.ndarray]:
    """Render ``events`` in one pass; returns ``{channel: np.ndarray [shape=(2, samples)]}`` float32.

    Only the channels listed in ``channels`` are returned; their sum equals the full stereo render.
    ``duration_s`` fixes the length (events after it are dropped).
    """
    n_total = int(round(duration_s * sr))
    synth = _Synth(sr)
    lib, handle = synth.lib, synth.synth
    try:
        for ch, setup in channels.items():
            fid = synth.font_id(setup.soundfont)
            lib.fluid_synth_set_channel_type(handle, ch, _CHANNEL_TYPE_DRUM if setup.drum else _CHANNEL_TYPE_MELODIC)
            if lib.fluid_synth_program_select(handle, ch, fid, setup.bank, setup.program) != 0:
                raise RenderError(f"soundfont {setup.soundfont} has no preset bank {setup.bank} "
                                  f"program {setup.program} (channel {ch})")
            lib.fluid_synth_cc(handle, ch, 10, 64)  # centre: placement is done in production
            lib.fluid_synth_cc(handle, ch, 91, 0)
            lib.fluid_synth_cc(handle, ch, 93, 0)
        out = {ch: np.zeros((2, n_total), dtype=np.float32) for ch in channels}
        block = np.zeros((2 * N_CHANNELS, BLOCK_FRAMES), dtype=np.float32)
        pointers = (ctypes.c_void_p * (2 * N_CHANNELS))(
            *[block[i].ctypes.data for i in range(2 * N_CHANNELS)])
        ordered = sorted(e for e in events if e.time_s < duration_s)
        pos, k = 0, 0
        while pos < n_total:
            while k < len(ordered) and int(round(ordered[k].time_s * sr)) <= pos:
                _apply(lib, handle, ordered[k])
                k += 1
            nxt = int(round(ordered[k].time_s * sr)) if k < len(ordered) else n_total
            n = max(1, min(BLOCK_FRAMES, nxt - pos, n_total - pos))
            block[:, :n] = 0.0
            if lib.fluid_synth_process(handle, n, 0, None, 2 * N_CHANNELS, pointers) != 0:
                raise RenderError("fluid_synth_process failed")
            for ch, audio in out.items():
                audio[:, pos:pos + n] = block[2 * ch:2 * ch + 2, :n]
            pos += n
    finally:
        synth.close()
    return out


def _apply(lib, handle, event: MidiEvent) -> None:
    if event.kind == "note_on":
        lib.fluid_synth_noteon(handle, event.channel, event.data1, event.data2)
    elif event.kind == "note_off":
        lib.fluid_synth_noteoff(handle, event.channel, event.data1)
    elif event.kind == "cc":
        lib.fluid_synth_cc(handle, event.channel, event.data1, event.data2)
    elif event.kind == "pitch_bend":
        lib.fluid_synth_pitch_bend(handle, event.channel, event.data1)
