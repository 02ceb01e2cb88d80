"""The benchmark metrics on cases with known answers (mixassist.evaluation)."""

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from mixassist.evaluation import (equal_loudness_gains, octave_band_levels, restoration_errors,
                                  summarise_errors, tonal_change_db)

SR = 44100


@pytest.fixture(scope="module")
def noise():
    rng = np.random.default_rng(7)
    return (0.1 * rng.standard_normal((2, SR * 6))).astype(np.float32)


def test_a_plan_that_undoes_the_perturbation_scores_zero():
    p = {"drums": 4.0, "bass": -5.5, "other": 1.0, "vocals": -2.0}
    errors = restoration_errors(p, {n: -v + 3.0 for n, v in p.items()})  # plus a common offset
    assert max(errors.values()) == pytest.approx(0.0, abs=1e-12)


def test_no_change_scores_the_perturbations_spread():
    p = {"drums": 4.0, "bass": -4.0, "other": 2.0, "vocals": -2.0}  # mean 0
    errors = restoration_errors(p, dict.fromkeys(p, 0.0))
    assert errors == pytest.approx({"drums": 4.0, "bass": 4.0, "other": 2.0, "vocals": 2.0})
    assert summarise_errors([errors])["mae_db"] == pytest.approx(3.0)


def test_equal_loudness_puts_every_stem_at_one_level_and_scores_the_balance_it_throws_away():
    levels = {"drums": -20.0, "bass": -26.0, "vocals": -17.0}
    gains = equal_loudness_gains(levels)
    assert [levels[n] + g for n, g in gains.items()] == pytest.approx([-21.0] * 3)
    # an unperturbed mix (p = 0) restored to equal loudness is off by the balance itself
    errors = restoration_errors(dict.fromkeys(levels, 0.0), gains)
    assert errors == pytest.approx({"drums": 1.0, "bass": 5.0, "vocals": 4.0})


def test_summary_per_stem_name_over_trials():
    out = summarise_errors([{"drums": 1.0, "bass": 3.0}, {"drums": 2.0}])
    assert out["per_stem"] == pytest.approx({"bass": 3.0, "drums": 1.5})
    assert out["n"] == 3 and out["mae_db"] == pytest.approx(2.0)


def test_identity_and_a_pure_gain_change_have_no_tonal_change(noise):
    assert tonal_change_db(noise, noise, SR) == pytest.approx(0.0, abs=1e-9)
    assert tonal_change_db(noise, noise * np.float32(0.3), SR) == pytest.approx(0.0, abs=0.01)


def test_tonal_change_of_a_low_cut_is_the_bands_it_removed(noise):
    """A steep 500 Hz high-pass removes the 63-250 Hz bands; after loudness matching the change
    is large and shows in the low bands, not the high ones."""
    cut = sosfilt(butter(8, 500, "highpass", fs=SR, output="sos"), noise, axis=1).astype(np.float32)
    diff = octave_band_levels(cut, SR) - octave_band_levels(noise, SR)
    assert diff[:3].max() < -20 and abs(diff[-1]) < 0.5
    assert tonal_change_db(noise, cut, SR) > 10


@pytest.mark.slow
def test_one_master_through_the_assistant(tmp_path):
    """The benchmark's per-song path end to end on 8 s of synthetic music, separated by the DSP
    baseline (a separator that puts audio in several stems, fast, no model)."""
    from mixassist import MixAssistant
    from mixassist.evaluation import ESTIMATES, score_master, summarise_songs
    from mixassist.separation.dsp_baseline import dsp_separate

    t = np.arange(8 * SR) / SR
    kick = np.sin(2 * np.pi * 55 * t) * np.exp(-20 * (t % 0.5))
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220, 277, 330))
    mix = np.stack([0.4 * kick + chord, 0.4 * kick + 0.9 * chord]).astype(np.float32)
    assistant = MixAssistant(device="cpu", cache=tmp_path / "cache")
    assistant.separate = lambda audio, sr, **_: dsp_separate(audio, sr)
    folder_assistant = MixAssistant(device="cpu", cache=False)
    (tmp_path / "work").mkdir()
    row = score_master(mix, SR, work=tmp_path / "work", trials=2, rng=np.random.default_rng(0),
                       assistant=assistant, folder_assistant=folder_assistant)
    assert set(row["energy_share_db"]) == set(row["gains_db"]) == {"drums", "bass", "other", "vocals"}
    assert len(row["perturbations_db"]) == 2 and len(row["perturbations_db"][0]) >= 2
    for p, errors in zip(row["perturbations_db"], row["restoration"]["no_change"]):
        e = np.array(list(p.values()))
        assert errors == pytest.approx(dict(zip(p, np.abs(e - e.mean()))))
    assert row["tonal_change_db"] >= 0
    summary = summarise_songs([row])
    for k in ESTIMATES:
        values = [v for trial in row["restoration"][k] for v in trial.values()]
        assert np.isfinite(values).all()
        assert summary["restoration"][k]["mae_db"] == pytest.approx(np.mean(values))
