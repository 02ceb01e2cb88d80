"""Training the analysis network (:mod:`.network`) on a generated dataset (``mixassist data build``).

1. :func:`cache_mels` computes every stem's mel power spectrogram once (the network's own front
   end, :func:`.network.stem_mels`) into ``CACHE/<song_id>.npz`` (log10 power, float16) with
   frame activity labels from ``song.json``; finished songs are skipped on rerun.
2. :class:`PerturbedStems` draws training examples from the cache with the **perturb-and-restore**
   objective for levels: every stem of the reference mix gets a random gain (+-12 dB) and a
   random smooth EQ curve (+-6 dB bumps and a tilt over the mel bands); the network sees one
   perturbed stem and the power sum of the other perturbed stems, and the target is the stem's
   *reference* ``level_db``. A batch holds whole songs (every stem, each in its own segment and
   perturbation), so the level loss can compare the stems of one song: it is taken on levels
   with each song's mean removed, the balance the network is judged on. Because mel powers of
   uncorrelated stems add, gains and EQ act on the cached mels exactly as they would on the
   waveforms up to the cross terms (which :func:`.network.predict_song_mels` also ignores at
   inference time).
3. :func:`train` runs AdamW (weight decay against memorising the few training songs) with
   checkpoints every ``checkpoint_every`` steps (model, optimiser, step; a rerun resumes from
   the last one), validation on the whole held-out ``valid`` songs (:func:`validate`), the best
   model (by validation score) saved with :func:`.network.save_model`, and a log file.

Several datasets can be combined (``--data`` repeated): each has its own feature cache and keeps
its own song splits, so a song never crosses from one split to another; the training, validation
and test sets are the unions of the datasets' ``train``, ``valid`` and ``test`` songs.

Loss: cross-entropy (instrument, role) + binary cross-entropy (frame activity) + smooth L1 of the
level (dB) relative to the song's mean + a small smooth L1 of the song's mean level (so
``target_level_db`` keeps the ``level_db`` scale) + Gaussian negative log-likelihood of the
(detached) relative level error under the predicted standard deviation.

    python -m mixassist.analysis.train OUT_DIR --data DATASET [--data DATASET2 ...]
        [--cache CACHE --cache CACHE2 ...] [--steps N] [--max-minutes M]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch import nn

from ..datasets.torch_datasets import load_manifest
from ..errors import ParameterError
from ..utils.atomic import atomic_path
from ..vocab import INSTRUMENTS, ROLES
from .activity import activity_mask, mask_to_regions
from .network import AnalysisNet, predict_song_mels, save_model, stem_mels

log = logging.getLogger("mixassist.analysis.train")

#: Perturbation ranges of the perturb-and-restore objective.
GAIN_RANGE_DB = 12.0
EQ_RANGE_DB = 6.0
TILT_RANGE_DB = 6.0  # total tilt across the mel range


# --- feature cache -----------------------------------------------------------------------------
def cache_mels(root: str | os.PathLike, cache: str | os.PathLike, *, progress=None) -> Path:
    """Mel power of every stem of the dataset at ``root`` into ``cache`` (one ``.npz`` per song
    with ``log_mel [stems, n_mels, frames]`` float16, ``activity [stems, frames]`` uint8 and the
    labels); songs already cached are skipped. Returns ``cache``."""
    root, cache = Path(root), Path(cache)
    manifest = load_manifest(root)
    cache.mkdir(parents=True, exist_ok=True)
    model = AnalysisNet()
    songs = manifest["songs"]
    for i, song in enumerate(songs):
        out = cache / f"{song['song_id']}.npz"
        if not out.is_file():
            _cache_song(model, root, song, out)
        if progress:
            progress(i + 1, len(songs))
    return cache


def _cache_song(model: AnalysisNet, root: Path, song: dict, out: Path) -> None:
    stems = {}
    for stem in song["stems"]:
        audio, sr = sf.read(root / song["folder"] / stem["file"], dtype="float32", always_2d=True)
        stems[stem["name"]] = np.ascontiguousarray(audio.T)
    notes = json.loads((root / song["annotations"]).read_text(encoding="utf-8"))
    regions = {s["name"]: s.get("activity", []) for s in notes["stems"]}
    labels = [(s["instrument"], s["role"], s["level_db"]) for s in song["stems"]]
    write_cached_song(out, model, stems, sr, labels, split=song["split"], song_id=song["song_id"],
                      regions=[regions.get(s["name"], []) for s in song["stems"]])


def write_cached_song(out: Path, model: AnalysisNet, stems: dict[str, np.ndarray], sr: int,
                      labels: Sequence[tuple[str | None, str | None, float]], *, split: str,
                      song_id: str, regions: Sequence[Sequence[dict]] | None = None) -> None:
    """One song's training cache file ``out`` (see :func:`cache_mels`): ``stems`` ``{name:
    (channels, samples)}`` at ``sr``, ``labels`` ``(instrument, role, level_db)`` per stem in
    order (an instrument or role of None is unknown: stored as -1, left out of its loss and
    accuracy), activity from ``regions`` (``[{"start_s", "end_s"}, ...]`` per stem) or, when
    None, measured on each stem's mel power (:func:`.activity.activity_mask`, gaps under 0.5 s
    bridged as in the analysis)."""
    mels = stem_mels(model, stems, sr)
    frames = min(m.shape[-1] for m in mels.values())
    log_mel = np.stack([torch.log10(m[:, :frames] + 1e-12).numpy() for m in mels.values()])
    hop_s = 1.0 / model.frame_rate_hz
    if regions is None:
        regions = [[{"start_s": a, "end_s": b} for a, b in mask_to_regions(
            activity_mask(m[:, :frames].sum(0).numpy(), hop_s), hop_s)] for m in mels.values()]
    activity = np.zeros((len(mels), frames), dtype=np.uint8)
    for k in range(len(mels)):
        for r in regions[k]:
            a, b = (int(round(t * model.frame_rate_hz)) for t in (r["start_s"], r["end_s"]))
            activity[k, a:b] = 1
    index = lambda vocab, label: -1 if label is None else vocab.index(label)  # noqa: E731
    with atomic_path(out) as tmp, open(tmp, "wb") as f:
        np.savez(f, log_mel=log_mel.astype(np.float16), activity=activity,
                 instrument=np.array([index(INSTRUMENTS, i) for i, _, _ in labels]),
                 role=np.array([index(ROLES, r) for _, r, _ in labels]),
                 level_db=np.array([lv for _, _, lv in labels], dtype=np.float32),
                 names=np.array(list(stems)), split=np.array(split), song_id=np.array(song_id))


def load_cache(cache: str | os.PathLike | Sequence[str | os.PathLike], split: str | None) -> list[dict]:
    """The cached songs of ``split`` (all when None) of one cache folder or several (one per
    dataset) as dicts of numpy arrays (``log_mel`` stays log10 power float16 to save memory);
    ``song["cache"]`` names the folder each song came from."""
    caches = _paths(cache)
    songs = []
    for folder in caches:
        for path in sorted(folder.glob("*.npz")):
            with np.load(path) as z:
                if split is not None and str(z["split"]) != split:
                    continue
                song = {k: z[k] for k in z.files}
            songs.append(dict(song, cache=str(folder)))
    if not songs:
        raise ParameterError(f"{', '.join(map(str, caches))}: no cached songs in split {split!r}; "
                             "run cache_mels first")
    return songs


def _dev_cache(path: Path) -> Path:
    """A validation cache folder: ``path`` itself, or for a dataset folder (it has a manifest)
    its cache ``path/analysis_cache``, filled first (:func:`cache_mels`)."""
    return cache_mels(path, path / "analysis_cache") if (path / "manifest.json").is_file() else path


def _paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """One path or a sequence of paths as a list of :class:`Path`."""
    return [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]


# --- perturb-and-restore examples --------------------------------------------------------------
def random_eq(rng: np.random.Generator, n_mels: int) -> np.ndarray:
    """A smooth random EQ curve over the mel bands as a power gain ``[n_mels]``: a tilt of up to
    +-:data:`TILT_RANGE_DB` and two bell bumps of up to +-:data:`EQ_RANGE_DB`."""
    x = np.linspace(-1.0, 1.0, n_mels)
    db = rng.uniform(-0.5, 0.5) * TILT_RANGE_DB * x
    for _ in range(2):
        centre, width = rng.uniform(-1, 1), rng.uniform(0.05, 0.4)
        db += rng.uniform(-EQ_RANGE_DB, EQ_RANGE_DB) * np.exp(-0.5 * ((x - centre) / width) ** 2)
    return (10.0 ** (db / 10.0)).astype(np.float32)


class PerturbedStems:
    """Batches of perturbed (stem, rest) mel segments with their reference labels.

    ``example(rng, song, stem)`` is one stem of one song, with its own perturbation of every stem
    and a segment that starts inside the stem's activity when it has any. ``batch(rng)`` returns
    every stem of random songs as tensors ``stem``/``rest`` ``[B, n_mels, frames]``, ``activity``
    ``[B, frames]``, ``instrument``/``role``/``song`` ``[B]`` and ``level_db`` ``[B]``.
    """

    def __init__(self, songs: list[dict], *, segment_frames: int = 300, batch_size: int = 24,
                 perturb: bool = True):
        self.songs, self.frames, self.batch_size, self.perturb = songs, segment_frames, batch_size, perturb
        self.n_stems = sum(len(s["names"]) for s in songs)

    def example(self, rng: np.random.Generator, song_index: int, stem: int) -> dict:
        song = self.songs[song_index]
        log_mel, act = song["log_mel"], song["activity"]
        total = log_mel.shape[-1]
        active = np.flatnonzero(act[stem])
        if active.size:
            centre = int(active[rng.integers(active.size)])
            start = centre - int(rng.integers(0, self.frames))
        else:
            start = int(rng.integers(0, max(1, total - self.frames)))
        start = max(0, min(start, total - self.frames))
        seg = 10.0 ** log_mel[:, :, start:start + self.frames].astype(np.float32)
        if seg.shape[-1] < self.frames:
            seg = np.pad(seg, ((0, 0), (0, 0), (0, self.frames - seg.shape[-1])))
        if self.perturb:
            gains = 10.0 ** (rng.uniform(-GAIN_RANGE_DB, GAIN_RANGE_DB, len(seg)) / 10.0)
            eq = np.stack([random_eq(rng, seg.shape[1]) for _ in range(len(seg))])
            seg = seg * (gains[:, None, None] * eq[:, :, None]).astype(np.float32)
        others = np.delete(seg, stem, axis=0)
        rest = others.sum(axis=0) if len(others) else np.zeros_like(seg[0])
        a = act[stem, start:start + self.frames]
        return {"stem": seg[stem], "rest": rest,
                "activity": np.pad(a, (0, self.frames - a.size)).astype(np.float32),
                "instrument": int(song["instrument"][stem]), "role": int(song["role"][stem]),
                "level_db": float(song["level_db"][stem])}

    def collate(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        return {k: torch.as_tensor(np.stack([e[k] for e in examples])) for k in examples[0]}

    def batch(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Random whole songs until at least ``batch_size`` examples; ``song`` ``[B]`` numbers
        the song of each example within the batch (for the relative level loss)."""
        examples, group = [], 0
        while len(examples) < self.batch_size:
            i = int(rng.integers(len(self.songs)))
            examples += [dict(self.example(rng, i, k), song=group)
                         for k in range(len(self.songs[i]["names"]))]
            group += 1
        return self.collate(examples)


def centred(x: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """``x`` ``[B]`` minus the mean of its group (``group`` ``[B]``, integers from 0): levels with
    each song's mean removed."""
    count = x.new_zeros(int(group.max()) + 1).index_add_(0, group, torch.ones_like(x))
    return x - (torch.zeros_like(count).index_add_(0, group, x) / count)[group]


def offset_free_abs_error(estimate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Absolute error per stem of one song's levels ``[stems]`` (dB) after removing each side's
    mean: only the balance counts, not where the song sits as a whole."""
    return np.abs((estimate - estimate.mean()) - (reference - reference.mean()))


def known_label_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the examples whose label is known (``labels`` ``[B]``, -1 unknown: a
    separated ``other`` stem has no one instrument); 0 when none is."""
    known = labels >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return nn.functional.cross_entropy(logits[known], labels[known])


def loss_terms(model: AnalysisNet, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The loss terms of one batch (see the module docstring) and their sum ``"loss"``."""
    out = model(batch["stem"], batch["rest"])
    smooth_l1 = nn.functional.smooth_l1_loss
    pred, target, song = out.level_db, batch["level_db"], batch["song"]
    relative_pred, relative_target = centred(pred, song), centred(target, song)
    terms = {
        "instrument": known_label_ce(out.instrument_logits, batch["instrument"]),
        "role": known_label_ce(out.role_logits, batch["role"]),
        "activity": nn.functional.binary_cross_entropy_with_logits(out.activity_logits, batch["activity"]),
        "level": smooth_l1(relative_pred, relative_target),
        "level_offset": smooth_l1(pred - relative_pred, target - relative_target),
        "level_nll": (0.5 * ((relative_target - relative_pred.detach())
                             / torch.exp(out.level_log_std_db)) ** 2 + out.level_log_std_db).mean(),
    }
    terms["loss"] = (terms["instrument"] + terms["role"] + terms["activity"] + 0.5 * terms["level"]
                     + 0.1 * terms["level_offset"] + 0.1 * terms["level_nll"])
    return terms


def validate(model: AnalysisNet, songs: list[dict], *, perturb_db: float = 9.0,
             seed: int = 1234) -> dict[str, float]:
    """Whole-song metrics on cached ``songs``: instrument/role accuracy and the level MAE (dB)
    per stem after removing each song's mean, with every stem at a seeded random gain within
    +-``perturb_db`` (one trial of the benchmark's level restoration)."""
    model.eval()
    rng = np.random.default_rng(seed)
    hits, known = np.zeros(2), np.zeros(2)
    errors = []
    for song in songs:
        gains = rng.uniform(-perturb_db, perturb_db, len(song["names"]))
        mel = 10.0 ** (song["log_mel"].astype(np.float32) + (gains[:, None, None] / 10.0).astype(np.float32))
        out = predict_song_mels(model, torch.from_numpy(mel))
        for k, (logits, truth) in enumerate(((out.instrument_logits, song["instrument"]),
                                             (out.role_logits, song["role"]))):
            hits[k] += int(((logits.argmax(-1).numpy() == truth) & (truth >= 0)).sum())
            known[k] += int((truth >= 0).sum())
        errors.append(offset_free_abs_error(out.level_db.numpy().astype(float),
                                            song["level_db"].astype(float)))
    model.train()
    return {"instrument_acc": hits[0] / max(known[0], 1), "role_acc": hits[1] / max(known[1], 1),
            "level_mae_db": float(np.concatenate(errors).mean())}


def _score(metrics: dict[str, float]) -> float:
    """Model-selection score: higher is better (0.1 dB of level MAE weighs as 2 % accuracy)."""
    return metrics["instrument_acc"] + metrics["role_acc"] - metrics["level_mae_db"] / 5.0


# --- the loop ----------------------------------------------------------------------------------
def train(dataset: str | os.PathLike | Sequence[str | os.PathLike], out_dir: str | os.PathLike, *,
          steps: int = 2000, batch_size: int = 24, segment_frames: int = 300, lr: float = 2e-3,
          weight_decay: float = 0.05,
          checkpoint_every: int = 100, validate_every: int = 200, max_minutes: float | None = None,
          seed: int = 0, threads: int = 1, model_args: dict | None = None,
          cache: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
          extra_train: Sequence[str | os.PathLike] = (),
          dev: dict[str, str | os.PathLike] | None = None) -> dict:
    """Train (or resume) the analysis network on one dataset or several; returns the final state
    summary.

    ``cache`` gives each dataset's feature cache folder, in the order of ``dataset`` (default
    ``out_dir/cache/<i>``, ``i`` the dataset's position). ``extra_train`` adds the ``train``
    songs of cache folders that belong to no dataset (:func:`write_cached_song`, e.g. separated
    real masters). ``dev`` names further cache folders whose songs all validate (e.g. held-out
    sources, separated real dev songs; never trained on): every validation reports each of them
    and the datasets' ``valid`` songs, and the best model is the one with the best mean score.

    Writes under ``out_dir``: ``state.pt`` (resumable), ``best.safetensors`` (the best model on
    the validation songs, with metadata), ``train.log`` and ``history.jsonl``. Stops after
    ``steps`` in total or ``max_minutes`` of wall time in this call, whichever comes first.
    """
    torch.set_num_threads(threads)
    out_dir = Path(out_dir)
    datasets = _paths(dataset)
    caches = _paths(cache) if cache else [out_dir / "cache" / str(i) for i in range(len(datasets))]
    if len(caches) != len(datasets):
        raise ParameterError(f"{len(datasets)} datasets but {len(caches)} cache folders; give one "
                             "cache folder per dataset, in the same order")
    out_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        return _train(datasets, out_dir, steps, batch_size, segment_frames, lr, weight_decay,
                      checkpoint_every, validate_every, max_minutes, seed, model_args or {}, caches,
                      [Path(c) for c in extra_train], {k: _dev_cache(Path(v)) for k, v in (dev or {}).items()})
    finally:
        log.removeHandler(handler)
        handler.close()


def _train(datasets, out_dir, steps, batch_size, segment_frames, lr, weight_decay, checkpoint_every,
           validate_every, max_minutes, seed, model_args, caches, extra_train, dev) -> dict:
    started = time.monotonic()
    for dataset, cache in zip(datasets, caches):
        cache_mels(dataset, cache)
    log.info("feature cache ready in %.1f s", time.monotonic() - started)
    manifests = [load_manifest(d) for d in datasets]
    data = PerturbedStems(load_cache(caches, "train") + (load_cache(extra_train, "train") if extra_train else []),
                          segment_frames=segment_frames, batch_size=batch_size)
    valid_sets = {"valid": load_cache(caches, "valid"), **{k: load_cache(v, None) for k, v in dev.items()}}
    state_path = out_dir / "state.pt"
    if state_path.is_file():
        state = torch.load(state_path, weights_only=False)
        model = AnalysisNet(**state["args"])
        model.load_state_dict(state["model"])
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        opt.load_state_dict(state["optimizer"])
        step, best, seconds = state["step"], state["best"], state["train_seconds"]
        log.info("resumed at step %d (%.0f s trained)", step, seconds)
    else:
        torch.manual_seed(seed)
        model = AnalysisNet(**model_args)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        step, best, seconds = 0, None, 0.0
        log.info("new model %s, %d parameters, %d train stems, validation stems %s", model.args,
                 sum(p.numel() for p in model.parameters()), data.n_stems,
                 {k: sum(len(s["names"]) for s in v) for k, v in valid_sets.items()})
    sched = lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))  # noqa: E731
    model.train()
    loop_start = time.monotonic()
    seconds0 = seconds

    def save_state():
        with atomic_path(state_path) as tmp:
            torch.save({"args": model.args, "model": model.state_dict(), "optimizer": opt.state_dict(),
                        "step": step, "best": best, "train_seconds": seconds}, tmp)

    while step < steps:
        if max_minutes is not None and time.monotonic() - loop_start > 60 * max_minutes:
            log.info("time limit reached at step %d", step)
            break
        rng = np.random.default_rng([seed, step])
        for group in opt.param_groups:
            group["lr"] = lr * sched(step)
        terms = loss_terms(model, data.batch(rng))
        opt.zero_grad()
        terms["loss"].backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        seconds = seconds0 + time.monotonic() - loop_start
        if step % 20 == 0:
            log.info("step %d %s", step, " ".join(f"{k}={v.item():.3f}" for k, v in terms.items()))
        if step % validate_every == 0 or step == steps:
            sets = {k: validate(model, v) for k, v in valid_sets.items()}
            metrics = dict(sets.pop("valid"), **({"dev": sets} if sets else {}))
            score = float(np.mean([_score(m) for m in (metrics, *sets.values())]))
            log.info("valid step %d score %.4f %s", step, score, json.dumps(metrics))
            with open(out_dir / "history.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, "train_seconds": round(seconds, 1), "score": score,
                                    **metrics}) + "\n")
            if best is None or score > best["score"]:
                best = {"score": score, "step": step, "metrics": metrics}
                save_model(out_dir / "best.safetensors", model, metadata={
                    "data": [str(d) for d in datasets],
                    "data_hours": sum(m.get("hours") or 0.0 for m in manifests),
                    "data_seed": [m.get("seed") for m in manifests], "train_songs": len(data.songs),
                    "extra_train": [str(c) for c in extra_train],
                    "valid_songs": {k: len(v) for k, v in valid_sets.items()},
                    "dev": {k: str(v) for k, v in dev.items()},
                    "step": step, "batch_size": batch_size, "segment_s": segment_frames / model.frame_rate_hz,
                    "level_loss": "relative to the song mean",
                    "train_seconds": round(seconds, 1), "threads": torch.get_num_threads(),
                    "valid_metrics": metrics})
        if step % checkpoint_every == 0 or step == steps:
            save_state()
    save_state()
    return {"step": step, "train_seconds": seconds, "best": best}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Train the mixassist analysis network (resumable).")
    p.add_argument("out_dir", help="checkpoints, log and best model go here")
    p.add_argument("--data", action="append", required=True,
                   help="folder written by `mixassist data build` (repeat for several datasets)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--validate-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--cache", action="append", default=None,
                   help="feature cache folder, one per --data in the same order (default OUT_DIR/cache/<i>)")
    p.add_argument("--extra-train", action="append", default=[],
                   help="a cache folder of no dataset whose train songs are added (repeatable)")
    p.add_argument("--dev", action="append", default=[], metavar="NAME=CACHE",
                   help="a cache folder whose songs all validate, reported as NAME (repeatable)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--channels", type=int, default=16, help="conv channels of a new network")
    p.add_argument("--hidden", type=int, default=96, help="hidden width of a new network")
    a = p.parse_args(argv)
    dev = dict(d.split("=", 1) for d in a.dev)
    print(json.dumps(train(a.data, a.out_dir, steps=a.steps, batch_size=a.batch_size,
                           weight_decay=a.weight_decay, max_minutes=a.max_minutes,
                           checkpoint_every=a.checkpoint_every, validate_every=a.validate_every,
                           threads=a.threads, cache=a.cache, extra_train=a.extra_train, dev=dev,
                           lr=a.lr, model_args={"channels": a.channels, "hidden": a.hidden}),
                     default=str))


if __name__ == "__main__":
    main()
