"""Separation quality on held-out generated songs: model vs DSP baseline vs "all in other".

SDR per stem (Music Demixing Challenge definition, ``mixassist.separation.metrics``), median and
mean over the ``test`` songs of the given datasets, every method on the same songs/excerpts in one
run, then the issue's acceptance checks (mean SDR over the 4 stems >= 5 dB, every stem >= 2 dB,
>= 2 dB above the DSP baseline on average; "mean" = mean over stems of the per-stem means).

    .venv/bin/python benchmarks/separation_eval.py --data /work/data_gen/ds1 --data /work/data_gen/ds2 \
        [--model mixassist-compact] [--excerpt-s 30] [--no-dsp] [--load earlier.json] [-o out.json]

``--load`` adds methods from an earlier ``-o`` file (same data, split and excerpts, which the
script checks), so the slow DSP baseline need not be recomputed on every model.
"""

from __future__ import annotations

import argparse
import json
import time

from mixassist.separation.dsp_baseline import dsp_separate
from mixassist.separation.evaluate import all_in_other, evaluate, format_table, model_separator
from mixassist.utils.atomic import write_text_atomic
from mixassist.vocab import STEM_GROUPS


def acceptance(model: dict, dsp: dict) -> list[tuple[str, bool]]:
    """The issue's three acceptance checks for ``model`` against ``dsp`` (evaluate() results)."""
    means = {s: model["stems"][s]["mean"] for s in STEM_GROUPS}
    return [(f"mean SDR over stems {model['mean_sdr']:.2f} dB >= 5 dB", model["mean_sdr"] >= 5.0),
            (f"every stem >= 2 dB (lowest {min(means, key=means.get)} {min(means.values()):.2f} dB)",
             min(means.values()) >= 2.0),
            (f"{model['mean_sdr'] - dsp['mean_sdr']:+.2f} dB vs DSP baseline, >= +2 dB",
             model["mean_sdr"] - dsp["mean_sdr"] >= 2.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True)
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--split", default="test", help="a split name, or 'all' for every song "
                        "(for sets no model was trained or tuned on)")
    parser.add_argument("--excerpt-s", type=float, default=None)
    parser.add_argument("--no-dsp", action="store_true")
    parser.add_argument("--load", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("-o", "--output", default=None)
    args = parser.parse_args()
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    split = None if args.split == "all" else args.split
    setup = {"data": args.data, "split": args.split, "excerpt_s": args.excerpt_s}
    results, seconds = {}, {}
    if args.load:
        loaded = json.loads(open(args.load, encoding="utf-8").read())
        if loaded.get("setup") != setup:
            raise SystemExit(f"{args.load}: made with {loaded.get('setup')}, not {setup}")
        results.update(loaded["results"])
    methods = {"all-in-other": all_in_other}
    if not args.no_dsp:
        methods["dsp-baseline"] = dsp_separate
    for spec in args.model:
        methods[spec] = model_separator(spec, shifts=0)
    for name, fn in methods.items():
        start = time.perf_counter()
        results[name] = evaluate(fn, args.data, split=split, excerpt_s=args.excerpt_s)
        seconds[name] = time.perf_counter() - start
    songs = len(next(iter(results.values()))["songs"])
    print(f"SDR (MDX definition, dB) on {songs} {'' if split is None else repr(split) + ' '}songs "
          f"({'whole songs' if args.excerpt_s is None else f'{args.excerpt_s:g}-s middle excerpts'}); "
          "median over songs (mean); 'average' = over the 4 stems")
    print(format_table(results))
    for name, s in seconds.items():
        print(f"time {name}: {s:.1f} s")
    if "dsp-baseline" in results:
        for spec in args.model:
            for text, ok in acceptance(results[spec], results["dsp-baseline"]):
                print(f"{spec}: {'PASS' if ok else 'FAIL'} {text}")
    if args.output:
        write_text_atomic(args.output, json.dumps({"setup": setup, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
