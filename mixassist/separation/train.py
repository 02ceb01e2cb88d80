"""Training a compact HTDemucs on generated datasets (``mixassist data build``).

The recipe follows demucs' own (Défossez 2021, "Hybrid Spectrogram and Waveform Source
Separation"; Rouard et al. 2023, "Hybrid Transformers for Music Source Separation"): HTDemucs from
the demucs package with reduced width and one transformer layer, run at 22.05 kHz (the separation
engine resamples and restores the full band through its residual), L1 loss on the waveforms,
remix/gain/flip/shift augmentation (:class:`~mixassist.datasets.torch_datasets.SeparationDataset`),
Adam, an exponential moving average (EMA) of the weights, and validation SDR (MDX definition,
:mod:`.metrics`) of the EMA weights on fixed excerpts of the held-out ``valid`` songs.

Several datasets combine (``--data`` repeated); each keeps its own song splits. Stems are summed
into the four groups by the manifest's ``group`` field.

``OUT_DIR`` holds ``config.json`` (the recipe, written once; a rerun reuses it), ``state.pt``
(model, EMA, optimiser, step; saved every ``save_every`` steps, on SIGTERM and at the end; a rerun
resumes from it), ``last.safetensors`` and ``best.safetensors`` (EMA weights in demucs'
safetensors format, best by validation SDR) and ``train.log``.

    python -m mixassist.separation.train OUT_DIR --data DATASET [--data DATASET2 ...]
        [--max-steps N] [--max-minutes M] [--threads 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..datasets.torch_datasets import SeparationDataset, load_manifest
from ..errors import ParameterError
from ..utils.atomic import atomic_path, write_text_atomic
from ..vocab import STEM_GROUPS
from .metrics import song_sdrs
from .models import save_safetensors

log = logging.getLogger("mixassist.separation.train")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The recipe. Architecture fields are HTDemucs arguments; ``sample_rate_hz`` is the model's
    internal rate (data are resampled to it)."""

    data: tuple[str, ...]
    sample_rate_hz: int = 22050
    channels: int = 16
    depth: int = 4
    t_layers: int = 1
    nfft: int = 2048
    segment_s: float = 4.0
    batch_size: int = 4
    lr: float = 5e-4
    ema_decay: float = 0.999
    gain_db: tuple[float, float] = (-6.0, 3.0)
    shift_s: float = 0.5
    flip: bool = True
    remix: bool = True
    items_per_song: int = 16
    valid_excerpt_s: float = 8.0
    valid_every: int = 250
    save_every: int = 50
    seed: int = 0

    def __post_init__(self):
        if not self.data:
            raise ParameterError("no dataset given; pass --data DATASET (a `mixassist data build` folder)")
        if self.batch_size < 1 or self.segment_s <= 0 or self.lr <= 0:
            raise ParameterError("batch_size, segment_s and lr must be positive")
        if not 0 <= self.ema_decay < 1:
            raise ParameterError(f"ema_decay must be in [0, 1), got {self.ema_decay}")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        data = dict(data, data=tuple(data["data"]), gain_db=tuple(data["gain_db"]))
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


def build_model(config: TrainConfig):
    """A fresh HTDemucs for ``config`` (sources in :data:`~mixassist.vocab.STEM_GROUPS` order)."""
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(config.seed)
    return HTDemucs(sources=list(STEM_GROUPS), samplerate=config.sample_rate_hz,
                    segment=config.segment_s, channels=config.channels, depth=config.depth,
                    t_layers=config.t_layers, nfft=config.nfft)


def _resample(x: torch.Tensor, sr_in: int, sr_out: int) -> torch.Tensor:
    if sr_in == sr_out:
        return x
    import torchaudio.functional as F
    return F.resample(x.contiguous(), sr_in, sr_out)


class _Batches:
    """Deterministic training batches: batch ``step`` is a pure function of (seed, step), so a
    resumed run draws what an uninterrupted run would have drawn."""

    def __init__(self, config: TrainConfig):
        self.config = config
        self.parts = []
        for i, root in enumerate(config.data):
            n = len([s for s in load_manifest(root)["songs"] if s["split"] == "train"])
            self.parts.append(SeparationDataset(
                root, "train", segment_s=config.segment_s, items_per_epoch=n * config.items_per_song,
                remix=config.remix, gain_db=config.gain_db, flip=config.flip,
                shift_s=config.shift_s, seed=config.seed + 1000 * i))
        self.total = sum(len(p) for p in self.parts)
        self.sr = self.parts[0].sr

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        sources = []
        for k in range(self.config.batch_size):
            flat = step * self.config.batch_size + k
            epoch, index = divmod(flat, self.total)
            for part in self.parts:
                if index < len(part):
                    break
                index -= len(part)
            part.set_epoch(epoch)
            _, src = part[index]
            sources.append(src)
        src = _resample(torch.stack(sources), self.sr, self.config.sample_rate_hz)
        return src.sum(dim=1), src


def group_audio(root: Path, song: dict, start: int | None = None, frames: int | None = None
                ) -> dict[str, np.ndarray]:
    """The four group signals of ``song`` (``(2, samples)`` float32 each, stems summed by their
    manifest ``group``), whole or ``frames`` from ``start``."""
    import soundfile as sf

    groups: dict[str, np.ndarray] = {}
    for stem in song["stems"]:
        with sf.SoundFile(root / song["folder"] / stem["file"]) as f:
            if start is not None:
                f.seek(min(start, f.frames))
            data = f.read(frames if frames is not None else -1, dtype="float32", always_2d=True).T
        if data.shape[0] == 1:
            data = np.repeat(data, 2, axis=0)
        if frames is not None and data.shape[1] < frames:
            data = np.pad(data, ((0, 0), (0, frames - data.shape[1])))
        prev = groups.get(stem["group"])
        if prev is not None:
            n = min(prev.shape[1], data.shape[1])
            data = prev[:, :n] + data[:, :n]
        groups[stem["group"]] = data
    n = min(g.shape[1] for g in groups.values())
    return {g: (groups[g][:, :n] if g in groups else np.zeros((2, n), np.float32)) for g in STEM_GROUPS}


def validation_set(config: TrainConfig) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Fixed excerpts (``valid_excerpt_s`` from the middle) of every ``valid`` song, at the
    model's rate: ``(song_id, {group: (2, samples)})``."""
    items = []
    for root in map(Path, config.data):
        manifest = load_manifest(root)
        sr = int(manifest["sample_rate"])
        frames = int(config.valid_excerpt_s * sr)
        for song in manifest["songs"]:
            if song["split"] != "valid":
                continue
            start = max(0, int(song["duration_s"] * sr / 2) - frames // 2)
            groups = group_audio(root, song, start, frames)
            stacked = _resample(torch.from_numpy(np.stack([groups[g] for g in STEM_GROUPS])), sr,
                                config.sample_rate_hz).numpy()
            items.append((f"{root.name}/{song['song_id']}", dict(zip(STEM_GROUPS, stacked))))
    return items


def validate(model, items) -> dict[str, float]:
    """Mean SDR per group over the excerpts (silent references left out) and their mean ``sdr``."""
    from demucs.apply import apply_model

    model.eval()
    scores: dict[str, list[float]] = {g: [] for g in STEM_GROUPS}
    with torch.no_grad():
        for _, groups in items:
            mix = torch.from_numpy(sum(groups.values()))
            est = apply_model(model, mix[None], shifts=0, split=True, overlap=0.25, progress=False)[0]
            for g, value in song_sdrs(groups, dict(zip(model.sources, est.numpy()))).items():
                if not math.isnan(value):
                    scores[g].append(value)
    out = {g: float(np.mean(v)) if v else float("nan") for g, v in scores.items()}
    out["sdr"] = float(np.nanmean([out[g] for g in STEM_GROUPS]))
    return out


class _EMA:
    """Exponential moving average of parameters and buffers, with the usual warm-up
    ``decay_t = min(decay, (1 + t) / (10 + t))``."""

    def __init__(self, model, decay: float):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def update(self, model, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if v.dtype.is_floating_point:
                    self.state[k].mul_(d).add_(v.detach(), alpha=1 - d)
                else:
                    self.state[k].copy_(v)


def train(out_dir: str | os.PathLike, config: TrainConfig | None = None, *, max_steps: int | None = None,
          max_time_s: float | None = None, threads: int | None = None) -> dict:
    """Train (or resume) in ``out_dir``; stop after ``max_steps`` total steps, ``max_time_s`` of
    this run, or SIGTERM. Returns the final summary (step, seconds, best validation metrics)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "config.json"
    if config_path.is_file():
        stored = TrainConfig.from_json(json.loads(config_path.read_text(encoding="utf-8")))
        if config is not None and config != stored:
            log.warning("%s exists: resuming with its recipe, ignoring the one given", config_path)
        config = stored
    elif config is None:
        raise ParameterError(f"{out}: no config.json to resume from; pass a TrainConfig (--data)")
    else:
        write_text_atomic(config_path, json.dumps(config.to_json(), indent=2) + "\n")
    handler = _log_to(out / "train.log")
    try:
        return _train(out, config, max_steps, max_time_s, threads)
    finally:
        log.removeHandler(handler)
        handler.close()


def _train(out: Path, config: TrainConfig, max_steps, max_time_s, threads) -> dict:
    if threads:
        torch.set_num_threads(threads)

    model = build_model(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.999))
    ema = _EMA(model, config.ema_decay)
    meta = {"step": 0, "train_s": 0.0, "audio_s": 0.0, "best": None, "history": []}
    state_path = out / "state.pt"
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        ema.state = state["ema"]
        meta = state["meta"]
        log.info("resumed from %s at step %d (%.0f s trained)", state_path, meta["step"], meta["train_s"])
    else:
        log.info("new run in %s: %s", out, json.dumps(config.to_json()))

    batches = _Batches(config)
    valid = validation_set(config)
    log.info("%d training items per epoch, %d validation excerpts", batches.total, len(valid))
    stop = {"signal": False}
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.update(signal=True))

    def export(name: str) -> None:
        ema_model = build_model(config)
        ema_model.load_state_dict(ema.state)
        save_safetensors(ema_model, out / name, extra={
            "step": meta["step"], "train_s": round(meta["train_s"], 1),
            "audio_h": round(meta["audio_s"] / 3600, 3), "best": meta["best"],
            "config": config.to_json()})

    def save_state() -> None:
        with atomic_path(state_path) as tmp:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "ema": ema.state, "meta": meta}, tmp)
        export("last.safetensors")

    started = time.monotonic()
    losses = []
    try:
        while not stop["signal"]:
            if max_steps is not None and meta["step"] >= max_steps:
                break
            if max_time_s is not None and time.monotonic() - started >= max_time_s:
                break
            t0 = time.monotonic()
            mix, sources = batches(meta["step"])
            model.train()
            estimate = model(mix)
            loss = torch.nn.functional.l1_loss(estimate, sources)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            meta["step"] += 1
            ema.update(model, meta["step"])
            meta["train_s"] += time.monotonic() - t0
            meta["audio_s"] += config.batch_size * config.segment_s
            losses.append(loss.item())
            if meta["step"] % 10 == 0:
                log.info("step %d loss %.4f (%.1f s of audio per s)", meta["step"], np.mean(losses),
                         meta["audio_s"] / max(meta["train_s"], 1e-9))
                losses = []
            if meta["step"] % config.valid_every == 0:
                _validate(model, ema, config, valid, meta, export)
            if meta["step"] % config.save_every == 0:
                save_state()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if meta["step"] % config.valid_every:
        _validate(model, ema, config, valid, meta, export)
    save_state()
    summary = {"step": meta["step"], "train_s": meta["train_s"], "audio_h": meta["audio_s"] / 3600,
               "best": meta["best"]}
    log.info("stopped at step %d: %s", meta["step"], json.dumps(summary))
    return summary


def _validate(model, ema: _EMA, config: TrainConfig, valid, meta: dict, export) -> None:
    ema_model = build_model(config)
    ema_model.load_state_dict(ema.state)
    metrics = validate(ema_model, valid) if valid else {"sdr": float("nan")}
    metrics = {k: round(v, 3) for k, v in metrics.items()}
    meta["history"].append({"step": meta["step"], **metrics})
    log.info("valid step %d: %s", meta["step"], json.dumps(metrics))
    best = meta["best"]
    if best is None or (not math.isnan(metrics["sdr"]) and metrics["sdr"] > best["sdr"]):
        meta["best"] = {"step": meta["step"], **metrics}
        export("best.safetensors")


def _log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mixassist.separation.train",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--data", action="append", default=[], help="dataset folder (repeatable)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop at this total step")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after this run time")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    defaults = TrainConfig(data=("-",))
    for field in ("channels", "t_layers", "nfft", "batch_size", "sample_rate_hz"):
        parser.add_argument(f"--{field.replace('_', '-')}", type=int, default=getattr(defaults, field))
    for field in ("segment_s", "lr"):
        parser.add_argument(f"--{field.replace('_', '-')}", type=float, default=getattr(defaults, field))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = None
    if args.data:
        config = TrainConfig(data=tuple(str(Path(d).resolve()) for d in args.data),
                             channels=args.channels, t_layers=args.t_layers, nfft=args.nfft,
                             batch_size=args.batch_size, sample_rate_hz=args.sample_rate_hz,
                             segment_s=args.segment_s, lr=args.lr)
    train(args.out_dir, config, max_steps=args.max_steps,
          max_time_s=None if args.max_minutes is None else 60 * args.max_minutes, threads=args.threads)


if __name__ == "__main__":
    main()
