"""Mixing toward a reference, on generated songs whose reference balance is known.

For each song of a generated set (``mixassist data build``; its stems are at the song's
reference balance and ``mixture.flac`` is their sum), the song is spoiled — every stem moved by
U(-6, +6) dB and tilted by a low shelf (200 Hz) and a high shelf (3 kHz) of U(-4, +4) dB each —
and mixed with ``mix --reference`` toward its own reference mix, two ways:

- **stems**: the spoiled stems as a folder, the reference as the folder of its true stems (the
  acceptance case of the issue: one session, stems named alike): balance error per stem, MAE of
  its level re the mix against the reference's, processed vs spoiled ("no change");
- **separated**: the spoiled mixture and the reference mixture as song files, both separated
  (the user's case: two finished songs): balance error per stem group, the plan's gain against
  the gain that undoes the group's perturbation (true stems; both centred on their mean).

Both: tonal distance of the output mix to the reference mix (octave bands 63 Hz-8 kHz, shape only,
:func:`mixassist.evaluation.tonal_distance_db`) against the spoiled mix's.

    .venv/bin/python benchmarks/reference_matching.py --data DIR [--songs 8] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pedalboard

from mixassist import MixAssistant, load_audio, save_audio
from mixassist.evaluation import tonal_distance_db
from mixassist.loudness import integrated_loudness

GROUPS = ("drums", "bass", "other", "vocals")


def spoil(stems: dict[str, np.ndarray], sr: int, rng: np.random.Generator
          ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The stems moved by U(-6, 6) dB and shelf-tilted; and the moves (dB)."""
    out, moves = {}, {}
    for name, audio in stems.items():
        moves[name] = float(rng.uniform(-6, 6))
        tilt = pedalboard.Pedalboard([
            pedalboard.LowShelfFilter(cutoff_frequency_hz=200, gain_db=float(rng.uniform(-4, 4))),
            pedalboard.HighShelfFilter(cutoff_frequency_hz=3000, gain_db=float(rng.uniform(-4, 4)))])
        out[name] = tilt(audio * np.float32(10 ** (moves[name] / 20)), sr)
    return out, moves


def levels(stems: dict[str, np.ndarray], sr: int) -> dict[str, float]:
    """Loudness of each stem re their sum (LU); silent stems left out."""
    mix = integrated_loudness(sum(stems.values()), sr)
    out = {n: integrated_loudness(a, sr) - mix for n, a in stems.items()}
    return {n: v for n, v in out.items() if np.isfinite(v)}


def centred_mae(a: dict[str, float], b: dict[str, float]) -> float:
    """MAE of ``a - b`` over their common keys, less its mean (only the balance counts)."""
    keys = sorted(set(a) & set(b))
    diff = np.array([a[k] - b[k] for k in keys])
    return float(np.mean(np.abs(diff - diff.mean())))


def grouped(stems: dict[str, np.ndarray], groups: dict[str, str]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, audio in stems.items():
        g = groups[name]
        out[g] = out[g] + audio if g in out else audio.copy()
    return out


def run_song(folder: Path, work: Path, rng: np.random.Generator) -> dict:
    info = json.loads((folder / "song.json").read_text())
    stems = {s["name"]: load_audio(folder / "stems" / f"{s['name']}.flac")[0] for s in info["stems"]}
    groups = {s["name"]: s["group"] for s in info["stems"]}
    sr = info["sample_rate"]
    spoiled, _ = spoil(stems, sr, rng)
    (work / "ref").mkdir(parents=True)
    (work / "song").mkdir()
    for name, audio in stems.items():
        save_audio(work / "ref" / f"{name}.wav", audio, sr)
        save_audio(work / "song" / f"{name}.wav", spoiled[name], sr)
    reference_mix = sum(stems.values())
    spoiled_mix = sum(spoiled.values())
    save_audio(work / "ref.wav", reference_mix, sr)
    save_audio(work / "song.wav", spoiled_mix, sr)
    row = {"song": folder.name, "tonal_in": tonal_distance_db(reference_mix, spoiled_mix, sr)}

    start = time.perf_counter()
    result = MixAssistant(cache=False, references=(str(work / "ref"),)).process(work / "song")
    row["stems_time_s"] = time.perf_counter() - start
    want = levels(stems, sr)
    row["stems_mae"] = centred_mae(levels(result.stems, sr), want)
    row["stems_mae_no_change"] = centred_mae(levels(spoiled, sr), want)
    row["stems_tonal_out"] = tonal_distance_db(reference_mix, result.mix, sr)

    start = time.perf_counter()
    result = MixAssistant(cache=False, references=(str(work / "ref.wav"),)).process(
        work / "song.wav")
    row["separated_time_s"] = time.perf_counter() - start
    true_in, true_ref = levels(grouped(spoiled, groups), sr), levels(grouped(stems, groups), sr)
    undo = {g: true_ref[g] - true_in[g] for g in true_in if g in true_ref}
    gains = {g: result.plan.stems[g].gain_db for g in undo if g in result.plan.stems
             and not result.analysis.stem(g).extra.get("leakage")}
    balanced = len(gains) >= 2  # one stem group (a quartet is all `other`): no balance to undo
    row["separated_mae"] = centred_mae(gains, undo) if balanced else None
    row["separated_mae_no_change"] = centred_mae({g: 0.0 for g in gains}, undo) if balanced \
        else None
    row["separated_tonal_out"] = tonal_distance_db(reference_mix, result.mix, sr)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--songs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folders = sorted(p for p in (args.data / "songs").iterdir() if p.is_dir())[:args.songs]
    rng = np.random.default_rng(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, folder in enumerate(folders):
            rows.append(run_song(folder, Path(tmp) / str(k), rng))
            r = rows[-1]
            separated = ("one stem group" if r["separated_mae"] is None else
                         f"{r['separated_mae']:.2f} (no change {r['separated_mae_no_change']:.2f})")
            print(f"{r['song']}: stems MAE {r['stems_mae']:.2f} (no change "
                  f"{r['stems_mae_no_change']:.2f}) tonal {r['tonal_in']:.2f} -> "
                  f"{r['stems_tonal_out']:.2f}; separated MAE {separated} tonal -> "
                  f"{r['separated_tonal_out']:.2f}", flush=True)
    print(f"\n{len(rows)} songs, seed {args.seed}")
    print("| input, reference | balance MAE (dB) | no change | songs | tonal distance in -> out "
          "(dB) | out / in | s per song |")
    print("|---|---|---|---|---|---|---|")
    for mode, label in (("stems", "stem folders (true stems)"),
                        ("separated", "song files (both separated)")):
        tonal = np.mean([r[f"{mode}_tonal_out"] for r in rows])
        tonal_in = np.mean([r["tonal_in"] for r in rows])
        scored = [r for r in rows if r[f"{mode}_mae"] is not None]
        print(f"| {label} | {np.mean([r[f'{mode}_mae'] for r in scored]):.2f} | "
              f"{np.mean([r[f'{mode}_mae_no_change'] for r in scored]):.2f} | {len(scored)} | "
              f"{tonal_in:.2f} -> {tonal:.2f} | "
              f"{np.median([r[f'{mode}_tonal_out'] / r['tonal_in'] for r in rows]):.2f} (median) | "
              f"{np.mean([r[f'{mode}_time_s'] for r in rows]):.1f} |")


if __name__ == "__main__":
    main()
