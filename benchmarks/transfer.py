"""Transfer: every shipped model on generated songs of held-out sound sources, next to the same
figures on in-distribution songs, as one table.

Two fresh datasets of ``mixassist data build`` (built here when their folder has no manifest;
seeds no shipped model was trained on, so every song is held out):

- **in-distribution**: the ``training`` palette (the soundfonts, kits and voice the models heard);
- **held-out sources**: ``--held-out-sources`` (default the ``held-out`` palette: OPL3_FM and
  csound_GM with their own drum kits; any one source or list works) — sounds never heard in
  training. The singing voice is the same in both (there is no second voice yet).

Figures per dataset: analysis network instrument and role accuracy (confusion matrices printed),
level restoration after +-9 dB per stem against "no change" and "equal loudness", overall and per
instrument family; separator SDR per stem (``--excerpt-s`` from the middle of each song) against the
DSP baseline; structure tempo Acc1/Acc2, beat F, downbeat F and key from the stems; and the
plan's balance restoration (the real-music benchmark's test on the true stems of a 45-s excerpt,
handed over as a stem folder: +-6 dB per stem, two trials per song, MAE against "no change" and
"equal loudness").

    .venv/bin/python benchmarks/transfer.py --in-dist /work/transfer/in_dist --held-out /work/transfer/held_out
        [--hours 0.3] [--held-out-sources held-out] [--excerpt-s 60] [--jobs 2] [--json out.json]

One source held out (generator v3, e.g. the FM synthesis voice): ``--generator 3
--in-dist-sources FluidR3_GM,TimGM6mb,AVL_BlackPearl,AVL_RedZeppelin,mixassist-synth:subtractive,...``
(every training-v3 source but it) ``--held-out-sources FluidR3_GM,mixassist-synth:fm``; the report
lists each set's sources (stems per source).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from mixassist import MixAssistant
from mixassist.analysis.analyze import DEFAULT_MODEL
from mixassist.analysis.evaluate import evaluate_network
from mixassist.analysis.analyze import drum_stems
from mixassist.analysis.network import load_model, predict_stems
from mixassist.analysis.structure import analyze_structure
from mixassist.analysis.structure_eval import dataset_songs, score_song, summarize
from mixassist.analysis.train import cache_mels
from mixassist.datasets import build_dataset
from mixassist.datasets.sources import palette
from mixassist.evaluation import ESTIMATES, SILENT_LUFS, restore_balance, summarise_errors
from mixassist.loudness import integrated_loudness
from mixassist.separation.dsp_baseline import dsp_separate
from mixassist.separation.evaluate import evaluate as separation_sdr
from mixassist.separation.evaluate import model_separator
from mixassist.utils.atomic import write_text_atomic
from mixassist.vocab import INSTRUMENTS, STEM_GROUPS

STRUCTURE = ("tempo_acc1", "tempo_acc2", "beat_f", "downbeat_f", "key_score")


def dataset(root: Path, *, sources: str, hours: float, seed: int, jobs: int,
            generator: int = 2) -> dict:
    """The manifest of ``root``, built first (resumably) when it has none."""
    if not (root / "manifest.json").is_file():
        print(f"building {hours} h of songs with sources {sources!r} (generator {generator}) "
              f"into {root} ...", flush=True)
        build_dataset(root, hours=hours, seed=seed, jobs=jobs, sources=sources,
                      generator=generator)
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))


def source_counts(root: Path) -> dict[str, int]:
    """Stems per sound source of a dataset (``song.json`` ``stems[].source``)."""
    counts = Counter()
    for meta in sorted(root.glob("songs/*/song.json")):
        counts.update(s.get("source", s.get("soundfont")) for s in json.loads(meta.read_text())["stems"])
    return dict(sorted(counts.items()))


def figures(root: Path, *, model, excerpt_s: float, trials: int) -> dict:
    """Every figure of one dataset (all its songs)."""
    out = {"sources": source_counts(root)}
    t = time.perf_counter()
    cache = cache_mels(root, root / "analysis_cache")
    out["analysis"] = evaluate_network(model, cache, split=None, perturb_db=9.0, trials=trials)
    t_analysis, t = time.perf_counter() - t, time.perf_counter()
    out["separation"] = {"model": separation_sdr(model_separator(), [root], split=None, excerpt_s=excerpt_s),
                         "dsp": separation_sdr(dsp_separate, [root], split=None, excerpt_s=excerpt_s)}
    t_separation, t = time.perf_counter() - t, time.perf_counter()
    scores = []
    for _, ref, stems, sr in dataset_songs(root):  # drum stems as `analyze` finds them
        drums = drum_stems(list(stems), {}, predict_stems(model, stems, sr))
        scores.append(score_song(ref, analyze_structure(stems, sr, drums=drums)))
    out["structure"] = summarize(scores) | {"songs": len(scores)}
    t_structure, t = time.perf_counter() - t, time.perf_counter()
    out["plan_restoration"] = plan_restoration(root, trials=2)
    out["seconds"] = {"analysis": t_analysis, "separation": t_separation, "structure": t_structure,
                      "plan": time.perf_counter() - t}
    return out


def plan_restoration(root: Path, *, trials: int, excerpt_s: float = 45.0) -> dict:
    """Restoration MAE of the plan, "no change" and "equal loudness" on every song's true stems
    (an ``excerpt_s`` excerpt from the middle; stems silent there are left out)."""
    assistant = MixAssistant(device="cpu", cache=False)
    rng = np.random.default_rng(0)
    errors_by = {k: [] for k in ESTIMATES}
    with tempfile.TemporaryDirectory(prefix="mixassist-transfer-") as tmp:
        for i, (_, _, stems, sr) in enumerate(dataset_songs(root)):
            n = int(excerpt_s * sr)
            start = max(0, (next(iter(stems.values())).shape[1] - n) // 2)
            cut = {k: np.ascontiguousarray(v[:, start:start + n]) for k, v in stems.items()}
            cut = {k: v for k, v in cut.items() if integrated_loudness(v, sr) > SILENT_LUFS}
            if len(cut) < 2:
                continue
            work = Path(tmp) / f"{i:04d}"
            work.mkdir()
            errors, _, _ = restore_balance(cut, sr, work=work, trials=trials, rng=rng, assistant=assistant)
            for k in ESTIMATES:
                errors_by[k] += errors[k]
    return {k: summarise_errors(v) for k, v in errors_by.items()}


def rows(results: dict[str, dict]) -> list[tuple[str, list[str]]]:
    """The table: one row per figure, one column per dataset."""
    def cells(fn):
        return [fn(r) for r in results.values()]

    def level(name):
        return lambda r: f"{r['analysis']['levels'][name]['mae_db']:.2f}"

    table = [("songs / stems", cells(lambda r: f"{len(r['analysis']['songs'])} / {r['analysis']['stems']}")),
             ("instrument accuracy", cells(lambda r: f"{r['analysis']['network']['instrument']['accuracy']:.1%}")),
             ("role accuracy", cells(lambda r: f"{r['analysis']['network']['role']['accuracy']:.1%}")),
             ("level MAE +-9 dB: network", cells(level("network"))),
             ("  no change", cells(level("no_change"))),
             ("  equal loudness", cells(level("equal_loudness")))]
    for stem in STEM_GROUPS:
        table.append((f"SDR {stem}: model / DSP", cells(
            lambda r, s=stem: f"{r['separation']['model']['stems'][s]['mean']:.2f} / "
                              f"{r['separation']['dsp']['stems'][s]['mean']:.2f}")))
    table.append(("SDR mean of stems: model / DSP", cells(
        lambda r: f"{r['separation']['model']['mean_sdr']:.2f} / {r['separation']['dsp']['mean_sdr']:.2f}")))
    for key in STRUCTURE:
        table.append((key, cells(lambda r, k=key: f"{r['structure'][k]:.3f}")))
    table.append(("plan restoration +-6 dB: plan / no change / equal loudness", cells(
        lambda r: " / ".join(f"{r['plan_restoration'][k]['mae_db']:.2f}" for k in ESTIMATES))))
    return table


def print_report(results: dict[str, dict]) -> None:
    for name, r in results.items():
        print(f"\n== {name}: sources (stems) {r['sources']}")
        confusion = r["analysis"]["network"]["instrument"]["confusion"]
        short = [v[:5] for v in INSTRUMENTS]
        print("  instrument confusion (rows truth, cols prediction): " + " ".join(f"{s:>5}" for s in short))
        for v, row in zip(short, confusion):
            if sum(row):
                print(f"    {v:>5} " + " ".join(f"{x:5d}" for x in row))
        per = r["analysis"]["levels"]
        fams = per["network"]["per_instrument"]
        print("  level MAE per family, network / no change / equal loudness: " + "; ".join(
            f"{f} {fams[f]:.2f}/{per['no_change']['per_instrument'][f]:.2f}/"
            f"{per['equal_loudness']['per_instrument'][f]:.2f}" for f in fams))
        print(f"  seconds: {', '.join(f'{k} {v:.0f}' for k, v in r['seconds'].items())}")
    names = list(results)
    lines = rows(results)
    width = max(len(label) for label, _ in lines)
    print(f"\n{'figure':<{width}}  " + "  ".join(f"{n:>22}" for n in names))
    for label, values in lines:
        print(f"{label:<{width}}  " + "  ".join(f"{v:>22}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-dist", type=Path, required=True, help="dataset folder (built when empty)")
    parser.add_argument("--held-out", type=Path, required=True, help="dataset folder (built when empty)")
    parser.add_argument("--held-out-sources", default="held-out",
                        help="palette or comma-separated sources of the held-out set")
    parser.add_argument("--in-dist-sources", default="training",
                        help="palette or comma-separated sources of the in-distribution set (to "
                             "hold out one source: every training source but that one)")
    parser.add_argument("--generator", type=int, default=2, help="generator version of both sets")
    parser.add_argument("--hours", type=float, default=0.3, help="hours of each dataset when built")
    parser.add_argument("--seed", type=int, default=1300, help="in-dist seed; held-out uses seed + 1")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--excerpt-s", type=float, default=60.0, help="separation excerpt per song")
    parser.add_argument("--trials", type=int, default=10, help="level perturbations per song")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="analysis network")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    model = load_model(args.model)
    results = {}
    for name, root, sources, seed in (("in-distribution", args.in_dist, args.in_dist_sources,
                                       args.seed),
                                      (f"held-out ({args.held_out_sources})", args.held_out,
                                       args.held_out_sources, args.seed + 1)):
        manifest = dataset(root, sources=sources, hours=args.hours, seed=seed, jobs=args.jobs,
                           generator=args.generator)
        if manifest.get("palette", "training") != palette(sources).name:
            raise SystemExit(f"{root}: built with sources {manifest.get('palette', 'training')!r}, "
                             f"not {sources!r}; use another folder")
        results[name] = figures(root, model=model, excerpt_s=args.excerpt_s, trials=args.trials)
    print_report(results)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.json:
        write_text_atomic(args.json, json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
