"""Rebuild the bundled demo song ``data/demo/``: one procedural song from the data generator,
35-50 s with vocals, its stems deliberately unbalanced (a rough mix for the assistant to fix).

    .venv/bin/python scripts/make_demo.py [--seed 3]

Deterministic for a given seed. Stems are written as 16-bit FLAC to keep the repository light.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from mixassist.audio import load_audio, save_audio
from mixassist.datasets import build_dataset

#: Gain (dB) applied to each stem's reference level: the faults a rough mix typically has.
ROUGH_BALANCE_DB = {"vocals": -8.0, "bass": +5.0, "drums": -3.0, "other": +3.0}
OUT = Path(__file__).resolve().parents[1] / "data" / "demo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = build_dataset(tmp, hours=40 / 3600, seed=args.seed, corpus_fraction=0.0,
                                 min_duration_s=35.0, max_duration_s=50.0, generator=2)
        song = manifest["songs"][0]
        groups = {stem["group"] for stem in song["stems"]}
        if "vocals" not in groups:
            raise SystemExit(f"seed {args.seed}: the song has no vocals; try another seed")
        folder = Path(tmp) / song["folder"]
        stems: dict[str, np.ndarray] = {}
        for stem in song["stems"]:
            audio, sr = load_audio(folder / stem["file"])
            gain = 10 ** (ROUGH_BALANCE_DB.get(stem["group"], 0.0) / 20)
            stems[stem["name"]] = audio * gain
        peak = max(float(np.abs(sum(stems.values())).max()), 1e-9)
        scale = 0.5 / peak  # a rough mix peaking at -6 dBFS
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir(parents=True)
        for name, audio in stems.items():
            save_audio(OUT / f"{name}.flac", audio * scale, sr, subtype="PCM_16")
        info = {"source": "mixassist data generator (procedural song)", "seed": args.seed,
                "duration_s": song["duration_s"], "tempo_bpm": song.get("tempo_bpm"),
                "key": song.get("key"), "rough_balance_db": ROUGH_BALANCE_DB,
                "stems": [{k: s.get(k) for k in ("name", "instrument", "role", "group")}
                          for s in song["stems"]],
                "licence": "GPL-3.0-or-later (composition and rendering by mixassist); "
                           "sounds: FluidR3 GM (MIT), TimGM6mb (GPL-2), AVL drums (CC-BY-SA-3.0), "
                           "pysinsy voice (CC-BY-3.0)"}
        (OUT.parent / "demo.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"demo: {len(stems)} stems, {song['duration_s']:.1f} s -> {OUT}")


if __name__ == "__main__":
    main()
