"""Arrangement planner: per-section level rides and arrangement versions, each with a reason.

:func:`plan_arrangement` turns a song's structure (a :class:`~.analysis.SongStructure`, or any
object with ``duration_s``, ``downbeats_s``, ``sections`` and stem activity, such as the
:class:`~mixassist.analysis.result.Analysis`) into an :class:`ArrangementPlan`:

- ``automation``: per-stem gain rides per section, on the *output* timeline (after edits);
- ``mutes``: stems switched off by the version (instrumental, acapella);
- ``edits``: the :class:`~.edits.EditList` that renders the version sample-accurately;
- ``sections``: the output's sections with the source range each comes from;
- ``reasons``: why, for every stem decision and every edit.

Versions (``VERSIONS``): ``full`` (the song as is), ``instrumental`` (vocals muted), ``acapella``
(vocals only), ``radio`` (sections dropped and intro/outro trimmed, cut on downbeats at section
boundaries, to a target length), ``extended`` (a DJ intro and outro of 16 or 32 bars from the
song's own drums and bass), ``loop`` (a seamless N-bar loop).

Edits choose sections by their part in the song (``kind``, :func:`section_kinds`): a named
section (``chorus``, ``verse``, ...) by its name; a lettered one (``A``, ``B'``: the structure
analysis found no evidence for a name) by the same evidence from its letter and level, the
loudest repeated letter taken as the chorus, other repeated letters as verses, a letter heard
once as intro/outro at the ends and as a bridge in the middle. Edits need only a choice of what
to keep; the rides claim a section's musical function, so they follow named sections only.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..analysis.activity import playing_stems
from ..analysis.labels import label_stem
from ..analysis.names import name_instrument
from ..analysis.segmentation import SECTION_LABELS
from ..errors import ParameterError, PlanError
from .edits import DEFAULT_CROSSFADE_MS, EditList, Segment
from .plan import Arrangement, GainRamp

VERSIONS = ("full", "instrumental", "acapella", "radio", "extended", "loop")
#: Accepted alternative spellings of versions.
VERSION_ALIASES = {"original": "full", "a-cappella": "acapella", "acappella": "acapella",
                   "radio-edit": "radio", "dj": "extended", "extended-mix": "extended"}
DEFAULT_RADIO_LENGTH_S = 210.0
RADIO_TOLERANCE_S = 1.5
_MAX_RADIO_COMBINATIONS = 50_000  # bounds the search for songs with very many sections
#: Cost of dropping a section from a radio edit, by label (lower goes first).
_DROP_COST = {"outro": 1.0, "intro": 1.5, "breakdown": 2.0, "bridge": 2.5, "pre-chorus": 3.0,
              "verse": 4.0, "chorus": 6.0}


@dataclass
class Ride:
    """A gain ride on the output timeline: ``gain_db`` on ``[start_s, end_s)`` of ``stem``."""

    stem: str
    start_s: float
    end_s: float
    gain_db: float
    reason: str


@dataclass
class ArrangementPlan:
    """What :func:`plan_arrangement` decided (times on the output timeline, seconds)."""

    version: str
    edits: EditList
    sections: list[dict]
    rides: list[Ride] = field(default_factory=list)
    mutes: dict[str, bool] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def length_s(self) -> float:
        """Output duration in seconds."""
        return self.edits.length / self.edits.sr

    @property
    def automation(self) -> dict[str, list[dict]]:
        """Per-stem ``[{start_s, end_s, gain_db}]`` (plan.json ``automation``)."""
        out: dict[str, list[dict]] = {}
        for r in self.rides:
            out.setdefault(r.stem, []).append(
                {"start_s": r.start_s, "end_s": r.end_s, "gain_db": r.gain_db})
        return out

    def to_arrangement(self) -> dict:
        """plan.json ``arrangement``: ``{version, sections, edits, length_s, reasons}``."""
        return {"version": self.version, "sections": self.sections, "edits": self.edits.to_dict(),
                "length_s": round(self.length_s, 4), "reasons": list(self.notes)}

    def apply_to(self, plan) -> None:
        """Write this arrangement into a :class:`mixassist.planning.plan.Plan` in place: rides
        become ``GainRamp`` automation, mutes and reasons go to the stems, and the arrangement
        (version, sections, edits, length, reasons) replaces the plan's."""

        for name, stem in plan.stems.items():
            if self.mutes.get(name):
                stem.mute = True
            stem.automation.extend(GainRamp(r.start_s, r.end_s, r.gain_db)
                                   for r in self.rides if r.stem == name)
            stem.reasons.extend(self.reasons.get(name, []))
        plan.arrangement = Arrangement(**{**self.to_arrangement(), "edits": self.edits})


# --- reading the song ----------------------------------------------------------------------------

@dataclass
class _Song:
    duration_s: float
    beats_s: np.ndarray
    downbeats_s: np.ndarray
    sections: list[dict]  # start_s, end_s, label, stems, kind (section_kinds)
    stems: list[str]
    roles: dict[str, str]
    silent: set[str]  # stems whose activity is known and empty (silence or separation leakage)
    instruments: dict[str, str] = field(default_factory=dict)  # from an Analysis, when given


def _role_from_name(name: str) -> str:
    """Role of a stem known by its name only (:func:`~mixassist.analysis.labels.label_stem`)."""
    return label_stem(name).role


def _read_song(structure, stem_names) -> _Song:
    """Normalise a SongStructure or an Analysis into what the planner needs."""
    stems_attr = getattr(structure, "stems", None)
    roles: dict[str, str] = {}
    instruments: dict[str, str] = {}
    activity: dict[str, list[tuple[float, float]]] = {}
    if isinstance(stems_attr, list):  # mixassist.analysis.result.Analysis
        for s in stems_attr:
            roles[s.name] = s.role if s.role else _role_from_name(s.name)
            instruments[s.name] = s.instrument
            activity[s.name] = [(r.start_s, r.end_s) for r in s.activity]
    else:
        activity = dict(getattr(structure, "activity", {}) or {})
    names = list(stem_names) if stem_names is not None else list(activity)
    if not names:
        raise ParameterError("no stem names: pass stem_names or a structure with stem activity")
    for n in names:
        roles.setdefault(n, _role_from_name(n))
    duration = float(structure.duration_s)
    downbeats = np.asarray(structure.downbeats_s, dtype=float)
    sections = []
    for s in structure.sections:
        get = s.get if isinstance(s, dict) else partial(_field, s)
        a, b = float(get("start_s")), float(get("end_s"))
        a = a if a <= 0.0 else _snap(downbeats, a)
        b = b if b >= duration - 1e-3 else _snap(downbeats, b)
        if b <= a:
            continue
        playing = get("stems", None)
        if playing is None:  # a file written without section stems: the same rule, from activity
            playing = playing_stems({n: activity[n] for n in names if n in activity}, a, b)
        sections.append({"start_s": a, "end_s": b, "label": get("label", "section"),
                         "stems": list(playing), "letter": get("letter", None) or "",
                         "level_db": get("level_db", None)})
    if not sections:
        sections = [{"start_s": 0.0, "end_s": duration, "label": "A", "stems": names,
                     "letter": "A", "level_db": None}]
    for sec, kind in zip(sections, section_kinds(sections)):
        sec["kind"] = kind
    raw_beats = getattr(structure, "beats_s", None)
    beats = np.asarray([] if raw_beats is None else raw_beats, dtype=float)
    silent = {n for n in names if n in activity and not activity[n]}
    return _Song(duration, beats, downbeats, sections, names, roles, silent, instruments)


def _field(section, key: str, default=None):
    """A section object's field, or what its ``extra`` holds (analysis.json's ``letter``,
    ``level_db``), or ``default``."""
    value = getattr(section, key, None)
    return value if value is not None else (getattr(section, "extra", None) or {}).get(key, default)


def section_kinds(sections: list[dict]) -> list[str]:
    """The part each section plays in the edits, a name of :data:`SECTION_LABELS`: a named
    section's label; for a lettered one (its label no section name), from its letter (``B'`` is
    ``B`` varied; the label where there is no letter) and level (``level_db``; unknown levels
    rank a letter by its total length): ``chorus`` for the loudest repeated letter (none where a
    section is named chorus), ``verse`` for another repeated one, ``intro``/``outro`` for a
    letter heard once at the start/end, ``bridge`` for one heard once in the middle; a song of
    one section is a ``verse``."""
    named = [s["label"] if s["label"] in SECTION_LABELS else None for s in sections]
    parts = [(s.get("letter") or s["label"]).rstrip("'") for s in sections]
    counts = {p: parts.count(p) for p in parts}
    repeated = {p for i, p in enumerate(parts) if counts[p] > 1 and named[i] is None}

    def loudness(part: str) -> tuple[float, float]:
        levels = [s.get("level_db") for s, p in zip(sections, parts) if p == part]
        length = sum(s["end_s"] - s["start_s"] for s, p in zip(sections, parts) if p == part)
        known = all(isinstance(v, (int, float)) for v in levels)
        return (float(np.mean(levels)) if known else -math.inf, length)

    main = (max(sorted(repeated), key=loudness) if repeated and "chorus" not in named
            else None)
    out = []
    for i, (name, part) in enumerate(zip(named, parts)):
        if name is not None:
            out.append(name)
        elif len(parts) == 1:
            out.append("verse")
        elif part == main:
            out.append("chorus")
        elif counts[part] > 1:
            out.append("verse")
        else:
            out.append("intro" if i == 0 else "outro" if i == len(parts) - 1 else "bridge")
    return out


def _vocal_stems(song: _Song) -> list[str]:
    """Stems the name (whole words) or the analysis calls vocals, else the melodic ones."""
    named = [n for n in song.stems
             if name_instrument(n) == "vocals" or song.instruments.get(n) == "vocals"]
    return named or [n for n in song.stems if song.roles[n] == "melody"]


# --- rides ---------------------------------------------------------------------------------------

def _rides(song: _Song, out_sections: list[dict], mutes: dict[str, bool]) -> list[Ride]:
    """Per-section level rides on the output timeline (see module docstring)."""
    leads = [n for n in _vocal_stems(song) if not mutes.get(n)]
    pads = [n for n in song.stems if song.roles[n] in ("harmony", "texture") and not mutes.get(n)
            and n not in leads]
    drums = [n for n in song.stems if song.roles[n] == "rhythm" and not mutes.get(n)]
    rides = []
    chorus_idx = [i for i, s in enumerate(out_sections) if s["label"] == "chorus"]
    for i, sec in enumerate(out_sections):
        a, b, lab, playing = sec["start_s"], sec["end_s"], sec["label"], set(sec["stems"])
        span = f"{lab} {a:.1f}-{b:.1f} s"
        if lab == "chorus":
            rides += [Ride(n, a, b, 1.5, f"{span}: +1.5 dB lifts the lead so the hook carries")
                      for n in leads if n in playing]
        elif lab == "verse" and playing & set(leads):
            rides += [Ride(n, a, b, -1.5, f"{span}: -1.5 dB pulls the pad back under the verse "
                           "vocal to leave room for the words") for n in pads if n in playing]
        elif lab == "pre-chorus":
            rides += [Ride(n, a, b, 1.0, f"{span}: +1 dB on the drums builds into the chorus")
                      for n in drums if n in playing]
        elif lab in ("breakdown", "bridge"):
            rides += [Ride(n, a, b, 1.0, f"{span}: +1 dB on the pad carries the {lab}'s contrast")
                      for n in pads if n in playing]
    if len(chorus_idx) >= 2 and chorus_idx[-1] > 0:
        last = out_sections[chorus_idx[-1]]
        before = out_sections[chorus_idx[-1] - 1]
        bar = _bar_before(song, before, last)
        if before["label"] not in ("breakdown", "chorus") and bar is not None:
            rides += [Ride(n, bar[0], bar[1], -9.0,
                           f"bar {bar[0]:.1f}-{bar[1]:.1f} s before the last chorus: drums "
                           "-9 dB make a one-bar breakdown so the last chorus hits harder")
                      for n in drums if n in before["stems"]]
    return rides


def _bar_before(song: _Song, before: dict, chorus: dict):
    """Output span of the last bar of ``before`` (the bar that leads into ``chorus``)."""
    src_end = before["source_end_s"]
    bars = song.downbeats_s[(song.downbeats_s < src_end - 0.05)
                            & (song.downbeats_s >= before["source_start_s"])]
    if not len(bars):
        return None
    start = chorus["start_s"] - (src_end - bars[-1])
    return (round(start, 4), chorus["start_s"])


# --- versions ------------------------------------------------------------------------------------

def _snap(downbeats: np.ndarray, t: float) -> float:
    """Nearest downbeat to ``t`` (``t`` itself when there are no downbeats)."""
    return float(downbeats[np.argmin(np.abs(downbeats - t))]) if len(downbeats) else t


def _out_sections(song: _Song, pieces: list[tuple[float, float, str, list[str]]]) -> list[dict]:
    """Sections on the output timeline from ``(source_start_s, source_end_s, label, stems)``."""
    out, t = [], 0.0
    for a, b, lab, stems in pieces:
        out.append({"start_s": round(t, 4), "end_s": round(t + b - a, 4), "label": lab,
                    "source_start_s": round(a, 4), "source_end_s": round(b, 4),
                    "stems": list(stems)})
        t += b - a
    return out


def _pieces_to_edits(pieces, sr: int, *, crossfade_ms: float, loop: bool = False,
                     fade_out_ms: float = 0.0) -> EditList:
    """Edit list of ``(source_start_s, source_end_s, label, stems)`` pieces; DJ pieces
    (label ``dj-*``) play only their stems, contiguous pieces merge into one range."""
    segs: list[Segment] = []
    for a, b, lab, stems in pieces:
        seg = Segment(int(round(a * sr)), int(round(b * sr)),
                      tuple(stems) if lab.startswith("dj-") else None)
        if segs and segs[-1].end == seg.start and segs[-1].stems == seg.stems:
            segs[-1] = Segment(segs[-1].start, seg.end, seg.stems)
        else:
            segs.append(seg)
    return EditList(sr=sr, segments=segs, crossfade_ms=crossfade_ms, loop=loop,
                    fade_out_ms=fade_out_ms)


def _radio(song: _Song, target_s: float, notes: list[str]):
    """Pieces of a radio edit: the cheapest set of dropped sections (never the first and last
    chorus, by :func:`section_kinds`) that reaches ``target_s`` after bar trims of the intro and
    outro; ``(pieces, fade_out_ms)``."""
    secs = song.sections
    total = song.duration_s
    if total <= target_s + RADIO_TOLERANCE_S:
        notes.append(f"radio: the song is {total:.1f} s, already within the {target_s:.0f} s "
                     "target; nothing cut")
        return [(s["start_s"], s["end_s"], s["label"], s["stems"]) for s in secs], 0.0
    chorus = [i for i, s in enumerate(secs) if s["kind"] == "chorus"]
    keep_always = {chorus[0], chorus[-1]} if chorus else set()
    removable = [i for i in range(len(secs)) if i not in keep_always]
    bar_s = float(np.median(np.diff(song.downbeats_s))) if len(song.downbeats_s) > 1 else 2.0
    best = None
    # Cheapest set of dropped sections whose length, after trimming whole bars off the intro
    # start and the outro end (or, next best, ending early in the last section), lands within
    # the tolerance of the target.
    max_drop, combos = 0, 1
    while max_drop < len(removable) and combos < _MAX_RADIO_COMBINATIONS:
        max_drop += 1
        combos += math.comb(len(removable), max_drop)
    for r in range(max_drop + 1):
        for drop in itertools.combinations(removable, r):
            kept = [i for i in range(len(secs)) if i not in drop]
            if not kept:
                continue
            length = sum(secs[i]["end_s"] - secs[i]["start_s"] for i in kept)
            cost = sum(_DROP_COST.get(secs[i]["kind"], 3.0) for i in drop)
            trim_room = sum(secs[i]["end_s"] - secs[i]["start_s"] - bar_s for i in kept
                            if secs[i]["kind"] in ("intro", "outro") and i in (kept[0], kept[-1]))
            excess = length - target_s
            last = secs[kept[-1]]["end_s"] - secs[kept[-1]]["start_s"] - bar_s
            if -RADIO_TOLERANCE_S <= excess <= max(trim_room, 0.0) + RADIO_TOLERANCE_S:
                tier = 0  # bar trims of the intro/outro reach the target
            elif 0.0 < excess <= last + RADIO_TOLERANCE_S:
                tier = 1  # reaches it by ending early inside the last section, with a fade
            else:
                tier = 2
            key = (tier, cost + 0.05 * max(excess, 0) / bar_s if tier < 2 else abs(excess))
            if best is None or key < best[0]:
                best = (key, kept, drop)
    _, kept, drop = best
    for i in drop:
        s = secs[i]
        notes.append(f"radio: dropped the {s['label']} at {s['start_s']:.1f}-{s['end_s']:.1f} s "
                     "(least needed for the song's story) to reach the target length")
    pieces = [[secs[i]["start_s"], secs[i]["end_s"], secs[i]["label"], secs[i]["stems"]]
              for i in kept]
    excess = sum(b - a for a, b, _, _ in pieces) - target_s
    pieces, fade_ms = _trim_ends(song, pieces, [secs[i]["kind"] for i in kept], excess, notes)
    return [tuple(p) for p in pieces], fade_ms


def _trim_ends(song: _Song, pieces, kinds: list[str], excess: float, notes):
    """Trim whole bars off the intro start and the outro end (cuts on downbeats; ``kinds``:
    the pieces' :func:`section_kinds`), then, as a last resort, end early on a downbeat with a
    one-bar fade-out; ``(pieces, fade_out_ms)``."""
    db = song.downbeats_s
    bar_ms = 1000.0 * float(np.median(np.diff(db))) if len(db) > 1 else 2000.0
    fade_ms = 0.0
    for end, label in ((0, "intro"), (-1, "outro"), (-1, None)):
        a, b = pieces[end][0], pieces[end][1]
        if excess <= RADIO_TOLERANCE_S or (label and kinds[end] != label):
            continue
        inner = db[(db > a + 0.05) & (db < b - 0.05)]  # cut points keep at least one bar
        if not len(inner):
            continue
        cut = float(min(inner, key=lambda t: abs((t - a if end == 0 else b - t) - excess)))
        trimmed = cut - a if end == 0 else b - cut
        if abs(trimmed - excess) >= abs(excess):
            continue
        excess -= trimmed
        if end == 0:
            pieces[0][0] = cut
            notes.append(f"radio: the {_called(pieces[0][2], 'intro')} starts on the downbeat "
                         f"at {cut:.2f} s ({trimmed:.1f} s trimmed)")
        else:
            pieces[-1][1] = cut
            fade_ms = bar_ms
            what = (f"the {_called(pieces[-1][2], 'outro')} ends" if label
                    else "ends early (no section choice reached the target)")
            notes.append(f"radio: {what} on the downbeat at {cut:.2f} s with a one-bar fade-out "
                         f"({trimmed:.1f} s trimmed)")
    if abs(excess) > RADIO_TOLERANCE_S and len(song.beats_s):
        # Bars too long for the tolerance (slow songs): the ending moves to the nearest beat.
        # The end of the song is a fade-out, not a join, so no edit point leaves the downbeats.
        a, b = pieces[-1][0], pieces[-1][1]
        beats = song.beats_s[(song.beats_s > a + 0.05) & (song.beats_s < song.duration_s)]
        if len(beats):
            end = float(beats[np.argmin(np.abs(beats - (b - excess)))])
            if abs(b - end - excess) < abs(excess):
                pieces[-1][1] = end
                fade_ms = bar_ms
                notes.append(f"radio: ends on the beat at {end:.2f} s with a one-bar fade-out, "
                             "as no downbeat came within the target length's tolerance")
    return pieces, fade_ms


def _called(label: str, kind: str) -> str:
    """``"intro"``, or, for a lettered section at an end, ``"A (heard once, at the start)"``:
    what the edit goes by, without claiming a name the analysis did not give."""
    if label == kind:
        return label
    return f"{label} (heard once, at the {'start' if kind == 'intro' else 'end'})"


def _groove_block(song: _Song, needed: list[str], bars: int, *, from_end: bool):
    """Source span (on downbeats) of ``bars`` bars inside one section where every ``needed`` stem
    plays; the first such section, or the last with ``from_end``."""
    db = song.downbeats_s
    order = song.sections[::-1] if from_end else song.sections
    for pass_bars in (bars, max(1, bars // 2), 1):
        for s in order:
            if not set(needed) <= set(s["stems"]):
                continue
            inside = db[(db >= s["start_s"] - 0.05) & (db <= s["end_s"] + 0.05)]
            if len(inside) <= pass_bars:
                continue
            i = len(inside) - 1 - pass_bars if from_end else 0
            return float(inside[i]), float(inside[i + pass_bars]), s, pass_bars
    return None


def _extended(song: _Song, dj_bars: int, notes: list[str]):
    drums = [n for n in song.stems if song.roles[n] == "rhythm"]
    bass = [n for n in song.stems if song.roles[n] == "low_end"]
    if not drums:
        raise PlanError("extended: no drums stem to build the DJ intro/outro from; separate the "
                        "song first (mixassist separate) or pass a drums track")
    if set(drums) <= song.silent:
        raise PlanError(f"extended: the drum stem(s) {', '.join(drums)} play nowhere (silent, or "
                        "only separation leakage): no groove to build a DJ intro/outro from")
    needed = drums + bass
    db = song.downbeats_s
    if len(db) < 4:
        raise PlanError("extended: fewer than 4 downbeats were found; the song is too short or "
                        "has no steady beat for a DJ intro")
    pieces = []
    for part, from_end in (("intro", False), ("outro", True)):
        block = _groove_block(song, needed, 8, from_end=from_end)
        if block is None:
            raise PlanError(f"extended: no section where {', '.join(needed)} all play; cannot "
                            f"build the DJ {part}")
        a, b, sec, nbars = block
        reps = dj_bars // nbars
        notes.append(f"extended: DJ {part} of {dj_bars} bars = the {nbars}-bar {'+'.join(needed)} "
                     f"groove of the {sec['label']} at {a:.1f}-{b:.1f} s repeated {reps}x, so a "
                     "DJ can beat-match on drums and bass alone")
        block_pieces = [(a, b, f"dj-{part}", needed)] * reps
        if part == "intro":
            pieces += block_pieces
            start, end = float(db[0]), float(db[-1])
            notes.append(f"extended: the song plays from its first downbeat {start:.2f} s to its "
                         f"last downbeat {end:.2f} s between the DJ parts")
            pieces += [(max(s["start_s"], start), min(s["end_s"], end), s["label"], s["stems"])
                       for s in song.sections if s["end_s"] > start and s["start_s"] < end]
        else:
            pieces += block_pieces
    return pieces


def _loop(song: _Song, bars: int, crossfade_ms: float, notes: list[str]):
    db = song.downbeats_s
    if len(db) <= bars:
        raise PlanError(f"loop: the song has {len(db)} downbeats, too few for a {bars}-bar loop")
    xf_s = crossfade_ms / 1000.0
    best = None
    for s in song.sections:
        inside = np.flatnonzero((db >= s["start_s"] - 0.05) & (db <= s["end_s"] + 0.05))
        for j in inside:
            if j + bars >= len(db) or db[j] < xf_s:
                continue
            fits = db[j + bars] <= s["end_s"] + 0.05
            score = (fits, len(s["stems"]), s["kind"] == "chorus")
            if best is None or score > best[0]:
                best = (score, j, s)
            break
    if best is None:
        raise PlanError(f"loop: no {bars}-bar stretch starting on a downbeat was found")
    _, j, sec = best
    a, b = float(db[j]), float(db[j + bars])
    notes.append(f"loop: {bars} bars of the {sec['label']} at {a:.2f}-{b:.2f} s (downbeat to "
                 "downbeat, the fullest section), its end crossfaded into the bar before its "
                 "start so it repeats seamlessly")
    return [(a, b, sec["label"], sec["stems"])]


def plan_arrangement(structure, sr: int, *, version: str = "full", stem_names=None,
                     target_length_s: float = DEFAULT_RADIO_LENGTH_S, dj_bars: int = 16,
                     loop_bars: int = 8, crossfade_ms: float = DEFAULT_CROSSFADE_MS,
                     rides: bool = True) -> ArrangementPlan:
    """Plan an arrangement version of a song.

    Parameters
    ----------
    structure : SongStructure, Analysis, or any object with ``duration_s``, ``downbeats_s``,
        ``sections`` (``start_s, end_s, label``) and stem activity.
    sr : sample rate of the stems the edits will be applied to, Hz.
    version : one of ``VERSIONS`` (aliases in ``VERSION_ALIASES``).
    stem_names : the stems of the song (default: those in the structure's activity).
    target_length_s : radio edit length, seconds (met within ``RADIO_TOLERANCE_S`` where the
        sections allow, always within one bar).
    dj_bars : length of the extended version's DJ intro and outro, 16 or 32 bars.
    loop_bars : length of the loop, bars (1-64).
    crossfade_ms : equal-power crossfade at every cut, ms.
    rides : add the per-section level rides.

    Returns
    -------
    ArrangementPlan
    """
    version = VERSION_ALIASES.get(version, version)
    if version not in VERSIONS:
        raise ParameterError(f"unknown version {version!r}; use one of {', '.join(VERSIONS)}")
    if dj_bars not in (16, 32):
        raise ParameterError(f"dj_bars={dj_bars}; a DJ intro/outro is 16 or 32 bars")
    if not 1 <= loop_bars <= 64:
        raise ParameterError(f"loop_bars={loop_bars}; use 1-64 bars")
    if not 0 <= crossfade_ms <= 500:
        raise ParameterError(f"crossfade_ms={crossfade_ms}; use 0-500 ms")
    if target_length_s <= 0:
        raise ParameterError(f"target_length_s={target_length_s}; use a positive length in s")
    song = _read_song(structure, stem_names)
    notes: list[str] = []
    mutes: dict[str, bool] = {}
    reasons: dict[str, list[str]] = {n: [] for n in song.stems}
    vocals = _vocal_stems(song)
    fade_ms, loop = 0.0, False
    pieces = [(s["start_s"], s["end_s"], s["label"], s["stems"]) for s in song.sections]
    if version in ("instrumental", "acapella"):
        if not vocals or len(vocals) == len(song.stems):
            raise PlanError(f"{version}: needs a vocals stem next to the others (have "
                            f"{', '.join(song.stems)}); separate the song first")
        if version == "acapella" and set(vocals) <= song.silent:
            raise PlanError(f"acapella: the vocal stem(s) {', '.join(vocals)} play nowhere "
                            "(silent, or only separation leakage): the song has no vocals to keep")
        for n in song.stems:
            mute = (n in vocals) == (version == "instrumental")
            if mute:
                mutes[n] = True
                reasons[n].append(f"{version}: muted ({'vocals removed' if n in vocals else 'only the vocals play'})")
    elif version == "radio":
        pieces, fade_ms = _radio(song, target_length_s, notes)
    elif version == "extended":
        pieces = _extended(song, dj_bars, notes)
    elif version == "loop":
        pieces = _loop(song, loop_bars, crossfade_ms, notes)
        loop = True
    pieces = [(a, b, lab, st) for a, b, lab, st in pieces if b - a > 1.0 / sr]
    out_sections = _out_sections(song, pieces)
    edits = _pieces_to_edits(pieces, sr, crossfade_ms=crossfade_ms, loop=loop,
                             fade_out_ms=fade_ms)
    if version in ("full", "instrumental", "acapella"):
        total = int(round(song.duration_s * sr))
        edits = EditList.identity(total, sr)
        out_sections[-1]["end_s"] = round(song.duration_s, 4)
    ride_list = _rides(song, out_sections, mutes) if rides and version != "loop" else []
    for r in ride_list:
        reasons[r.stem].append(r.reason)
    return ArrangementPlan(version=version, edits=edits, sections=out_sections, rides=ride_list,
                           mutes=mutes, reasons=reasons, notes=notes)
