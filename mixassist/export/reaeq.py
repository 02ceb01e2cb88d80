"""ReaEQ's saved state in an RPP ``<VST`` block: its bands as bytes, and REAPER's wrapper.

Where the layout was learned (no REAPER was run here; see docs/export.md):

* REAPER's wrapper of a VST2 state: the ``VstChunkHandler`` of J. Mossgraber's ProjectConverter
  (github.com/git-moss/ProjectConverter, ``format/reaper/model/VstChunkHandler.java``), which reads
  and writes RPP files: plugin id, ``0xFEED5EEE`` (an opaque chunk follows) or ``0xFEED5EEF``
  (a parameter list follows), input and output pin masks, the state's size, a flag, then the state,
  then a last line with the program name and ``0x10 0 0 0``.
* ReaEQ's own chunk: ``ReaEQ.ts`` of P. Nerhus' REWEQ2EQPreset (github.com/perivar/
  REWEQ2EQPreset), which writes and reads ReaEQ presets: version 33, the band count, per band
  type, enabled, frequency (Hz), gain (linear), bandwidth (octaves) as little-endian int32, int32,
  float64 x 3 and one byte; then 1, 1, the output gain (linear) and 0.
* The band type numbers (0 low shelf, 1 high shelf, 8 band, 3 low pass, 4 high pass, 6 notch)
  agree between that file and the ReaEQ band types of Mossgraber's DrivenByMoss for REAPER
  (``EqBandTypeParameterImpl.java``).
* A ReaEQ block saved by REAPER, found in a public repository and decoded here, has exactly this
  structure (60-byte wrapper with id ``qeer``, ``0xFEED5EEE``, two pins in and out, flag 1; version
  33; 33 bytes a band; after the output gain REAPER also keeps 12 bytes of editor settings, which
  this module does not write: the state's size says where it ends).
"""

from __future__ import annotations

import base64
import math
import struct
from dataclasses import dataclass

from ..errors import ExportError

#: REAPER's VST id of ReaEQ (``'reeq'`` as a big-endian int32) and its plugin line.
REAEQ_ID = 0x72656571
REAEQ_VST_ARGS = ("VST: ReaEQ (Cockos)", "reaeq.dll", "0", "",
                  "1919247729<56535472656571726561657100000000>", "")
#: ReaEQ band types (int32 in the chunk).
BAND_TYPES = {"low_shelf": 0, "high_shelf": 1, "low_pass": 3, "high_pass": 4, "notch": 6,
              "band": 8}
CHUNK_VERSION = 33
OPAQUE = 0xFEED5EEE
#: Base64 characters per line inside a ``<VST`` block (REAPER writes 128; any multiple of 4 works).
LINE_CHARS = 128
_BAND = struct.Struct("<iiddd?")
_PIN_MASKS = (1, 2)  # stereo in and out: channel 1 -> pin 1, channel 2 -> pin 2


@dataclass(frozen=True)
class Band:
    """One ReaEQ band: ``kind`` a key of :data:`BAND_TYPES`, ``freq_hz``, ``gain_db`` and
    ``bandwidth_oct`` (octaves), as ReaEQ shows them."""

    kind: str
    freq_hz: float
    gain_db: float = 0.0
    bandwidth_oct: float = 1.0
    enabled: bool = True


def chunk(bands: list[Band], *, output_gain_db: float = 0.0) -> bytes:
    """ReaEQ's own state (what its ``effGetChunk`` returns) for ``bands``."""
    if not bands:
        raise ExportError("ReaEQ: a chunk needs at least one band")
    out = [struct.pack("<ii", CHUNK_VERSION, len(bands))]
    for b in bands:
        if b.kind not in BAND_TYPES:
            raise ExportError(f"ReaEQ: unknown band type {b.kind!r}; use one of "
                              f"{', '.join(BAND_TYPES)}")
        out.append(_BAND.pack(BAND_TYPES[b.kind], int(b.enabled), b.freq_hz,
                              10.0 ** (b.gain_db / 20.0), b.bandwidth_oct, True))
    out.append(struct.pack("<iidi", 1, 1, 10.0 ** (output_gain_db / 20.0), 0))
    return b"".join(out)


def read_chunk(data: bytes) -> list[Band]:
    """The bands of a ReaEQ chunk (inverse of :func:`chunk`; trailing settings are ignored)."""
    version, count = struct.unpack_from("<ii", data, 0)
    if version != CHUNK_VERSION:
        raise ExportError(f"ReaEQ: chunk version {version}, expected {CHUNK_VERSION}")
    kinds = {v: k for k, v in BAND_TYPES.items()}
    bands = []
    for i in range(count):
        kind, enabled, freq, gain, bw, _ = _BAND.unpack_from(data, 8 + i * _BAND.size)
        bands.append(Band(kinds.get(kind, f"type {kind}"), freq,
                          20.0 * math.log10(gain) if gain > 0 else -150.0, bw,
                          bool(enabled)))
    return bands


def wrap(state: bytes, plugin_id: int = REAEQ_ID) -> list[str]:
    """The base64 lines of a ``<VST`` block holding the opaque ``state``: REAPER's header line,
    the state, and the last line (empty program and preset names, ``0x10 0 0 0``)."""
    pins = struct.pack("<i", len(_PIN_MASKS)) + b"".join(struct.pack("<q", m) for m in _PIN_MASKS)
    header = (struct.pack("<iI", plugin_id, OPAQUE) + pins + pins
              + struct.pack("<iii", len(state), 1, 0x00100000))
    body = base64.b64encode(state).decode("ascii")
    lines = [base64.b64encode(header).decode("ascii")]
    lines += [body[i:i + LINE_CHARS] for i in range(0, len(body), LINE_CHARS)]
    lines.append(base64.b64encode(b"\0\0\x10\0\0\0").decode("ascii"))
    return lines


def unwrap(lines: list[str]) -> tuple[int, bytes]:
    """``(plugin_id, state)`` of a ``<VST`` block's base64 lines (inverse of :func:`wrap`)."""
    if len(lines) < 3:
        raise ExportError("VST block: expected a header line, the state and a last line")
    header = base64.b64decode(lines[0])
    plugin_id, kind, n_in = struct.unpack_from("<iIi", header, 0)
    if kind != OPAQUE:
        raise ExportError(f"VST block: state kind {kind:#x}, expected an opaque chunk {OPAQUE:#x}")
    offset = 12 + 8 * n_in
    (n_out,) = struct.unpack_from("<i", header, offset)
    (size,) = struct.unpack_from("<i", header, offset + 4 + 8 * n_out)
    state = base64.b64decode("".join(lines[1:-1]))
    if len(state) != size:
        raise ExportError(f"VST block: state is {len(state)} bytes, the header says {size}")
    return plugin_id, state
