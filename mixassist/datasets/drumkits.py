"""Recorded drum kits played by sample playback: the kits of Hydrogen (Debian
``hydrogen-drumkits``) and two kits made of Sonic Pi's drum one-shots (Debian
``sonic-pi-samples``, :data:`SONIC_PI_KITS`).

A Hydrogen kit is a folder ``/usr/share/hydrogen/data/drumkits/<Kit>/`` holding ``drumkit.xml``
(instruments, each with a name, volume, gain, pan and velocity layers of sample files, FLAC, WAV
or AIFF) and the samples. :func:`load_kit` reads it and maps its instruments to General-MIDI drum
keys by their names (:data:`RULES`, :data:`FALLBACKS`); :func:`render_notes` plays a list of
:class:`~.song.Note` (GM keys, velocities) with it:

- each note plays one sample from its start to the sample's end (drum notes have no note-off),
  starting at sample ``round(start_s * sr)``;
- the layer whose velocity range (Hydrogen's 0-1) holds ``velocity / 127`` plays (the nearest
  one when none does), at amplitude ``velocity / 127 * layer gain * instrument gain * volume *``
  :data:`KIT_LEVEL` and the instrument's pan (Hydrogen's ``pan_L``/``pan_R`` channel gains);
- an open hi-hat rings until the next closed or pedal hi-hat note (a :data:`CHOKE_S` fade);
- samples at another rate are resampled to ``sr`` (polyphase, :func:`scipy.signal.resample_poly`).

Mapping (case-insensitive keywords of the instrument's name, tried in :data:`RULES` order; the
first instrument of a kind in kit order takes the kind's first key, the second its second key,
later ones are unused, as are instruments no rule matches):
kick 36, 35 · snare 38, 40 · side stick / rim click 37 · clap 39 · closed hat 42 · pedal hat 44 ·
open hat 46 · toms 41, 43, 45, 47, 48, 50 (low to high, by floor/low/mid/high words, else kit
order; with fewer than six toms each key takes the tom of the same relative height) · crash 49,
57 · ride 51, 59 · ride bell 53 · splash 55 · china 52 · cowbell 56 · tambourine 54. A key the kit
lacks plays its fallback (:data:`FALLBACKS`: second kick or snare -> the first, clap and side
stick -> snare, pedal and open hat -> closed hat, crash <-> ride, ride -> closed hat, toms ->
snare: a fill of an electronic kit without toms plays the snare); keys without any (percussion
such as congas, the crash of a kit without cymbals) are silent. A crash that is also a ride
(``Crash/Ride``) comes after the kit's plain crashes.

A Sonic Pi kit (source ``sonic-pi:acoustic`` or ``sonic-pi:electronic``) lists its instruments by
names the same rules read, each with its samples from soft to hard as velocity layers splitting
0-1 evenly; each instrument's loudest sample is scaled to peak 1, as a full-scale Hydrogen sample
at volume 1 (cymbals and hats to :data:`SONIC_PI_CYMBAL_PEAK`), since Sonic Pi's files sit at
unrelated levels.

Rendering is numpy slice additions per note (no per-sample Python) and involves no randomness:
the same notes give the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import ParameterError
from .song import Note
from .sources import DRUMKIT_PREFIX, SONIC_PI_PREFIX

DRUMKIT_DIR = Path("/usr/share/hydrogen/data/drumkits")
PACKAGE = "hydrogen-drumkits"
SAMPLE_RATE = 44100
#: Overall level of a kit (a sample at full scale and velocity 127 plays at this amplitude).
KIT_LEVEL = 0.5
#: Length (s) of the fade that chokes an open hi-hat.
CHOKE_S = 0.012
SONIC_PI_DIR = Path("/usr/share/sonic-pi/samples")
SONIC_PI_PACKAGE = "sonic-pi-samples"
#: Sonic Pi's drum one-shots (each CC0, freesound.org contributors, per the package's copyright
#: file) as kits: (instrument name, sample files soft to hard, without ``.flac``).
SONIC_PI_KITS = {
    "acoustic": (("Kick", ("drum_bass_soft", "drum_bass_hard")), ("Kick Heavy", ("drum_heavy_kick",)),
                 ("Snare", ("drum_snare_soft", "drum_snare_hard")),
                 ("Hi-Hat Closed", ("drum_cymbal_closed",)), ("Hi-Hat Pedal", ("drum_cymbal_pedal",)),
                 ("Hi-Hat Open", ("drum_cymbal_open",)),
                 ("Tom Low", ("drum_tom_lo_soft", "drum_tom_lo_hard")),
                 ("Tom Mid", ("drum_tom_mid_soft", "drum_tom_mid_hard")),
                 ("Tom High", ("drum_tom_hi_soft", "drum_tom_hi_hard")),
                 ("Crash", ("drum_cymbal_soft", "drum_cymbal_hard")),
                 ("Splash", ("drum_splash_soft", "drum_splash_hard")), ("Cowbell", ("drum_cowbell",))),
    "electronic": (("Kick", ("elec_soft_kick", "elec_hollow_kick")), ("Snare", ("elec_snare",)),
                   ("Snare Hi", ("elec_hi_snare",)), ("Rim Click", ("elec_wood",)),
                   ("Hi-Hat Closed", ("elec_tick",)), ("Hi-Hat Open", ("elec_cymbal",)),
                   ("Crash", ("elec_cymbal",)), ("Tom", ("elec_fuzz_tom",))),
}
#: Peak of a Sonic Pi hat or cymbal at full velocity (other instruments peak at 1).
SONIC_PI_CYMBAL_PEAK = 0.5

#: (kind, name regex, exclude regex): tried in order, the first match gives the instrument's kind.
RULES = (
    ("cowbell", r"cow ?bell", None),
    ("tambourine", r"tambourine|\btamb\b", r"pedal"),
    ("side", r"side ?stick|\bstick\b|rim ?click|cross ?stick", None),
    ("clap", r"clap", None),
    ("kick", r"kick|bass ?drum|\bbd\b", None),
    ("snare", r"snare|\bsn\b", r"roll"),
    ("hat_pedal", r"(hi-?hat|\bhh\b|\bhat\b).*(pedal|\bpd\b|foot)|(pedal|foot).*(hi-?hat|\bhh\b|\bhat\b)", None),
    ("hat_open", r"(hi-?hat|\bhh\b|\bhat\b|\bohh\b).*(open|\bop\b)|(open|\bop\b).*(hi-?hat|\bhh\b|\bhat\b)|\bohh\b",
     r"semi"),
    ("hat_closed", r"hi-?hat|\bhh\b|\bhat\b", r"semi|swish|choke|free|side"),
    ("tom", r"\btom|floor", None),
    ("china", r"china", None),
    ("splash", r"splash", r"choke"),
    ("ride_bell", r"(ride.*(bell|cup))|((bell|cup).*ride)|^ride-?cup", None),
    ("crash", r"crash", r"choke"),
    ("ride", r"ride", None),
)
#: GM keys of each kind, in the order a kit's instruments of that kind take them.
KIND_KEYS = {"kick": (36, 35), "snare": (38, 40), "side": (37,), "clap": (39,), "hat_closed": (42,),
             "hat_pedal": (44,), "hat_open": (46,), "china": (52,), "splash": (55,), "ride_bell": (53,),
             "crash": (49, 57), "ride": (51, 59), "cowbell": (56,), "tambourine": (54,)}
#: GM tom keys from low to high.
TOM_KEYS = (41, 43, 45, 47, 48, 50)
#: Keys a missing key falls back to, in order.
FALLBACKS = {35: (36,), 36: (35,), 38: (40,), 40: (38,), 37: (38, 40), 39: (38, 40),
             42: (44, 46), 44: (42,), 46: (42, 44), 49: (57, 55, 52, 51), 57: (49, 55, 52, 51),
             55: (49, 57), 52: (57, 49), 51: (59, 57, 53, 49, 42), 59: (51, 57, 53, 49, 42),
             53: (51, 59), **{tom: (38, 40) for tom in (41, 43, 45, 47, 48, 50)}}
_TOM_HEIGHT = ((r"floor", 0), (r"\blow|\blo\b", 1), (r"\bmid", 2), (r"\bhi(gh)?\b|\bhi\d|tomhi", 3))


@dataclass(frozen=True)
class Layer:
    """A sample of an instrument: ``file``, velocity range ``min_velocity``-``max_velocity`` (0-1)."""

    file: Path
    min_velocity: float
    max_velocity: float
    gain: float


@dataclass(frozen=True)
class Instrument:
    """A kit instrument: its name, kind (:data:`RULES`, None: unused), level (volume x gain),
    channel gains (``pan_l``, ``pan_r``) and velocity layers."""

    name: str
    kind: str | None
    level: float
    pan_l: float
    pan_r: float
    layers: tuple[Layer, ...]

    def layer(self, velocity: int) -> Layer:
        """The layer that plays MIDI ``velocity`` (its range holds velocity/127, else the nearest)."""
        v = velocity / 127
        return min(self.layers, key=lambda lay: (max(lay.min_velocity - v, v - lay.max_velocity, 0.0),
                                                 lay.min_velocity))


@dataclass(frozen=True)
class Kit:
    """A kit: its name, folder, author and licence (a Hydrogen kit's as its drumkit.xml states
    them), every instrument, and ``keys``: GM key -> the instrument that plays it (fallbacks
    included)."""

    name: str
    folder: Path
    author: str
    licence: str
    instruments: tuple[Instrument, ...]
    keys: dict[int, Instrument]


def _sonic_pi_kit(name: str) -> Kit:
    """Sonic Pi kit ``sonic-pi:<style>`` (:data:`SONIC_PI_KITS`), levelled per instrument."""
    style = name.split(":", 1)[1]
    if style not in SONIC_PI_KITS:
        raise ParameterError(f"unknown Sonic Pi kit {name!r}; use "
                             + ", ".join(f"{SONIC_PI_PREFIX}:{k}" for k in SONIC_PI_KITS))
    instruments = []
    for label, stems in SONIC_PI_KITS[style]:
        files = [SONIC_PI_DIR / f"{stem}.flac" for stem in stems]
        if not all(f.is_file() for f in files):
            raise ParameterError(f"{files[0]}: Sonic Pi sample missing; install them with "
                                 f"`apt-get install -y {SONIC_PI_PACKAGE}`")
        kind = _kind(label)
        peak = max(float(np.abs(_sample(f, SAMPLE_RATE)).max()) for f in files)
        target = SONIC_PI_CYMBAL_PEAK if kind in ("hat_closed", "hat_pedal", "hat_open", "crash", "splash") else 1.0
        layers = tuple(Layer(f, k / len(files), (k + 1) / len(files), 1.0) for k, f in enumerate(files))
        instruments.append(Instrument(label, kind, target / max(peak, 1e-6), 1.0, 1.0, layers))
    return _mapped(name, SONIC_PI_DIR, "Sonic Pi sample authors (freesound.org)", "CC0-1.0", instruments)


def kit_path(name: str) -> Path:
    """The folder of kit ``name`` (a folder name, or a source ``hydrogen:<name>``); raises
    :class:`ParameterError` naming the Debian package when it is missing."""
    name = name.split(":", 1)[1] if name.startswith(f"{DRUMKIT_PREFIX}:") else name
    folder = DRUMKIT_DIR / name
    if not (folder / "drumkit.xml").is_file():
        raise ParameterError(f"{folder / 'drumkit.xml'}: Hydrogen drum kit missing; install it with "
                             f"`apt-get install -y {PACKAGE}`")
    return folder


def _kind(name: str) -> str | None:
    low = name.lower()
    for kind, pattern, exclude in RULES:
        if re.search(pattern, low) and not (exclude and re.search(exclude, low)):
            return kind
    return None


def _text(el: ET.Element, tag: str, default: str = "") -> str:
    found = el.find(tag)
    return found.text.strip() if found is not None and found.text else default


def _float(el: ET.Element, tag: str, default: float) -> float:
    try:
        return float(_text(el, tag, str(default)))
    except ValueError:
        return default


@lru_cache(maxsize=None)
def load_kit(name: str) -> Kit:
    """Read kit ``name`` (a Hydrogen folder name, ``hydrogen:<name>`` or ``sonic-pi:<style>``)
    and map it to GM keys (module docstring). Instruments without a sample file on disk are left
    out."""
    if name.startswith(f"{SONIC_PI_PREFIX}:"):
        return _sonic_pi_kit(name)
    folder = kit_path(name)
    root = ET.parse(folder / "drumkit.xml").getroot()
    for el in root.iter():  # newer kits carry an XML namespace; the tags are the same
        el.tag = el.tag.rsplit("}", 1)[-1]
    instruments = []
    listing = root.find("instrumentList")
    for el in (listing if listing is not None else []):
        if el.tag != "instrument":
            continue
        layers = [Layer(folder / _text(lay, "filename"), _float(lay, "min", 0.0), _float(lay, "max", 1.0),
                        _float(lay, "gain", 1.0)) for lay in el.iter("layer") if _text(lay, "filename")]
        if not layers and _text(el, "filename"):  # the old format: one sample, no layers
            layers = [Layer(folder / _text(el, "filename"), 0.0, 1.0, 1.0)]
        layers = [lay for lay in layers if lay.file.is_file()]
        if not layers:
            continue
        label = _text(el, "name")
        instruments.append(Instrument(label, _kind(label), _float(el, "volume", 1.0) * _float(el, "gain", 1.0),
                                      _float(el, "pan_L", 1.0), _float(el, "pan_R", 1.0), tuple(layers)))
    return _mapped(folder.name, folder, _text(root, "author"),
                   _text(root, "license") or _text(root, "licence"), instruments)


def _mapped(name: str, folder: Path, author: str, licence: str, instruments: list[Instrument]) -> Kit:
    """The kit of ``instruments`` with its GM keys (module docstring)."""
    keys: dict[int, Instrument] = {}
    for kind, kind_keys in KIND_KEYS.items():
        # a crash that is also a ride ("Crash/Ride") comes after the plain crashes
        of_kind = sorted((i for i in instruments if i.kind == kind),
                         key=lambda i: kind == "crash" and "ride" in i.name.lower())
        for key, inst in zip(kind_keys, of_kind):
            keys[key] = inst
    toms = [i for i in instruments if i.kind == "tom"]
    heights = [next((h for pattern, h in _TOM_HEIGHT if re.search(pattern, t.name.lower())), 1.5) for t in toms]
    toms = [t for _, _, t in sorted(zip(heights, range(len(toms)), toms), key=lambda x: x[:2])]
    for k, key in enumerate(TOM_KEYS):
        if toms:
            keys[key] = toms[round(k * (len(toms) - 1) / (len(TOM_KEYS) - 1))]
    for key, options in FALLBACKS.items():
        if key not in keys:
            fallback = next((keys[o] for o in options if o in keys), None)
            if fallback is not None:
                keys[key] = fallback
    return Kit(name, folder, author, licence, tuple(instruments), keys)


@lru_cache(maxsize=512)
def _sample(path: Path, sr: int) -> np.ndarray:
    """The sample at ``path`` as float32 [shape=(2, n)] at ``sr`` (mono doubled, resampled)."""
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    data = data.T[:2]
    if data.shape[0] == 1:
        data = np.repeat(data, 2, axis=0)
    if rate != sr:
        from scipy.signal import resample_poly
        g = gcd(int(rate), int(sr))
        data = resample_poly(data, sr // g, int(rate) // g, axis=1).astype(np.float32)
    return np.ascontiguousarray(data)


def render_notes(notes: list[Note], kit: str | Kit, sr: int = SAMPLE_RATE, *,
                 duration_s: float | None = None) -> np.ndarray:
    """Play ``notes`` (GM drum keys) with Hydrogen kit ``kit`` (a :class:`Kit` or a name).

    Returns ``np.ndarray [shape=(2, samples), dtype=float32]``: ``samples`` is
    ``round(duration_s * sr)`` (later sound is cut) or, when ``duration_s`` is None, the end of
    the last sample. Keys the kit cannot play are silent."""
    if sr < 8000:
        raise ParameterError(f"sample rate {sr} Hz is too low; use 44100")
    kit = kit if isinstance(kit, Kit) else load_kit(kit)
    hits = []  # (onset, key, instrument, layer, velocity)
    for note in sorted(notes, key=lambda n: (n.start_s, n.pitch)):
        inst = kit.keys.get(note.pitch)
        if inst is not None and note.velocity > 0:
            hits.append((int(round(note.start_s * sr)), inst, inst.layer(note.velocity), note.velocity))
    chokes = np.array(sorted(o for o, inst, _, _ in hits if inst.kind in ("hat_closed", "hat_pedal")), dtype=np.int64)
    if duration_s is None:
        n = max((o + _sample(lay.file, sr).shape[1] for o, _, lay, _ in hits), default=0)
    else:
        n = int(round(duration_s * sr))
    out = np.zeros((2, n), dtype=np.float32)
    fade = max(1, int(round(CHOKE_S * sr)))
    ramp = np.linspace(1.0, 0.0, fade, dtype=np.float32)
    for onset, inst, lay, velocity in hits:
        if onset >= n:
            continue
        sample = _sample(lay.file, sr)
        length = min(sample.shape[1], n - onset)
        gain = velocity / 127 * lay.gain * inst.level * KIT_LEVEL
        piece = sample[:, :length] * (gain * np.array([[inst.pan_l], [inst.pan_r]], dtype=np.float32))
        if inst.kind == "hat_open":
            nxt = chokes[np.searchsorted(chokes, onset, side="right"):]
            if nxt.size and nxt[0] - onset < length:
                stop = int(nxt[0] - onset)
                end = min(length, stop + fade)
                piece[:, stop:end] *= ramp[:end - stop]
                piece = piece[:, :end]
                length = end
        out[:, onset:onset + length] += piece
    return out
