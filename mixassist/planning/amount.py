"""``amount``: blend a plan's decisions with no processing at all.

The rule, applied by :func:`blend_plan` with ``a = plan.amount`` (0..1):

- stem ``gain_db``, automation ``gain_db`` and every EQ/Gain ``gain_db`` scale by ``a`` (towards
  0 dB); ``pan`` scales by ``a`` (towards centre); ``width`` moves linearly towards 1.0;
- send levels get ``20 log10(a)`` dB (no send at 0);
- compressor ``ratio`` moves linearly towards 1 and ``threshold_db`` towards 0 dB; other
  parameters move towards the neutral value :mod:`~mixassist.planning.plugins` declares for them
  (filter cutoffs geometrically towards the edges of the band, effect ``mix``/``wet_level`` to 0);
- a muted stem is not muted below 1 but faded: ``gain_db`` gets ``20 log10(1 - a)`` dB;
- at ``a = 0`` every stem and master chain is dropped, so the stems are summed untouched and only
  the loudness stage (the master's final ``BrickwallLimiter`` and gain) is applied;
- the loudness stage's plugins in the master chain (the final limiter and the peak-control
  compressor before it, :func:`~mixassist.planning.mastering.split_loudness_stage`) are part of
  reaching the target: they are kept unchanged at every amount.

Bus chains are not blended: the sends into them already are.
"""

from __future__ import annotations

import copy
import math

from .mastering import split_loudness_stage
from .plan import GainRamp, Plan, PluginSpec, StemPlan
from .plugins import blend_params

_FLOOR_DB = -120.0


def _db(linear: float) -> float:
    return max(_FLOOR_DB, 20.0 * math.log10(linear)) if linear > 0 else _FLOOR_DB


def _chain(chain: list[PluginSpec], a: float, sr: int) -> list[PluginSpec]:
    if a == 0.0:
        return []
    return [PluginSpec(s.plugin, blend_params(s.plugin, s.params, a, sample_rate=sr))
            for s in chain]


def _stem(stem: StemPlan, a: float, sr: int) -> StemPlan:
    gain_db = a * stem.gain_db
    mute = stem.mute and a == 1.0
    if stem.mute and not mute:
        gain_db = max(_FLOOR_DB, gain_db + _db(1.0 - a))
    return StemPlan(
        gain_db=gain_db, pan=a * stem.pan, mute=mute, width=1.0 + a * (stem.width - 1.0),
        chain=_chain(stem.chain, a, sr),
        sends={bus: level + _db(a) for bus, level in stem.sends.items() if a > 0.0},
        automation=[GainRamp(r.start_s, r.end_s, a * r.gain_db) for r in stem.automation
                    if a > 0.0],
        reasons=list(stem.reasons))


def blend_plan(plan: Plan, *, sample_rate: int) -> Plan:
    """Return a copy of ``plan`` with its decisions scaled by ``plan.amount`` (rule above).

    The result has ``amount`` 1.0; ``plan`` is not changed. ``sample_rate`` (Hz) bounds blended
    filter frequencies below Nyquist.
    """
    a = plan.amount
    out = copy.deepcopy(plan)
    out.amount = 1.0
    if a == 1.0:
        return out
    out.stems = {name: _stem(stem, a, sample_rate) for name, stem in plan.stems.items()}
    own, loudness_stage = split_loudness_stage(plan.master.chain)
    out.master.chain = _chain(own, a, sample_rate) + copy.deepcopy(loudness_stage)
    return out
