"""Distortion added by mastering a drum-heavy mix to a loud target: peak control vs limiting alone.

Test signal: a steady sine (near 100 Hz or 1 kHz, its harmonics placed between the drum loop's
own spectral lines) under a synthetic drum loop (crest factor of real drums), mastered to
Spotify (-14 LUFS, -1 dBTP) and to louder -12.5 and -11 LUFS three ways, side by side in one run:

- ``limiter only``: the limiter alone, allowed as much peak limiting as it takes to reach the
  loudness the shipped stage reached;
- ``peak control``: the loudness stage as shipped (fast compressor before the limiter, both
  within their budgets, :mod:`mixassist.rendering.master`);
- ``clipper``: ``pedalboard.Clipping`` instead of the compressor, its threshold set to give the
  same peak-to-loudness ratio (the alternative the stage does not use).

What the processing does to the sine is isolated by polarity inversion: each way's processing,
as decided on the mix, is replayed with fixed settings on ``drums + sine`` and on
``drums - sine``; half the difference is the sine as processed (the drums cancel: the gain is set
by the drums, the sine is 26 dB under them). Of that, a Hann-windowed FFT (0.05 Hz bins) gives
THD (harmonics 2..10 over the fundamental: gain moving within one cycle) and modulation (all
other energy over the fundamental: the gain riding the drums, i.e. pumping), both in dB.

    PYTHONPATH=. .venv/bin/python benchmarks/master_distortion.py [--seconds 10]
"""

from __future__ import annotations

import argparse

import numpy as np
import pedalboard

from mixassist.loudness import integrated_loudness, true_peak_dbtp
from mixassist.rendering.master import reach_target
from mixassist.planning.targets import PRESETS, Target
from tests.mixing.signals import drum_loop

SR = 44_100
HARMONICS = 10


def clear_of_loop(near_hz: float, loop_hz: float, harmonics: int = HARMONICS) -> float:
    """The frequency within 5 Hz of ``near_hz`` whose harmonics 1..``harmonics`` lie farthest
    from the drum loop's own spectral lines (multiples of ``loop_hz``)."""
    grid = near_hz + np.arange(-5.0, 5.0, 0.01)
    k = np.arange(1, harmonics + 1)[:, None] * grid
    gap = np.abs(k / loop_hz - np.round(k / loop_hz)).min(axis=0) * loop_hz
    return float(grid[np.argmax(gap)])


def distortion_db(x: np.ndarray, f0: float, sr: int, harmonics: int = HARMONICS,
                  ) -> tuple[float, float]:
    """(THD, modulation) of a processed sine at ``f0``, dB (see the module docstring)."""
    mono = x.mean(axis=0)
    spec = np.abs(np.fft.rfft(mono * np.hanning(mono.size))) ** 2
    hz = sr / mono.size

    def line(f: float) -> float:
        k = int(round(f / hz))
        return float(spec[max(0, k - 2):k + 3].sum())

    fundamental = line(f0)
    thd = sum(line(k * f0) for k in range(2, harmonics + 1))
    rest = float(spec.sum()) - fundamental - thd
    return 10 * np.log10(thd / fundamental), 10 * np.log10(rest / fundamental)


def replay(x: np.ndarray, pre, result) -> np.ndarray:
    """``x`` through ``pre`` (a pedalboard plugin or None), the stage's gain and its limiter."""
    y = x if pre is None else pre(x, SR)
    y = y * np.float32(10 ** (result.gain_db / 20))
    return pedalboard.BrickwallLimiter(**{k: v for k, v in result.limiter.params.items()})(y, SR)


def plr(x: np.ndarray) -> float:
    return 20 * np.log10(np.max(np.abs(x))) - integrated_loudness(x, SR)


def clip_threshold(x: np.ndarray, goal_plr: float) -> float:
    """The ``pedalboard.Clipping`` threshold (dBFS) that brings ``x`` to ``goal_plr``."""
    peak = 20 * np.log10(np.max(np.abs(x)))
    lo, hi = 0.0, 24.0
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        if plr(pedalboard.Clipping(threshold_db=peak - mid)(x, SR)) > goal_plr:
            lo = mid
        else:
            hi = mid
    return float(peak - hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    n = int(args.seconds * SR)
    drums = drum_loop(np.random.default_rng(0), SR, n)[0]
    loop_hz = SR / int(SR * 60 / 120.0)  # drum_loop's beat period, 120 bpm
    t = np.arange(n) / SR
    for target in (PRESETS["spotify"], Target("loud", -12.5, -1.0), Target("louder", -11.0, -1.0)):
        for near in (100.0, 1_000.0):
            f0 = clear_of_loop(near, loop_hz)
            sine = 0.05 * np.sin(2 * np.pi * f0 * t)
            scale = 10 ** ((-20.0 - integrated_loudness(np.stack([drums] * 2), SR)) / 20)
            plus, minus = (np.stack([scale * (drums + s)] * 2).astype(np.float32)
                           for s in (sine, -sine))
            _, result = reach_target(plus, SR, target)
            same = Target("same", round(result.integrated_lufs, 2), target.true_peak_dbtp)
            comp = None if result.peak_control is None else \
                pedalboard.Compressor(**result.peak_control.params)
            clip = pedalboard.Clipping(threshold_db=clip_threshold(
                plus, plr(plus if comp is None else comp(plus, SR))))
            _, only = reach_target(plus, SR, same, max_limiting_db=30.0, max_peak_control_db=0.0)
            _, clipped = reach_target(clip(plus, SR), SR, same, max_limiting_db=30.0,
                                      max_peak_control_db=0.0)
            print(f"{target.name} ({target.lufs:g} LUFS): sine {f0:.2f} Hz 26 dB under a drum "
                  f"loop, input PLR {plr(plus):.1f} dB")
            for name, pre, r in (("limiter only", None, only), ("peak control", comp, result),
                                 ("clipper", clip, clipped)):
                out = replay(plus, pre, r)
                thd, modulation = distortion_db(0.5 * (out - replay(minus, pre, r)), f0, SR)
                print(f"  {name:13s} {integrated_loudness(out, SR):6.2f} LUFS "
                      f"{true_peak_dbtp(out, SR):5.2f} dBTP, limiting {r.limiting_db:4.1f} dB, "
                      f"peak control {r.peak_control_db:3.1f} dB: sine THD {thd:6.1f} dB, "
                      f"modulation {modulation:6.1f} dB")


if __name__ == "__main__":
    main()
