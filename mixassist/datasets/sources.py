"""The sound sources the generator renders with, and palettes of them that can be held out.

A *source* is one soundfont (a General-MIDI bank or a recorded drum kit), the singing voice, one
of mixassist's own synthesis voices (:data:`SYNTHS`, rendered by :mod:`.synth`), a sampled drum
kit (:data:`DRUMKITS`) or the freepats patch set (:data:`PATCH_SETS`, :mod:`.patches`).
Every stem records the source that played it (``song.json`` ``stems[].source``), so an evaluation
can hold out whole sources: a song rendered with the ``held-out`` palette uses only soundfonts that
the shipped models never heard (``benchmarks/transfer.py``).

Palettes: ``training`` (what the shipped models were trained on: FluidR3_GM, TimGM6mb and the AVL
kits), ``held-out`` (the OPL3 FM bank and the csound GM bank, their own drum kits),
``training-v3`` (``training``, mixassist's synthesis voices and seven Hydrogen kits,
:data:`DRUMKITS`; generator v3), ``held-out-v3`` (``held-out``, the two Hydrogen kits
``training-v3`` leaves out, the two Sonic Pi kits and freepats), or a comma-separated list of
source names (a synthesis voice or a kit is held out by leaving it off the list; every list
needs a General-MIDI bank for the parts no other source plays).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ParameterError
from .licences import SOURCES

SOUNDFONT_DIR = Path("/usr/share/sounds/sf2")
#: The singing voice (pysinsy's bundled HTS voice); there is no second one yet.
VOICE = "pysinsy:nitech_jp_song070_f001"
#: mixassist's own synthesis voices as sources: ``mixassist-synth:<voice>`` -> the voice's name in
#: :data:`.synth.VOICES` (render with :func:`.synth.render_part`). Only generator v3 plays them
#: (``training-v3``, or listed); the ``training`` and ``held-out`` palettes render as before.
SYNTH_PREFIX = "mixassist-synth"
SYNTHS = {f"{SYNTH_PREFIX}:{v}": v for v in ("subtractive", "fm", "wavetable", "pluck", "mallet", "noise_fx")}
DRUMKIT_PREFIX = "hydrogen"
#: Patch sets that play melodic parts by sample playback where they have the part's GM program
#: (generator v3 only): freepats' Gravis UltraSound patches (Debian ``freepats``, :mod:`.patches`).
PATCH_SETS = ("freepats",)
SONIC_PI_PREFIX = "sonic-pi"


@dataclass(frozen=True)
class Drumkit:
    """A drum kit played by sample playback (:mod:`.drumkits`): a Hydrogen kit (Debian
    ``hydrogen-drumkits``; ``folder`` in :data:`.drumkits.DRUMKIT_DIR`) or a Sonic Pi kit (Debian
    ``sonic-pi-samples``; ``folder`` its key in :data:`.drumkits.SONIC_PI_KITS`), its licence
    (drumkit.xml and the package's copyright file; also in :data:`.licences.SOURCES`) and its
    ``style``, ``acoustic`` or ``electronic`` (electronic genres draw electronic kits)."""

    folder: str
    licence: str
    style: str


#: The sampled kits as sources ``hydrogen:<Kit>`` and ``sonic-pi:<style>`` (only generator v3
#: plays them: ``training-v3``, ``held-out-v3`` or listed). Left out of ``hydrogen-drumkits``: The Black Pearl 1.0 (Glen
#: MacArthur's Black Pearl kit, the recordings of the training source AVL_BlackPearl), Audiophob
#: (a CC0 statement by a pseudonymous author, nothing on where the sounds come from) and
#: VariBreaks (drumkit.xml names another author than the copyright file): their licences are
#: unclear to us; circAfrique v4 and Gimme A Hand 1.0 (hand percussion, no kit). Millo-Drums_v.1
#: and Millo_MultiLayered3 are recorded by the author of the training kit Millo_MultiLayered2, so
#: they train too (a held-out kit must share no recordings with a training one).
DRUMKITS = {f"{DRUMKIT_PREFIX}:{k.folder}": k for k in (
    Drumkit("ColomboAcousticDrumkit", "GPL-2.0-or-later with a composition exception", "acoustic"),
    Drumkit("Millo_MultiLayered2", "GPL-2.0", "acoustic"),
    Drumkit("ElectricEmpireKit", "GPL-2.0-or-later", "electronic"),
    Drumkit("ForzeeStereo", "GPL-2.0", "acoustic"),
    Drumkit("HardElectro1", "GPL-2.0-or-later", "electronic"),
    Drumkit("BJA_Pacific", "CC-BY-SA-3.0-US", "acoustic"),
    Drumkit("Millo-Drums_v.1", "GPL-2.0", "acoustic"),
    Drumkit("Millo_MultiLayered3", "GPL-2.0", "acoustic"),
    Drumkit("rumpf_kit_z01_h2", "CC-BY-3.0", "acoustic"),
)} | {f"{SONIC_PI_PREFIX}:{style}": Drumkit(style, "CC0-1.0", style) for style in ("acoustic", "electronic")}
_TRAINING_KITS = ("hydrogen:ColomboAcousticDrumkit", "hydrogen:Millo_MultiLayered2", "hydrogen:ElectricEmpireKit",
                  "hydrogen:BJA_Pacific", "hydrogen:Millo-Drums_v.1", "hydrogen:Millo_MultiLayered3",
                  "hydrogen:rumpf_kit_z01_h2")
_HELD_OUT_KITS = ("hydrogen:ForzeeStereo", "hydrogen:HardElectro1", "sonic-pi:acoustic", "sonic-pi:electronic")
_HELD_OUT_PATCHES = ("freepats",)


@dataclass(frozen=True)
class Soundfont:
    """A soundfont source: ``file`` in :data:`SOUNDFONT_DIR`, the Debian package that installs it
    (its licence is in :data:`.licences.SOURCES`), and whether it is a General-MIDI bank (``gm``)
    or one recorded drum kit (``kit``)."""

    file: str
    package: str
    kind: str


SOUNDFONTS = {
    "FluidR3_GM": Soundfont("FluidR3_GM.sf2", "fluid-soundfont-gm", "gm"),
    "TimGM6mb": Soundfont("TimGM6mb.sf2", "timgm6mb-soundfont", "gm"),
    "AVL_BlackPearl": Soundfont("Black_Pearl_4_LV2.sf2", "avldrums.lv2-soundfont", "kit"),
    "AVL_RedZeppelin": Soundfont("Red_Zeppelin_4_LV2.sf2", "avldrums.lv2-soundfont", "kit"),
    "OPL3_FM": Soundfont("OPL-3_FM_128M.sf2", "opl3-soundfont", "gm"),
    "csound_GM": Soundfont("sf_GMbank.sf2", "csound-soundfont", "gm"),
}
PALETTES = {
    "training": ("FluidR3_GM", "TimGM6mb", "AVL_BlackPearl", "AVL_RedZeppelin"),
    "held-out": ("OPL3_FM", "csound_GM"),
    "training-v3": ("FluidR3_GM", "TimGM6mb", "AVL_BlackPearl", "AVL_RedZeppelin", *SYNTHS, *_TRAINING_KITS),
    "held-out-v3": ("OPL3_FM", "csound_GM", *_HELD_OUT_KITS, *_HELD_OUT_PATCHES),
}
#: Kit programs (bank 128) of General-MIDI banks: standard kits and the electronic ones.
ACOUSTIC_KITS = (0, 8, 16, 32)
ELECTRONIC_KITS = (24, 25)


@dataclass(frozen=True)
class Palette:
    """The sources a song may draw from: General-MIDI banks (``melodic``, sorted; their bank 128
    plays drums and percussion too), recorded drum ``kits`` (sorted, may be empty) and
    mixassist's synthesis voices (``synths``, source names, sorted; only generator v3 plays
    them, :mod:`.synth`), sampled drum kits (``drumkits``, source names, sorted; v3 only,
    :mod:`.drumkits`) and patch sets (``patches``, :data:`PATCH_SETS`; v3 only, :mod:`.patches`)."""

    name: str
    melodic: tuple[str, ...]
    kits: tuple[str, ...]
    synths: tuple[str, ...] = ()
    drumkits: tuple[str, ...] = ()
    patches: tuple[str, ...] = ()

    def kit_programs(self, font: str, wanted: tuple[int, ...]) -> tuple[int, ...]:
        """The programs of ``wanted`` that ``font`` has in bank 128 (its standard kit 0 if none)."""
        have = presets(font)
        return tuple(p for p in wanted if (128, p) in have) or (0,)

    @property
    def electronic(self) -> str:
        """The bank whose electronic kits play electronic drums (the first that has them)."""
        for font in self.melodic:
            if any((128, p) in presets(font) for p in ELECTRONIC_KITS):
                return font
        return self.melodic[0]


def palette(spec: str = "training") -> Palette:
    """The palette named ``spec`` (a key of :data:`PALETTES`) or listed by it (``"OPL3_FM,csound_GM"``);
    a listed palette's ``name`` is its sources sorted and comma-joined (one spelling per palette)."""
    names = PALETTES.get(spec) or tuple(n.strip() for n in spec.split(",") if n.strip())
    unknown = [n for n in names if n not in SOUNDFONTS and n not in SYNTHS and n not in DRUMKITS
               and n not in PATCH_SETS]
    if unknown or not names:
        raise ParameterError(f"unknown sound source(s) {', '.join(unknown) or repr(spec)}; use a palette "
                             f"({', '.join(PALETTES)}) or names from "
                             f"{', '.join([*SOUNDFONTS, *SYNTHS, *DRUMKITS, *PATCH_SETS])}")
    melodic = tuple(sorted(n for n in names if n in SOUNDFONTS and SOUNDFONTS[n].kind == "gm"))
    if not melodic:
        raise ParameterError(f"palette {spec!r} has no General-MIDI bank for the melodic parts")
    kits = tuple(sorted(n for n in names if n in SOUNDFONTS and SOUNDFONTS[n].kind == "kit"))
    synths = tuple(sorted(n for n in names if n in SYNTHS))
    drumkits = tuple(sorted(n for n in names if n in DRUMKITS))
    patches = tuple(sorted(n for n in names if n in PATCH_SETS))
    return Palette(spec if spec in PALETTES else ",".join(sorted(set(names))), melodic, kits,
                   synths, drumkits, patches)


def source_licence(source: str) -> str:
    """The licence of a stem's ``source`` (a soundfont, kit, patch set, synthesis voice or the
    singer), from its row of :data:`.licences.SOURCES`; ``"?"`` for an unknown source."""
    if source in SOUNDFONTS:
        return next(row[3] for row in SOURCES if row[0].startswith(SOUNDFONTS[source].package))
    if source.startswith(SYNTH_PREFIX):
        return next(row[3] for row in SOURCES if row[0].startswith("mixassist synthesis"))
    named = [row[3] for row in SOURCES if f"({source})" in row[0]]
    if named:
        return named[0]
    return next((row[3] for row in SOURCES if row[0].startswith(source.split(":")[0])), "?")


def soundfont_path(name: str) -> Path:
    """Path of source ``name``; raises :class:`ParameterError` naming the apt package when missing."""
    if name not in SOUNDFONTS:
        raise ParameterError(f"unknown soundfont {name!r}; use one of {', '.join(SOUNDFONTS)}")
    path = SOUNDFONT_DIR / SOUNDFONTS[name].file
    if not path.is_file():
        raise ParameterError(f"{path}: soundfont missing; install it with "
                             f"`apt-get install -y {SOUNDFONTS[name].package}`")
    return path


@lru_cache(maxsize=None)
def presets(name: str) -> frozenset[tuple[int, int]]:
    """``{(bank, program)}`` of soundfont ``name``, from the ``phdr`` records of its ``pdta`` list
    (SoundFont 2.04 spec, section 7.2: 38-byte records, the last one the terminal EOP)."""
    path = soundfont_path(name)
    with open(path, "rb") as f:
        if f.read(12)[8:12] != b"sfbk":
            raise ParameterError(f"{path}: not a SoundFont 2 file")
        while header := f.read(8):  # top-level LIST chunks: INFO, sdta (the samples, skipped), pdta
            size = struct.unpack("<I", header[4:8])[0]
            if f.read(4) != b"pdta":
                f.seek(size - 4, 1)
                continue
            end = f.tell() + size - 4
            while f.tell() < end:
                sub, length = f.read(4), struct.unpack("<I", f.read(4))[0]
                if sub == b"phdr":
                    data = f.read(length)
                    return frozenset((bank, program) for program, bank in
                                     (struct.unpack("<HH", data[k + 20:k + 24])
                                      for k in range(0, length - 38, 38)))
                f.seek(length + (length & 1), 1)
    raise ParameterError(f"{path}: no preset headers (phdr) in this SoundFont")
