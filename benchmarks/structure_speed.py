"""Structure-analysis speed: a 3-minute procedural song (4 stereo stems at 44.1 kHz).

Prints the analysis time and real-time factor (audio seconds per wall second) of analysing the
song from its stems, from its mix alone, and of applying a radio edit to the stems, measured side
by side in one run. The first call also compiles librosa's numba kernels; it is timed separately
("cold") and the figures that follow are the best of ``--repeats`` warm runs. Target: >= 20x.

    .venv/bin/python benchmarks/structure_speed.py [--minutes 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

from mixassist.analysis.structure import analyze_structure
from mixassist.rendering.edits import apply_edits
from mixassist.planning.arrangement import plan_arrangement
from mixassist.analysis.synthetic import synthetic_song

SR = 44_100


def _form(minutes: float):
    """A verse/chorus form stretched to about ``minutes`` at 120 BPM (0.5 min per 15 bars)."""
    unit = (("verse", 8), ("pre-chorus", 4), ("chorus", 8))
    bars = int(minutes * 30)
    form, used = [("intro", 4)], 4
    while used + 20 + 4 <= bars:
        form += list(unit)
        used += 20
    return tuple(form + [("outro", 4)])


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    song = synthetic_song(tempo_bpm=120.0, key="A minor", form=_form(args.minutes), sr=SR, seed=0)
    duration = song.stems["drums"].shape[1] / SR
    mix = {"mix": song.mix}

    t0 = time.perf_counter()
    structure = analyze_structure(song.stems, SR)
    cold = time.perf_counter() - t0
    stems_s = _best(lambda: analyze_structure(song.stems, SR), args.repeats)
    mix_s = _best(lambda: analyze_structure(mix, SR), args.repeats)
    radio = plan_arrangement(structure, SR, version="radio", stem_names=list(song.stems),
                             target_length_s=duration * 0.7)
    edit_s = _best(lambda: apply_edits(song.stems, SR, radio.edits), args.repeats)

    print(f"song: {duration:.1f} s, {len(song.stems)} stereo stems at {SR} Hz")
    print(f"{'task':<34}{'seconds':>9}{'x real time':>13}")
    for name, sec in (("analysis from stems (cold, JIT)", cold), ("analysis from stems", stems_s),
                      ("analysis from the mix alone", mix_s), ("radio edit applied to stems", edit_s)):
        print(f"{name:<34}{sec:>9.2f}{duration / sec:>13.1f}")
    ratio = duration / stems_s
    print(f"structure analysis from stems: {ratio:.1f}x real time "
          f"({'meets' if ratio >= 20 else 'misses'} the 20x target)")


if __name__ == "__main__":
    main()
