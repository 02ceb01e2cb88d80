"""The analysis network: shapes, gain invariance of the level head, checkpoints, a 2-step
resumable training run on a tiny synthetic dataset and training/evaluation on two datasets
(never the shipped weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from mixassist.analysis.evaluate import evaluate_network
from mixassist.analysis.network import (N_FFT, SAMPLE_RATE, AnalysisNet, MelFrontEnd, hz_to_mel,
                                        load_model, mel_filterbank, normalise_level, predict_stems,
                                        read_metadata, save_model)
from mixassist.analysis.train import (PerturbedStems, cache_mels, known_label_ce, load_cache,
                                      loss_terms, random_eq, train, validate, write_cached_song)
from mixassist.errors import ModelError, ParameterError
from mixassist.vocab import INSTRUMENTS, ROLES

SR = SAMPLE_RATE


def tiny_model() -> AnalysisNet:
    torch.manual_seed(0)
    return AnalysisNet(channels=8, hidden=16).eval()


def song(seconds: float = 3.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Three synthetic stems: a clicky noise 'drum', a 55 Hz 'bass' sine, a 440 Hz 'keys' chord."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    drums = 0.3 * rng.standard_normal(t.size) * np.exp(-30 * (t % 0.5))
    bass = 0.2 * np.sin(2 * np.pi * 55 * t)
    keys = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (440, 550, 660))
    return {n: np.stack([x, x]).astype(np.float32) for n, x in
            (("drums", drums), ("bass", bass), ("keys", keys))}


def test_mel_filterbank_has_htk_centres_and_unit_peaks():
    assert hz_to_mel(700.0) == pytest.approx(2595 * np.log10(2))
    fb = mel_filterbank(513, 8, 30.0, 11025.0, 22050).numpy()  # 21.5 Hz bins
    assert fb.shape == (513, 8) and fb.min() >= 0
    bins = np.linspace(0, 11025, 513)
    mels = np.linspace(hz_to_mel(30.0), hz_to_mel(11025.0), 10)
    centres = 700 * (10 ** (mels[1:-1] / 2595) - 1)
    # Each filter peaks at the bin nearest its centre, with the triangle's height there.
    for k, c in enumerate(centres):
        peak = int(np.argmax(fb[:, k]))
        assert abs(bins[peak] - c) <= 11025 / 512
        assert fb[peak, k] > 1 - 11025 / 512 / min(c - ([30.0] + list(centres))[k], 1e9)
    # Neighbouring triangles cross, so between the first and last centre the bank sums to 1.
    inside = (bins > centres[0]) & (bins < centres[-1])
    np.testing.assert_allclose(fb[inside].sum(axis=1), 1.0, atol=1e-5)


def test_front_end_is_the_mel_of_each_centred_frames_power_spectrum():
    wave = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    mel = MelFrontEnd(64)(torch.from_numpy(wave)[None])[0].numpy()
    assert mel.shape == (64, 1 + SR // 441)
    fb = mel_filterbank(N_FFT // 2 + 1, 64, 30.0, SR / 2, SR).numpy()
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    for frame in (2, 25, 40):
        start = frame * 441 - N_FFT // 2
        power = np.abs(np.fft.rfft(window * wave[start:start + N_FFT])) ** 2
        np.testing.assert_allclose(mel[:, frame], power @ fb, rtol=1e-3)


def test_front_end_matches_torchaudio_where_installed():
    torchaudio = pytest.importorskip("torchaudio")
    ref = torchaudio.transforms.MelSpectrogram(sample_rate=SR, n_fft=N_FFT, hop_length=441,
                                               n_mels=64, f_min=30.0, f_max=SR / 2, power=2.0)
    wave = torch.randn(2, SR)
    torch.testing.assert_close(MelFrontEnd(64)(wave), ref(wave))


def test_output_shapes():
    model = tiny_model()
    stem, rest = torch.rand(2, 64, 40), torch.rand(2, 64, 40)
    out = model(stem, rest)
    assert out.instrument_logits.shape == (2, len(INSTRUMENTS))
    assert out.role_logits.shape == (2, len(ROLES))
    assert out.activity_logits.shape == (2, 40)
    assert out.level_db.shape == out.level_log_std_db.shape == (2,)


def test_predictions_are_distributions_and_activity_has_frame_rate():
    pred = predict_stems(tiny_model(), song(), SR)
    assert set(pred) == {"drums", "bass", "keys"}
    for p in pred.values():
        assert sum(p.instrument_probs.values()) == pytest.approx(1.0, abs=1e-5)
        assert sum(p.role_probs.values()) == pytest.approx(1.0, abs=1e-5)
        assert abs(p.activity.size - 3.0 * AnalysisNet.frame_rate_hz) <= 2
        assert p.level_std_db > 0


def test_normalise_level_removes_gain_but_keeps_shape():
    mel = torch.rand(1, 64, 30) + 0.01
    a, b = normalise_level(mel), normalise_level(mel * 10 ** (12 / 10))
    assert torch.allclose(a, b, atol=1e-4)
    assert not torch.allclose(a, normalise_level(mel.flip(1)), atol=1e-2)  # the spectrum still counts


@pytest.mark.parametrize("stem", ["drums", "keys"])
def test_level_head_is_gain_invariant(stem):
    """One stem at -12, 0 and +12 dB: its target_level_db moves by < 0.5 dB (the issue's bound)."""
    model, stems = tiny_model(), song()
    targets = []
    for gain_db in (-12.0, 0.0, 12.0):
        scaled = dict(stems, **{stem: stems[stem] * np.float32(10 ** (gain_db / 20))})
        targets.append(predict_stems(model, scaled, SR)[stem].target_level_db)
    assert max(targets) - min(targets) < 0.5


def test_checkpoint_round_trip(tmp_path):
    model = tiny_model()
    path = tmp_path / "m.safetensors"
    save_model(path, model, metadata={"hours": 0.01, "metrics": {"instrument_acc": 0.5}})
    loaded = load_model(path)
    assert loaded.args == model.args
    assert read_metadata(path)["metrics"]["instrument_acc"] == 0.5
    stem, rest = torch.rand(1, 64, 20), torch.rand(1, 64, 20)
    with torch.inference_mode():
        a, b = model(stem, rest), loaded(stem, rest)
    assert torch.equal(a.instrument_logits, b.instrument_logits)
    assert torch.equal(a.level_db, b.level_db)


def test_load_rejects_other_files(tmp_path):
    from safetensors.torch import save_file
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other), metadata={"class": "demucs.htdemucs.HTDemucs"})
    with pytest.raises(ModelError, match="not an analysis network"):
        load_model(other)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "missing.safetensors")


def test_random_eq_stays_in_range():
    rng = np.random.default_rng(0)
    for _ in range(20):
        db = 10 * np.log10(random_eq(rng, 64))
        assert np.all(np.abs(db) <= 2 * 6.0 + 3.0 + 1e-6)


# --- tiny synthetic dataset --------------------------------------------------------------------
def write_dataset(root, splits=("train", "valid"), seed=0):
    """3 s songs (one per split, in order) of three stems in the generator's manifest layout."""
    songs = []
    for i, split in enumerate(splits):
        folder = root / "songs" / f"{i:05d}"
        (folder / "stems").mkdir(parents=True)
        stems = song(seed=seed + i)
        entries = []
        for name, audio in stems.items():
            sf.write(folder / "stems" / f"{name}.flac", audio.T, SR, subtype="PCM_24")
            instrument = {"drums": "drums", "bass": "bass", "keys": "keys"}[name]
            role = {"drums": "rhythm", "bass": "low_end", "keys": "harmony"}[name]
            entries.append({"name": name, "file": f"stems/{name}.flac", "instrument": instrument,
                            "role": role, "group": "other", "level_db": -5.0})
        (folder / "song.json").write_text(json.dumps(
            {"stems": [{"name": n, "activity": [{"start_s": 0.0, "end_s": 3.0}]} for n in stems]}))
        songs.append({"song_id": f"{i:05d}", "split": split, "duration_s": 3.0,
                      "folder": f"songs/{i:05d}", "annotations": f"songs/{i:05d}/song.json",
                      "mixture": f"songs/{i:05d}/mixture.flac", "stems": entries})
    (root / "manifest.json").write_text(json.dumps({"sample_rate": SR, "hours": 3 * len(songs) / 3600,
                                                    "seed": seed, "songs": songs}))
    return root


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """Two 3 s songs (train, valid)."""
    return write_dataset(tmp_path_factory.mktemp("analysis_ds"))


def test_unperturbed_rest_is_the_sum_of_the_other_stems(tiny_dataset, tmp_path):
    cache = cache_mels(tiny_dataset, tmp_path / "cache")
    songs = load_cache(cache, "train")
    mel = 10.0 ** songs[0]["log_mel"].astype(np.float32)
    data = PerturbedStems(songs, segment_frames=mel.shape[-1], perturb=False)  # whole song: start 0
    ex = data.example(np.random.default_rng(0), 0, 1)
    np.testing.assert_array_equal(ex["stem"], mel[1])
    np.testing.assert_allclose(ex["rest"], mel[0] + mel[2], rtol=1e-6)
    assert ex["instrument"] == INSTRUMENTS.index("bass") and ex["level_db"] == -5.0


def test_batches_hold_whole_songs_and_the_level_loss_ignores_each_songs_offset(tiny_dataset, tmp_path):
    """Every stem of each drawn song is in the batch; shifting one song's reference levels together
    leaves the relative level loss unchanged and moves only the song-offset term."""
    songs = load_cache(cache_mels(tiny_dataset, tmp_path / "cache"), None)
    batch = PerturbedStems(songs, segment_frames=50, batch_size=5).batch(np.random.default_rng(0))
    assert torch.bincount(batch["song"]).tolist() == [3, 3]
    model = tiny_model()
    shifted = dict(batch, level_db=batch["level_db"] + 6.0 * (batch["song"] == 0))
    with torch.no_grad():
        a, b = loss_terms(model, batch), loss_terms(model, shifted)
    assert torch.allclose(a["level"], b["level"]) and torch.allclose(a["level_nll"], b["level_nll"])
    assert not torch.allclose(a["level_offset"], b["level_offset"])


def test_two_step_training_resumes(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    args = dict(batch_size=4, segment_frames=50, checkpoint_every=1, validate_every=2,
                model_args={"channels": 8, "hidden": 16}, cache=tmp_path / "cache")
    first = train(tiny_dataset, out, steps=2, **args)
    assert first["step"] == 2
    assert (out / "state.pt").is_file() and (out / "best.safetensors").is_file()
    meta = read_metadata(out / "best.safetensors")
    assert meta["step"] == 2 and 0.0 <= meta["valid_metrics"]["instrument_acc"] <= 1.0
    second = train(tiny_dataset, out, steps=3, **args)
    assert second["step"] == 3
    assert "resumed at step 2" in (out / "train.log").read_text()
    assert load_model(out / "best.safetensors").args["hidden"] == 16


def test_several_datasets_keep_their_splits(tiny_dataset, tmp_path):
    """Two datasets (train+valid, and train+valid+test with other audio): the training songs are
    the union of both train splits, nothing crosses splits, and the metadata names both."""
    second = write_dataset(tmp_path / "ds2", splits=("train", "valid", "test"), seed=5)
    caches = [tmp_path / "c1", tmp_path / "c2"]
    for data, cache in zip((tiny_dataset, second), caches):
        cache_mels(data, cache)
    for split, n in (("train", 2), ("valid", 2), ("test", 1)):
        songs = load_cache(caches, split)
        assert len(songs) == n and {str(s["split"]) for s in songs} == {split}
    assert [s["cache"] for s in load_cache(caches, "test")] == [str(caches[1])]
    report = evaluate_network(tiny_model(), caches, "valid", trials=2)
    assert report["songs"] == ["c1/00001", "c2/00001"] and report["stems"] == 6
    truth = np.concatenate([s["instrument"] for s in load_cache(caches, "valid")])
    assert report["level_stems"] == {INSTRUMENTS[i]: int(n) for i, n in zip(*np.unique(truth, return_counts=True))}
    assert set(report["levels"]["network"]["per_instrument"]) == set(report["level_stems"])
    out = tmp_path / "run"
    train([tiny_dataset, second], out, steps=1, batch_size=4, segment_frames=50, validate_every=1,
          model_args={"channels": 8, "hidden": 16}, cache=caches)
    meta = read_metadata(out / "best.safetensors")
    assert meta["data"] == [str(tiny_dataset), str(second)]
    assert (meta["train_songs"], meta["valid_songs"]) == (2, {"valid": 2})
    assert meta["data_hours"] == pytest.approx(15 / 3600)


def test_one_cache_per_dataset(tiny_dataset, tmp_path):
    with pytest.raises(ParameterError, match="one cache folder per dataset"):
        train([tiny_dataset, tiny_dataset], tmp_path / "run", steps=1, cache=[tmp_path / "c"])


def test_unknown_labels_leave_the_loss_and_the_accuracy():
    logits = torch.randn(4, len(INSTRUMENTS))
    labels = torch.tensor([0, -1, 2, -1])
    known = torch.nn.functional.cross_entropy(logits[[0, 2]], labels[[0, 2]])
    assert torch.isclose(known_label_ce(logits, labels), known)
    assert known_label_ce(logits, torch.full((4,), -1)).item() == 0.0


def test_separated_songs_train_and_dev_sets_validate(tiny_dataset, tmp_path):
    """Songs cached without a dataset (unknown labels as None, measured activity) join the
    training songs; a dev cache is validated on its own and reported by name."""
    extra, dev = tmp_path / "extra", tmp_path / "dev"
    for folder, split in ((extra, "train"), (dev, "valid")):
        folder.mkdir()
        stems = song(seed=7)
        write_cached_song(folder / "s.npz", tiny_model(), stems, SR,
                          [("drums", "rhythm", -6.0), ("bass", "low_end", -8.0), (None, None, -3.0)],
                          split=split, song_id="s")
    cached = load_cache(extra, "train")[0]
    assert list(cached["instrument"]) == [0, INSTRUMENTS.index("bass"), -1]
    assert list(cached["role"]) == [0, ROLES.index("low_end"), -1]
    assert cached["activity"].mean() > 0.9  # steady synthetic stems play throughout
    metrics = validate(tiny_model(), load_cache(dev, None))
    assert 0.0 <= metrics["instrument_acc"] <= 1.0 and np.isfinite(metrics["level_mae_db"])
    out = tmp_path / "run"
    train(tiny_dataset, out, steps=1, batch_size=4, segment_frames=50, validate_every=1,
          model_args={"channels": 8, "hidden": 16}, cache=tmp_path / "cache",
          extra_train=[extra], dev={"real": dev})
    meta = read_metadata(out / "best.safetensors")
    assert meta["train_songs"] == 2 and meta["valid_songs"] == {"valid": 1, "real": 1}
    history = json.loads((out / "history.jsonl").read_text().splitlines()[-1])
    assert set(history["dev"]) == {"real"} and "score" in history


def test_temperature_is_saved_and_applied(tmp_path):
    """A checkpoint's temperatures come back on load and soften ``predict_stems``' probabilities
    as softmax(logits / T) does; the top class never changes."""
    model = tiny_model()
    raw = predict_stems(model, song(), SR)
    model.temperature = {"instrument": 4.0, "role": 0.5}
    save_model(tmp_path / "m.safetensors", model)
    loaded = load_model(tmp_path / "m.safetensors")
    assert loaded.temperature == {"instrument": 4.0, "role": 0.5}
    scaled = predict_stems(loaded, song(), SR)
    for name in raw:
        logp = np.log([raw[name].instrument_probs[i] for i in INSTRUMENTS])
        expected = np.exp(logp / 4.0) / np.exp(logp / 4.0).sum()
        assert np.allclose([scaled[name].instrument_probs[i] for i in INSTRUMENTS], expected, atol=1e-5)
        assert scaled[name].instrument == raw[name].instrument and scaled[name].role == raw[name].role
        assert max(scaled[name].role_probs.values()) >= max(raw[name].role_probs.values())
