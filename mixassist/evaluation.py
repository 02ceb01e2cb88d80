"""Metrics of the real-music and transfer benchmarks (``benchmarks/real_music.py``, ``transfer.py``).

- **Tonal change** (:func:`tonal_change_db`): octave-band levels (63 Hz-8 kHz, power spectrum of
  the mono sum) of the output against the input after loudness matching (the output moved by the
  difference of integrated loudness, ITU-R BS.1770-4); the RMS over bands of the difference, dB.
  A change of gain alone scores 0. **Tonal distance** (:func:`tonal_distance_db`) compares the
  shapes only (the mean band difference removed): how far one tonal balance is from another.
- **Balance restoration** (:func:`restoration_errors`): every stem of a balanced mix is moved by a
  known perturbation ``p`` (dB); an estimate answers with a gain ``g`` per stem. The stem ends
  ``e = p + g`` away from the producer's balance; only the balance counts, so the error of a stem
  is ``|e - mean(e)|`` over the song's stems. "No change" is ``g = 0`` (the error is the
  perturbation's own spread); "equal loudness" puts every stem at one loudness
  (:func:`equal_loudness_gains`). A plan that exactly undoes the perturbation scores 0.

:func:`score_master` runs both on one finished master, through the assistant as the ``mix`` verb
runs it; :func:`summarise_songs` aggregates songs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio.io import save_audio
from .loudness import integrated_loudness

#: Octave-band centres of the tonal-change metric, Hz (IEC 61260 nominal).
OCTAVE_CENTRES_HZ = (63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
#: Stems quieter than this carry no balance and are left out of the restoration metric (LUFS).
SILENT_LUFS = -70.0
#: Perturbation of each stem in the restoration test: U(-PERTURB_DB, +PERTURB_DB) dB.
PERTURB_DB = 6.0
#: The balance estimates compared by the restoration test.
ESTIMATES = ("plan", "no_change", "equal_loudness")


def octave_band_levels(audio: np.ndarray, sr: int, *,
                       centres: tuple[float, ...] = OCTAVE_CENTRES_HZ) -> np.ndarray:
    """Power per octave band (dB, arbitrary reference) of ``audio [shape=(channels, samples)]``.

    Welch-averaged power spectrum (4096-point Hann frames, half overlap) of the channels' sum;
    band ``fc`` covers ``fc / sqrt(2) .. fc * sqrt(2)``. Returns ``[len(centres)]``.
    """
    from scipy.signal import welch

    mono = np.asarray(audio, dtype=np.float64).sum(axis=0)
    freqs, power = welch(mono, fs=sr, nperseg=min(4096, mono.size), noverlap=None)
    levels = []
    for fc in centres:
        band = (freqs >= fc / np.sqrt(2)) & (freqs < fc * np.sqrt(2))
        levels.append(10 * np.log10(max(float(power[band].sum()), 1e-30)))
    return np.array(levels)


def tonal_change_db(before: np.ndarray, after: np.ndarray, sr: int) -> float:
    """RMS over octave bands (dB) of ``after``'s tonal balance minus ``before``'s, loudness-matched."""
    offset = integrated_loudness(before, sr) - integrated_loudness(after, sr)
    diff = octave_band_levels(after, sr) + offset - octave_band_levels(before, sr)
    return float(np.sqrt(np.mean(diff ** 2)))


def tonal_distance_db(a: np.ndarray, b: np.ndarray, sr: int) -> float:
    """Distance (dB) of two tonal balances: RMS over octave bands of ``b``'s levels minus
    ``a``'s, less the mean difference (the shape only: level and length do not count)."""
    diff = octave_band_levels(b, sr) - octave_band_levels(a, sr)
    return float(np.sqrt(np.mean((diff - diff.mean()) ** 2)))


def restoration_errors(perturbation_db: dict[str, float], gain_db: dict[str, float]) -> dict[str, float]:
    """``|e - mean(e)|`` per stem with ``e = perturbation + gain`` (dB); stems of both dicts only."""
    names = [n for n in perturbation_db if n in gain_db]
    e = np.array([perturbation_db[n] + gain_db[n] for n in names], dtype=float)
    return dict(zip(names, np.abs(e - e.mean()).tolist())) if names else {}


def equal_loudness_gains(loudness_lufs: dict[str, float]) -> dict[str, float]:
    """Gains (dB) that put every stem at one loudness (their mean), from each stem's LUFS."""
    mean = float(np.mean(list(loudness_lufs.values())))
    return {n: mean - v for n, v in loudness_lufs.items()}


def summarise_errors(rows: list[dict[str, float]]) -> dict:
    """Mean absolute error over every stem of ``rows`` (one dict per trial) and per stem name."""
    values = [v for r in rows for v in r.values()]
    names = sorted({n for r in rows for n in r})
    return {"mae_db": float(np.mean(values)) if values else float("nan"), "n": len(values),
            "per_stem": {n: float(np.mean([r[n] for r in rows if n in r])) for n in names}}


def score_master(audio: np.ndarray, sr: int, *, work: Path, trials: int, rng: np.random.Generator,
                 assistant, folder_assistant) -> dict:
    """Do-no-harm, restoration and separation figures of one finished master ``audio [shape=(2, n)]``.

    ``assistant`` (a :class:`~mixassist.assistant.MixAssistant` with a cache) mixes the master as
    the ``mix`` verb does and gives back its separated stems from the cache; ``folder_assistant``
    plans the perturbed stem folders written under ``work``. Returns gains, tonal change, energy
    share per stem (dB of the master's energy), leakage flags, and per trial the perturbations
    and the restoration errors of each estimate (:data:`ESTIMATES`); the analyses of the master
    and of every perturbed folder (``analysis``, ``trial_analyses``), so a plan policy can be
    re-scored on them without separating or analysing again.
    """
    master = work / "master.wav"
    save_audio(master, audio, sr)
    result = assistant.process(master)  # separates, analyses, plans, renders: the `mix` verb
    gains = {n: s.gain_db for n, s in result.plan.stems.items()}
    _, stems, _, analysis = assistant.analysed(master)  # the same separation, from the cache
    energy = float(np.sum(audio.astype(np.float64) ** 2))
    share = {n: 10 * np.log10(max(float(np.sum(s.astype(np.float64) ** 2)), 1e-20) / energy)
             for n, s in stems.items()}
    leakage = sorted(s.name for s in analysis.stems if s.extra.get("leakage"))
    audible = [s.name for s in analysis.stems
               if s.loudness_lufs is not None and s.loudness_lufs > SILENT_LUFS and s.name not in leakage]
    # a balance needs two stems: with one (or none) audible every estimate would score 0
    restoration, perturbations, analyses = restore_balance(
        {n: stems[n] for n in audible}, sr, work=work, trials=trials if len(audible) >= 2 else 0, rng=rng,
        assistant=folder_assistant)
    return {"duration_s": audio.shape[1] / sr,
            "median_abs_gain_db": float(np.median(np.abs(list(gains.values())))),
            "gains_db": gains, "tonal_change_db": tonal_change_db(audio, result.mix, sr),
            "energy_share_db": share, "leakage": leakage, "perturbations_db": perturbations,
            "restoration": restoration, "analysis": analysis.to_dict(), "trial_analyses": analyses,
            "labels": {s.name: f"{s.instrument} ({s.confidence:.2f})" for s in analysis.stems}}


def summarise_songs(rows: list[dict]) -> dict:
    """Medians of the do-no-harm figures, restoration MAE per estimate, energy shares."""
    out = {"songs": len(rows),
           "median_abs_gain_db": float(np.median([r["median_abs_gain_db"] for r in rows])),
           "tonal_change_db": float(np.median([r["tonal_change_db"] for r in rows])),
           "restoration": {k: summarise_errors([t for r in rows for t in r["restoration"][k]])
                           for k in ESTIMATES},
           "leakage_stems": sum(len(r["leakage"]) for r in rows)}
    stems = sorted({n for r in rows for n in r["energy_share_db"]})
    out["energy_share_db"] = {n: float(np.median([r["energy_share_db"][n] for r in rows])) for n in stems}
    return out


def restore_balance(stems: dict[str, np.ndarray], sr: int, *, work: Path, trials: int,
                    rng: np.random.Generator, assistant) -> tuple[dict, list[dict], list[dict]]:
    """The restoration test on balanced ``stems``: ``trials`` times, every stem moved by
    U(-:data:`PERTURB_DB`, +:data:`PERTURB_DB`) dB, written as a stem folder under ``work`` and
    planned by ``assistant`` (as ``mix`` plans a folder). Returns the restoration errors per
    estimate (:data:`ESTIMATES`, one dict per trial), the perturbations and the analyses."""
    restoration = {k: [] for k in ESTIMATES}
    perturbations, analyses = [], []
    for trial in range(trials):
        perturbation = {n: float(rng.uniform(-PERTURB_DB, PERTURB_DB)) for n in stems}
        perturbations.append(perturbation)
        folder = work / f"stems{trial}"
        folder.mkdir(exist_ok=True)
        for n, audio in stems.items():
            save_audio(folder / f"{n}.wav", audio * np.float32(10 ** (perturbation[n] / 20)), sr)
        _, _, _, perturbed = assistant.analysed(folder)
        analyses.append(perturbed.to_dict())
        plan = assistant.plan(perturbed, sr)
        levels = {s.name: s.loudness_lufs for s in perturbed.stems}
        estimates = {"plan": {n: plan.stems[n].gain_db for n in stems},
                     "no_change": dict.fromkeys(stems, 0.0),
                     "equal_loudness": equal_loudness_gains({n: levels[n] for n in stems})}
        for k, g in estimates.items():
            restoration[k].append(restoration_errors(perturbation, g))
    return restoration, perturbations, analyses
