"""The assistant end to end: song or stem folder -> stems -> analysis -> plan -> render -> outputs.

:class:`MixAssistant` is what the ``mix`` verb, batch jobs and the web service call. A song file
(or an in-memory array) is separated first; a folder of audio files is taken as the stems of one
song (not separated; the mix is their sum). A step whose model is missing fails with a clear
:class:`~mixassist.errors.ModelError`; there are no silent stand-ins.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cache import StepCache, code_digest, content_key, file_identity
from .errors import AudioContentError, DiskSpaceError, ParameterError, PlanError
from .options import MixOptions
from .utils.atomic import atomic_dir, work_folder

Progress = Callable[[str, float, float], None]
#: Shortest reference song (s): its balance and tonal balance are measured over the whole of it.
MIN_REFERENCE_S = 10.0


def check_reference(path: str | os.PathLike) -> Path:
    """``path`` as a usable reference (a song file or a stem folder at least
    :data:`MIN_REFERENCE_S` long, not silent), else an :class:`~mixassist.errors.AudioError`
    naming it. Reads the audio once (a silent one has no balance to measure)."""
    import warnings

    from .audio.convert import to_channels
    from .audio.io import audio_info, check_file, load_audio
    from .audio.stems import stem_files
    from .loudness import integrated_loudness

    path = Path(path)
    files = list(stem_files(path).values()) if path.is_dir() else [check_file(path)[0]]
    duration = max(audio_info(f)["duration_s"] for f in files)
    if duration < MIN_REFERENCE_S:
        raise AudioContentError(f"is {duration:.1f} s long; a reference needs at least "
                                f"{MIN_REFERENCE_S:g} s to measure its balance", path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "input is silent" is the error below
        loud = [integrated_loudness(to_channels(audio, 2), rate)
                for audio, rate in (load_audio(f) for f in files)]
    if not any(np.isfinite(v) for v in loud):
        raise AudioContentError("is silent: a reference needs sound to measure", path)
    return path


def _exclusive(plan_file, references: bool) -> None:
    if plan_file is not None and references:
        raise ParameterError("a saved plan (--plan) and references (--reference) exclude each "
                             "other: the plan already holds its moves")


@dataclasses.dataclass
class MixResult:
    """What :meth:`MixAssistant.process` produced (``folder`` is None when nothing was written).

    ``mix`` and each of ``stems``: np.ndarray [shape=(2, samples)] in memory, or a
    :class:`~mixassist.audio.signal.FileSignal` of the written file when there is a folder."""

    name: str
    sr: int
    analysis: object  # mixassist.analysis.result.Analysis
    plan: object  # mixassist.planning.plan.Plan (as rendered)
    mix: object
    stems: dict[str, object]
    input_loudness: dict
    output_loudness: dict
    folder: Path | None = None
    #: ``{name: (mix, sr)}`` of the references the plan moved toward (for the report's players;
    #: with an output folder, afterwards their loudness-matched previews in it).
    references: dict[str, tuple[object, int]] = dataclasses.field(default_factory=dict)
    #: The A/B player's versions (:class:`mixassist.report.Preview`), once written.
    previews: list | None = None

    def to_dict(self) -> dict:
        """A JSON-ready summary (the full documents are ``analysis`` and ``plan``)."""
        return {"name": self.name, "sample_rate": self.sr,
                "folder": None if self.folder is None else str(self.folder),
                "input_loudness": self.input_loudness, "output_loudness": self.output_loudness,
                "stems": sorted(self.stems), "version": self.plan.arrangement.version,
                "target": self.plan.target.to_dict(), "references": list(self.references)}


class MixAssistant:
    """Analyse a song, predict a mix and arrangement, and render it.

    Parameters
    ----------
    options : the :class:`~mixassist.options.MixOptions` (target, focus, amount, version,
        version lengths, separation model and device); default: ``MixOptions()``.
    cache : True (default folder, see :mod:`mixassist.cache`), a folder, or False: cache the
        separated stems and the analysis by content, so re-running with other options skips them.
    **fields : options by name (``MixAssistant(target="apple", focus="vocals")``), on top of
        ``options``.
    """

    def __init__(self, options: MixOptions | None = None, *,
                 cache: bool | str | os.PathLike = True, **fields):
        from .planning.targets import resolve_target

        options = options if options is not None else MixOptions()
        self.options = options.replace(**fields) if fields else options
        o = self.options
        self.target = resolve_target(o.target)
        self.focus, self.amount, self.version = o.focus, o.amount, o.version
        self.arrangement_options = {"target_length_s": o.radio_length_s,
                                    "loop_bars": o.loop_bars, "dj_bars": o.dj_bars}
        self.separation_model, self.device = o.separation_model, o.device
        self.analysis_model = o.analysis_model
        self._separator = None
        self.cache = None if cache is False else StepCache(None if cache is True else cache)

    # -- steps ---------------------------------------------------------------------------------
    def load(self, source, *, sr: int | None = None, progress: Progress | None = None,
             work: Path | None = None) -> tuple[str, dict, int]:
        """Stems of ``source`` (a stem folder, a song file, or ``(channels, samples)`` audio).

        With a ``work`` folder the stems stay on disk and are read block by block
        (:class:`~mixassist.audio.signal.FileSignal`): a stem folder's files where they lie
        (:func:`~mixassist.audio.stems.stem_signals`), a song separated file to file into
        ``work``; without one (and for in-memory audio) they are arrays."""
        from .audio.io import load_audio
        from .audio.signal import FileSignal
        from .audio.stems import load_stems, stem_signals

        if isinstance(source, np.ndarray):
            if sr is None:
                raise ParameterError("in-memory audio needs its sample rate: process(audio, sr=...)")
            return "audio", self.separate(source, sr, progress=progress), sr
        path = Path(source)
        if path.is_dir():
            stems, rate = (load_stems(path) if work is None
                           else stem_signals(path, Path(work) / "converted"))
            return path.name, stems, rate
        if work is None:
            audio, rate = load_audio(path, min_duration_s=1.0)
            return path.stem, self.separate(audio, rate, name=str(path), progress=progress), rate
        out = Path(work) / "separated"
        bar = None if progress is None else (lambda d, t: progress("separating", d, t))
        done = self._separator_for().separate_file(path, out, progress=bar)  # checks the file
        stems = {name: FileSignal(out / file) for name, file in done["files"].items()}
        return path.stem, stems, done["sample_rate"]

    def analysed(self, source, *, sr: int | None = None, progress: Progress | None = None,
                 work: Path | None = None):
        """``(name, stems, sr, analysis)`` of ``source``, from the cache when it holds them
        (``work``: see :meth:`load`; cached stems are read from the cache block by block)."""
        from .analysis.analyze import analyze
        from .analysis.result import Analysis
        from .audio.io import check_file
        from .audio.stems import load_stems, stem_files, stem_signals

        step = None if progress is None else (lambda d, t: progress("analysing", d, t))
        folder = not isinstance(source, np.ndarray) and Path(source).is_dir()
        if self.cache is None or isinstance(source, np.ndarray):
            name, stems, rate = self.load(source, sr=sr, progress=progress, work=work)
            analysis = analyze(stems, rate, separated=not folder, progress=step, model=self.analysis_model)
            return name, stems, rate, self._note_separator(analysis, separated=not folder)
        path = Path(source)
        if folder:
            stem_files(path)
        else:
            check_file(path)
        key = content_key(path, *self._depends(separated=not folder))
        hit = self.cache.load(key)
        if hit is not None:
            cached_stems, analysis_dict = hit
            analysis = Analysis.from_dict(analysis_dict)
            if folder:
                stems = (load_stems(path)[0] if work is None
                         else stem_signals(path, Path(work) / "converted")[0])
            else:
                stems = cached_stems if work is not None else {
                    k: v.to_array() for k, v in cached_stems.items()}
            return (path.name if folder else path.stem), stems, analysis.sample_rate, analysis
        name, stems, rate = self.load(path, progress=progress, work=work)
        analysis = self._note_separator(analyze(stems, rate, separated=not folder, progress=step,
                                                model=self.analysis_model), separated=not folder)
        self.cache.store(key, analysis, stems=None if folder else stems, sr=rate)
        return name, stems, rate, analysis

    def _note_separator(self, analysis, *, separated: bool):
        """Say in ``analysis.sources["separation"]`` which model separated the stems (``"none"``
        for a stem folder): ``"mixassist-compact (bundled)"``, ``"htdemucs (pretrained-cache)"``."""
        loaded = self._separator.loaded if separated and self._separator is not None else None
        analysis.sources["separation"] = ("none" if loaded is None
                                          else f"{loaded.name} ({loaded.source})")
        return analysis

    def _depends(self, *, separated: bool) -> list[str]:
        """What a cached result depends on besides the input's bytes."""
        from ._version import __version__
        from .analysis.analyze import DEFAULT_MODEL

        network = self.analysis_model or (DEFAULT_MODEL if DEFAULT_MODEL.is_file() else None)
        depends = [f"mixassist {__version__}", f"code {code_digest()}", "analysis " + file_identity(network)]
        if separated:
            from .separation.models import (DEFAULT_BUNDLED, DEFAULT_PRETRAINED, bundled_models,
                                            cached_pretrained)

            spec = self.separation_model
            if spec is None:
                spec = (DEFAULT_PRETRAINED if cached_pretrained(DEFAULT_PRETRAINED)
                        else bundled_models().get(DEFAULT_BUNDLED))
            depends.append("separation " + file_identity(spec))
        return depends

    def _separator_for(self):
        from .separation import Separator

        if self._separator is None:
            self._separator = Separator(self.separation_model, device=self.device)
        return self._separator

    def separate(self, audio: np.ndarray, sr: int, *, name: str = "audio",
                 progress: Progress | None = None) -> dict[str, np.ndarray]:
        self._separator_for()
        bar = None if progress is None else (lambda d, t: progress("separating", d, t))
        return self._separator.separate(audio, sr, progress=bar, name=name)

    def compare(self, song: tuple, *, progress: Progress | None = None,
                work: Path | None = None):
        """The balance of ``song`` (``(name, stems, sr, analysis)``) and of the options'
        references over their common units (:func:`mixassist.analysis.reference.compare`) and
        the references' mixes, ``(comparison, {name: (mix, sr)})``; ``(None, {})`` without
        references (:meth:`process` has checked them, :func:`check_reference`). ``work``:
        see :meth:`load` (each reference gets its own subfolder; the mixes are then
        :class:`~mixassist.audio.signal.MixSignal` of its stems)."""
        from .analysis.reference import compare
        from .audio.signal import MixSignal, aligned_signals
        from .audio.stems import mixdown

        if not self.options.references:
            return None, {}
        analysed, mixes = [], {}
        count = len(self.options.references)
        for k, ref in enumerate(self.options.references, 1):
            path = Path(ref)
            step = None if progress is None else (
                lambda label, d, t, k=k: progress(f"{label} reference {k}/{count}", d, t))
            name, stems, rate, analysis = self.analysed(
                path, progress=step, work=None if work is None else Path(work) / f"reference-{k}")
            name = name if name not in mixes and name != song[0] else f"{name} ({k})"
            analysed.append((name, stems, rate, analysis))
            mixes[name] = (mixdown(stems) if work is None
                           else MixSignal(aligned_signals(stems, rate)), rate)
        return compare(song, analysed), mixes

    def plan(self, analysis, sr: int, *, plan_file: str | os.PathLike | None = None,
             references=None, stems: dict | None = None, progress: Progress | None = None,
             work: Path | None = None):
        """The plan: a saved/edited one from ``plan_file``, or predicted from ``analysis``
        (toward ``references``, a :class:`~mixassist.analysis.reference.ReferenceComparison`,
        when given: then ``stems`` are needed, to measure what the chains do to their
        loudness, :func:`mixassist.planning.reference.calibrate`, on a trial render that reports
        to ``progress`` as ``"matching"``, written to ``work`` when given, else in memory)."""
        from .planning.arrangement import plan_arrangement
        from .planning.plan import Plan
        from .planning.predict import predict_plan

        _exclusive(plan_file, references is not None)
        if plan_file is not None:
            path = Path(plan_file)
            try:
                plan = Plan.from_json(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise PlanError(f"{path}: cannot read the plan ({exc})") from None
            except PlanError as exc:
                raise PlanError(f"{path}: {exc}") from None
            plan.check_stems([s.name for s in analysis.stems])
            return plan
        plan = predict_plan(analysis, target=self.target, focus=self.focus, amount=self.amount,
                            references=references)
        if references is not None:
            from .planning.reference import calibrate
            from .rendering.render import render

            if stems is None:
                raise ParameterError("a plan toward references needs the stems to measure")
            bar = None if progress is None else (lambda d, t: progress("matching", d, t))
            trial_dir = None if work is None else Path(work) / "trial"
            trial = render(dataclasses.replace(plan, amount=1.0), stems, sr,  # amount blends after
                           progress=bar, out_dir=trial_dir)
            calibrate(plan, references, analysis, trial.stems_processed, trial.mix, sr)
            if trial_dir is not None:  # its disk space is the real render's
                shutil.rmtree(trial_dir, ignore_errors=True)
        arrangement = plan_arrangement(analysis, sr, version=self.version,
                                       stem_names=list(plan.stems), **self.arrangement_options)
        arrangement.apply_to(plan)
        return plan

    # -- the whole job -------------------------------------------------------------------------
    def process(self, source, *, sr: int | None = None, out_dir: str | os.PathLike | None = None,
                plan_file: str | os.PathLike | None = None,
                progress: Progress | None = None) -> MixResult:
        """Run the whole job on ``source``; with ``out_dir``, write ``out_dir/<name>/``.

        The folder holds ``mix.wav``, ``stems/<name>.wav`` (processed), ``analysis.json``,
        ``plan.json``, ``report.html``, ``input.wav`` (the unprocessed mix, for the report's
        before/after players) and ``summary.json``; it appears only once complete.

        With ``out_dir`` every stage streams: separated stems, renders and outputs go through
        files block by block (a hidden work folder in ``out_dir``, removed at the end), so
        memory does not grow with the song's duration, and the result's ``mix`` and ``stems``
        are :class:`~mixassist.audio.signal.FileSignal` objects of the written files
        (``np.asarray`` loads one). Without it everything stays in memory, as arrays.
        """
        _exclusive(plan_file, bool(self.options.references))  # before any work
        for ref in self.options.references:  # fail on a bad reference before any work
            check_reference(ref)
        if out_dir is None:
            return self._run(source, sr, None, plan_file, progress)
        with work_folder(out_dir) as work:
            return self._run(source, sr, work, plan_file, progress, out_dir=Path(out_dir))

    def _run(self, source, sr, work: Path | None, plan_file, progress,
             out_dir: Path | None = None) -> MixResult:
        """:meth:`process` with its work folder (None: in memory)."""
        from .audio.signal import FileSignal, MixSignal, aligned_signals, write_signal
        from .audio.stems import mixdown
        from .loudness import measure_loudness
        from .rendering.render import render

        def step(label: str) -> Callable[[float, float], None] | None:
            return None if progress is None else (lambda d, t: progress(label, d, t))

        if work is not None:
            check_disk_space(source, work, out_dir, stems_hint=4)
        name, stems, rate, analysis = self.analysed(source, sr=sr, progress=progress, work=work)
        comparison, references = self.compare((name, stems, rate, analysis), progress=progress,
                                              work=work)
        plan = self.plan(analysis, rate, plan_file=plan_file, references=comparison,
                         stems=stems, progress=progress, work=work)
        if out_dir is None:
            result = render(plan, stems, rate, progress=step("rendering"))  # applies the edits
            input_mix = mixdown(stems)
            return MixResult(name=name, sr=rate, analysis=analysis, plan=result.plan,
                             mix=result.mix, stems=result.stems_processed,
                             input_loudness=measure_loudness(input_mix, rate),
                             output_loudness=result.loudness, folder=None,
                             references=references)
        folder = out_dir / name
        with atomic_dir(folder) as tmp:
            result = render(plan, stems, rate, progress=step("rendering"), out_dir=tmp)
            # the unprocessed mix, written once and then read as one file (not the stems again)
            input_mix = FileSignal(write_signal(tmp / "input.wav",
                                                MixSignal(aligned_signals(stems, rate))))
            mix_result = MixResult(name=name, sr=rate, analysis=analysis, plan=result.plan,
                                   mix=result.mix, stems=result.stems_processed,
                                   input_loudness=measure_loudness(input_mix, rate),
                                   output_loudness=result.loudness, folder=None,
                                   references=references)
            self.write(mix_result, tmp, input_mix=input_mix, stems=stems, work=work,
                       progress=progress)
        # the files now lie in the result folder
        mix_result.folder = folder
        mix_result.mix = FileSignal(folder / "mix.wav")
        mix_result.stems = {n: FileSignal(folder / "stems" / f"{n}.wav") for n in mix_result.stems}
        mix_result.references = {
            label: (FileSignal(folder / p.path), rate) for label, p in zip(
                mix_result.references, (mix_result.previews or [])[2:])}
        return mix_result

    def write(self, result: MixResult, folder: Path, *, input_mix,
              stems: dict | None = None, work: Path | None = None,
              progress: Progress | None = None) -> Path:
        """Write the result folder's documents (see :meth:`process`) into ``folder`` (the
        caller's atomic temporary one): ``input.wav``, ``analysis.json``, ``plan.json``, the
        previews, ``report.html``, ``summary.json`` (and ``mix.wav`` and ``stems/`` when
        ``result`` holds them in memory); with the option ``export`` also the DAW session
        (:meth:`export`), which needs the unprocessed ``stems``. Audio is read and written
        block by block; ``work`` holds references resampled to the song's rate."""
        from .audio.signal import FileSignal, as_signal, resample_to_file, write_signal
        from .report import comparison_tracks, write_previews, write_report

        def note(label: str, done: int, total: int) -> None:
            if progress is not None:
                progress(label, done, total)

        note("writing", 0, 4)
        if isinstance(result.mix, np.ndarray):  # rendered in memory
            (folder / "stems").mkdir(exist_ok=True)
            for stem, audio in result.stems.items():
                write_signal(folder / "stems" / f"{stem}.wav", as_signal(audio, result.sr))
            write_signal(folder / "mix.wav", as_signal(result.mix, result.sr))
        # the "before" of the report, read back as one file (not the stems summed again)
        if not (isinstance(input_mix, FileSignal) and input_mix.path == folder / "input.wav"):
            input_mix = FileSignal(write_signal(folder / "input.wav",
                                                as_signal(input_mix, result.sr)))
        (folder / "analysis.json").write_text(result.analysis.to_json() + "\n", encoding="utf-8")
        (folder / "plan.json").write_text(result.plan.to_json() + "\n", encoding="utf-8")
        note("writing", 1, 4)
        scratch = Path(work) if work is not None else folder
        references = [resample_to_file(as_signal(audio, rate), result.sr,
                                       scratch / f".reference-{k}.wav")
                      for k, (audio, rate) in enumerate(result.references.values(), 1)]
        try:
            result.previews = write_previews(folder, comparison_tracks(
                input_mix, as_signal(result.mix, result.sr), references), result.sr)
        except AudioContentError:  # a silent version: nothing to match, plain players
            result.previews = None
        for k in range(1, len(references) + 1):
            (scratch / f".reference-{k}.wav").unlink(missing_ok=True)
        note("writing", 2, 4)
        write_report(folder / "report.html", result, input_mix=input_mix,
                     previews=result.previews)
        (folder / "summary.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
        note("writing", 3, 4)
        if self.options.export is not None:
            if stems is None:
                raise ParameterError("a DAW export needs the unprocessed stems")
            self.export(result, folder, stems)
        note("writing", 4, 4)
        return folder

    def export(self, result: MixResult, folder: Path, stems: dict) -> Path:
        """Write the option ``export``'s DAW session into the result ``folder``: ``reaper``:
        ``session.rpp`` over the unprocessed stems (after the arrangement's edits) in
        ``source/``, so the session's faders, EQ and sends do what the plan does; ``stems-zip``:
        ``stems.zip`` with the processed stems, those unprocessed ones and the plan. The stems
        (arrays or signals) are written block by block."""
        from .audio.signal import aligned_signals, write_signal
        from .export import stems_readme, write_reaper_session, write_stems_zip
        from .rendering.edits import EditedSignal

        plan = result.plan
        edits = plan.arrangement.edits
        dry = aligned_signals(stems, result.sr)  # as the renderer takes them
        if edits is not None:
            dry = {n: EditedSignal(signal, result.sr, edits, n) for n, signal in dry.items()}
        (folder / "source").mkdir(exist_ok=True)
        for name, signal in dry.items():
            write_signal(folder / "source" / f"{name}.wav", signal)
        length_s = result.mix.shape[1] / result.sr
        if self.options.export == "reaper":
            return write_reaper_session(
                folder / "session.rpp", plan, stem_files={n: f"source/{n}.wav" for n in dry},
                tempo_bpm=result.analysis.tempo_bpm, sample_rate=result.sr, length_s=length_s)
        files = {f"{result.name}/processed/{n}.wav": folder / "stems" / f"{n}.wav"
                 for n in result.stems}
        files |= {f"{result.name}/unprocessed/{n}.wav": folder / "source" / f"{n}.wav"
                  for n in dry}
        files[f"{result.name}/plan.json"] = folder / "plan.json"
        path = write_stems_zip(folder / "stems.zip", files,
                               readme=stems_readme(plan, tempo_bpm=result.analysis.tempo_bpm,
                                                   title=f"mixassist stems: {result.name}"))
        for name in dry:  # the archive holds them
            (folder / "source" / f"{name}.wav").unlink()
        (folder / "source").rmdir()
        return path


def check_disk_space(source, work: Path, out_dir: Path, *, stems_hint: int = 4) -> None:
    """Raise :class:`~mixassist.errors.DiskSpaceError` when the folder of ``work`` and
    ``out_dir`` (one file system: the work folder lies in ``out_dir``) has less free space
    than the job needs: 32-bit float stereo at the input's rate for the separated stems (a song
    file: ``stems_hint`` of them), the processed stems, the mix, the pre-master, the input mix
    and the previews (about ``2 * stems + 5`` tracks in all, ~18 GB per hour of a separated
    44.1 kHz song), with 10 % to spare. The cache's copy of separated stems lives in the cache
    folder and is not counted. In-memory inputs are not checked."""
    from .audio.io import audio_info
    from .audio.stems import stem_files

    if isinstance(source, np.ndarray):
        return
    path = Path(source)
    files = list(stem_files(path).values()) if path.is_dir() else [path]
    infos = [audio_info(f) for f in files]
    seconds = max(i["duration_s"] for i in infos)
    rate = max(i["sample_rate"] for i in infos)
    stems = len(files) if path.is_dir() else stems_hint
    need = 1.1 * seconds * rate * 2 * 4 * (2 * stems + 5)
    free = shutil.disk_usage(out_dir).free
    if free < need:
        raise DiskSpaceError(
            f"{out_dir}: not enough free disk space for a {seconds / 60:.1f}-minute song: the "
            f"temporary stems and the outputs need about {need / 1e9:.1f} GB, {free / 1e9:.1f} GB "
            "is free; free some space or write the results elsewhere (-o)")
