"""Training examples of real balance: separated excerpts of the real corpus' finished masters.

A finished master is a producer's balance. Each song of one split of the real-music corpus
(``mixassist data real``) is cut to an ``--excerpt-s`` excerpt (from 25 % of the song), separated
with the offline separator (the stems sum to the master, so their levels re the mix are the
producer's balance as this separator hears it, which is what the plan sees on real songs) and
written as an analysis-network training cache (:func:`mixassist.analysis.train.write_cached_song`):
``drums``, ``bass`` and ``vocals`` labelled as those instruments (roles rhythm, low_end, melody),
``other`` with no instrument or role (it holds everything else; so does a ``vocals`` stem far under
the mix, :data:`VOCALS_MIN_LU`), activity measured on each stem,
and stems that are separation leakage (:func:`mixassist.analysis.activity.is_leakage`, e.g. the
``vocals`` of an instrumental) left out. Songs already cached are skipped, so a rerun resumes.

    .venv/bin/python scripts/cache_separated_real.py --corpus /work/real --split train \\
        --cache /work/real_sep/train [--excerpt-s 90] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from mixassist import load_audio
from mixassist.analysis.activity import activity_mask, is_leakage
from mixassist.analysis.network import AnalysisNet
from mixassist.analysis.train import write_cached_song
from mixassist.datasets.real import corpus_songs
from mixassist.errors import MixAssistError, ParameterError
from mixassist.loudness import integrated_loudness
from mixassist.separation import Separator

#: Labels of the separator's stems: (instrument, role); None is unknown (left out of the loss).
LABELS = {"drums": ("drums", "rhythm"), "bass": ("bass", "low_end"), "vocals": ("vocals", "melody"),
          "other": (None, None)}
#: A ``vocals`` stem further than this under the mix (LU) is not labelled vocals: in the corpus'
#: instrumentals the separator puts synth leads and leakage there at -20 to -25 LU, while sung
#: parts sit within about 10 LU of the mix. Its level still trains the level head.
VOCALS_MIN_LU = -15.0


def excerpt(audio: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    """``seconds`` of ``audio`` ``(channels, samples)`` from 25 % of it (all of it when shorter)."""
    n = int(seconds * sr)
    start = max(0, min(int(0.25 * audio.shape[1]), audio.shape[1] - n))
    return np.ascontiguousarray(audio[:, start:start + n])


def frame_power(audio: np.ndarray, hop: int) -> np.ndarray:
    """Mean power per ``hop``-sample frame [shape=(frames,)] of ``(channels, samples)`` audio."""
    frames = audio.shape[1] // hop
    return np.mean(audio[:, :frames * hop].reshape(audio.shape[0], frames, hop) ** 2, axis=(0, 2))


def song_stems(separator: Separator, audio: np.ndarray, sr: int) -> dict[str, tuple]:
    """The separated stems worth training on: ``{name: (audio, instrument, role, level_db)}``,
    levels in LU re the excerpt's integrated loudness, leakage stems left out."""
    stems = separator.separate(audio, sr)
    mix_lufs = integrated_loudness(audio, sr)
    hop = sr // 50
    mix_power = frame_power(audio, hop)
    kept = {}
    for name, stem in stems.items():
        power = frame_power(stem, hop)
        active = activity_mask(power, hop / sr)
        level = integrated_loudness(stem, sr) - mix_lufs
        if not np.any(active) or not np.isfinite(level) or is_leakage(power, mix_power, active):
            continue
        labels = LABELS[name] if name != "vocals" or level > VOCALS_MIN_LU else (None, None)
        kept[name] = (stem, *labels, float(level))
    return kept


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="folder of `mixassist data real`")
    p.add_argument("--split", default="train", choices=("train", "dev", "test"))
    p.add_argument("--cache", type=Path, required=True, help="cache folder (created; resumed)")
    p.add_argument("--excerpt-s", type=float, default=90.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default=None,
                   help="separator (name or path; default: the resolved default)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    try:
        songs = corpus_songs(a.corpus, a.split)
    except ParameterError as exc:
        raise SystemExit(str(exc)) from None
    a.cache.mkdir(parents=True, exist_ok=True)
    separator, model = Separator(a.model, device="cpu"), AnalysisNet()
    started, seconds = time.monotonic(), 0.0
    for i, song in enumerate(songs, 1):
        out = a.cache / (song["song_id"].replace("/", "__") + ".npz")
        if out.is_file():
            continue
        try:
            audio, sr = load_audio(a.corpus / song["file"])
        except MixAssistError as exc:  # e.g. a file whose stated length is longer than its data
            print(f"{song['song_id']}: skipped: {exc}", flush=True)
            continue
        audio = excerpt(audio, sr, a.excerpt_s)
        stems = song_stems(separator, audio, sr)
        if len(stems) < 2:
            print(f"{song['song_id']}: fewer than two stems that play; skipped", flush=True)
            continue
        # The training split is the cache's role here: "train" songs train, the others validate.
        write_cached_song(out, model, {n: v[0] for n, v in stems.items()}, sr,
                          [v[1:] for v in stems.values()],
                          split="train" if a.split == "train" else "valid", song_id=song["song_id"])
        seconds += audio.shape[1] / sr
        elapsed = time.monotonic() - started
        print(f"[{i}/{len(songs)}] {song['song_id']}: {', '.join(stems)}; "
              f"{seconds / elapsed:.1f}x real time", flush=True)


if __name__ == "__main__":
    main()
