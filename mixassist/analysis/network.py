"""The analysis network: instrument, role, frame activity and target level of one stem in its mix.

Input per stem: the log-mel spectrogram of the stem and of the **rest of the mix** (the power sum
of the other stems' mel spectrograms, so the stem's own gain cannot leak in through the context).
Each of the two is normalised to unit mean power over its active frames before the logarithm, so
every input the network sees is level-free: the predictions, ``target_level_db`` included, do
not change when the stem (or the whole rest) is made louder or quieter. The network therefore
predicts where a stem *like this*, in a mix *like this*, sits (dB re the mix, the scale of
``level_db``), not where it sits now.

Architecture (small enough for >= 50x real time per stem on one CPU core): a 2-channel 2-D CNN
over (mel, frame) (stem, rest), three conv blocks pooling frequency 64 -> 8, a 1-D temporal
conv stack with dilations 1, 2, 4 (residual), a per-frame activity logit, and attention + max
pooling over frames (dropout while training) feeding three clip heads: instrument logits (11),
role logits (5) and a level (mean dB re the mix; smooth-L1 loss) with a log standard deviation
(dB) trained by the Gaussian negative log-likelihood of the level error (mean detached, so an
early large error cannot stall the mean by inflating the deviation): the level confidence.

Inference (:func:`predict_stems`) takes arrays or :class:`~mixassist.audio.signal.Signal` s: the
mel front end runs block by block (:func:`stem_mels`), and a stem longer than
:data:`MAX_FRAMES` is judged on :data:`EXCERPTS` evenly spaced excerpts (:func:`excerpt_frames`).

Checkpoints are safetensors files whose metadata holds the class, the constructor arguments and
free-form metadata (data, hours, training time, metrics), as demucs' ``hf.py`` format does, so
:func:`load_model` needs no guessing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..audio.convert import StreamResampler, to_channels
from ..audio.signal import BLOCK, Signal, aligned_signals
from ..errors import ModelError, ParameterError
from ..resources import ANALYSIS_MODEL, models_dir
from ..utils.atomic import atomic_path
from ..vocab import INSTRUMENTS, ROLES

#: Front-end settings: 22.05 kHz mono, 46 ms window, 20 ms hop (50 frames/s), 64 mel bands.
SAMPLE_RATE = 22050
N_FFT = 1024
HOP = 441
N_MELS = 64
F_MIN_HZ = 30.0
#: Frames quieter than this (dB re the loudest frame) do not count for the level normalisation.
ACTIVE_RELATIVE_DB = -40.0
#: Power floor (re unit mean active power) before the logarithm.
FLOOR = 1e-8
#: Longest input the network sees at once (frames, 10 min at 50 frames/s); a longer stem is seen
#: through :data:`EXCERPTS` excerpts of ``MAX_FRAMES // EXCERPTS`` frames (30 s).
MAX_FRAMES = 30_000
EXCERPTS = 20
#: Class name written into checkpoints.
CLASS_NAME = "mixassist.analysis.network.AnalysisNet"
FORMAT = "mixassist-analysis/1"


def hz_to_mel(hz):
    """HTK mel scale: ``2595 log10(1 + hz / 700)`` (a float or an array / tensor of Hz)."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_filterbank(n_freqs: int, n_mels: int, f_min_hz: float, f_max_hz: float,
                   sample_rate: int) -> torch.Tensor:
    """Triangular filters ``[n_freqs, n_mels]`` with centres evenly spaced on the HTK mel scale
    from ``f_min_hz`` to ``f_max_hz`` (peak 1, unnormalised area), over ``n_freqs`` STFT bins
    from 0 to ``sample_rate // 2`` Hz: the filterbank of ``torchaudio``'s ``MelSpectrogram``
    defaults (``mel_scale="htk"``, ``norm=None``), which the shipped checkpoints were built with."""
    bins = torch.linspace(0, sample_rate // 2, n_freqs)
    mels = torch.linspace(float(hz_to_mel(f_min_hz)), float(hz_to_mel(f_max_hz)), n_mels + 2)
    edges = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)  # [n_mels + 2] Hz
    width = edges[1:] - edges[:-1]
    slopes = edges.unsqueeze(0) - bins.unsqueeze(1)  # [n_freqs, n_mels + 2]
    rising = -slopes[:, :-2] / width[:-1]
    falling = slopes[:, 2:] / width[1:]
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


class _PowerSpectrogram(nn.Module):
    """Waveform ``[..., samples]`` -> power ``[..., N_FFT // 2 + 1, frames]`` (periodic Hann
    window of :data:`N_FFT`, hop :data:`HOP`; centred frames reflect the ends)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT))

    def forward(self, wave: torch.Tensor, center: bool = True) -> torch.Tensor:
        spec = torch.stft(wave, N_FFT, HOP, window=self.window, center=center, pad_mode="reflect",
                          return_complex=True)
        return spec.abs().pow(2)


class _MelScale(nn.Module):
    """Power ``[..., n_freqs, frames]`` -> mel power ``[..., n_mels, frames]``."""

    def __init__(self, n_mels: int):
        super().__init__()
        self.register_buffer("fb", mel_filterbank(N_FFT // 2 + 1, n_mels, F_MIN_HZ,
                                                  SAMPLE_RATE / 2, SAMPLE_RATE))

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        return (power.transpose(-1, -2) @ self.fb).transpose(-1, -2)


class _MelSpectrogram(nn.Module):
    def __init__(self, n_mels: int):
        super().__init__()
        self.spectrogram = _PowerSpectrogram()
        self.mel_scale = _MelScale(n_mels)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.mel_scale(self.spectrogram(wave))


class MelFrontEnd(nn.Module):
    """Waveform ``[batch, samples]`` at :data:`SAMPLE_RATE` -> mel power ``[batch, n_mels, frames]``
    (HTK mel filterbank over the power spectrum). The buffers keep the names checkpoints of
    format ``mixassist-analysis/1`` store them under (``frontend.mel.spectrogram.window``,
    ``frontend.mel.mel_scale.fb``)."""

    def __init__(self, n_mels: int = N_MELS):
        super().__init__()
        self.mel = _MelSpectrogram(n_mels)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.mel(wave)


def normalise_level(mel_power: torch.Tensor) -> torch.Tensor:
    """Level-free log-mel ``[batch, n_mels, frames]``: the power divided by its mean over active
    frames (frames within :data:`ACTIVE_RELATIVE_DB` of the loudest), in dB / 10.

    Scaling the input by any gain leaves the output unchanged (both the threshold and the mean
    scale with it); an all-silent input stays at the floor.
    """
    frame = mel_power.sum(dim=1)  # [B, T]
    peak = frame.amax(dim=1, keepdim=True)
    active = frame >= peak * 10 ** (ACTIVE_RELATIVE_DB / 10)
    mean = (frame * active).sum(dim=1, keepdim=True) / active.sum(dim=1, keepdim=True).clamp(min=1)
    mean = mean / mel_power.shape[1]
    norm = mel_power / mean.clamp(min=1e-20).unsqueeze(-1)
    return torch.log10(norm + FLOOR)


class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = nn.GroupNorm(1, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.max_pool2d(torch.relu(self.norm(self.conv(x))), (2, 1))


class _Temporal(nn.Module):
    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.norm = nn.GroupNorm(1, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.norm(self.conv(x)))


@dataclass
class NetOutput:
    """Raw outputs for a batch: logits ``[B, 11]``/``[B, 5]``, activity logits ``[B, frames]``,
    level mean and log standard deviation ``[B]`` (dB re the mix)."""

    instrument_logits: torch.Tensor
    role_logits: torch.Tensor
    activity_logits: torch.Tensor
    level_db: torch.Tensor
    level_log_std_db: torch.Tensor


class AnalysisNet(nn.Module):
    """Per-stem analysis network (see the module docstring).

    ``forward(stem_mel, rest_mel)`` takes mel *power* spectrograms ``[batch, n_mels, frames]`` of
    the stem and of the rest of the mix (from :class:`MelFrontEnd`, or sums of them).
    """

    samplerate = SAMPLE_RATE
    instruments = INSTRUMENTS
    roles = ROLES
    frame_rate_hz = SAMPLE_RATE / HOP

    def __init__(self, n_mels: int = N_MELS, channels: int = 16, hidden: int = 96,
                 level_offset_db: float = -8.0, dropout: float = 0.3):
        super().__init__()
        if n_mels % 8:
            raise ParameterError(f"AnalysisNet: n_mels={n_mels} must be a multiple of 8")
        self.args = {"n_mels": n_mels, "channels": channels, "hidden": hidden,
                     "level_offset_db": level_offset_db, "dropout": dropout}
        self.level_offset_db = level_offset_db
        #: Softmax temperatures of the class heads, fitted on development songs after training
        #: (:func:`.evaluate.fit_temperatures`) and kept in the checkpoint's header; 1 is raw.
        self.temperature = {"instrument": 1.0, "role": 1.0}
        self.frontend = MelFrontEnd(n_mels)
        self.cnn = nn.Sequential(_Block(2, channels // 2), _Block(channels // 2, channels),
                                 _Block(channels, channels))
        self.proj = nn.Conv1d(channels * n_mels // 8, hidden, 1)
        self.temporal = nn.Sequential(*[_Temporal(hidden, d) for d in (1, 2, 4)])
        self.activity = nn.Conv1d(hidden, 1, 1)
        self.attention = nn.Conv1d(hidden, 1, 1)
        self.dropout = nn.Dropout(dropout)
        self.instrument = nn.Linear(2 * hidden, len(INSTRUMENTS))
        self.role = nn.Linear(2 * hidden, len(ROLES))
        self.level = nn.Linear(2 * hidden, 2)

    def forward(self, stem_mel: torch.Tensor, rest_mel: torch.Tensor) -> NetOutput:
        x = torch.stack([normalise_level(stem_mel), normalise_level(rest_mel)], dim=1)
        x = self.cnn(x)  # [B, C, M/8, T]
        h = self.temporal(torch.relu(self.proj(x.flatten(1, 2))))  # [B, H, T]
        activity = self.activity(h).squeeze(1)
        weights = torch.softmax(self.attention(h).squeeze(1), dim=-1)
        pooled = self.dropout(torch.cat([(h * weights.unsqueeze(1)).sum(-1), h.amax(-1)], dim=1))
        level = self.level(pooled)
        return NetOutput(self.instrument(pooled), self.role(pooled), activity,
                         level[:, 0] + self.level_offset_db, 3.0 * torch.tanh(level[:, 1] / 3.0))


# --- inference on whole stems ------------------------------------------------------------------
@dataclass
class StemPrediction:
    """What the network says about one stem."""

    instrument_probs: dict[str, float]
    role_probs: dict[str, float]
    activity: np.ndarray  # [frames] probabilities at AnalysisNet.frame_rate_hz
    target_level_db: float
    level_std_db: float

    @property
    def instrument(self) -> str:
        return max(self.instrument_probs, key=self.instrument_probs.get)

    @property
    def role(self) -> str:
        return max(self.role_probs, key=self.role_probs.get)


def _mono_stream(signal: Signal):
    """The mono downmix of ``signal`` resampled to :data:`SAMPLE_RATE`, as ``(samples, last)``
    pieces (1-D float32; ``last`` on the final one), read a block at a time."""
    resampler = StreamResampler(signal.sr, SAMPLE_RATE, 1)
    for first, block in signal.blocks(BLOCK):
        last = first + block.shape[1] >= signal.samples
        yield resampler.process(to_channels(block, 1), last=last)[0], last


def signal_mel(model: AnalysisNet, signal: Signal) -> torch.Tensor:
    """Mel power ``[n_mels, frames]`` of ``signal`` (mono, at :data:`SAMPLE_RATE`) computed block
    by block: :class:`MelFrontEnd` of the whole resampled signal up to float rounding.

    The front end's frames are centred (reflected at both ends, as ``torch.stft`` pads); each
    block's frames are computed uncentred on the samples kept since the last frame's hop."""
    mel = model.frontend.mel
    stft, pad = mel.spectrogram, N_FFT // 2
    pending, started, out = np.zeros(0, np.float32), False, []
    for piece, last in _mono_stream(signal):
        pending = np.concatenate([pending, piece])
        if not started:
            if pending.size <= pad and not last:
                continue
            if pending.size <= pad:
                raise ParameterError(f"the network needs more than {pad} samples at "
                                     f"{SAMPLE_RATE} Hz ({pad / SAMPLE_RATE * 1e3:.0f} ms)")
            pending, started = np.concatenate([pending[pad:0:-1], pending]), True
        if last:
            pending = np.concatenate([pending, pending[-2:-pad - 2:-1]])
        frames = 1 + (pending.size - N_FFT) // HOP if pending.size >= N_FFT else 0
        if frames:
            power = stft(torch.from_numpy(pending[:(frames - 1) * HOP + N_FFT]), center=False)
            out.append(mel.mel_scale(power))
            pending = pending[frames * HOP:]
    return torch.cat(out, dim=-1)


def stem_mels(model: AnalysisNet, stems: dict[str, np.ndarray | Signal],
              sr: int) -> dict[str, torch.Tensor]:
    """Mel power ``[n_mels, frames]`` of every stem (an array or a signal at ``sr``; mono,
    resampled to :data:`SAMPLE_RATE`, read block by block: :func:`signal_mel`)."""
    from .measure import stem_signal

    with torch.inference_mode():
        return {name: signal_mel(model, stem_signal(name, audio, sr))
                for name, audio in stems.items()}


def excerpt_frames(frames: int) -> slice | np.ndarray:
    """The frames of a ``frames``-long mel spectrogram the network sees: all of them up to
    :data:`MAX_FRAMES`, else :data:`EXCERPTS` evenly spaced windows of ``MAX_FRAMES //
    EXCERPTS`` frames from the first frame to the last (indices, in order)."""
    if frames <= MAX_FRAMES:
        return slice(None)
    width = MAX_FRAMES // EXCERPTS
    starts = np.rint(np.linspace(0, frames - width, EXCERPTS)).astype(np.int64)
    return (starts[:, None] + np.arange(width)).ravel()


def predict_song_mels(model: AnalysisNet, mel: torch.Tensor) -> NetOutput:
    """Outputs for every stem of one song, each over its whole length, from mel power
    ``[stems, n_mels, frames]``; the rest of each stem is the power sum of the others. The batch
    axis of the result is the stem axis. Runs without gradients; call ``model.eval()`` first."""
    rest = (mel.sum(0, keepdim=True) - mel).clamp(min=0)
    with torch.inference_mode():
        outs = [model(mel[k:k + 1], rest[k:k + 1]) for k in range(len(mel))]
    return NetOutput(*(torch.cat([getattr(o, f.name) for o in outs]) for f in fields(NetOutput)))


def predict_stems(model: AnalysisNet, stems: dict[str, np.ndarray | Signal],
                  sr: int) -> dict[str, StemPrediction]:
    """Run ``model`` on every stem of one song (their sum is the mix; arrays or signals at
    ``sr``), each over its whole length.

    Stems shorter than the longest continue in silence. A song with a single stem gets a silent
    rest (the network then sees no context). A song longer than :data:`MAX_FRAMES` (10 min) is
    seen through :func:`excerpt_frames`: 20 evenly spaced 30 s excerpts joined into one 10-min
    input, so the network normalises the level, attends and max-pools over all of them together
    as it does over a whole short song (the rest over the same frames); ``activity`` then holds
    the excerpts' frames, in order.
    """
    if not stems:
        raise ParameterError("predict_stems: no stems given")
    from .measure import stem_signal

    signals = {name: stem_signal(name, audio, sr) for name, audio in stems.items()}
    mels = stem_mels(model, aligned_signals(signals, sr, channels=1), sr)
    model.eval()
    mel = torch.stack(list(mels.values()))
    r = predict_song_mels(model, mel[..., excerpt_frames(mel.shape[-1])])
    inst = torch.softmax(r.instrument_logits / model.temperature["instrument"], -1)
    role = torch.softmax(r.role_logits / model.temperature["role"], -1)
    return {name: StemPrediction(dict(zip(INSTRUMENTS, inst[k].tolist())), dict(zip(ROLES, role[k].tolist())),
                                 torch.sigmoid(r.activity_logits[k]).numpy(), float(r.level_db[k]),
                                 float(torch.exp(r.level_log_std_db[k])))
            for k, name in enumerate(mels)}


# --- checkpoints -------------------------------------------------------------------------------
def save_model(path: str | os.PathLike, model: AnalysisNet, *, metadata: dict | None = None) -> None:
    """Write ``model`` as safetensors with ``class``/``args``/``metadata`` (JSON) in the header."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    header = {"format": FORMAT, "class": CLASS_NAME, "args": json.dumps(model.args),
              "temperature": json.dumps(model.temperature), "metadata": json.dumps(metadata or {})}
    data = save(state, metadata=header)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def read_metadata(path: str | os.PathLike) -> dict:
    """The ``metadata`` dict stored in a checkpoint (data, hours, training time, metrics)."""
    return json.loads(_header(Path(path)).get("metadata", "{}"))


def _header(path: Path) -> dict:
    from safetensors import safe_open

    if not path.is_file():
        raise ModelError(f"{path}: analysis model file not found; train one with "
                         f"`python -m mixassist.analysis.train`")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
    except Exception as exc:  # safetensors raises several types for a corrupt file
        raise ModelError(f"{path}: not a safetensors file ({exc}); re-save or retrain it") from None
    if header.get("class") != CLASS_NAME:
        raise ModelError(f"{path}: holds {header.get('class')!r}, not an analysis network "
                         f"({CLASS_NAME})")
    return header


def load_model(path: str | os.PathLike) -> AnalysisNet:
    """Build the :class:`AnalysisNet` stored at ``path`` in eval mode; :class:`ModelError` if it
    is not one."""
    from safetensors.torch import load_file

    path = Path(path)
    header = _header(path)
    model = AnalysisNet(**json.loads(header["args"]))
    missing, unexpected = model.load_state_dict(load_file(str(path)), strict=False)
    if missing or unexpected:
        raise ModelError(f"{path}: weights do not match the network (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}); the file is from another version")
    model.temperature.update(json.loads(header.get("temperature", "{}")))
    return model.eval()


def list_models() -> list[dict]:
    """The analysis model rows for ``mixassist models`` (same keys as
    :func:`mixassist.separation.models.list_models`): the shipped network when its file exists."""
    path = models_dir() / ANALYSIS_MODEL
    available = path.is_file()
    return [{"name": path.stem, "kind": "analysis", "source": "bundled",
             "location": str(path) if available else "not installed",
             "available": available, "default": available}]
