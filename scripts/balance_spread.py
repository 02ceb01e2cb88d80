"""Spread between songs of the reference balance (:mod:`mixassist.datasets.balance`), measured.

Draws ``--n`` songs' tastes and (generator v3) engineer styles with numpy and prints, per slot,
the SD (LU) of its drawn level around the house style (``target``) and of its level in the mix
(``in mix``: the stem's loudness minus the mix's, ``level_db``) for one arrangement of the
genre, stems taken as uncorrelated (loudness adds as power), as docs/datasets.md reports it.

    .venv/bin/python scripts/balance_spread.py [--genre pop] [--n 10000]
"""

from __future__ import annotations

import argparse

import numpy as np

from mixassist.datasets.balance import (SLOT_LEVELS_LU, draw_engineer, draw_targets, draw_taste,
                                        vocal_over_rest_lu)

#: The arrangement whose levels in the mix are measured.
ARRANGEMENT = ("drums", "bass", "comp", "pad", "lead", "fx")


def _power_sum_lu(levels: list[float]) -> float:
    return float(10 * np.log10(np.sum(10 ** (np.asarray(levels) / 10))))


def draw_levels(genre: str, rng: np.random.Generator, *, engineer: bool) -> tuple[dict, dict]:
    """One song's slot targets (LU, every slot and ``vocals`` over the rest) and the levels in
    the mix (LU) of :data:`ARRANGEMENT` with a sung lead; ``engineer``: with a v3 style."""
    style = draw_engineer(rng) if engineer else None
    targets = draw_targets(list(SLOT_LEVELS_LU), genre, rng, style)
    targets["vocals"] = vocal_over_rest_lu(genre, style) + draw_taste(rng)
    levels = {slot: targets[slot] for slot in ARRANGEMENT}
    levels["vocals"] = _power_sum_lu(list(levels.values())) + targets["vocals"]
    mix = _power_sum_lu(list(levels.values()))
    return targets, {slot: level - mix for slot, level in levels.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genre", default="pop")
    parser.add_argument("--n", type=int, default=10000)
    args = parser.parse_args()
    sd = {}
    for version, engineer in (("v2", False), ("v3", True)):
        rng = np.random.default_rng(0)
        draws = [draw_levels(args.genre, rng, engineer=engineer) for _ in range(args.n)]
        for i, kind in enumerate(("target", "in mix")):
            sd[version, kind] = {s: float(np.std([d[i][s] for d in draws])) for s in draws[0][i]}
    print(f"| slot | target v2 | target v3 | in mix v2 | in mix v3 |  ({args.genre}, {args.n} songs)")
    print("|---|---|---|---|---|")
    for slot in list(SLOT_LEVELS_LU) + ["vocals"]:
        cells = [sd[v, k].get(slot) for k in ("target", "in mix") for v in ("v2", "v3")]
        print(f"| {slot} | " + " | ".join("" if c is None else f"{c:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
