"""Structure-analysis accuracy on songs with exact annotations.

Scores tempo Acc1 (4 %) and Acc2, beat and downbeat F-measure (+-70 ms), meter (time signature
right, summarised per annotated meter too), key (MIREX weighted), section
boundaries (F @ 3 s, with and without the first/last boundary) and section labels (frame-wise
accuracy, no target) with
:mod:`mixassist.analysis.structure_eval`, from the stems and from the mix alone, and prints the means
against the issue-7 targets, then how the stems' readings went wrong: songs counted by
annotated meter, the metrical level the tempo was read at
(:func:`~mixassist.analysis.structure_eval.tempo_level`) and the meter read. When ``mir_eval`` is
installed the beat, downbeat, key and boundary scores are recomputed with it as a cross-check.

With ``--separated`` the mix is also separated by the default separator (the bundled compact
model when offline) and its four stems analysed: the path a stereo mix takes in ``mixassist mix``.

Sources (any combination):
  --data DIR      a dataset from ``mixassist data build`` (``DIR/songs/*/song.json`` + stems)
  --synthetic N   N procedural songs of :mod:`mixassist.analysis.synthetic` (random tempo, key,
                  meter), seeded

    .venv/bin/python benchmarks/structure_eval.py --data /tmp/ds --synthetic 8 [--split test]
"""

from __future__ import annotations

import argparse
import collections
import itertools
from pathlib import Path

import numpy as np

from mixassist.analysis.analyze import drum_stems
from mixassist.analysis.network import predict_stems
from mixassist.analysis.structure import analyze_structure
from mixassist.analysis.structure_eval import (TARGETS, dataset_songs, score_song, summarize,
                                                tempo_level)
from mixassist.analysis.synthetic import PITCH_CLASSES, synthetic_song


def synthetic_songs(n: int, seed: int):
    """Yield ``n`` procedural songs with random tempo (70-170 BPM), key and meter (3 or 4)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        tempo = float(rng.uniform(70, 170))
        key = f"{PITCH_CLASSES[rng.integers(12)]} {rng.choice(['major', 'minor'])}"
        meter = int(rng.choice([4, 4, 4, 3]))
        song = synthetic_song(tempo_bpm=tempo, key=key, beats_per_bar=meter, sr=44100,
                              seed=int(rng.integers(1 << 30)))
        ref = {"tempo_bpm": song.tempo_bpm, "beats_s": song.beats_s, "key": song.key,
               "downbeats_s": song.downbeats_s, "sections": song.sections,
               "time_signature": f"{meter}/4"}
        yield f"synth:{i} {tempo:.0f}bpm {meter}/4 {key}", ref, song.stems, song.sr


def mir_eval_check(ref: dict, est) -> dict | None:
    """The same scores computed with mir_eval, or None when it is not installed."""
    try:
        import mir_eval
    except ImportError:
        return None
    trim = mir_eval.beat.trim_beats
    check = {
        "beat_f": mir_eval.beat.f_measure(trim(np.asarray(ref["beats_s"])), trim(np.asarray(est.beats_s))),
        "downbeat_f": mir_eval.beat.f_measure(trim(np.asarray(ref["downbeats_s"])),
                                              trim(np.asarray(est.downbeats_s))),
        "key_score": mir_eval.key.weighted_score(ref["key"], est.key) if est.key else 0.0,
    }
    if ref["sections"]:
        ref_iv = np.array([[s["start_s"], s["end_s"]] for s in ref["sections"]])
        est_iv = np.array([[s.start_s, s.end_s] for s in est.sections])
        check["boundary_f3"] = mir_eval.segment.detection(ref_iv, est_iv, window=3.0)[2]
    return check


def print_means(title: str, scores: list[dict]) -> None:
    """Mean of each metric over ``scores`` against the issue-7 targets."""
    print(f"\n{title}:")
    for k, v in summarize(scores).items():
        n = sum(k in s for s in scores)
        target = TARGETS.get(k)
        verdict = "" if target is None else (" meets" if v >= target else " MISSES") + f" {target}"
        print(f"  {k:<18}{v:.3f}{verdict}" + ("" if n == len(scores) else f"  ({n} songs)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", default=[])
    parser.add_argument("--split", default=None, help="only songs of this split (train/valid/test)")
    parser.add_argument("--synthetic", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-mix", action="store_true", help="skip the mix-alone analysis")
    parser.add_argument("--separated", action="store_true",
                        help="also analyse the stems the default separator (offline: the bundled compact "
                             "model) makes from the mix, as `mixassist mix` does for a stereo file")
    parser.add_argument("--names-only", action="store_true",
                        help="drum stems by their names alone (without the analysis network's "
                             "ear for stems whose names say nothing, as `analyze` has it)")
    args = parser.parse_args()
    net = None
    if not args.names_only:
        from mixassist.analysis.analyze import default_model
        from mixassist.analysis.network import load_model
        net = load_model(default_model())
    separator = None
    if args.separated:
        from mixassist.separation import Separator
        separator = Separator(None)
    # One song's audio in memory at a time (a holdout's stems fill gigabytes).
    songs = itertools.chain((s for root in args.data for s in dataset_songs(root, args.split)),
                            synthetic_songs(args.synthetic, args.seed))
    results = {"stems": [], "separated stems": [], "mix": []}
    checks, kinds, meters = [], [], []
    readings: collections.Counter = collections.Counter()  # (meter, tempo level, meter read)
    for name, ref, stems, sr in songs:
        # Procedural songs have exact annotations; songs from MIDI corpora have no sections and
        # a key estimated from their notes (Krumhansl-Kessler), so they are also summarised apart.
        kinds.append(ref.get("source", "procedural"))
        meters.append(ref.get("time_signature") or "?")
        est = analyze_structure(stems, sr, drums=None if net is None else drum_stems(
            list(stems), {}, predict_stems(net, stems, sr)))
        scores = score_song(ref, est)
        results["stems"].append(scores)
        readings[meters[-1], tempo_level(ref["tempo_bpm"], est.tempo_bpm), est.meter] += 1
        check = mir_eval_check(ref, est)
        if check:
            checks.append(check)
        line = " ".join(f"{k}={v:.3f}" for k, v in scores.items())
        print(f"{name:<40} ref {ref['tempo_bpm']:.1f} est {est.tempo_bpm:.1f} bpm "
              f"(confidence {getattr(est, 'tempo_confidence', float('nan')):.2f}), ref {meters[-1]} est {est.meter}, "
              f"ref {ref['key']!r} est {est.key!r}: {line}")
        mix = np.sum(list(stems.values()), axis=0)
        if separator is not None:
            sep_est = analyze_structure(separator.separate(mix, sr), sr, separated=True)
            results["separated stems"].append(score_song(ref, sep_est))
            line = " ".join(f"{k}={v:.3f}" for k, v in results["separated stems"][-1].items())
            print(f"{'  (separated)':<40} est {sep_est.tempo_bpm:.1f} bpm, est {sep_est.key!r}: {line}")
        if not args.no_mix:
            mix_est = analyze_structure({"mix": mix}, sr)
            results["mix"].append(score_song(ref, mix_est))
            line = " ".join(f"{k}={v:.3f}" for k, v in results["mix"][-1].items())
            print(f"{'  (mix alone)':<40} est {mix_est.tempo_bpm:.1f} bpm, est {mix_est.key!r}: {line}")
    for mode, scores in results.items():
        if not scores:
            continue
        print_means(f"mean over {len(scores)} songs, analysis from the {mode}", scores)
        if len(set(kinds)) > 1:
            for kind in sorted(set(kinds)):
                subset = [s for s, k in zip(scores, kinds) if k == kind]
                print_means(f"  ... {kind} songs only ({len(subset)}), from the {mode}", subset)
        if len(set(meters)) > 1:
            for meter in sorted(set(meters)):
                subset = [s for s, m in zip(scores, meters) if m == meter]
                print_means(f"  ... {meter} songs only ({len(subset)}), from the {mode}", subset)
    print("\nreadings from the stems (annotated meter, tempo read at that level of the annotated "
          "one, meter read):")
    for (meter, level, read), n in readings.most_common():
        print(f"  {n:4d}  {meter:5s} at {level:5s} read {read}")
    if checks:
        print("\nmir_eval cross-check (stems):",
              " ".join(f"{k}={v:.3f}" for k, v in summarize(checks).items()))


if __name__ == "__main__":
    main()
