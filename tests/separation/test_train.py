"""Separator training (resume, checkpoint format), the DSP baseline, SDR, and full-band
restoration for models running below the input's rate."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from mixassist.errors import ParameterError
from mixassist.separation import resolve_model, separate
from mixassist.separation.dsp_baseline import dsp_separate
from mixassist.separation.evaluate import all_in_other, evaluate
from mixassist.separation.metrics import sdr, song_sdrs
from mixassist.separation.testing import tiny_htdemucs
from mixassist.separation.train import TrainConfig, train
from mixassist.vocab import STEM_GROUPS

SR = 8000


def _synthetic_song(rng: np.random.Generator, seconds: float, sr: int) -> dict[str, np.ndarray]:
    """Stems with known content: noise-burst clicks (drums), a low sine (bass), a chord panned
    left and soft wide noise (other, two stems of one group), a centred vibrato tone (vocals).
    ``(2, samples)`` each."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    clicks = np.zeros(n)
    for start in range(0, n, sr // 2):
        burst = rng.standard_normal(min(400, n - start)) * np.exp(-np.arange(min(400, n - start)) / 60)
        clicks[start:start + len(burst)] = burst
    f0 = rng.uniform(40, 70)
    bass = 0.3 * np.sin(2 * np.pi * f0 * t)
    vocal = 0.2 * np.sin(2 * np.pi * rng.uniform(300, 500) * t + 3 * np.sin(2 * np.pi * 5 * t))
    chord = sum(0.06 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0, 523.3))
    return {"drums": np.stack([clicks, clicks]) * 0.3, "bass": np.stack([bass, bass]),
            "pad": np.stack([chord, 0.3 * chord]), "hiss": 0.01 * rng.standard_normal((2, n)),
            "vocals": np.stack([vocal, vocal])}


GROUP_OF = {"drums": "drums", "bass": "bass", "pad": "other", "hiss": "other", "vocals": "vocals"}


@pytest.fixture(scope="module")
def synthetic_dataset(tmp_path_factory):
    """A 4-song dataset in the ``mixassist data build`` layout (2 train, 1 valid, 1 test), 8 kHz."""
    root = tmp_path_factory.mktemp("sep_dataset")
    rng = np.random.default_rng(0)
    songs = []
    for i, split in enumerate(("train", "train", "valid", "test")):
        folder = root / "songs" / f"{i:05d}"
        (folder / "stems").mkdir(parents=True)
        stems = _synthetic_song(rng, 4.0, SR)
        entries = []
        for name, audio in stems.items():
            sf.write(folder / "stems" / f"{name}.flac", audio.T.astype(np.float32), SR, subtype="PCM_24")
            entries.append({"name": name, "file": f"stems/{name}.flac", "group": GROUP_OF[name]})
        songs.append({"song_id": f"{i:05d}", "split": split, "duration_s": 4.0,
                      "folder": f"songs/{i:05d}", "stems": entries})
    (root / "manifest.json").write_text(json.dumps({"sample_rate": SR, "songs": songs}))
    return root


def _config(root) -> TrainConfig:
    return TrainConfig(data=(str(root),), sample_rate_hz=SR, channels=8, depth=2, t_layers=0, nfft=256,
                       segment_s=1.0, batch_size=2, valid_excerpt_s=2.0, valid_every=2, save_every=1,
                       warmup_steps=2, decay_minutes=1.0, clip_grad=5.0)


def test_config_needs_data():
    with pytest.raises(ParameterError, match="--data"):
        TrainConfig(data=())


def test_train_resume_matches_uninterrupted_run(synthetic_dataset, tmp_path):
    torch.set_num_threads(1)
    config = _config(synthetic_dataset)
    once = train(tmp_path / "once", config, max_steps=3)
    first = train(tmp_path / "split", config, max_steps=2)
    assert first["step"] == 2
    for name in ("config.json", "state.pt", "last.safetensors", "best.safetensors", "train.log"):
        assert (tmp_path / "split" / name).is_file(), name
    resumed = train(tmp_path / "split", None, max_steps=3)  # recipe read back from config.json
    assert resumed["step"] == once["step"] == 3
    assert "resumed from" in (tmp_path / "split" / "train.log").read_text()
    a = torch.load(tmp_path / "once" / "state.pt", weights_only=False)
    b = torch.load(tmp_path / "split" / "state.pt", weights_only=False)
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, msg=key)
    for key, value in a["ema"].items():
        torch.testing.assert_close(b["ema"][key], value, msg=key)
    assert json.loads((tmp_path / "split" / "config.json").read_text())["channels"] == 8


def test_checkpoint_loads_in_demucs_and_resolve_model(synthetic_dataset, tmp_path):
    from demucs.hf import load_safetensors_model
    from safetensors import safe_open

    train(tmp_path / "run", _config(synthetic_dataset), max_steps=1)
    path = tmp_path / "run" / "best.safetensors"
    model = load_safetensors_model(path)
    assert list(model.sources) == list(STEM_GROUPS) and model.samplerate == SR
    loaded = resolve_model(path)
    assert loaded.sources == list(STEM_GROUPS) and loaded.samplerate == SR
    with safe_open(str(path), "pt") as f:
        extra = json.loads(f.metadata()["mixassist"])
    assert extra["step"] == 1 and extra["config"]["channels"] == 8
    # the trained checkpoint runs through the engine at another rate, stems summing to the input
    audio = (0.1 * np.random.default_rng(3).standard_normal((2, 2 * 44100))).astype(np.float32)
    stems = separate(audio, 44100, model=loaded, device="cpu", shifts=0)
    np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-5)


def test_sdr_definition():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((2, 1000))
    assert sdr(ref, ref + 0.1 * ref) == pytest.approx(20.0, abs=1e-6)  # error 20 dB below
    assert sdr(ref, np.zeros_like(ref)) == pytest.approx(0.0, abs=1e-6)
    scores = song_sdrs({"a": ref, "b": np.zeros_like(ref)}, {"a": ref * 0.9, "b": ref})
    assert scores["a"] == pytest.approx(20.0, abs=1e-6) and np.isnan(scores["b"])  # silent: undefined


def test_dsp_baseline_beats_all_in_other():
    sr = 22050
    stems = _synthetic_song(np.random.default_rng(2), 3.0, sr)
    refs = {g: sum(a for n, a in stems.items() if GROUP_OF[n] == g).astype(np.float32) for g in STEM_GROUPS}
    mix = sum(refs.values())
    estimates = dsp_separate(mix, sr)
    np.testing.assert_allclose(sum(estimates.values()), mix, atol=1e-5)
    dsp = song_sdrs(refs, estimates)
    trivial = song_sdrs(refs, all_in_other(mix, sr))
    # every named stem is recovered better than by silence (0 dB), and the average by >= 3 dB
    for stem in ("drums", "bass", "vocals"):
        assert dsp[stem] > trivial[stem] + 1.0, (stem, dsp, trivial)
    assert np.mean(list(dsp.values())) > np.mean(list(trivial.values())) + 3.0, (dsp, trivial)


def test_evaluate_reports_every_stem(synthetic_dataset):
    result = evaluate(all_in_other, [synthetic_dataset], split="test")
    assert list(result["songs"]) == [f"{synthetic_dataset.name}/00003"]
    for stem in ("drums", "bass", "vocals"):
        assert result["stems"][stem]["median"] == pytest.approx(0.0, abs=1e-6)  # silence: 0 dB
    assert result["stems"]["other"]["n"] == 1 and result["stems"]["other"]["median"] < 0


def test_low_rate_model_restores_full_band():
    """A 22.05 kHz model on 44.1 kHz input: content above its Nyquist (here 15 kHz) cannot come
    out of the model, so it must reach ``other`` through the residual, and the stems sum to the
    input."""
    sr = 44100
    rng = np.random.default_rng(4)
    t = np.arange(3 * sr) / sr
    high = 0.2 * np.sin(2 * np.pi * 15000 * t)
    audio = (np.stack([high, high]) + 0.05 * rng.standard_normal((2, len(t)))).astype(np.float32)
    model = tiny_htdemucs(samplerate=22050)
    stems = separate(audio, sr, model=model, device="cpu", shifts=0)
    np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-5)

    def band_energy(x):
        spectrum = np.abs(np.fft.rfft(x, axis=-1)) ** 2
        freqs = np.fft.rfftfreq(x.shape[-1], 1 / sr)
        return spectrum[:, freqs > 12000].sum()

    total = band_energy(audio)
    assert 10 * np.log10(band_energy(stems["other"]) / total) == pytest.approx(0.0, abs=0.5)
    for stem in ("drums", "bass", "vocals"):
        assert 10 * np.log10(band_energy(stems[stem]) / total + 1e-20) < -30, stem


def test_batches_are_exact_mixtures_of_stored_songs(synthetic_dataset):
    from mixassist.separation.train import _Batches

    config = dataclasses.replace(_config(synthetic_dataset), batch_size=6, remix_p=0.0, flip=False,
                                 gain_db=(0.0, 0.0))
    batches = _Batches(config, torch.device("cpu"))
    assert batches.n_songs == 2 and batches.hours == pytest.approx(8.0 / 3600, rel=1e-3)
    mix, sources = batches(5)
    assert mix.shape == (6, 2, SR) and sources.shape == (6, 4, 2, SR)
    torch.testing.assert_close(mix, sources.sum(dim=1))
    stored = batches.audio.float()
    for item in sources:  # coherent: all four groups from one song at one time, unaltered
        drums = item[0, 0]
        hits = [t for t in range(stored.shape[-1] - SR + 1) if torch.equal(stored[0, 0, t:t + SR], drums)]
        assert hits, "drums not found in the stored audio"
        torch.testing.assert_close(item, stored[:, :, hits[0]:hits[0] + SR])
    mix2, _ = batches(5)
    torch.testing.assert_close(mix, mix2)  # a batch is a function of the step
    assert not torch.equal(batches(6)[0], mix)


def test_remixed_batches_mix_songs_and_flip(synthetic_dataset):
    from mixassist.separation.train import _Batches

    config = dataclasses.replace(_config(synthetic_dataset), batch_size=32, remix_p=1.0, gain_db=(-6.0, 3.0))
    mix, sources = _Batches(config, torch.device("cpu"))(0)
    torch.testing.assert_close(mix, sources.sum(dim=1))
    bass = sources[:, 1]
    # the bass group is a centred sine: a sign flip shows as a negative correlation with the
    # unflipped bass of another item; gains stay within the range (peak 0.3 x 10^(3/20))
    assert float(bass.abs().amax()) <= 0.3 * 10 ** (3 / 20) + 1e-3
    signs = torch.sign((bass[:, 0] * bass[0, 0]).sum(dim=-1))
    assert (signs < 0).any() and (signs > 0).any()


def test_pack_keeps_train_and_valid_excerpts(synthetic_dataset, tmp_path):
    from mixassist.separation.pack import PACK_RATE_HZ, pack
    from mixassist.separation.train import group_audio

    manifest = pack([synthetic_dataset], tmp_path / "pack", train_s=3.0, chunks=2, valid_s=2.0,
                    compression=0.5)
    splits = [s["split"] for s in manifest["songs"]]
    assert splits.count("train") == 4 and splits.count("valid") == 1 and "test" not in splits
    assert manifest["sample_rate"] == PACK_RATE_HZ
    song = manifest["songs"][1]  # train song 00000, second excerpt: 1.5 s around 3.0 s
    assert song["duration_s"] == pytest.approx(1.5) and song["source"].endswith("/00000")
    packed = group_audio(tmp_path / "pack", song)
    original = group_audio(synthetic_dataset, {**_source_song(synthetic_dataset, "00000")}, int(2.25 * SR),
                           int(1.5 * SR))
    import soxr
    for group in ("bass", "vocals"):
        ref = soxr.resample(original[group].T, SR, PACK_RATE_HZ).T
        n = min(ref.shape[1], packed[group].shape[1])
        assert sdr(ref[:, :n], packed[group][:, :n]) > 15, group  # Opus-coded, aligned
    config = dataclasses.replace(_config(synthetic_dataset), data=(str(tmp_path / "pack"),))
    assert train(tmp_path / "run", config, max_steps=1)["step"] == 1  # the trainer reads a pack


def _source_song(root, song_id: str) -> dict:
    manifest = json.loads((root / "manifest.json").read_text())
    return next(s for s in manifest["songs"] if s["song_id"] == song_id)


def test_mastered_batches_keep_unmastered_targets(synthetic_dataset):
    """With ``master_p`` = 1 every mixture is mastered (louder and denser at its own peak, so no
    longer the sum of its groups), the groups are the unmastered ones, and a step still draws the
    same batch."""
    from mixassist.separation.train import _Batches

    config = dataclasses.replace(_config(synthetic_dataset), batch_size=4, remix_p=0.0, master_p=1.0)
    batches = _Batches(config, torch.device("cpu"))
    mix, sources = batches(3)
    plain = sources.sum(dim=1)
    _, plain_sources = _Batches(dataclasses.replace(config, master_p=0.0), torch.device("cpu"))(3)
    torch.testing.assert_close(sources, plain_sources)
    assert not torch.allclose(mix, plain, atol=1e-3)
    peak = lambda x: x.abs().amax(dim=(1, 2))  # noqa: E731
    torch.testing.assert_close(peak(mix), peak(plain), rtol=0.05, atol=1e-4)
    rms = lambda x: x.pow(2).mean(dim=(1, 2)).sqrt()  # noqa: E731
    assert bool((rms(mix) > rms(plain)).all())
    torch.testing.assert_close(batches(3)[0], mix)


def test_a_run_can_start_from_a_trained_model(synthetic_dataset, tmp_path):
    """``init`` loads a model's weights into a new run (model and EMA); a file of another
    architecture is refused with a message naming it."""
    train(tmp_path / "first", _config(synthetic_dataset), max_steps=2)
    source = tmp_path / "first" / "best.safetensors"
    config = dataclasses.replace(_config(synthetic_dataset), init=str(source), lr=1e-12, warmup_steps=0)
    train(tmp_path / "second", config, max_steps=1)
    state = torch.load(tmp_path / "second" / "state.pt", weights_only=False)
    initial = resolve_model(source).model.state_dict()
    for key, value in initial.items():
        torch.testing.assert_close(state["ema"][key], value, atol=1e-6, rtol=1e-5, msg=key)
    assert "weights from" in (tmp_path / "second" / "train.log").read_text()
    assert [h["step"] for h in state["meta"]["history"]] == [0, 1]  # the starting model is scored
    wider = dataclasses.replace(config, channels=16)
    with pytest.raises(ParameterError, match="best.safetensors"):
        train(tmp_path / "third", wider, max_steps=1)


def test_validation_only_datasets_are_scored_apart_and_never_trained_on(synthetic_dataset, tmp_path):
    """``valid_data``: its train and valid songs are validation excerpts of their own set (its
    test song is not), no song of it is in the batches, ``sdr`` is the mean over the sets, and
    a dataset cannot be both."""
    import shutil

    from mixassist.separation.train import VALID_SET, _Batches, validate, validation_set

    heldout = tmp_path / "heldout"
    shutil.copytree(synthetic_dataset, heldout)
    config = dataclasses.replace(_config(synthetic_dataset), valid_data=(str(heldout),))
    items = validation_set(config)
    assert [(name, song) for name, song, _ in items] == [
        (VALID_SET, f"{synthetic_dataset.name}/00002"),
        ("heldout", "heldout/00000"), ("heldout", "heldout/00001"), ("heldout", "heldout/00002")]
    assert _Batches(config, torch.device("cpu")).n_songs == 2  # the two train songs of --data
    metrics = validate(tiny_htdemucs(samplerate=SR), items)
    assert set(metrics["sets"]) == {VALID_SET, "heldout"}
    assert metrics["sdr"] == pytest.approx(np.mean(list(metrics["sets"].values())))
    with pytest.raises(ParameterError, match="both trained on"):
        dataclasses.replace(config, valid_data=(str(synthetic_dataset),))
    summary = train(tmp_path / "run", config, max_steps=2)
    assert set(summary["best"]["sets"]) == {VALID_SET, "heldout"}
