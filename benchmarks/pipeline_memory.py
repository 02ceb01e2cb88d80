"""Peak memory and speed of ``mix`` end to end on long inputs, side by side in one run.

Each input is the bundled demo's mix (``data/demo``, 40 s) repeated to the length asked for,
written block by block as a 16-bit stereo 44.1 kHz WAV. Every measurement runs in a fresh
process that calls ``MixAssistant(cache=False).process(song, out_dir=...)`` with the bundled
models (separation, analysis, plan, render, mastering and every output) and reports its peak
resident set (VmHWM) and wall time. Printed as ratios to the shortest input. Targets (issue 20):
the 60-min peak <= 3 GB and <= 1.5x the 5-min peak; wall time per audio minute within 1.2x of
the 5-min input's; a 3-min song >= 8x faster than real time.

    .venv/bin/python benchmarks/pipeline_memory.py [--minutes 5 30 60] [--speed-minutes 3]
        [--workdir DIR]

Needs about 1.2 GB of free disk per input hour for the input and ~8 GB per hour while a job
runs (its temporary stems and outputs; removed afterwards).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import json, sys, time
    start = time.perf_counter()
    from mixassist.assistant import MixAssistant
    result = MixAssistant(cache=False).process(sys.argv[1], out_dir=sys.argv[2])
    elapsed = time.perf_counter() - start
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
                   if line.startswith("VmHWM"))
    print(json.dumps({"peak_mb": peak_kb / 1024, "seconds": elapsed,
                      "lufs": result.output_loudness["integrated_lufs"]}))
""")


def make_input(path: Path, minutes: float) -> None:
    """The demo's mix repeated to ``minutes``, written block by block (16-bit WAV)."""
    import numpy as np
    import soundfile as sf

    from mixassist.audio.stems import load_stems, mixdown

    stems, sr = load_stems(Path(__file__).resolve().parents[1] / "data" / "demo")
    loop = mixdown(stems).T
    total = int(minutes * 60 * sr)
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        written = 0
        while written < total:
            block = loop[:total - written]
            f.write(np.clip(block, -1, 1))
            written += len(block)


def measure(path: Path, out: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), str(out)],
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"mix failed on {path.name}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[5.0, 30.0, 60.0])
    parser.add_argument("--speed-minutes", type=float, default=3.0,
                        help="length of the song timed against real time (0: skip)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.workdir, prefix="pipemem-"))
    rows = []
    try:
        lengths = ([args.speed_minutes] if args.speed_minutes else []) + list(args.minutes)
        for minutes in lengths:
            wav = work / f"song_{minutes:g}min.wav"
            make_input(wav, minutes)
            res = measure(wav, work / f"out_{minutes:g}")
            rows.append((minutes, res))
            print(f"{minutes:5g} min: peak {res['peak_mb']:6.0f} MB, {res['seconds']:6.1f} s "
                  f"({minutes * 60 / res['seconds']:.1f}x real time), "
                  f"{res['lufs']:.2f} LUFS", flush=True)
            shutil.rmtree(work / f"out_{minutes:g}", ignore_errors=True)
            wav.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.speed_minutes:
        minutes, res = rows.pop(0)
        print(f"speed: {minutes:g}-min song at {minutes * 60 / res['seconds']:.1f}x real time "
              "(target >= 8x)")
    if len(rows) >= 2:
        (m0, r0), *rest = rows
        per_min0 = r0["seconds"] / m0
        for m, r in rest:
            print(f"{m:g} min vs {m0:g} min: peak {r['peak_mb'] / r0['peak_mb']:.2f}x "
                  f"(target <= 1.5x; {r['peak_mb'] / 1024:.2f} GB, target <= 3 GB), "
                  f"time per audio minute {r['seconds'] / m / per_min0:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
