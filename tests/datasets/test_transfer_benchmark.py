"""benchmarks/transfer.py end to end on the session's tiny dataset (a fixture run, not figures)."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def transfer(load_script):
    return load_script("benchmarks/transfer.py")


@pytest.mark.slow
def test_every_figure_of_a_dataset_and_the_table(transfer, tiny_dataset, capsys):
    from mixassist.analysis.analyze import DEFAULT_MODEL
    from mixassist.analysis.network import load_model

    r = transfer.figures(tiny_dataset, model=load_model(DEFAULT_MODEL), excerpt_s=5.0, trials=1)
    assert set(r["sources"]) <= {"FluidR3_GM", "TimGM6mb", "AVL_BlackPearl", "AVL_RedZeppelin",
                                 "pysinsy:nitech_jp_song070_f001"}
    assert sum(r["sources"].values()) == r["analysis"]["stems"]
    assert 0.0 <= r["analysis"]["network"]["instrument"]["accuracy"] <= 1.0
    assert r["analysis"]["levels"]["no_change"]["mae_db"] > 0
    assert np.isfinite(r["separation"]["model"]["mean_sdr"]) and np.isfinite(r["separation"]["dsp"]["mean_sdr"])
    assert 0.0 <= r["structure"]["tempo_acc1"] <= r["structure"]["tempo_acc2"] <= 1.0
    restoration = r["plan_restoration"]
    assert restoration["no_change"]["n"] == restoration["plan"]["n"] > 0
    transfer.print_report({"tiny": r, "tiny again": r})
    out = capsys.readouterr().out
    assert "instrument accuracy" in out and "plan restoration" in out
