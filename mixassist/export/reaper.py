"""A plan as a REAPER session (``.rpp``): one track per stem, the buses, markers, tempo, rides, EQ.

The session (docs/export.md has the details and what is and is not verified):

* ``TEMPO`` (BPM and time signature), ``SAMPLERATE``, one ``MARKER`` per arrangement section;
* one ``TRACK`` per plan stem in plan order: ``NAME``, ``VOLPAN`` (volume ``10^(gain_db/20)``,
  the plan's pan), ``MUTESOLO``, an ``ITEM`` at 0 s of ``length_s`` whose ``SOURCE WAVE`` names
  the stem file by its path relative to the ``.rpp``'s folder, a ``VOLENV2`` volume envelope with
  the plan's rides, and an ``FXCHAIN`` with its EQ as ReaEQ (:mod:`.reaeq`);
* one track per bus (named ``bus: <name>``) receiving each stem's post-fader send
  (``AUXRECV``, mode 0) at the plan's level; a bus whose effect cannot be written is muted;
* the master chain's EQ in ``MASTERFXLIST``;
* ``NOTES`` (the project notes) listing every plugin that is not written as plugin state
  (compressors, reverb, delay, limiter) with the REAPER plugin and values to set
  (:data:`~.mapping.FX_MAP`), and what else differs from mixassist's render.

``amount`` below 1 is applied first (:func:`mixassist.planning.amount.blend_plan`), as the
renderer does.
"""

from __future__ import annotations

import math
import os
import uuid
from pathlib import Path, PurePosixPath

from ..errors import ExportError
from ..planning.amount import blend_plan
from ..planning.plan import GainRamp, Plan, PluginSpec
from ..utils.atomic import write_text_atomic
from . import reaeq
from .mapping import BUTTERWORTH_Q, FX_MAP, bandwidth_oct, describe
from .rpp import RppNode, dumps

#: Length of every volume ramp (s): that of :data:`mixassist.rendering.automation.RAMP_MS`.
RAMP_S = 0.005
#: Envelope point shapes: 0 linear (a hold between equal values), 2 slow start/end (the ramps).
HOLD, SMOOTH = 0, 2
BUS_PREFIX = "bus: "
#: ``AUXRECV`` mode: 0 = post-fader (post-pan), as mixassist's sends.
POST_FADER = 0
_NS = uuid.UUID("6d697861-7373-6973-742d-726561706572")


def reaper_session(plan: Plan, *, stem_files: dict[str, str], tempo_bpm: float | None,
                   sample_rate: int, length_s: float, meter: tuple[int, int] = (4, 4)) -> str:
    """The RPP text of ``plan``.

    Parameters
    ----------
    plan : the mix plan (validated here; ``amount`` applied).
    stem_files : ``{stem name: path of its audio file relative to the .rpp's folder}``, one for
        every plan stem (forward slashes; no absolute paths, no ``..``).
    tempo_bpm : the song's tempo (BPM); None writes 120 BPM and says so in the notes.
    sample_rate : the stems' sample rate (Hz), the project's.
    length_s : length of the stems (s): every item's length.
    meter : time signature ``(beats per bar, beat unit)``.
    """
    _check_numbers(tempo_bpm, sample_rate, length_s, meter)
    files = _check_files(plan, stem_files)
    live = blend_plan(plan, sample_rate=plan.validate().sample_rate)
    notes: list[str] = [f"Mix plan exported by mixassist ({len(live.stems)} stems, "
                        f"{len(live.buses)} buses). Not written as plugin state, set by hand:"]
    root = RppNode("REAPER_PROJECT", ["0.1", "6.0/mixassist", "0"], block=True)
    project_notes = root.add("NOTES", 0, 2, block=True)
    root.add("TEMPO", tempo_bpm or 120.0, meter[0], meter[1])
    root.add("SAMPLERATE", sample_rate, 0, 0)
    root.add("PANMODE", 3)  # stereo balance / mono pan: REAPER's default
    master_fx = _fx_chain("MASTERFXLIST", live.master.chain, "master", notes)
    if master_fx is not None:
        root.children.append(master_fx)
    for i, section in enumerate(live.arrangement.sections, start=1):
        root.add("MARKER", i, float(section.start_s), section.label, 0, 0, 1)

    index = {name: i for i, name in enumerate(live.stems)}
    for name, stem in live.stems.items():
        track = _track(name, gain_db=stem.gain_db, pan=stem.pan, mute=stem.mute)
        if stem.automation:
            track.children.append(_volume_envelope(stem.automation))
        fx = _fx_chain("FXCHAIN", stem.chain, name, notes)
        if fx is not None:
            track.children.append(fx)
        track.children.append(_item(name, files[name], length_s))
        if stem.width != 1.0:
            notes.append(f"{name}: width {stem.width:g} (mid/side, before the pan) is not "
                         "written; REAPER's stereo pan mode has a width control")
        root.children.append(track)
    for bus_name, bus in live.buses.items():
        unwritten = [s.plugin for s in bus.chain if not _written(s)]
        track = _track(BUS_PREFIX + bus_name, gain_db=0.0, pan=0.0, mute=bool(unwritten))
        for name, stem in live.stems.items():
            if bus_name in stem.sends:
                level = 10.0 ** (stem.sends[bus_name] / 20.0)
                track.add("AUXRECV", index[name], POST_FADER, level, 0, 0, 0, 0, 0, 0, "-1:U",
                          0, -1, "")
        fx = _fx_chain("FXCHAIN", bus.chain, BUS_PREFIX + bus_name, notes)
        if fx is not None:
            track.children.append(fx)
        if unwritten:
            notes.append(f"{BUS_PREFIX}{bus_name}: muted until {', '.join(unwritten)} is added "
                         "(without it the bus would return its dry send); unmute it then")
        root.children.append(track)

    if tempo_bpm is None:
        notes.append("tempo unknown: 120 BPM written")
    if live.arrangement.edits is not None:
        notes.append(f"arrangement {live.arrangement.version!r} has time edits: the stem files "
                     "must be the edited ones (output timeline) for the markers to line up")
    notes.append("pan: mixassist pans with a constant-power sin/cos law, unity at centre "
                 "(+3 dB near side hard-panned); REAPER's default pan law differs off centre "
                 "(docs/export.md)")
    project_notes.children = [RppNode("|" + line) for line in notes]
    return dumps(root)


def write_reaper_session(path: str | os.PathLike, plan: Plan, *, stem_files: dict[str, str],
                         tempo_bpm: float | None, sample_rate: int, length_s: float,
                         meter: tuple[int, int] = (4, 4)) -> Path:
    """Write :func:`reaper_session` to ``path`` atomically and return it; every stem file must
    exist relative to ``path``'s folder."""
    path = Path(path)
    text = reaper_session(plan, stem_files=stem_files, tempo_bpm=tempo_bpm,
                          sample_rate=sample_rate, length_s=length_s, meter=meter)
    for name, rel in stem_files.items():
        if not (path.parent / rel).is_file():
            raise ExportError(f"{path}: stem {name!r} names {rel!r}, which does not exist in "
                              f"{path.parent}; write the stem files before the session")
    write_text_atomic(path, text)
    return path


# --- checks ------------------------------------------------------------------------------------
def _check_numbers(tempo_bpm, sample_rate, length_s, meter) -> None:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ExportError(f"REAPER session: sample_rate must be a positive int (Hz), "
                          f"got {sample_rate!r}")
    if not isinstance(length_s, (int, float)) or not math.isfinite(length_s) or length_s <= 0:
        raise ExportError(f"REAPER session: length_s must be a positive number of seconds, "
                          f"got {length_s!r}")
    if tempo_bpm is not None and not (isinstance(tempo_bpm, (int, float))
                                      and math.isfinite(tempo_bpm) and tempo_bpm > 0):
        raise ExportError(f"REAPER session: tempo_bpm must be a positive number or None, "
                          f"got {tempo_bpm!r}")
    if (len(meter) != 2 or not all(isinstance(m, int) and not isinstance(m, bool) and m > 0
                                   for m in meter)):
        raise ExportError(f"REAPER session: meter must be two positive ints like (4, 4), "
                          f"got {meter!r}")


def _check_files(plan: Plan, stem_files: dict[str, str]) -> dict[str, str]:
    if missing := [n for n in plan.stems if n not in stem_files]:
        raise ExportError(f"REAPER session: plan stem(s) {', '.join(missing)} have no file in "
                          "stem_files; give each stem the path of its audio file")
    if extra := [n for n in stem_files if n not in plan.stems]:
        raise ExportError(f"REAPER session: stem_files names {', '.join(extra)}, which the plan "
                          f"does not have (stems: {', '.join(plan.stems) or 'none'})")
    out = {}
    for name, rel in stem_files.items():
        text = str(rel).replace("\\", "/")
        pure = PurePosixPath(text)
        if not text or pure.is_absolute() or ":" in text.split("/")[0] or ".." in pure.parts:
            raise ExportError(f"REAPER session: stem {name!r} file {rel!r} must be a path inside "
                              "the session's folder, relative to it (like source/drums.wav), "
                              "so the folder can be moved")
        out[name] = text
    return out


# --- blocks ------------------------------------------------------------------------------------
def _guid(key: str) -> str:
    return "{" + str(uuid.uuid5(_NS, key)).upper() + "}"


def _track(name: str, *, gain_db: float, pan: float, mute: bool) -> RppNode:
    guid = _guid("track/" + name)
    track = RppNode("TRACK", [guid], block=True)
    track.add("NAME", name)
    track.add("VOLPAN", 10.0 ** (gain_db / 20.0), float(pan), -1, -1, 1)
    track.add("MUTESOLO", int(mute), 0, 0)
    track.add("NCHAN", 2)
    track.add("TRACKID", guid)
    track.add("MAINSEND", 1, 0)
    return track


def _item(name: str, rel: str, length_s: float) -> RppNode:
    item = RppNode("ITEM", block=True)
    item.add("POSITION", 0.0)
    item.add("LENGTH", float(length_s))
    item.add("LOOP", 0)
    item.add("NAME", name)
    item.add("IGUID", _guid("item/" + name))
    source = item.add("SOURCE", "WAVE", block=True)
    source.add("FILE", rel)
    return item


def envelope_points(ramps: list[GainRamp], *, ramp_s: float = RAMP_S,
                    ) -> list[tuple[float, float, int]]:
    """``(time_s, linear gain, shape)`` points of a volume envelope for ``ramps``.

    As :class:`mixassist.rendering.automation.GainCurve`: at every ``start_s`` the gain moves to
    ``10^(gain_db/20)`` over ``ramp_s``, at every ``end_s`` back to 1 (or to the next ride's gain
    when one starts there); 1 before the first ride.
    """
    changes: dict[float, float] = {}
    for r in sorted(ramps, key=lambda r: r.start_s):
        changes.setdefault(float(r.end_s), 1.0)
        changes[float(r.start_s)] = 10.0 ** (r.gain_db / 20.0)
    points = [(0.0, 1.0, HOLD)]
    value, last_t, last_from = 1.0, None, 1.0
    times = sorted(changes)
    for k, t in enumerate(times):
        if last_t is not None and t - last_t < ramp_s:  # the previous ramp is cut short
            x = (t - last_t) / ramp_s
            value = last_from + (value - last_from) * (0.5 - 0.5 * math.cos(math.pi * x))
        if points[-1][0] == t:
            points.pop()
        points.append((t, value, SMOOTH))
        last_t, last_from, value = t, value, changes[t]
        if k + 1 == len(times) or times[k + 1] - t >= ramp_s:
            points.append((t + ramp_s, value, HOLD))
    return points


def _volume_envelope(ramps: list[GainRamp]) -> RppNode:
    env = RppNode("VOLENV2", block=True)
    env.add("ACT", 1, -1)
    env.add("VIS", 1, 1, 1)
    env.add("LANEHEIGHT", 0, 0)
    env.add("ARM", 0)
    env.add("DEFSHAPE", 0, -1, -1)
    for t, value, shape in envelope_points(ramps):
        env.add("PT", t, value, shape)
    return env


def _written(spec: PluginSpec) -> bool:
    fx = FX_MAP.get(spec.plugin)
    return fx is not None and fx.written


def eq_band(spec: PluginSpec) -> reaeq.Band:
    """The ReaEQ band of an EQ plugin of a plan (:data:`~.mapping.FX_MAP`)."""
    fx = FX_MAP[spec.plugin]
    p = spec.params
    freq = float(p.get("cutoff_frequency_hz", 1000.0 if fx.band == "band" else 50.0))
    if fx.band in ("high_pass", "low_pass"):
        return reaeq.Band(fx.band, freq, 0.0, bandwidth_oct(BUTTERWORTH_Q))
    return reaeq.Band(fx.band, freq, float(p.get("gain_db", 0.0)),
                      bandwidth_oct(float(p.get("q", BUTTERWORTH_Q))))


def _fx_chain(block: str, chain: list[PluginSpec], where: str, notes: list[str],
              ) -> RppNode | None:
    """The FX chain block: each run of EQ plugins as one ReaEQ; the rest go to ``notes``."""
    runs: list[list[PluginSpec]] = []
    previous_written = False
    for spec in chain:
        if _written(spec):
            if not previous_written:
                runs.append([])
            runs[-1].append(spec)
        else:
            position = f"after ReaEQ #{len(runs)}" if runs else "first"
            notes.append(f"{where}: add {describe(spec.plugin, spec.params)} ({position} in "
                         "its chain)")
        previous_written = _written(spec)
    if not runs:
        return None
    fx = RppNode(block, block=True)
    for name, value in (("SHOW", 0), ("LASTSEL", 0), ("DOCKED", 0)):
        fx.add(name, value)
    for k, run in enumerate(runs, start=1):
        fx.add("BYPASS", 0, 0, 0)
        vst = fx.add("VST", *reaeq.REAEQ_VST_ARGS, block=True)
        vst.children = [RppNode(line) for line in
                        reaeq.wrap(reaeq.chunk([eq_band(s) for s in run]))]
        fx.add("FLOATPOS", 0, 0, 0, 0)
        fx.add("FXID", _guid(f"fx/{where}/{k}"))
        fx.add("WAK", 0, 0)
    return fx
