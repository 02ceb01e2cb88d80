"""Data generator speed and acceptance figures: ``mixassist data build`` on this machine.

Builds ``--hours`` of songs into an empty ``--out`` with ``--jobs`` workers and prints audio-hours
per wall-hour (the real-time factor of the whole build) and per CPU-hour (user + system time of
this process and its workers: the figure that does not depend on other load on the machine;
wall-hours can be predicted as CPU-hours / min(jobs, free cores)), then checks the built dataset: total
hours, fraction of songs with vocals, label histograms, mixture == sum of stored stems (worst
error in dB), and that rebuilding a few songs from the same seed gives byte-identical files.

    .venv/bin/python benchmarks/data_build_speed.py --hours 1 --jobs 2 --out /work/data_gen/ds1 \
        [--generator 3 --sources training-v3]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from mixassist.datasets.build import DEFAULT_GENERATOR, build_dataset, build_song, plan_songs


def sum_error_db(root: Path, song: dict) -> float:
    mix = sf.read(root / song["mixture"], dtype="float64")[0]
    total = sum(sf.read(root / song["folder"] / s["file"], dtype="float64")[0] for s in song["stems"])
    return float(10 * np.log10((np.sum((mix - total) ** 2) + 1e-30) / np.sum(mix ** 2)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--generator", type=int, default=DEFAULT_GENERATOR, help="generator version (2 or 3)")
    ap.add_argument("--sources", default=None, help="palette, as for `data build` (default: the generator's)")
    ap.add_argument("--recheck-songs", type=int, default=2, help="songs rebuilt to check determinism")
    args = ap.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        sys.exit(f"{args.out}: not empty; the benchmark times a fresh build")

    def cpu_s() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    t0, c0 = time.perf_counter(), cpu_s()
    manifest = build_dataset(args.out, hours=args.hours, seed=args.seed, jobs=args.jobs,
                             sources=args.sources, generator=args.generator)
    wall_s, build_cpu_s = time.perf_counter() - t0, cpu_s() - c0
    audio_h = manifest["hours"]
    print(f"built {manifest['n_songs']} songs, {audio_h:.3f} audio-hours in {wall_s / 60:.1f} min "
          f"with --jobs {args.jobs}")
    print(f"audio-hours per wall-hour: {audio_h / (wall_s / 3600):.2f} "
          f"({audio_h / (wall_s / 3600) / args.jobs:.2f} per job)")
    print(f"audio-hours per CPU-hour: {audio_h / (build_cpu_s / 3600):.2f} (CPU {build_cpu_s / 60:.1f} min; "
          f"on {args.jobs} free cores the build would take {build_cpu_s / args.jobs / 60:.1f} min)")
    print(f"sources: { {s: sum(x['source'] == s for x in manifest['songs']) for s in {x['source'] for x in manifest['songs']}} }")
    stems = [st for song in manifest["songs"] for st in song["stems"]]
    per_source = {src: sum(st["source"] == src for st in stems) for src in sorted({st["source"] for st in stems})}
    print(f"stems per sound source: {per_source}")
    print(f"splits: {manifest['splits']}; songs with vocals: {manifest['vocal_fraction']:.1%}")
    for key, hist in manifest["histogram"].items():
        print(f"{key} histogram: {hist}  (all covered: {all(v > 0 for v in hist.values())})")

    t1 = time.perf_counter()
    worst = max(sum_error_db(args.out, s) for s in manifest["songs"])
    print(f"mixture vs sum of stored stems, worst song: {worst:.1f} dB ({time.perf_counter() - t1:.0f} s to check)")

    plans = plan_songs(hours=args.hours, seed=args.seed, sources=args.sources,
                       generator=args.generator)[:args.recheck_songs]
    identical = True
    with tempfile.TemporaryDirectory(dir=args.out.parent) as tmp:
        for plan in plans:
            build_song(plan, tmp)
            a, b = args.out / "songs" / plan.song_id, Path(tmp) / "songs" / plan.song_id
            for f in sorted(a.rglob("*.flac")):
                identical &= f.read_bytes() == (b / f.relative_to(a)).read_bytes()
    print(f"rebuild of {len(plans)} songs from the same seed byte-identical: {identical}")
    (args.out / "benchmark.json").write_text(json.dumps({
        "hours": audio_h, "wall_s": wall_s, "cpu_s": build_cpu_s, "jobs": args.jobs, "audio_hours_per_wall_hour": audio_h / (wall_s / 3600),
        "vocal_fraction": manifest["vocal_fraction"], "worst_sum_error_db": worst, "identical_rebuild": identical,
        "histogram": manifest["histogram"]}, indent=1))


if __name__ == "__main__":
    main()
