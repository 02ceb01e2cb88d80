"""Histograms of a built data set as Markdown (for docs/datasets.md): sound sources, meters, tempi,
stems per song, drum, vocal, strings and synth layouts (layers), feels, track names and
processing, with the licence of each source.

    .venv/bin/python scripts/dataset_report.py DIR
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from mixassist.datasets.sources import source_licence
from mixassist.datasets.torch_datasets import load_manifest


def table(title: str, counts: Counter, total: int, *, key=None) -> str:
    rows = sorted(counts.items(), key=key or (lambda kv: (-kv[1], str(kv[0]))))
    lines = [f"**{title}** ({total})", "", "| value | count | share |", "|---|---|---|"]
    lines += [f"| {k} | {v} | {v / max(total, 1):.0%} |" for k, v in rows]
    return "\n".join(lines) + "\n"


def name_form(names: list[str]) -> str:
    """How a song's tracks are named: by the recorder (``Audio 07``, ``Track 7``, the number
    alone) or named (by slot or as engineers do)."""
    if all(n.isdigit() for n in names):
        return "number alone (07)"
    words = [n.split(" ") for n in names]
    if all(len(w) == 2 and w[0] in ("Audio", "Track") and w[1].isdigit() for w in words):
        padded = any(len(w[1]) == 2 and int(w[1]) < 10 for w in words)
        return "Audio/Track 07" if padded else "Audio/Track 7"
    return "named"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    args = parser.parse_args()
    manifest = load_manifest(args.root)
    songs = [json.loads((args.root / s["annotations"]).read_text()) for s in manifest["songs"]]
    stems = [st for song in songs for st in song["stems"]]
    print(f"{manifest['n_songs']} songs, {manifest['hours']:.2f} h, generator version "
          f"{manifest['version']}, palette {manifest['palette']}, seed {manifest['seed']}\n")
    sources = Counter(st["source"] for st in stems)
    print("**Sound sources** (stems)\n\n| source | stems | share | licence |\n|---|---|---|---|")
    for source, n in sorted(sources.items(), key=lambda kv: -kv[1]):
        print(f"| {source} | {n} | {n / len(stems):.0%} | {source_licence(source)} |")
    print()
    print(table("Meters (songs)", Counter(s.get("time_signature", "4/4") for s in songs), len(songs)))
    bins = Counter(f"{int(s['tempo_bpm'] // 20 * 20)}-{int(s['tempo_bpm'] // 20 * 20 + 19)}"
                   for s in songs)
    print(table("Tempo, BPM (songs)", bins, len(songs), key=lambda kv: int(kv[0].split("-")[0])))
    print(table("Stems per song", Counter(len(s["stems"]) for s in songs), len(songs),
                key=lambda kv: kv[0]))

    def layout(song: dict, instrument: str, split: str, whole: str) -> str:
        """How a song holds ``instrument``: split into pieces or sections, whole, or not."""
        parts = [st for st in song["stems"] if st["instrument"] == instrument]
        if not parts:
            return f"no {instrument}"
        return split if any(st.get("piece") for st in parts) else whole

    print(table("Drum layouts (songs)", Counter(layout(s, "drums", "pieces", "one drum stem")
                                                for s in songs), len(songs)))

    def vocal_layout(song: dict) -> str:
        vocals = [st for st in song["stems"] if st["instrument"] == "vocals"]
        if not vocals:
            return "no vocals"
        backing = sum(st["role"] == "harmony" for st in vocals)
        return f"lead + {backing} backing" if backing else "lead only"

    print(table("Vocal layouts (songs)", Counter(vocal_layout(s) for s in songs), len(songs)))
    print(table("Backing vocal lines (stems)", Counter(st["harmony"] for st in stems
                                                       if st.get("harmony")),
                max(1, sum(bool(st.get("harmony")) for st in stems))))
    print(table("Strings layouts (songs)", Counter(
        layout(s, "strings", "sections", "whole strings stems") for s in songs), len(songs)))
    def synth_layout(song: dict) -> str:
        synths = [st for st in song["stems"] if st["instrument"] == "synth"]
        layers = sum(bool(st.get("layer_of")) for st in synths)
        return "no synth" if not synths else f"synth + {layers} layer(s)" if layers else "no layer"

    print(table("Synth layouts (songs)", Counter(synth_layout(s) for s in songs), len(songs)))
    print(table("Track names (songs)", Counter(name_form([st["name"] for st in s["stems"]])
                                               for s in songs), len(songs)))
    feels = Counter()
    for s in songs:
        feel = s.get("feel") or {}
        feels["swing"] += bool(feel.get("swing"))
        feels["half-time"] += bool(feel.get("half_time"))
        feels["rubato intro"] += bool(feel.get("rubato_intro"))
        feels["drumless"] += feel.get("drums") is False
    print(table("Feels (songs; several per song)", feels, len(songs)))
    print(table("Doubled parts (stems)", Counter(st.get("side") or "single" for st in stems),
                len(stems)))
    plugins = Counter(stage["plugin"] for st in stems for stage in {s["plugin"]: s for s in
                                                                    st["chain"]}.values())
    print(table("Processing: stems with each stage", plugins, len(stems)))


if __name__ == "__main__":
    main()
