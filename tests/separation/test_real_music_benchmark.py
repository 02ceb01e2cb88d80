"""benchmarks/separation_real_music.py on a tiny corpus and a tiny seeded model (not figures)."""

import json

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("benchmarks/separation_real_music.py")


def test_corpus_songs_excerpts_shares_and_flags(bench, tmp_path):
    from mixassist.separation import Separator
    from mixassist.separation.testing import tiny_htdemucs

    sr = 44100
    rng = np.random.default_rng(0)
    songs = []
    for i, split in enumerate(("test", "dev", "test")):
        (tmp_path / "audio").mkdir(exist_ok=True)
        sf.write(tmp_path / "audio" / f"s{i}.flac", 0.1 * rng.standard_normal((3 * sr, 2)), sr)
        songs.append({"song_id": f"pkg/s{i}", "package": "pkg", "split": split, "file": f"audio/s{i}.flac"})
    (tmp_path / "manifest.json").write_text(json.dumps({"songs": songs}))

    separator = Separator(tiny_htdemucs(), device="cpu", shifts=0)
    x, _ = sf.read(tmp_path / "audio" / "s0.flac", dtype="float32", always_2d=True)
    row = bench.measure(separator, x.T[:, :sr], sr, "s0")
    assert row["sum_error_dbfs"] < -90
    # shares are of the input's energy; the stems of a random model are not orthogonal, so they
    # need not add to 100 %, but each is a non-negative percentage
    assert set(row["share_pct"]) == set(separator.stem_names)
    assert all(v >= 0 for v in row["share_pct"].values())

    rows = {"a": {"sum_error_dbfs": -120.0, "share_pct": {"drums": 1.0, "vocals": 9.0}, "x_realtime": 2.0},
            "b": {"sum_error_dbfs": -95.0, "share_pct": {"drums": 6.0, "vocals": 2.0}, "x_realtime": 4.0}}
    s = bench.summary(rows, 5.0)
    assert s["worst_sum_error_dbfs"] == -95.0
    assert s["flagged"] == {"drums": ["b"], "vocals": ["a"]}
    assert s["median_share_pct"] == {"drums": 3.5, "vocals": 5.5} and s["median_x_realtime"] == 3.0
