"""Peak memory of streaming separation: a 5-min vs a 60-min input, same small model.

Each measurement runs in a fresh process that separates a file on disk into stems on disk and
reports its peak resident set (VmHWM). For scale, plain ``apply_model`` on the 5-min input is
measured too. Targets: 60-min peak <= 1.3x the 5-min peak, and <= 2 GB.

    .venv/bin/python benchmarks/separation_memory.py [--minutes 5 60] [--workdir DIR]

Needs about 2 GB of disk per input hour (16-bit input, float32 stems; removed afterwards).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    from mixassist.separation import Separator
    from mixassist.separation.testing import tiny_htdemucs
    model = tiny_htdemucs(segment_s=7.8)
    start = time.perf_counter()
    if mode == "engine":
        Separator(model, device="cpu", shifts=0).separate_file(path, out)
    else:
        import torch
        from demucs.apply import apply_model
        from mixassist.audio import load_audio
        audio, sr = load_audio(path)
        with torch.no_grad():
            apply_model(model, torch.from_numpy(audio)[None], shifts=0, split=True)
    elapsed = time.perf_counter() - start
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
                   if line.startswith("VmHWM"))
    print(json.dumps({"peak_mb": peak_kb / 1024, "seconds": elapsed}))
""")


def make_input(path: Path, minutes: float) -> None:
    """Write a 16-bit stereo noise-and-tones WAV of ``minutes`` block by block."""
    import numpy as np
    import soundfile as sf

    sr, block = 44100, 44100 * 10
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        for start in range(0, int(minutes * 60 * sr), block):
            t = (start + np.arange(block)) / sr
            x = 0.05 * rng.standard_normal((block, 2)) + 0.2 * np.sin(2 * np.pi * 110 * t)[:, None]
            f.write(x.astype(np.float32))


def measure(mode: str, path: Path, out: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(out)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs=2, default=[5.0, 60.0])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.workdir, prefix="sepmem-"))
    try:
        rows = []
        short, long = args.minutes
        for minutes in (short, long):
            wav = work / f"in_{minutes:g}min.wav"
            t0 = time.perf_counter()
            make_input(wav, minutes)
            print(f"wrote {minutes:g}-min input in {time.perf_counter() - t0:.0f} s", flush=True)
            res = measure("engine", wav, work / f"out_{minutes:g}")
            rows.append((minutes, res))
            print(f"engine, {minutes:g} min: peak {res['peak_mb']:.0f} MB, "
                  f"{res['seconds']:.0f} s", flush=True)
            shutil.rmtree(work / f"out_{minutes:g}", ignore_errors=True)
            if minutes == short:
                plain = measure("apply_model", wav, work / "unused")
                print(f"plain apply_model, {minutes:g} min: peak {plain['peak_mb']:.0f} MB", flush=True)
            wav.unlink()
        (m1, r1), (m2, r2) = rows
        print(f"peak ratio {m2:g} min / {m1:g} min: {r2['peak_mb'] / r1['peak_mb']:.3f} "
              f"(target <= 1.3); {m2:g}-min peak {r2['peak_mb']:.0f} MB (target <= 2048 MB)")
        print(f"plain apply_model / engine at {m1:g} min: {plain['peak_mb'] / r1['peak_mb']:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
