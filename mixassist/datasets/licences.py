"""Every source the data generator uses, with its licence; and the sources it must never use.

RESERVED lists what ../shared/DATA.md keeps for independent evaluation; :func:`check_source`
refuses them, and a test asserts that no used source is reserved.
"""

from __future__ import annotations

from ..errors import ParameterError

#: (source, kind, provided by, licence, used for)
SOURCES = (
    ("mixassist procedural songs", "MIDI", "mixassist.datasets.compose", "GPL-3.0-or-later", "songs (main source)"),
    ("freedoom", "MIDI", "Debian freedoom (WAD music lumps)", "BSD-3-Clause", "songs"),
    ("planetblupi-music-midi", "MIDI", "Debian planetblupi-music-midi", "GPL-3.0-or-later", "songs"),
    ("music21 corpus", "MusicXML/kern scores", "PyPI music21", "BSD-3-Clause (corpus scores public domain)", "songs"),
    ("fluid-soundfont-gm (FluidR3_GM)", "soundfont", "Debian fluid-soundfont-gm", "MIT", "instruments, drum kits"),
    ("timgm6mb-soundfont (TimGM6mb)", "soundfont", "Debian timgm6mb-soundfont", "GPL-2.0", "instruments, drum kits"),
    ("avldrums.lv2-soundfont (AVL Drumkits)", "soundfont (recorded drums)", "Debian avldrums.lv2-soundfont",
     "CC-BY-SA-3.0", "drum kits Black Pearl, Red Zeppelin"),
    ("opl3-soundfont (OPL3_FM)", "soundfont (FM chip timbres)", "Debian opl3-soundfont", "GPL-3.0-or-later",
     "instruments, drum kit (held-out palette)"),
    ("csound-soundfont (csound_GM)", "soundfont", "Debian csound-soundfont", "LGPL-2.1-or-later",
     "instruments, drum kits (held-out palette)"),
    ("pysinsy + nitech_jp_song070_f001", "singing voice", "PyPI pysinsy (Sinsy, HTS voice)",
     "Modified BSD (code), CC-BY-3.0 (voice)", "sung vocals"),
    ("mixassist synthesis voices (mixassist-synth:subtractive, fm, wavetable, pluck, mallet, noise_fx)",
     "synthesiser (own code)", "mixassist.datasets.synth", "GPL-3.0-or-later",
     "synth, bass, keys, guitar, strings, percussion, fx parts (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: ColomboAcousticDrumkit (hydrogen:ColomboAcousticDrumkit)", "recorded drum kit",
     "Debian hydrogen-drumkits (Marcos Guglielmetti)", "GPL-2.0-or-later with a composition exception",
     "drums (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: Millo_MultiLayered2 (hydrogen:Millo_MultiLayered2)", "recorded drum kit",
     "Debian hydrogen-drumkits (Emiliano Grilli)", "GPL-2.0", "drums (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: ElectricEmpireKit (hydrogen:ElectricEmpireKit)", "synthesised drum kit",
     "Debian hydrogen-drumkits (Artemiy Pavlov, ArtemioLabs)", "GPL-2.0-or-later",
     "electronic drums (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: BJA_Pacific (hydrogen:BJA_Pacific)", "recorded drum kit",
     "Debian hydrogen-drumkits (Luc Tanguay, Bransin James Anderson)", "CC-BY-SA-3.0-US",
     "drums (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: Millo-Drums_v.1 (hydrogen:Millo-Drums_v.1)", "recorded drum kit",
     "Debian hydrogen-drumkits (Emiliano Grilli)", "GPL-2.0", "drums (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: Millo_MultiLayered3 (hydrogen:Millo_MultiLayered3)", "recorded drum kit",
     "Debian hydrogen-drumkits (Emiliano Grilli)", "GPL-2.0", "drums (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: rumpf_kit_z01_h2 (hydrogen:rumpf_kit_z01_h2)", "recorded drum kit",
     "Debian hydrogen-drumkits (Emanuel Rumpf)", "CC-BY-3.0", "drums (generator v3, palette training-v3)"),
    ("hydrogen-drumkits: ForzeeStereo (hydrogen:ForzeeStereo)", "recorded drum kit",
     "Debian hydrogen-drumkits (Vladimir Sadovnikov, Alexander Belokurov)", "GPL-2.0",
     "drums (generator v3, held-out-v3 palette)"),
    ("hydrogen-drumkits: HardElectro1 (hydrogen:HardElectro1)", "synthesised drum kit",
     "Debian hydrogen-drumkits (Artemiy Pavlov, ArtemioLabs)", "GPL-2.0-or-later",
     "electronic drums (generator v3, held-out-v3 palette)"),
    ("sonic-pi-samples: drum_* one-shots (sonic-pi:acoustic)", "recorded drum samples",
     "Debian sonic-pi-samples (freesound.org contributors, per file)", "CC0-1.0",
     "drums (generator v3, held-out-v3 palette)"),
    ("sonic-pi-samples: elec_* one-shots (sonic-pi:electronic)", "synthesised drum samples",
     "Debian sonic-pi-samples (freesound.org contributors, per file)", "CC0-1.0",
     "electronic drums (generator v3, held-out-v3 palette)"),
    ("freepats (freepats)", "Gravis UltraSound patches (recorded instruments)", "Debian freepats",
     "GPL-2.0-or-later with a composition exception", "melodic parts (generator v3, held-out-v3 palette)"),
    ("libfluidsynth", "synthesiser", "Debian libfluidsynth3", "LGPL-2.1-or-later", "rendering"),
    ("pedalboard", "audio effects", "PyPI pedalboard", "GPL-3.0", "per-stem production"),
)
#: Reserved for independent evaluation (DATA.md): never train on, tune to, or copy.
RESERVED = ("openttd-openmsx", "musescore-general-soundfont", "festvox-us-slt-hts", "warzone2100-music",
            "ufoai-music", "singularity-music", "hyperrogue-music", "asc-music")
RESERVED_EXTENSIONS = (".mod", ".xm", ".it", ".s3m")
#: Fragments of where those packages install (e.g. /usr/share/games/openttd/openmsx, the MuseScore
#: soundfonts, Festival's cmu_us_slt_arctic_hts voice, the games' music folders).
RESERVED_PATH_MARKERS = ("openmsx", "musescore", "us_slt", "warzone2100", "ufoai", "singularity",
                         "hyperrogue", "/asc/")


def check_source(name: str) -> None:
    """Raise :class:`ParameterError` if ``name`` (a package, path or file) is a reserved source."""
    low = name.lower()
    if any(r in low for r in RESERVED + RESERVED_PATH_MARKERS) or low.endswith(RESERVED_EXTENSIONS):
        raise ParameterError(f"{name}: reserved for independent evaluation (DATA.md); never use it for data")


def licence_table() -> list[dict]:
    """The sources as JSON-ready rows."""
    return [dict(zip(("source", "kind", "provided_by", "licence", "used_for"), row)) for row in SOURCES]


def licence_markdown() -> str:
    """The sources as a Markdown table (written into every dataset as LICENCES.md)."""
    lines = ["# Sources and licences", "", "| source | kind | provided by | licence | used for |",
             "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in SOURCES]
    lines += ["", "Each song's own source and licence are in manifest.json and song.json.", ""]
    return "\n".join(lines)
