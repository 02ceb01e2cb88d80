"""From an analysis to a mix plan: every decision with the measured value and the rule it follows.

It works from the labels, target levels and measured features of the
:class:`~mixassist.analysis.result.Analysis` (network, given labels, name hints or the reference
table; their ``source`` and confidence are quoted in the reasons), and is only as bold as that
evidence. Decisions, per stem:

* **balance** — a stem inside its target range (``target_range_db``, LU re the mix like
  ``level_db``) is left alone; outside it the stem moves toward the nearer edge by the distance
  times the label confidence times the evidence of its target level (:func:`level_evidence`, from
  the network's uncertainty): the targets are several dB off on music the network was not trained
  on, so a finished master gets small moves and a rough mix is moved part of the way; at most
  +-:data:`MAX_GAIN_DB`;
* **high-pass** — cutoff by instrument family (:data:`HIGHPASS_HZ`), the lowest of the families
  the stem may be (so a stem that may be a kick keeps its low end), never above the stem's own
  lowest strong octave band (with references: only the sub-sonic :data:`MIN_HIGHPASS_HZ`, as the
  tonal match to them sets the low end);
* **masking EQ** — a ``PeakFilter`` cut on a stem where it masks the focus stem (the ``focus``
  argument, else the lead vocal, but only where the balance raises the lead: a lead it leaves
  alone is heard as the producer wanted), in the critical bands
  :mod:`mixassist.analysis.masking` found;
* **compression** — from the measured crest factor and loudness range against what is typical
  for the family (:data:`DYNAMICS`);
* **panning** — kick/drums, bass and lead vocal stay centre; other mono-ish stems are spread
  alternately left and right (low-frequency sources centred, after Perez Gonzalez & Reiss 2007,
  "Automatic mixing: live downmixing stereo panner", DAFx);
* **sends** — a shared reverb bus by role and a delay bus for melodic parts (:data:`SENDS_DB`);
* **focus** — the focus stem gets :data:`FOCUS_DB` on top of its target and the others' cuts.

With references (``mix --reference``) the balance and tonal balance come from them instead
(:mod:`mixassist.planning.reference`): measured, not predicted. The master chain and loudness
target come from :func:`mixassist.planning.mastering.master_chain`.
``amount`` is stored in the plan; the renderer blends the decisions with no processing
(:mod:`mixassist.planning.amount`). Deterministic: same analysis, same plan.
"""

from __future__ import annotations

import math

from ..analysis.analyze import target_range
from ..analysis.reference import ReferenceComparison
from ..analysis.result import Analysis, Masking, StemAnalysis
from ..errors import ParameterError
from .filters import MAX_FILTER_FRACTION
from .mastering import master_chain
from .plan import Arrangement, BusPlan, MasterPlan, Plan, PluginSpec, StemPlan
from .reference import master_toward, reference_moves
from .targets import Target, resolve_target

#: Largest balance correction (dB) a plan makes on its own.
MAX_GAIN_DB = 12.0
#: Spread (dB, standard deviation) of a rough mix's stems around the producer's intended balance
#: that the plan assumes: the prior of its correction (a rough mix within about +-6 dB).
BALANCE_PRIOR_DB = 3.5
#: The network's level uncertainty (``target_level_std_db``) times this is the error the plan
#: assumes. Network 7 (trained on separated real masters too) states its error on recorded music
#: about right or a little high (RMS error 0.72x its RMS uncertainty on the real-music dev masters,
#: median uncertainty 4.1 dB) but ranks it poorly (correlation 0.16). Fitted with
#: :data:`mixassist.analysis.analyze.TARGET_RANGE_DB` on that split
#: (``scripts/fit_plan_policy.py``: the lowest restoration MAE that leaves the median finished
#: master alone; docs/evaluation.md).
LEVEL_ERROR_SCALE = 0.5
#: Level uncertainty (dB) assumed for a target without one (the reference table): the network's
#: median uncertainty on the real-music dev split.
DEFAULT_TARGET_STD_DB = 4.1
#: Instruments a stem may be: those at least this likely (besides its label), for the processing
#: that must be safe for each of them (the high-pass).
LIKELY_PROB = 0.15
#: Corrections smaller than this (dB) are left out: below a just-noticeable level difference.
MIN_GAIN_DB = 0.5
#: Extra level of the focus stem (dB).
FOCUS_DB = 2.0
#: High-pass cutoff (Hz) by instrument family: below these the family carries little but rumble,
#: spill and proximity boom (common mixing practice, e.g. R. Izhaki, "Mixing Audio", 3rd ed.
#: 2018, ch. on filters; B. Owsinski, "The Mixing Engineer's Handbook").
HIGHPASS_HZ: dict[str, float] = {
    "drums": 30.0, "percussion": 120.0, "bass": 30.0, "keys": 60.0, "guitar": 80.0,
    "strings": 50.0, "brass": 80.0, "woodwinds": 100.0, "synth": 40.0, "vocals": 80.0,
    "fx": 60.0}
#: Every stem is at least high-passed here (sub-sonic), whatever its content.
MIN_HIGHPASS_HZ = 20.0
#: Backing vocals and other harmony voices are cut higher than the lead.
BACKING_VOCAL_HIGHPASS_HZ = 150.0
#: Typical crest factor (dB: sample peak over the RMS while the stem plays) of a controlled stem by
#: family, and (attack_ms, release_ms) to use: transient families get slower attacks so their hits
#: pass. Engineering defaults; the ratio grows with the excess crest factor, in the spirit of Ma,
#: De Man, Pestana, Black & Reiss 2015, "Intelligent multitrack dynamic range compression", JAES
#: 63(6).
DYNAMICS: dict[str, tuple[float, float, float]] = {
    "drums": (20.0, 15.0, 120.0), "percussion": (22.0, 10.0, 100.0),
    "bass": (12.0, 10.0, 150.0), "keys": (16.0, 10.0, 150.0), "guitar": (14.0, 10.0, 120.0),
    "strings": (16.0, 20.0, 200.0), "brass": (15.0, 10.0, 120.0),
    "woodwinds": (15.0, 10.0, 120.0), "synth": (14.0, 10.0, 150.0),
    "vocals": (14.0, 5.0, 80.0), "fx": (22.0, 10.0, 150.0)}
#: Loudness range (LU) above which a lead/bass part is compressed even with a normal crest factor.
MAX_LRA_LU = {"vocals": 8.0, "bass": 6.0}
#: Post-fader send levels (dB) by role: (reverb, delay); None = no send.
SENDS_DB: dict[str, tuple[float | None, float | None]] = {
    "rhythm": (-26.0, None), "low_end": (None, None), "harmony": (-20.0, None),
    "melody": (-16.0, -22.0), "texture": (-14.0, None)}
#: Masking cuts: bands masked at least this often (fraction of the focus stem's playing time).
MIN_MASKED_FRACTION = 0.2
#: Cut depth (dB): half the mean masking excess, within these bounds; at most this many bands.
CUT_RANGE_DB = (1.5, 6.0)
MAX_CUTS = 3
#: Pan positions handed out, alternately left and right, to off-centre stems.
PAN_STEPS = (0.3, 0.5, 0.7)
#: A stem whose side/mid energy ratio exceeds this is already stereo: it is not panned.
STEREO_WIDTH = 0.1
_LEAD_REF = ("professional mixes put the lead about 3 LU below the rest "
             "(Zafrin & Harrison 2016)")
_TABLE_REF = "mixassist reference balance, after Pestana 2013 and De Man et al. 2014"
_REVERB = "reverb"
_DELAY = "delay"


def _is_lead(stem: StemAnalysis) -> bool:
    return stem.instrument == "vocals" and stem.role == "melody"


def _is_centre(stem: StemAnalysis) -> bool:
    return stem.instrument in ("drums", "bass") or stem.role == "low_end" or _is_lead(stem)


def _certainty(confidence: float) -> str:
    return ("sure" if confidence >= 0.9 else "likely" if confidence >= 0.7
            else "possibly" if confidence >= 0.5 else "unsure")


def _label(stem: StemAnalysis) -> str:
    """``bass (likely; 0.75, low_end; network)`` — the label, how sure it is, where it came from."""
    return (f"{stem.instrument} ({_certainty(stem.confidence)}; {stem.confidence:.2f}, "
            f"{stem.role}; {stem.source})")


def level_evidence(std_db: float, *, scale: float = LEVEL_ERROR_SCALE) -> float:
    """Share of a correction the level estimate supports: ``prior^2 / (prior^2 + (scale * std)^2)``
    (the weight of a Gaussian measurement of error ``scale * std_db`` against the rough mix's
    prior :data:`BALANCE_PRIOR_DB`); 1 for a perfect estimate, toward 0 for a vague one."""
    return BALANCE_PRIOR_DB ** 2 / (BALANCE_PRIOR_DB ** 2 + (scale * std_db) ** 2)


def range_distance(level_db: float, low_db: float, high_db: float) -> float:
    """Signed distance (dB) from ``level_db`` to the nearer edge of ``[low_db, high_db]``; 0 inside."""
    return low_db - level_db if level_db < low_db else (high_db - level_db if level_db > high_db else 0.0)


def balance_gain(level_db: float, low_db: float, high_db: float, confidence: float, *,
                 weight: float = 1.0) -> float:
    """Gain (dB) of a stem at ``level_db`` toward its target range ``[low_db, high_db]``: 0 inside
    it, else the distance to the nearer edge times ``confidence`` times ``weight``, capped at
    +-:data:`MAX_GAIN_DB` (unrounded)."""
    distance = range_distance(level_db, low_db, high_db)
    return max(-MAX_GAIN_DB, min(MAX_GAIN_DB, distance * confidence * weight))


def _focus_stems(analysis: Analysis, focus: str | None) -> tuple[list[str], str]:
    """Names of the stems kept in front, and why (explicit focus or the implicit lead)."""
    if focus is None:
        leads = [s.name for s in analysis.stems if _is_lead(s) and s.loudness_lufs is not None]
        return leads, "the lead vocal"
    names = [s.name for s in analysis.stems if focus in (s.name, s.instrument)]
    if not names:
        have = sorted({s.instrument for s in analysis.stems} | {s.name for s in analysis.stems})
        raise ParameterError(f"focus {focus!r} matches no stem name or instrument; "
                             f"choose one of {', '.join(have)}")
    return names, f"the focus {focus}"


def _masked_focus(focus: str | None, names: list[str], gains: dict[str, tuple[float, list[str]]],
                  referenced: bool) -> tuple[list[str], dict[str, list[str]]]:
    """The focus stems the others are cut for, and the reasons of the leads they are not cut for.

    An explicit ``focus`` is always cut for, and so is every lead when references set the
    balance. Otherwise the implicit lead only where the balance raises it (``gains``): a lead
    the balance leaves alone is already heard as the mix's producer wanted, so cutting the others
    for it would re-voice a finished balance."""
    if focus is not None or referenced:
        return names, {}
    kept = [n for n in names if gains[n][0] > 0.0]
    held = {n: [f"{n}: no masking cuts on the other stems for it: the balance does not raise it "
                "(inside or above its target range, or too close to it to hear)"]
            for n in names if n not in kept}
    return kept, held


def _balanced(stem: StemAnalysis) -> bool:
    """The stem takes part in the balance: it sounds, is no leakage and has a target."""
    return (stem.loudness_lufs is not None and stem.level_db is not None
            and not stem.extra.get("leakage") and stem.target_level_db is not None)


def balance_offset(analysis: Analysis) -> float:
    """Mean of ``level_db - target_level_db`` over the balanced stems (dB): where the targets sit
    against this mix's levels. Only the balance counts, so the targets are moved by it; stems'
    gated loudness does not add up to the mix's, so the two scales differ by a few dB."""
    diffs = [s.level_db - s.target_level_db for s in analysis.stems if _balanced(s)]
    return sum(diffs) / len(diffs) if diffs else 0.0


def balance_gains(analysis: Analysis, focus: tuple[str, ...] = (), *,
                  scale: float = LEVEL_ERROR_SCALE) -> dict[str, tuple[float, list[str]]]:
    """``{stem: (gain_db, reasons)}`` of every stem (:func:`stem_gain`, targets centred on the
    mix by :func:`balance_offset`); stems named in ``focus`` get :data:`FOCUS_DB` on top."""
    offset = balance_offset(analysis)
    return {s.name: stem_gain(s, focused=s.name in focus, scale=scale, offset_db=offset)
            for s in analysis.stems}


def stem_gain(stem: StemAnalysis, *, focused: bool = False, scale: float = LEVEL_ERROR_SCALE,
              offset_db: float = 0.0) -> tuple[float, list[str]]:
    """Balance gain (dB) of one stem and its reasons: :func:`balance_gain` toward its target
    range moved by ``offset_db`` (:func:`balance_offset`), weighted by the label confidence and
    the :func:`level_evidence` of its target; a focused stem gets :data:`FOCUS_DB` on top."""
    if stem.loudness_lufs is None or stem.level_db is None:
        return 0.0, [f"{stem.name}: silent (no block above -70 LUFS); left unchanged"]
    if stem.extra.get("leakage"):
        return 0.0, [f"{stem.name}: separation leakage, not a part ({abs(stem.level_db):.1f} LU "
                     "below the mix and far under it wherever it sounds); left unchanged rather "
                     "than raised to a target"]
    target = stem.target_level_db
    if target is None:
        return 0.0, [f"{stem.name}: no target level; balance left unchanged"]
    low, high = (edge + offset_db for edge in (stem.target_range_db or target_range(target)))
    std = stem.extra.get("target_level_std_db")
    std = DEFAULT_TARGET_STD_DB if std is None else float(std)
    weight = level_evidence(std, scale=scale)
    extra = FOCUS_DB if focused else 0.0
    gain = balance_gain(stem.level_db, low, high, stem.confidence, weight=weight) + extra
    rest = stem.features.level_vs_rest_db
    table = stem.target_level_source == "reference-table"
    if _is_lead(stem) and rest is not None:
        where = f"{abs(rest):.1f} LU {'below' if rest < 0 else 'above'} the rest of the mix"
    else:
        where = f"{abs(stem.level_db):.1f} LU {'below' if stem.level_db < 0 else 'above'} the mix"
    if _is_lead(stem) and table:
        ref = (f"{_LEAD_REF}: target {target:.1f} LU re the mix once every stem is at its "
               "target")
    else:
        ref = (f"the {stem.target_level_source} puts {stem.instrument} ({stem.role}) at "
               f"{target:.1f} LU re the mix" + (f" ({_TABLE_REF})" if table else ""))
    ref += f"; range {low:.1f} to {high:.1f} LU" + (
        f" once the targets are moved {offset_db:+.1f} dB onto this mix's levels" if offset_db else "")
    distance = range_distance(stem.level_db, low, high)
    why = [where, "inside its target range" if distance == 0 else (
        f"{abs(distance):.1f} dB {'under' if distance > 0 else 'over'} its range, corrected by "
        f"{stem.confidence:.2f} (label confidence) x {weight:.2f} (level evidence: target "
        f"uncertainty {std:.1f} dB x {scale:g} = {scale * std:.1f} dB on recorded music)")]
    if focused:
        why.append(f"+{FOCUS_DB:.1f} dB as the focus")
    why += [ref, f"label {_label(stem)}"]
    if abs(gain) < MIN_GAIN_DB:
        small = [] if gain == 0 else [f"together less than {MIN_GAIN_DB} dB"]
        return 0.0, [f"{stem.name} unchanged: " + "; ".join(why[:len(why) - 2] + small + why[-2:])]
    return round(gain, 2), [f"{stem.name} {gain:+.1f} dB: " + "; ".join(why)]


def _lowest_strong_hz(stem: StemAnalysis, bands: dict, within_db: float = 20.0) -> float | None:
    """Lower edge (Hz) of the lowest octave band within ``within_db`` of the strongest one."""
    levels = stem.features.octave_db
    centres = bands.get("octave_centres_hz", [])
    if not levels or len(levels) != len(centres):
        return None
    top = max(v for v in levels if v is not None)
    for centre, level in zip(centres, levels):
        if level is not None and level >= top - within_db:
            return centre / math.sqrt(2.0)
    return None


def _highpass(stem: StemAnalysis, bands: dict) -> tuple[PluginSpec, str]:
    family = BACKING_VOCAL_HIGHPASS_HZ if stem.instrument == "vocals" and not _is_lead(stem) \
        else HIGHPASS_HZ[stem.instrument]
    likely = sorted(i for i, p in stem.instrument_probs.items()
                    if p >= LIKELY_PROB and i in HIGHPASS_HZ and i != stem.instrument)
    base = min([family, *(HIGHPASS_HZ[i] for i in likely)])
    lowest = _lowest_strong_hz(stem, bands)
    cutoff = base if lowest is None else max(MIN_HIGHPASS_HZ, min(base, 0.7 * lowest))
    why = (f"{stem.instrument} parts carry little but rumble below ~{family:.0f} Hz "
           "(common practice, Izhaki 2018)")
    if base < family:
        safest = min(likely, key=lambda i: (HIGHPASS_HZ[i], i))
        why += (f"; only {base:.0f} Hz since it may be {safest} "
                f"({stem.instrument_probs[safest]:.2f}), which needs what lies below")
    if cutoff < base:
        why += (f"; lowered to {cutoff:.0f} Hz to keep its strong content from {lowest:.0f} Hz "
                "(octave band within 20 dB of its strongest)")
    return (PluginSpec("HighpassFilter", {"cutoff_frequency_hz": round(cutoff, 1)}),
            f"{stem.name}: high-pass {cutoff:.0f} Hz: {why}")


def _masking_cuts(masker: StemAnalysis, pairs: list[Masking], focus: list[str],
                  focus_why: str, floor_hz: dict[str, float], sample_rate: int,
                  ) -> tuple[list[PluginSpec], list[str]]:
    """PeakFilter cuts on ``masker`` in the bands where it masks a focus stem.

    Bands below 1.5 times the focus stem's high-pass (``floor_hz``) are left alone (the focus
    loses them anyway), as are bands centred above :data:`MAX_FILTER_FRACTION` of ``sample_rate``.
    """
    candidates = []
    for pair in pairs:
        if pair.masker != masker.name or pair.target not in focus:
            continue
        for band in pair.bands:
            if band.masked_fraction >= MIN_MASKED_FRACTION \
                    and floor_hz.get(pair.target, 0.0) <= band.centre_hz \
                    < MAX_FILTER_FRACTION * sample_rate:
                candidates.append((band.masked_fraction * band.excess_db, pair.target, band))
    candidates.sort(key=lambda c: (-c[0], c[2].centre_hz))
    chain, reasons = [], []
    for _, target, band in sorted(candidates[:MAX_CUTS], key=lambda c: c[2].centre_hz):
        cut = -max(CUT_RANGE_DB[0], min(CUT_RANGE_DB[1], band.excess_db / 2.0))
        q = band.centre_hz / (band.high_hz - band.low_hz)
        chain.append(PluginSpec("PeakFilter", {"cutoff_frequency_hz": round(band.centre_hz, 1),
                                               "gain_db": round(cut, 1), "q": round(q, 2)}))
        reasons.append(
            f"{masker.name}: PeakFilter {cut:.1f} dB at {band.centre_hz:.0f} Hz (Q {q:.1f}): "
            f"masks {target} ({focus_why}) in the {band.low_hz:.0f}-{band.high_hz:.0f} Hz "
            f"critical band {band.masked_fraction:.0%} of the time it plays, by "
            f"{band.excess_db:.1f} dB on average (masker-to-signal ratio, Hafezi & Reiss 2015)")
    return chain, reasons


def _compressor(stem: StemAnalysis) -> tuple[PluginSpec | None, str | None]:
    if stem.loudness_lufs is None:
        return None, None
    typical, attack_ms, release_ms = DYNAMICS[stem.instrument]
    crest, lra = stem.features.crest_db, stem.features.lra_lu
    excess = crest - typical
    lra_limit = MAX_LRA_LU.get(stem.instrument) if _is_lead(stem) or stem.role == "low_end" \
        else None
    too_wide = lra_limit is not None and lra > lra_limit
    if excess <= 0 and not too_wide:
        return None, (f"{stem.name}: no compression: crest factor {crest:.1f} dB is within the "
                      f"~{typical:.0f} dB typical of {stem.instrument}, LRA {lra:.1f} LU")
    ratio = round(min(4.0, 2.0 + max(excess, 0.0) / 4.0), 1)
    threshold = round(max(-60.0, min(0.0, stem.features.rms_dbfs + 6.0)), 1)
    why = (f"crest factor {crest:.1f} dB vs ~{typical:.0f} dB typical of {stem.instrument}"
           if excess > 0 else f"loudness range {lra:.1f} LU above {lra_limit:.0f} LU")
    return (PluginSpec("Compressor", {"threshold_db": threshold, "ratio": ratio,
                                      "attack_ms": attack_ms, "release_ms": release_ms}),
            f"{stem.name}: Compressor {ratio:.1f}:1 above {threshold:.1f} dBFS (6 dB over its "
            f"RMS), attack {attack_ms:.0f} ms, release {release_ms:.0f} ms: {why} "
            "(ratio from the excess crest factor, after Ma et al. 2015)")


def _pans(analysis: Analysis) -> dict[str, tuple[float, str]]:
    """Pan position and reason for every stem (deterministic: by name)."""
    out, side = {}, 0
    for stem in sorted(analysis.stems, key=lambda s: s.name):
        if _is_centre(stem):
            out[stem.name] = (0.0, f"{stem.name}: centre: {stem.instrument} ({stem.role}) anchors "
                                   "the mix (low-frequency and lead sources stay centred, "
                                   "Perez Gonzalez & Reiss 2007)")
        elif stem.features.width > STEREO_WIDTH:
            out[stem.name] = (0.0, f"{stem.name}: not panned: already stereo (side/mid energy "
                                   f"{stem.features.width:.2f})")
        else:
            amount = PAN_STEPS[min(side // 2, len(PAN_STEPS) - 1)]
            pan = -amount if side % 2 == 0 else amount
            side += 1
            out[stem.name] = (pan, f"{stem.name}: pan {pan:+.1f}: mono-ish {stem.instrument} "
                                   f"(side/mid {stem.features.width:.2f}) spread off-centre to "
                                   "leave the centre to kick, bass and lead (Perez Gonzalez & "
                                   "Reiss 2007)")
    return out


def _sends(stem: StemAnalysis) -> tuple[dict[str, float], str]:
    reverb, delay = SENDS_DB[stem.role]
    sends = {bus: level for bus, level in ((_REVERB, reverb), (_DELAY, delay))
             if level is not None}
    if not sends:
        return {}, f"{stem.name}: no reverb or delay: {stem.role} parts stay dry and tight"
    listed = ", ".join(f"{bus} {level:.0f} dB" for bus, level in sends.items())
    return sends, f"{stem.name}: sends {listed}: {stem.role} part (send levels by role)"


def _buses(analysis: Analysis) -> dict[str, BusPlan]:
    if analysis.tempo_bpm:
        delay_s = round(60.0 / analysis.tempo_bpm, 4)
        delay_why = f"a quarter note at {analysis.tempo_bpm:g} BPM"
    else:
        delay_s = 0.375
        delay_why = "tempo unknown: 375 ms"
    return {
        _REVERB: BusPlan(chain=[
            PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 200.0}),
            PluginSpec("Reverb", {"room_size": 0.5, "damping": 0.5, "wet_level": 1.0,
                                  "dry_level": 0.0, "width": 1.0})],
            reasons=["reverb: one shared plate-like room for every send, high-passed at 200 Hz "
                     "so the low end stays dry"]),
        _DELAY: BusPlan(chain=[
            PluginSpec("HighpassFilter", {"cutoff_frequency_hz": 300.0}),
            PluginSpec("Delay", {"delay_seconds": delay_s, "feedback": 0.3, "mix": 1.0})],
            reasons=[f"delay: {delay_s * 1000:.0f} ms ({delay_why}), 30 % feedback, for melodic "
                     "parts"]),
    }


def _master(analysis: Analysis, target: Target, amount: float) -> MasterPlan:
    """The mastering module's default chain for the analysed audio's sample rate."""
    mix_lufs = analysis.loudness.integrated_lufs
    chain = master_chain(target, sample_rate=analysis.sample_rate,
                         mix_lufs=mix_lufs if mix_lufs is not None else -20.0)
    reasons = [f"master: mixassist default chain (sub-sonic high-pass, air shelf, glue "
               f"compression, true-peak limiter) to {target.name}: {target.lufs:g} LUFS, "
               f"{target.true_peak_dbtp:g} dBTP",
               f"amount {amount:g}: the stem decisions are applied at {amount:.0%}"]
    return MasterPlan(chain=chain, reasons=reasons)


def predict_plan(analysis: Analysis, *, target: str | float | Target = "spotify",
                 focus: str | None = None, amount: float = 1.0,
                 references: ReferenceComparison | None = None) -> Plan:
    """A mix plan for the stems of ``analysis`` (see the module docstring).

    Parameters
    ----------
    analysis : :class:`~mixassist.analysis.result.Analysis` (e.g. from ``measure_stems``).
    target : loudness target: a preset name, a LUFS number or a :class:`Target`.
    focus : instrument or stem name kept in front; None keeps the lead vocal in front (if any).
    amount : 0..1, how much of the plan is applied when rendered (0: only the loudness target).
    references : the song's and its references' measured balance
        (:func:`mixassist.analysis.reference.compare`): the balance and tonal moves toward them
        (:mod:`.reference`) replace the predicted balance; None: no reference.

    Returns
    -------
    :class:`~mixassist.planning.plan.Plan`, validated.
    """
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) \
            or not 0.0 <= amount <= 1.0:
        raise ParameterError(f"amount must be a number from 0 to 1, got {amount!r}")
    target = resolve_target(target)
    focus_names, focus_why = _focus_stems(analysis, focus)
    pans = _pans(analysis)
    gains = balance_gains(analysis, tuple(focus_names) if focus is not None else ())
    cut_for, held = _masked_focus(focus, focus_names, gains, references is not None)
    stems: dict[str, StemPlan] = {}
    cutoffs: dict[str, float] = {}
    for stem in analysis.stems:
        hp, hp_reason = _highpass(stem, analysis.bands)
        cutoffs[stem.name] = hp.params["cutoff_frequency_hz"]
        stems[stem.name] = StemPlan(chain=[hp], reasons=[hp_reason])
    moves = None if references is None else reference_moves(
        references.song, references.references, sr=analysis.sample_rate,
        highpass_hz={name: MIN_HIGHPASS_HZ for name in stems},
        focus_db={name: FOCUS_DB for name in focus_names} if focus is not None else {})
    for name in moves.gains if moves is not None else ():
        # the references show how much low end the part has: the tonal match sets it
        stems[name].chain[0] = PluginSpec("HighpassFilter",
                                          {"cutoff_frequency_hz": MIN_HIGHPASS_HZ})
        stems[name].reasons[0] = (f"{name}: high-pass {MIN_HIGHPASS_HZ:.0f} Hz only (sub-sonic): "
                                  "its low end is set by the tonal match to the references")
        cutoffs[name] = MIN_HIGHPASS_HZ
    floors = {name: 1.5 * hz for name, hz in cutoffs.items()}
    for stem in analysis.stems:
        plan = stems[stem.name]
        gain, reasons = gains[stem.name]
        if moves is not None and stem.name in moves.gains:
            gain, reasons = moves.gains[stem.name], moves.reasons[stem.name]
            plan.chain += moves.eq[stem.name]
        elif moves is not None:
            reasons = moves.reasons.get(stem.name, []) + reasons
        plan.gain_db = gain
        plan.reasons[:0] = reasons + held.get(stem.name, [])
        if moves is not None and stem.name in moves.gains:
            plan.reasons.append(f"{stem.name}: no masking cuts: the tonal match to the "
                                "references sets its EQ")
        elif stem.name not in focus_names:
            cuts, cut_reasons = _masking_cuts(stem, analysis.masking, cut_for, focus_why,
                                              floors, analysis.sample_rate)
            plan.chain += cuts
            plan.reasons += cut_reasons
        comp, comp_reason = _compressor(stem)
        if comp is not None:
            plan.chain.append(comp)
        if comp_reason:
            plan.reasons.append(comp_reason)
        plan.pan, pan_reason = pans[stem.name]
        plan.sends, send_reason = _sends(stem)
        plan.reasons += [pan_reason, send_reason]
    master = _master(analysis, target, amount)
    if moves is not None:
        master.chain = master_toward(master.chain, moves.master_eq, glue=moves.glue)
        master.reasons[0] = (f"master: sub-sonic high-pass, the tonal match to the references, "
                             f"{'glue compression, ' if moves.glue else ''}true-peak limiter to "
                             f"{target.name}: {target.lufs:g} LUFS, {target.true_peak_dbtp:g} dBTP")
        master.reasons += moves.master_reasons
    sections = [{"start_s": s.start_s, "end_s": s.end_s, "label": s.label}
                for s in analysis.sections]
    plan = Plan(sample_rate=analysis.sample_rate, target=target, stems=stems,
                buses=_buses(analysis), master=master,
                arrangement=Arrangement(version="full", sections=sections),
                amount=float(amount))
    if moves is not None:
        plan.extra["reference"] = moves.summary
    return plan.validate()
