"""The mix plan (``plan.json`` of CONTRACT.md): what is done to every stem, bus and the master.

A plan is plain data: dataclasses that round-trip exactly through JSON (``Plan.from_json(
plan.to_json()) == plan``), so a user can read it, edit it and render it again. Plugins are named
by their pedalboard class and take its keyword arguments (:mod:`mixassist.planning.plugins`).

Validation raises :class:`~mixassist.errors.PlanError` with a one-line message that names the
place in the plan (``stems.vocals.automation[2]``), the problem and the allowed values; it covers
the arrangement too (its sections and edits are typed and checked when the plan is loaded, not
when it is rendered). Fields this version does not know are kept in ``extra`` and written back,
with a warning (:mod:`mixassist.utils.documents`, the policy of ``analysis.json`` too).
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, field

from ..errors import ParameterError, PlanError
from ..utils.documents import merge_extra, split_fields
from .edits import EditList
from .plugins import check_params
from .targets import DEFAULT_TRUE_PEAK_DBTP, MAX_TARGET_LUFS, MIN_TARGET_LUFS, Target

#: Schema version written into ``plan.json``; plans from a newer schema are refused.
PLAN_VERSION = 1
GAIN_RANGE_DB = (-120.0, 48.0)
SEND_RANGE_DB = (-120.0, 24.0)
WIDTH_RANGE = (0.0, 2.0)


@dataclass
class PluginSpec:
    """One plugin of a chain: ``pedalboard.<plugin>(**params)``."""

    plugin: str
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


@dataclass
class GainRamp:
    """Extra gain (dB) on ``[start_s, end_s)`` on top of the stem's ``gain_db``.

    The gain moves to ``gain_db`` over a short raised-cosine ramp that starts at ``start_s`` and
    back over one that starts at ``end_s`` (:mod:`mixassist.rendering.automation`).
    """

    start_s: float
    end_s: float
    gain_db: float
    extra: dict = field(default_factory=dict)


@dataclass
class StemPlan:
    """Processing of one stem, in signal order: gain and automation, chain, width, pan, sends.

    ``pan`` is -1 (left) .. 1 (right), constant-power; ``width`` scales the side signal (1.0
    unchanged, 0 mono, 2 twice as wide); ``sends`` maps a bus name to a post-fader level in dB.
    """

    gain_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    width: float = 1.0
    chain: list[PluginSpec] = field(default_factory=list)
    sends: dict[str, float] = field(default_factory=dict)
    automation: list[GainRamp] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class BusPlan:
    """An effect bus fed by the stems' sends (e.g. one shared reverb); its output joins the mix."""

    chain: list[PluginSpec] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class MasterPlan:
    """The master chain (EQ, glue compression, limiter) applied to the sum of stems and buses."""

    chain: list[PluginSpec] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class ArrangementSection:
    """A section of the output, seconds on the output timeline; ``source_start_s`` /
    ``source_end_s`` where it comes from in the song, ``stems`` the stems that play in it."""

    start_s: float
    end_s: float
    label: str
    source_start_s: float | None = None
    source_end_s: float | None = None
    stems: list[str] | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The plan.json layout: the optional fields only when set."""
        out = {f: getattr(self, f) for f in ("start_s", "end_s", "label")}
        out |= {f: getattr(self, f) for f in ("source_start_s", "source_end_s", "stems")
                if getattr(self, f) is not None}
        return merge_extra({**copy.deepcopy(out), "extra": copy.deepcopy(self.extra)})

    @classmethod
    def from_dict(cls, data, where: str = "arrangement.sections") -> ArrangementSection:
        return cls(**_fields(data, cls, where))


@dataclass
class Arrangement:
    """Which arrangement version is rendered, its sections (on the output timeline), the time
    edits that make it (``edits``: an :class:`~mixassist.planning.edits.EditList`; None = the
    song as is, ``{}`` in plan.json), the output length (s) and the reasons for the edits.

    Sections and edits given as plan.json dicts are read into their types."""

    version: str = "full"
    sections: list[ArrangementSection] = field(default_factory=list)
    edits: EditList | None = None
    length_s: float | None = None
    reasons: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.sections, list):
            self.sections = [ArrangementSection.from_dict(s, f"arrangement.sections[{i}]")
                             if isinstance(s, dict) else s for i, s in enumerate(self.sections)]
        if isinstance(self.edits, dict):
            self.edits = _edits(self.edits) if self.edits else None

    def to_dict(self) -> dict:
        """The plan.json layout."""
        return merge_extra({"version": self.version,
                            "sections": [s.to_dict() for s in self.sections],
                            "edits": {} if self.edits is None else self.edits.to_dict(),
                            "length_s": self.length_s, "reasons": list(self.reasons),
                            "extra": copy.deepcopy(self.extra)})


@dataclass
class Plan:
    """A complete, renderable mix plan.

    ``amount`` (0..1) blends the plan with no processing when it is rendered: 1 renders it as
    written, 0 sums the stems untouched and only reaches the loudness target
    (:func:`mixassist.planning.amount.blend_plan`).
    """

    #: Fields mixassist writes into ``extra`` (no warning when they are read): ``reference``,
    #: the summary of the moves toward references (:mod:`.reference`).
    EXTENSIONS = ("reference",)

    sample_rate: int
    target: Target
    stems: dict[str, StemPlan] = field(default_factory=dict)
    buses: dict[str, BusPlan] = field(default_factory=dict)
    master: MasterPlan = field(default_factory=MasterPlan)
    arrangement: Arrangement = field(default_factory=Arrangement)
    amount: float = 1.0
    version: int = PLAN_VERSION
    extra: dict = field(default_factory=dict)

    # --- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-able dict in the layout of CONTRACT.md."""
        out = asdict(self)
        out["target"] = self.target.to_dict()
        out["arrangement"] = self.arrangement.to_dict()
        out = merge_extra(out)
        return {"version": out.pop("version"), **out}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict, *, validate: bool = True) -> Plan:
        """Build a plan from :meth:`to_dict` output (or an edited ``plan.json``) and validate it."""
        data = copy.deepcopy(data)
        top = _fields(data, cls, "top level", required=("sample_rate", "target"))
        version = top.get("version", PLAN_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version > PLAN_VERSION:
            raise PlanError(f"plan: version {version!r} is not supported (this mixassist reads "
                            f"plan versions up to {PLAN_VERSION}); upgrade mixassist")
        target = _target_fields(top["target"])
        stems = _mapping(top.get("stems", {}), "stems")
        buses = _mapping(top.get("buses", {}), "buses")
        plan = cls(
            version=version,
            sample_rate=top["sample_rate"],
            target=_target(target),
            stems={name: _stem(s, f"stems.{name}") for name, s in stems.items()},
            buses={name: BusPlan(**_chain_holder(b, BusPlan, f"buses.{name}"))
                   for name, b in buses.items()},
            master=MasterPlan(**_chain_holder(top.get("master", {}), MasterPlan, "master")),
            arrangement=_arrangement(top.get("arrangement", {})),
            amount=top.get("amount", 1.0),
            extra=top.get("extra", {}),
        )
        if validate:
            plan.validate()
        return plan

    @classmethod
    def from_json(cls, text: str, *, validate: bool = True) -> Plan:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PlanError(f"plan is not valid JSON: {exc}") from None
        return cls.from_dict(data, validate=validate)

    # --- validation ----------------------------------------------------------------------------
    def validate(self) -> Plan:
        """Check every field; raise :class:`PlanError` naming the first bad one. Returns self.

        Plugin parameters are normalised in place (integers to floats) so JSON round trips are
        exact.
        """
        if (isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int)
                or not 8_000 <= self.sample_rate <= 192_000):
            raise PlanError(f"plan: sample_rate must be an integer 8000-192000 Hz, "
                            f"got {self.sample_rate!r}")
        if not isinstance(self.target, Target):
            raise PlanError(f"plan: target must be a Target, got {type(self.target).__name__}")
        self.amount = _number(self.amount, "amount", (0.0, 1.0))
        for name, bus in self.buses.items():
            _check_name(name, "buses")
            _check_chain(bus.chain, f"buses.{name}", self.sample_rate)
            _check_reasons(bus.reasons, f"buses.{name}")
        for name, stem in self.stems.items():
            _check_name(name, "stems")
            _check_stem(stem, f"stems.{name}", self.sample_rate, self.buses)
        _check_chain(self.master.chain, "master", self.sample_rate)
        _check_reasons(self.master.reasons, "master")
        _check_arrangement(self.arrangement, self.sample_rate, self.stems)
        return self

    def check_stems(self, names) -> None:
        """Raise :class:`PlanError` unless the plan has exactly the stems ``names``."""
        names = set(names)
        if missing := sorted(set(self.stems) - names):
            files = ", ".join(f"{m}.wav" for m in missing)
            raise PlanError(f"plan stem(s) {', '.join(missing)} have no audio; provide {files} "
                            "or remove them from the plan")
        if extra := sorted(names - set(self.stems)):
            raise PlanError(f"audio stem(s) {', '.join(extra)} are not in the plan; add them "
                            "to plan.stems (gain_db 0 keeps them unchanged) or remove the files")


# --- parsing helpers ---------------------------------------------------------------------------
def _fields(data, cls, where: str, *, required: tuple | None = None) -> dict:
    """The fields of ``cls`` from ``data`` (all of ``required``; unknown ones kept in ``extra``
    with a warning, :func:`mixassist.utils.documents.split_fields`)."""
    return split_fields(data, cls, where, document="plan", error=PlanError, required=required)


def _edits(data) -> EditList:
    try:
        return EditList.from_dict(data)
    except ParameterError as exc:
        raise PlanError(f"plan: arrangement.edits: {exc}") from None


def _arrangement(data) -> Arrangement:
    data = _fields(data, Arrangement, "arrangement")
    if "sections" in data:
        if not isinstance(data["sections"], list):
            raise PlanError("plan: arrangement.sections must be a list of "
                            "{start_s, end_s, label, ...}")
        data["sections"] = [ArrangementSection.from_dict(s, f"arrangement.sections[{i}]")
                            for i, s in enumerate(data["sections"])]
    if "edits" in data:
        if not isinstance(data["edits"], dict):
            raise PlanError("plan: arrangement.edits must be an object (an edit list, or {})")
        data["edits"] = _edits(data["edits"]) if data["edits"] else None
    return Arrangement(**data)


def _target_fields(data) -> dict:
    """The target object of a plan; it has no ``extra``: unknown fields are refused."""
    if not isinstance(data, dict):
        raise PlanError(f"plan: target must be an object, got {type(data).__name__}")
    if unknown := sorted(set(data) - {"name", "lufs", "true_peak_dbtp"}):
        raise PlanError(f"plan: target has unknown field(s) {', '.join(unknown)}; "
                        "allowed: lufs, name, true_peak_dbtp")
    if "lufs" not in data:
        raise PlanError("plan: target is missing lufs")
    return data


def _target(data: dict) -> Target:
    lufs = _number(data["lufs"], "target.lufs", (MIN_TARGET_LUFS, MAX_TARGET_LUFS))
    true_peak = _number(data.get("true_peak_dbtp", DEFAULT_TRUE_PEAK_DBTP), "target.true_peak_dbtp",
                        (-20.0, 0.0))
    name = data.get("name", f"{lufs:g} LUFS")
    try:
        return Target(name, lufs, true_peak)
    except ParameterError as exc:
        raise PlanError(f"plan: target: {exc}") from None


def _mapping(data, where: str) -> dict:
    if not isinstance(data, dict):
        raise PlanError(f"plan: {where} must be an object mapping names to settings")
    return data


def _chain(items, where: str) -> list[PluginSpec]:
    if not isinstance(items, list):
        raise PlanError(f"plan: {where}.chain must be a list of {{plugin, params}}")
    return [PluginSpec(**_fields(item, PluginSpec, f"{where}.chain[{i}]", required=("plugin",)))
            for i, item in enumerate(items)]


def _chain_holder(data, cls, where: str) -> dict:
    data = _fields(data, cls, where)
    if "chain" in data:
        data["chain"] = _chain(data["chain"], where)
    return data


def _stem(data, where: str) -> StemPlan:
    data = _chain_holder(data, StemPlan, where)
    if "automation" in data:
        if not isinstance(data["automation"], list):
            raise PlanError(f"plan: {where}.automation must be a list of "
                            "{start_s, end_s, gain_db}")
        data["automation"] = [
            GainRamp(**_fields(r, GainRamp, f"{where}.automation[{i}]",
                               required=("start_s", "end_s", "gain_db")))
            for i, r in enumerate(data["automation"])]
    return StemPlan(**data)


# --- validation helpers ------------------------------------------------------------------------
def _number(value, where: str, bounds: tuple[float, float]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlanError(f"plan: {where} must be a number, got {value!r}")
    value = float(value)
    if not bounds[0] <= value <= bounds[1]:
        raise PlanError(f"plan: {where} = {value:g} is outside [{bounds[0]:g}, {bounds[1]:g}]")
    return value


def _check_name(name, where: str) -> None:
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise PlanError(f"plan: {where} name {name!r} must be a non-empty file-name-safe string")


def _check_reasons(reasons, where: str) -> None:
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise PlanError(f"plan: {where}.reasons must be a list of strings")


def _check_chain(chain: list[PluginSpec], where: str, sample_rate: int) -> None:
    if not isinstance(chain, list):
        raise PlanError(f"plan: {where}.chain must be a list of {{plugin, params}}")
    for i, spec in enumerate(chain):
        here = f"plan: {where}.chain[{i}]"
        if not isinstance(spec, PluginSpec):
            raise PlanError(f"{here} must be a PluginSpec")
        spec.params = check_params(spec.plugin, spec.params, where=here, sample_rate=sample_rate)


def _check_stem(stem: StemPlan, where: str, sample_rate: int, buses: dict) -> None:
    stem.gain_db = _number(stem.gain_db, f"{where}.gain_db", GAIN_RANGE_DB)
    stem.pan = _number(stem.pan, f"{where}.pan", (-1.0, 1.0))
    stem.width = _number(stem.width, f"{where}.width", WIDTH_RANGE)
    if not isinstance(stem.mute, bool):
        raise PlanError(f"plan: {where}.mute must be true or false, got {stem.mute!r}")
    _check_chain(stem.chain, where, sample_rate)
    _check_reasons(stem.reasons, where)
    if not isinstance(stem.sends, dict):
        raise PlanError(f"plan: {where}.sends must be an object mapping bus names to dB")
    for bus, level in stem.sends.items():
        if bus not in buses:
            defined = ", ".join(buses) or "none"
            raise PlanError(f"plan: {where}.sends sends to bus {bus!r}, which is not defined in "
                            f"plan.buses (defined: {defined})")
        stem.sends[bus] = _number(level, f"{where}.sends.{bus}", SEND_RANGE_DB)
    if not isinstance(stem.automation, list):
        raise PlanError(f"plan: {where}.automation must be a list")
    for i, ramp in enumerate(stem.automation):
        here = f"{where}.automation[{i}]"
        ramp.start_s = _number(ramp.start_s, f"{here}.start_s", (0.0, math.inf))
        ramp.end_s = _number(ramp.end_s, f"{here}.end_s", (0.0, math.inf))
        ramp.gain_db = _number(ramp.gain_db, f"{here}.gain_db", GAIN_RANGE_DB)
        if ramp.end_s <= ramp.start_s:
            raise PlanError(f"plan: {here}: end_s {ramp.end_s:g} must be after start_s "
                            f"{ramp.start_s:g}")
    order = sorted(range(len(stem.automation)), key=lambda i: stem.automation[i].start_s)
    for a, b in zip(order, order[1:]):
        if stem.automation[b].start_s < stem.automation[a].end_s:
            raise PlanError(f"plan: {where}.automation[{a}] and [{b}] overlap "
                            f"({stem.automation[a].start_s:g}-{stem.automation[a].end_s:g} s and "
                            f"{stem.automation[b].start_s:g}-{stem.automation[b].end_s:g} s)")


def _check_arrangement(arrangement: Arrangement, sample_rate: int, stems: dict) -> None:
    """The arrangement's sections and edits: numbers in range, stems the plan has, edits at the
    plan's sample rate (so a bad plan fails when it is loaded, not halfway through rendering)."""
    if not isinstance(arrangement.version, str):
        raise PlanError("plan: arrangement.version must be a string")
    for i, section in enumerate(arrangement.sections):
        here = f"arrangement.sections[{i}]"
        if not isinstance(section, ArrangementSection):
            raise PlanError(f"plan: {here} must be an object {{start_s, end_s, label, ...}}")
        section.start_s = _number(section.start_s, f"{here}.start_s", (0.0, math.inf))
        section.end_s = _number(section.end_s, f"{here}.end_s", (section.start_s, math.inf))
        if not isinstance(section.label, str):
            raise PlanError(f"plan: {here}.label must be a string, got {section.label!r}")
        for name in ("source_start_s", "source_end_s"):
            if getattr(section, name) is not None:
                setattr(section, name, _number(getattr(section, name), f"{here}.{name}",
                                               (0.0, math.inf)))
        _check_stem_names(section.stems, f"{here}.stems", stems)
    if arrangement.length_s is not None:
        arrangement.length_s = _number(arrangement.length_s, "arrangement.length_s",
                                       (0.0, math.inf))
    _check_reasons(arrangement.reasons, "arrangement")
    edits = arrangement.edits
    if edits is None:
        return
    if not isinstance(edits, EditList):
        raise PlanError("plan: arrangement.edits must be an edit list")
    if edits.sr != sample_rate:
        raise PlanError(f"plan: arrangement.edits are for {edits.sr} Hz audio but the plan is "
                        f"for {sample_rate} Hz")
    if not edits.segments:
        raise PlanError("plan: arrangement.edits has no segments; use {} for the song as is")
    for name in ("crossfade_ms", "fade_in_ms", "fade_out_ms"):
        _number(getattr(edits, name), f"arrangement.edits.{name}", (0.0, 60_000.0))
    for i, seg in enumerate(edits.segments):
        here = f"arrangement.edits.segments[{i}]"
        if not 0 <= seg.start < seg.end:
            raise PlanError(f"plan: {here}: [{seg.start}, {seg.end}) is not a range of source "
                            "samples (0 <= start < end)")
        _check_stem_names(None if seg.stems is None else list(seg.stems), f"{here}.stems", stems)


def _check_stem_names(names, where: str, stems: dict) -> None:
    if names is None:
        return
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PlanError(f"plan: {where} must be a list of stem names")
    if unknown := [n for n in names if n not in stems]:
        raise PlanError(f"plan: {where} names stem(s) {', '.join(unknown)} the plan does not have "
                        f"(stems: {', '.join(stems) or 'none'})")
