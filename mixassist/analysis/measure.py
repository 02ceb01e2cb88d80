"""Measure every stem of a song and the mix (their sum) into an :class:`~.result.Analysis`.

This is the measured-feature layer the analysis network builds on: it fills every field that can
be measured (loudness, level, activity, spectral balance, dynamics, stereo image, masking) and
takes the rest from what it is given. Instrument and role come from ``labels`` or the stem
names (:mod:`.labels`), ``target_level_db`` from the reference table; each says so in its
``source`` field and ``confidence``. Tempo, beats, key and sections come from ``structure``
(the structure analysis) or stay empty, with ``sources["structure"] = "none"``.

Stems are arrays or :class:`~mixassist.audio.signal.Signal` s (e.g. files read by seeking); every
pass reads them block by block, and the mix and each "rest of the mix" are
:class:`~mixassist.audio.signal.MixSignal` s summed on the fly, so memory does not grow with the
duration beyond the frame-level features (~1/100 of the audio).

Cost: one STFT per stem and one for the mix (:mod:`.spectrum`), three K-weighting passes
(integrated, range, short-term curve) per stem and for the mix, one per "rest of the mix", and one
true-peak measurement of the mix (:mod:`mixassist.loudness`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from ..audio.convert import MAX_CHANNELS, SILENCE_DBFS, check_sample_rate, validate_audio
from ..audio.signal import ArraySignal, MixSignal, Signal, aligned_signals
from ..errors import AudioContentError, AudioError, MixAssistWarning, ParameterError
from ..loudness import integrated_loudness, loudness_profile, true_peak_dbtp
from .activity import activity_mask, is_leakage, mask_to_regions, playing_stems
from .features import FLOOR_DB, dynamics, spectral_balance, stereo_image
from .labels import label_stem, reference_levels
from .masking import masking_matrix
from .pitch import pitch_summary
from .result import (Analysis, Features, Loudness, MaskedBand, Masking, Region, Section,
                     StemAnalysis)
from .spectrum import BARK_EDGES_HZ, OCTAVE_CENTRES_HZ, band_spectrogram

_STRUCTURE_KEYS = ("tempo_bpm", "beats_s", "downbeats_s", "key", "sections", "meter",
                   "tempo_confidence", "tempo_candidates_bpm")
#: Structure fields measured here instead (or describing the input), not copied.
_STRUCTURE_SKIP = ("activity", "energy", "sample_rate", "duration_s")


def _num(value: float | None, digits: int = 3) -> float | None:
    """Round for the JSON document (no -0.0); None for -inf/NaN (silence)."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits) + 0.0


def _db(value: float) -> float:
    """Round a level in dB for the document, flooring silence (-inf) at -120 dB."""
    return _num(value) if math.isfinite(value) else FLOOR_DB


def stem_signal(name: str, audio: np.ndarray | Signal, sr: int) -> Signal:
    """Stem ``name`` as a signal at ``sr`` Hz, checked: an array by :func:`validate_audio`
    (NaN, shape, silence), a signal for its rate, channels and length (its reads check its
    samples); errors name the stem."""
    label = f"stem {name!r}"
    if not isinstance(audio, Signal):
        return ArraySignal(validate_audio(audio, sr, name=label), sr, name=label)
    if audio.sr != check_sample_rate(sr, name=label):
        raise AudioContentError(f"is at {audio.sr} Hz, not {sr} Hz", label)
    if audio.samples == 0 or audio.channels == 0:
        raise AudioContentError("contains no audio samples", label)
    if audio.channels > MAX_CHANNELS:
        raise AudioContentError(f"has {audio.channels} channels; at most {MAX_CHANNELS} are "
                                "supported", label)
    return audio


def _prepare(stems: Mapping[str, np.ndarray | Signal], sr: int) -> dict[str, Signal]:
    """Check the stems and show them in one channel layout (stereo if any stem has more than
    one channel, else mono) and one length, without copying."""
    if not isinstance(stems, Mapping) or not stems:
        raise ParameterError("measure_stems needs a non-empty dict {stem name: audio}")
    checked = {name: stem_signal(name, audio, sr) for name, audio in stems.items()}
    return aligned_signals(checked, sr,
                           channels=2 if any(s.channels > 1 for s in checked.values()) else 1)


def _structure(structure) -> dict:
    """The structure analysis' result as a plain dict."""
    if structure is None:
        return {}
    if hasattr(structure, "to_dict"):
        structure = structure.to_dict()
    if not isinstance(structure, dict):
        raise ParameterError(f"structure must be a dict or have to_dict(), got "
                             f"{type(structure).__name__}")
    return structure


def _section(data, index: int) -> Section:
    if not isinstance(data, dict) or not {"start_s", "end_s", "label"} <= set(data):
        raise ParameterError(f"structure sections[{index}] must have start_s, end_s and label, "
                             f"got {data!r}")
    # the structure analysis' own "stems" are not kept: a section's stems come from the stems'
    # activity (measure_stems), the one rule for where a stem plays
    extra = {k: v for k, v in data.items() if k not in ("start_s", "end_s", "label", "stems")}
    return Section(start_s=data["start_s"], end_s=data["end_s"], label=data["label"],
                   extra=extra)


def _loudness(audio: Signal, sr: int, short_term_hop_s: float) -> dict:
    """Integrated loudness (LUFS), loudness range (LU) and the short-term curve of a signal,
    from one pass (:func:`~mixassist.loudness.loudness_profile`)."""
    return loudness_profile(audio, sr, hop_s=short_term_hop_s)


def _features(spec, active: np.ndarray, short_term_hop_s: float, loud: dict) -> Features:
    balance = spectral_balance(spec, active)
    dyn = dynamics(spec, active)
    stereo = stereo_image(spec)
    pitch = pitch_summary(spec.f0_hz, spec.harmonicity, active)
    return Features(
        lra_lu=_num(loud["lra_lu"]), peak_dbfs=_num(dyn["peak_dbfs"]),
        rms_dbfs=_num(dyn["rms_dbfs"]), crest_db=_num(dyn["crest_db"]),
        centroid_hz=_num(balance["centroid_hz"], 1),
        tilt_db_per_octave=_num(balance["tilt_db_per_octave"]),
        octave_db=[_num(v, 2) for v in balance["octave_db"]],
        bark_db=[_num(v, 2) for v in balance["bark_db"]],
        width=_num(stereo["width"], 4), correlation=_num(stereo["correlation"], 4),
        balance_db=_num(stereo["balance_db"]),
        active_fraction=_num(float(active.mean()), 4),
        pitch_low_hz=_num(pitch["pitch_low_hz"], 1), pitch_high_hz=_num(pitch["pitch_high_hz"], 1),
        monophony=_num(pitch["monophony"], 3), voiced_fraction=_num(pitch["voiced_fraction"], 4),
        short_term_hop_s=float(short_term_hop_s),
        short_term_lufs=[_num(v, 2) for v in loud["short_term_lufs"]])


def _rest_loudness(measured: tuple, rest: Signal, sr: int) -> None:
    """Fill a stem's ``rest_loudness_lufs`` and ``level_vs_rest_db`` from the rest of the mix."""
    _, _, loud, feats = measured
    lufs = integrated_loudness(rest, sr)
    feats.rest_loudness_lufs = _num(lufs)
    feats.level_vs_rest_db = _num(loud["integrated_lufs"] - lufs) if math.isfinite(lufs) else None


def measure_stems(stems: dict[str, np.ndarray | Signal], sr: int, *,
                  labels: dict[str, str] | None = None, structure=None, separated: bool = False,
                  short_term_hop_s: float = 1.0, workers: int = 1,
                  progress: Callable[[int, int], None] | None = None) -> Analysis:
    """Measure the stems of one song; the mix is their sum.

    Parameters
    ----------
    stems : dict name -> np.ndarray [shape=(channels, samples)] or
        :class:`~mixassist.audio.signal.Signal` — stems of one song at ``sr``; shorter ones
        continue in silence to the longest, mono stems are duplicated when any is stereo.
    sr : int — sample rate in Hz.
    labels : dict name -> instrument (one of :data:`mixassist.vocab.INSTRUMENTS`), optional;
        stems without a label are named-hinted (:func:`.labels.label_stem`).
    structure : optional result of the structure analysis: a dict (or an object with
        ``to_dict()``, e.g. :class:`mixassist.analysis.structure.SongStructure`) with
        ``tempo_bpm``, ``beats_s``, ``downbeats_s``, ``key`` and ``sections``
        (``[{start_s, end_s, label, ...}]``, extra section fields kept), and ``meter``,
        ``tempo_confidence``, ``tempo_candidates_bpm`` when it has them; other fields
        (``key_confidence``, ...) go to the analysis' top level, except ``activity``, ``energy``,
        ``sample_rate`` and ``duration_s`` (measured here).
    separated : the stems came from a separator: a stem of separation leakage
        (:func:`.activity.is_leakage`) then plays nowhere (``extra["leakage"]``, no activity,
        masks nothing). Given stems are never leakage: a part far under the mix is buried.
    short_term_hop_s : hop of the short-term loudness curves stored per stem (s).
    workers : threads measuring signals in parallel. Default 1: on the shared 2-core machine
        two threads were slower (0.7x, benchmarks/measure_speed.py) as BLAS threads compete.
    progress : ``callback(done, total)`` called as each signal (stems and mix) is measured.

    Returns
    -------
    :class:`~.result.Analysis` with every measured field filled.
    """
    labels = dict(labels or {})
    if unknown := sorted(set(labels) - set(stems)):
        raise ParameterError(f"labels name stem(s) {', '.join(unknown)} that are not among the "
                             f"stems ({', '.join(stems)})")
    if not short_term_hop_s > 0:
        raise ParameterError(f"short_term_hop_s must be > 0 s, got {short_term_hop_s}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    structure = _structure(structure)
    audio = _prepare(stems, sr)
    stem_labels = {n: label_stem(n, labels.get(n)) for n in audio}
    mix = MixSignal(audio)
    names = list(audio)
    total = len(names) + 1

    def measure(name: str | None) -> tuple:
        signal = mix if name is None else audio[name]
        spec = band_spectrogram(signal, sr)
        mask = activity_mask(spec.k_power, spec.hop_s)
        loud = _loudness(signal, sr, short_term_hop_s)
        feats = _features(spec, mask, short_term_hop_s, loud)
        if name is None:
            loud["true_peak_dbtp"] = true_peak_dbtp(mix, sr)
        if isinstance(stems.get(name), Signal) and not spec.peak > 10 ** (SILENCE_DBFS / 20):
            warnings.warn(f"stem {name!r}: input is silent (peak below {SILENCE_DBFS:g} dBFS)",
                          MixAssistWarning, stacklevel=2)
        return spec, mask, loud, feats

    def job(name: str | None) -> tuple:
        try:
            return measure(name)
        except AudioError as exc:  # a signal's reads check its samples: say which stem failed
            if name is None:
                raise
            raise type(exc)(f"stem {name!r}: {exc}") from None

    # Signals are independent; numpy, scipy.fft and sosfilt release the GIL, so threads can help.
    # Each stem is read on its own before the mix and the rests read it, so a bad sample is
    # reported with its stem's name.
    measured = {}
    order = [*names, None]
    if workers <= 1:
        results_iter = ((name, job(name)) for name in order)
        for done, (name, result) in enumerate(results_iter, 1):
            measured[name] = result
            if progress is not None:
                progress(done, total)
    else:
        with ThreadPoolExecutor(max_workers=min(workers, total)) as pool:
            futures = {pool.submit(job, name): name for name in order}
            for done, future in enumerate(as_completed(futures), 1):
                measured[futures[future]] = future.result()
                if progress is not None:
                    progress(done, total)
    if len(names) > 1:
        for name in names:
            _rest_loudness(measured[name], MixSignal(audio, gains={name: 0.0}), sr)
    spectra = {n: measured[n][0] for n in names}
    # A stem of separation leakage plays nowhere: no activity, and it masks nothing.
    leaked = {n for n in names if separated and is_leakage(
        spectra[n].k_power, measured[None][0].k_power, measured[n][1])}
    active = {n: np.zeros_like(measured[n][1]) if n in leaked else measured[n][1] for n in names}

    mix_lufs = measured[None][2]["integrated_lufs"]
    targets = dict(zip(names, reference_levels(
        [(stem_labels[n].instrument, stem_labels[n].role) for n in names])))
    results = []
    for name in names:
        spec, _, loud, feats = measured[name]
        mask = active[name]
        if name in leaked:
            feats.active_fraction = 0.0
        lufs = loud["integrated_lufs"]
        lab = stem_labels[name]
        results.append(StemAnalysis(
            name=name, instrument=lab.instrument,
            instrument_probs={k: round(v, 4) for k, v in lab.instrument_probs.items()},
            role=lab.role, role_probs={k: round(v, 4) for k, v in lab.role_probs.items()},
            activity=[Region(_num(a), _num(b)) for a, b in mask_to_regions(
                mask, spec.hop_s, duration_s=mix.samples / sr)],
            loudness_lufs=_num(lufs), level_db=_num(lufs - mix_lufs),
            target_level_db=_num(targets[name]), confidence=round(lab.confidence, 4),
            source=lab.source, target_level_source="reference-table", features=feats,
            extra={"leakage": True} if name in leaked else {}))

    pairs = masking_matrix(spectra, active, duration_s=mix.samples / sr)
    masking = [Masking(
        masker=p["masker"], target=p["target"], masked_fraction=_num(p["masked_fraction"], 4),
        mean_excess_db=_num(p["mean_excess_db"]),
        bands=[MaskedBand(band=b["band"], low_hz=b["low_hz"], high_hz=b["high_hz"],
                          centre_hz=_num(b["centre_hz"], 1),
                          masked_fraction=_num(b["masked_fraction"], 4),
                          excess_db=_num(b["excess_db"])) for b in p["bands"]],
        regions=[Region(_num(a), _num(b)) for a, b in p["regions"]]) for p in pairs]

    mix_loud = measured[None][2]
    sections = [_section(s, i) for i, s in enumerate(structure.get("sections", []))]
    activity = {r.name: [(a.start_s, a.end_s) for a in r.activity] for r in results}
    for section in sections:
        section.stems = playing_stems(activity, section.start_s, section.end_s)
    return Analysis(
        sample_rate=int(sr), duration_s=_num(mix.samples / sr, 6),
        loudness=Loudness(integrated_lufs=_num(mix_lufs), lra_lu=_num(mix_loud["lra_lu"]),
                          true_peak_dbtp=_db(mix_loud["true_peak_dbtp"])),
        stems=results,
        tempo_bpm=structure.get("tempo_bpm"),
        beats_s=list(structure.get("beats_s", [])),
        downbeats_s=list(structure.get("downbeats_s", [])),
        key=structure.get("key"),
        sections=sections,
        meter=structure.get("meter"),
        tempo_confidence=structure.get("tempo_confidence"),
        tempo_candidates_bpm=list(structure.get("tempo_candidates_bpm", [])),
        features=measured[None][3], masking=masking,
        bands={"octave_centres_hz": OCTAVE_CENTRES_HZ.tolist(),
               "bark_edges_hz": BARK_EDGES_HZ.tolist()},
        sources={"structure": "given" if structure else "none",
                 "instrument": "labels and name hints (no network)",
                 "target_level": "reference-table"},
        extra={k: v for k, v in structure.items()
               if k not in _STRUCTURE_KEYS and k not in _STRUCTURE_SKIP})
