"""Training a compact HTDemucs on generated datasets (``mixassist data build``).

The recipe follows demucs' own (Défossez 2021, "Hybrid Spectrogram and Waveform Source
Separation"; Rouard et al. 2023, "Hybrid Transformers for Music Source Separation"): HTDemucs from
the demucs package with reduced width and one transformer layer, run at 22.05 kHz (the separation
engine resamples and restores the full band through its residual), L1 loss on the waveforms,
remix/gain/flip/shift augmentation drawn from the songs held in memory on the training device,
Adam (optional linear warm-up, cosine decay over a training-time budget and gradient clipping), an
exponential moving average (EMA) of the weights, and validation SDR (MDX definition,
:mod:`.metrics`) of the EMA weights on fixed excerpts of the held-out ``valid`` songs. It runs on
CPU or a GPU (``--device cuda``; TF32 matmuls); :mod:`.pack` makes a dataset small enough to
carry to a GPU machine.

Several datasets combine (``--data`` repeated); each keeps its own song splits. Stems are summed
into the four groups by the manifest's ``group`` field. ``--valid-data`` adds datasets that are
only validated on, never trained on (every song but their ``test`` split; e.g. songs of held-out
sound sources): the validation score that picks ``best.safetensors`` is then the mean over the
sets (the training datasets' ``valid`` songs, and each validation-only dataset) of their mean SDR,
so a checkpoint is chosen for transfer as well as fit.

``OUT_DIR`` holds ``config.json`` (the recipe, written once; a rerun reuses it), ``state.pt``
(model, EMA, optimiser, step; saved every ``save_every`` steps, on SIGTERM and at the end; a rerun
resumes from it), ``last.safetensors`` and ``best.safetensors`` (EMA weights in demucs'
safetensors format, best by validation SDR; a run started from ``init`` validates it first, so
``best`` is never worse than the starting model) and ``train.log``.

    python -m mixassist.separation.train OUT_DIR --data DATASET [--data DATASET2 ...]
        [--valid-data DATASET ...] [--max-steps N] [--max-minutes M] [--threads 1] [--device cpu|cuda]
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

from ..datasets.torch_datasets import load_manifest
from ..errors import ParameterError
from ..utils.atomic import atomic_path, write_text_atomic
from ..vocab import STEM_GROUPS
from .metrics import song_sdrs
from .models import save_safetensors

log = logging.getLogger("mixassist.separation.train")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The recipe. Architecture fields are HTDemucs arguments; ``sample_rate_hz`` is the model's
    internal rate (data are resampled to it). The learning rate rises linearly over
    ``warmup_steps``, then, with ``decay_minutes`` > 0, follows a cosine from ``lr`` to
    ``lr / 20`` over that much training time (stored with the run, so a resumed run continues the
    curve); ``clip_grad`` > 0 clips the gradient norm. ``master_p`` is the share of training
    mixtures given a light mastering on the fly (:func:`~mixassist.datasets.production.master_mixture`;
    the unmastered groups stay the targets). ``init`` names a separator file (demucs safetensors,
    e.g. the shipped ``mixassist-compact``) whose weights a new run starts from, model and EMA;
    its architecture must match the recipe's. ``valid_data`` are validation-only datasets."""

    data: tuple[str, ...]
    sample_rate_hz: int = 22050
    channels: int = 16
    depth: int = 4
    t_layers: int = 1
    nfft: int = 2048
    segment_s: float = 4.0
    batch_size: int = 4
    lr: float = 5e-4
    warmup_steps: int = 0
    decay_minutes: float = 0.0
    clip_grad: float = 0.0
    ema_decay: float = 0.999
    gain_db: tuple[float, float] = (-6.0, 3.0)
    flip: bool = True
    remix_p: float = 0.5
    valid_excerpt_s: float = 8.0
    valid_every: int = 250
    save_every: int = 50
    seed: int = 0
    master_p: float = 0.0
    init: str | None = None
    valid_data: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.data:
            raise ParameterError("no dataset given; pass --data DATASET (a `mixassist data build` folder)")
        if overlap := set(self.data) & set(self.valid_data):
            raise ParameterError(f"{', '.join(sorted(overlap))}: both trained on (--data) and "
                                 "validation-only (--valid-data)")
        if self.batch_size < 1 or self.segment_s <= 0 or self.lr <= 0:
            raise ParameterError("batch_size, segment_s and lr must be positive")
        for name in ("remix_p", "master_p"):
            if not 0 <= getattr(self, name) <= 1:
                raise ParameterError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0 <= self.ema_decay < 1:
            raise ParameterError(f"ema_decay must be in [0, 1), got {self.ema_decay}")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        data = dict(data, data=tuple(data["data"]), gain_db=tuple(data["gain_db"]),
                    valid_data=tuple(data.get("valid_data", ())))
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


def build_model(config: TrainConfig):
    """A fresh HTDemucs for ``config`` (sources in :data:`~mixassist.vocab.STEM_GROUPS` order)."""
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(config.seed)
    return HTDemucs(sources=list(STEM_GROUPS), samplerate=config.sample_rate_hz,
                    segment=config.segment_s, channels=config.channels, depth=config.depth,
                    t_layers=config.t_layers, nfft=config.nfft)


def _resample(x: torch.Tensor, sr_in: int, sr_out: int) -> torch.Tensor:
    """``x [..., samples]`` from ``sr_in`` to ``sr_out`` Hz (julius: a demucs dependency, so this
    runs wherever demucs does)."""
    if sr_in == sr_out:
        return x
    import julius
    return julius.resample_frac(x.contiguous(), sr_in, sr_out)


class _Batches:
    """Training batches from every ``train`` song held in memory at the model's rate (float16,
    ``[4 groups, 2, samples]`` concatenated; 3 h of songs take 3.8 GB), on the training device.

    Batch ``step`` is a pure function of (seed, step), so a resumed run draws what an uninterrupted
    run would have drawn. Each item is, with probability ``1 - remix_p``, the four groups of one
    song at one time, else each group from an independently drawn song and time (demucs' remix);
    every group then gets a random gain in ``gain_db`` and, with ``flip``, a random channel swap
    and sign. The mixture is the exact sum of the returned groups.
    """

    def __init__(self, config: TrainConfig, device: torch.device):
        from concurrent.futures import ThreadPoolExecutor

        self.config, self.device = config, device
        manifests = {root: load_manifest(root) for root in config.data}
        songs = [(Path(root), song, int(manifest["sample_rate"])) for root, manifest in manifests.items()
                 for song in manifest["songs"] if song["split"] == "train"]
        self.segment = int(round(config.segment_s * config.sample_rate_hz))

        def load(item) -> torch.Tensor:
            root, song, sr = item
            groups = group_audio(root, song)
            audio = torch.from_numpy(np.stack([groups[g] for g in STEM_GROUPS]))
            return _resample(audio, sr, config.sample_rate_hz).to(torch.float16)

        with ThreadPoolExecutor(max(1, min(16, os.cpu_count() or 1))) as pool:
            audio = [a for a in pool.map(load, songs) if a.shape[-1] > self.segment]
        if not audio:
            raise ParameterError(f"no train song longer than {config.segment_s} s in {', '.join(config.data)}")
        lengths = torch.tensor([a.shape[-1] for a in audio])
        self.starts = torch.cumsum(lengths, 0) - lengths
        self.spans = lengths - self.segment
        self.audio = torch.cat(audio, dim=-1).to(device)
        self.hours = float(lengths.sum()) / config.sample_rate_hz / 3600
        self.n_songs = len(audio)

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        g = torch.Generator().manual_seed(c.seed * 1_000_003 + step)
        b, s = c.batch_size, len(STEM_GROUPS)
        song = torch.randint(self.n_songs, (b, s), generator=g)
        offset = (torch.rand(b, s, generator=g) * self.spans[song]).long()
        coherent = torch.rand(b, 1, generator=g) >= c.remix_p
        song = torch.where(coherent, song[:, :1], song)
        offset = torch.where(coherent, offset[:, :1], offset)
        begin = (self.starts[song] + offset).to(self.device)
        index = begin[..., None] + torch.arange(self.segment, device=self.device)
        group = torch.arange(s, device=self.device)[None, :, None]
        sources = self.audio.transpose(0, 1)[:, group, index].permute(1, 2, 0, 3).float()
        gain = 10 ** (torch.empty(b, s, 1, 1).uniform_(*c.gain_db, generator=g) / 20)
        if c.flip:
            sign = torch.where(torch.rand(b, s, 1, 1, generator=g) < 0.5, -1.0, 1.0)
            swap = (torch.rand(b, s, 1, 1, generator=g) < 0.5).to(self.device)
            sources = torch.where(swap, sources.flip(2), sources)
            gain = gain * sign
        sources = sources * gain.to(self.device)
        mix = sources.sum(dim=1)
        if c.master_p > 0:
            mix = self._master(mix, step)
        return mix, sources

    def _master(self, mix: torch.Tensor, step: int) -> torch.Tensor:
        """``mix`` ``[batch, 2, samples]`` with each item mastered with probability ``master_p``
        (drawn from (seed, step), so resumed runs draw the same)."""
        from ..datasets.production import master_mixture

        rng = np.random.default_rng([self.config.seed, step, 7])
        items = mix.float().cpu().numpy()
        out = [master_mixture(item, self.config.sample_rate_hz, rng, probability=self.config.master_p)[0]
               for item in items]
        return torch.from_numpy(np.stack(out).astype(np.float32)).to(mix.device)


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


#: Name of the validation set made of the training datasets' ``valid`` songs.
VALID_SET = "valid"


def validation_set(config: TrainConfig) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """Fixed excerpts (``valid_excerpt_s`` from the middle) at the model's rate, as
    ``(set, song_id, {group: (2, samples)})``: every ``valid`` song of the training datasets (set
    :data:`VALID_SET`), then every non-``test`` song of each validation-only dataset (its folder
    name)."""
    items = []
    chosen = [(root, VALID_SET, ("valid",)) for root in config.data]
    chosen += [(root, Path(root).name, ("train", "valid")) for root in config.valid_data]
    for root, name, splits in chosen:
        root = Path(root)
        manifest = load_manifest(root)
        sr = int(manifest["sample_rate"])
        frames = int(config.valid_excerpt_s * sr)
        for song in manifest["songs"]:
            if song["split"] not in splits:
                continue
            start = max(0, int(song["duration_s"] * sr / 2) - frames // 2)
            groups = group_audio(root, song, start, frames)
            stacked = _resample(torch.from_numpy(np.stack([groups[g] for g in STEM_GROUPS])), sr,
                                config.sample_rate_hz).numpy()
            items.append((name, f"{root.name}/{song['song_id']}", dict(zip(STEM_GROUPS, stacked))))
    return items


def validate(model, items, device: torch.device | str = "cpu") -> dict:
    """Mean SDR per group over the excerpts of :func:`validation_set` (silent references left
    out); per set, the mean over its groups (``sets``); and ``sdr``, the mean over the sets."""
    from demucs.apply import apply_model

    model.eval()
    scores: dict[str, dict[str, list[float]]] = {}
    with torch.no_grad():
        for name, _, groups in items:
            mix = torch.from_numpy(sum(groups.values()))
            est = apply_model(model, mix[None], shifts=0, split=True, overlap=0.25, progress=False,
                              device=device)[0].cpu()
            per_set = scores.setdefault(name, {g: [] for g in STEM_GROUPS})
            for g, value in song_sdrs(groups, dict(zip(model.sources, est.numpy()))).items():
                if not math.isnan(value):
                    per_set[g].append(value)

    def group_means(sets) -> dict[str, float]:
        return {g: float(np.mean(v)) if (v := [x for s in sets for x in s[g]]) else float("nan")
                for g in STEM_GROUPS}

    out: dict = group_means(scores.values())
    out["sets"] = {name: float(np.nanmean(list(group_means([s]).values()))) for name, s in scores.items()}
    out["sdr"] = float(np.nanmean(list(out["sets"].values()))) if scores else float("nan")
    return out


class _EMA:
    """Exponential moving average of parameters and buffers, with the usual warm-up
    ``decay_t = min(decay, (1 + t) / (10 + t))``."""

    def __init__(self, model, decay: float):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def update(self, model, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        current = model.state_dict()
        floats = [k for k, v in current.items() if v.dtype.is_floating_point]
        with torch.no_grad():
            torch._foreach_lerp_([self.state[k] for k in floats], [current[k].detach() for k in floats], 1 - d)
            for k, v in current.items():
                if not v.dtype.is_floating_point:
                    self.state[k].copy_(v)


def train(out_dir: str | os.PathLike, config: TrainConfig | None = None, *, max_steps: int | None = None,
          max_time_s: float | None = None, threads: int | None = None, device: str = "cpu") -> dict:
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
        return _train(out, config, max_steps, max_time_s, threads, torch.device(device))
    finally:
        log.removeHandler(handler)
        handler.close()


def _learning_rate(config: TrainConfig, step: int, train_s: float) -> float:
    """The scheduled learning rate at ``step`` after ``train_s`` seconds of training."""
    lr = config.lr * min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else config.lr
    if config.decay_minutes > 0:
        progress = min(1.0, train_s / (60 * config.decay_minutes))
        lr *= 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))
    return lr


def _train(out: Path, config: TrainConfig, max_steps, max_time_s, threads, device: torch.device) -> dict:
    if threads:
        torch.set_num_threads(threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True

    model = build_model(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.999))
    ema = _EMA(model, config.ema_decay)
    meta = {"step": 0, "train_s": 0.0, "audio_s": 0.0, "best": None, "history": []}
    state_path = out / "state.pt"
    if state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        ema.state = state["ema"]
        meta = state["meta"]
        log.info("resumed from %s at step %d (%.0f s trained)", state_path, meta["step"], meta["train_s"])
    else:
        if config.init:
            _load_init(model, config)
            ema = _EMA(model, config.ema_decay)
        log.info("new run in %s: %s", out, json.dumps(config.to_json()))

    loaded = time.monotonic()
    batches = _Batches(config, device)
    valid = validation_set(config)
    log.info("%d train songs (%.2f h) and %d validation excerpts loaded in %.1f s on %s", batches.n_songs,
             batches.hours, len(valid), time.monotonic() - loaded, device)
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

    if meta["step"] == 0 and config.init:
        _validate(ema, config, valid, meta, export, device)  # the starting point: best is never worse
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
            for group in optimizer.param_groups:
                group["lr"] = _learning_rate(config, meta["step"], meta["train_s"])
            model.train()
            estimate = model(mix)
            loss = torch.nn.functional.l1_loss(estimate, sources)
            optimizer.zero_grad()
            loss.backward()
            if config.clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
            optimizer.step()
            meta["step"] += 1
            ema.update(model, meta["step"])
            losses.append(loss.item())
            meta["train_s"] += time.monotonic() - t0
            meta["audio_s"] += config.batch_size * config.segment_s
            if meta["step"] % 10 == 0:
                log.info("step %d loss %.4f lr %.2e (%.1f s of audio per s)", meta["step"], np.mean(losses),
                         optimizer.param_groups[0]["lr"], meta["audio_s"] / max(meta["train_s"], 1e-9))
                losses = []
            if meta["step"] % config.valid_every == 0:
                _validate(ema, config, valid, meta, export, device)
            if meta["step"] % config.save_every == 0:
                save_state()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if meta["step"] % config.valid_every:
        _validate(ema, config, valid, meta, export, device)
    save_state()
    summary = {"step": meta["step"], "train_s": meta["train_s"], "audio_h": meta["audio_s"] / 3600,
               "best": meta["best"]}
    log.info("stopped at step %d: %s", meta["step"], json.dumps(summary))
    return summary


def _load_init(model, config: TrainConfig) -> None:
    """Load ``config.init``'s weights into ``model``; :class:`ParameterError` when the file's
    architecture is not the recipe's."""
    from .models import resolve_model

    loaded = resolve_model(config.init).model
    if getattr(loaded, "samplerate", None) != config.sample_rate_hz or list(loaded.sources) != list(STEM_GROUPS):
        raise ParameterError(f"{config.init}: a {getattr(loaded, 'samplerate', '?')} Hz model of "
                             f"{', '.join(loaded.sources)}; the recipe wants {config.sample_rate_hz} Hz "
                             f"and {', '.join(STEM_GROUPS)}")
    try:
        model.load_state_dict(loaded.state_dict())
    except RuntimeError as exc:
        raise ParameterError(f"{config.init}: its weights do not fit the recipe's model (channels "
                             f"{config.channels}, t_layers {config.t_layers}, nfft {config.nfft}, "
                             f"{config.sample_rate_hz} Hz): {str(exc).splitlines()[0]}") from None
    log.info("weights from %s", config.init)


def _validate(ema: _EMA, config: TrainConfig, valid, meta: dict, export, device: torch.device) -> None:
    ema_model = build_model(config).to(device)
    ema_model.load_state_dict(ema.state)
    metrics = validate(ema_model, valid, device) if valid else {"sdr": float("nan")}
    metrics = {k: ({n: round(x, 3) for n, x in v.items()} if isinstance(v, dict) else round(v, 3))
               for k, v in metrics.items()}
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
    parser.add_argument("--valid-data", action="append", default=[],
                        help="validation-only dataset folder (repeatable; never trained on)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop at this total step")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after this run time")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")
    defaults = TrainConfig(data=("-",))
    recipe = {"channels": int, "t_layers": int, "nfft": int, "batch_size": int, "sample_rate_hz": int,
              "warmup_steps": int, "valid_every": int, "seed": int, "segment_s": float, "lr": float,
              "decay_minutes": float, "clip_grad": float, "remix_p": float, "master_p": float,
              "init": str}
    for field, kind in recipe.items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=kind, default=getattr(defaults, field))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = None
    if args.data:
        config = TrainConfig(data=tuple(str(Path(d).resolve()) for d in args.data),
                             valid_data=tuple(str(Path(d).resolve()) for d in args.valid_data),
                             **{field: getattr(args, field) for field in recipe})
    train(args.out_dir, config, max_steps=args.max_steps,
          max_time_s=None if args.max_minutes is None else 60 * args.max_minutes, threads=args.threads,
          device=args.device)


if __name__ == "__main__":
    main()
