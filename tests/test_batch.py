"""``mixassist batch``: every song mixed, a bad file reported, resumable after ``kill -9``."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mixassist.audio import load_audio, save_audio
from mixassist.batch import (clean_staging, finished_summary, find_songs, run_batch,
                             write_summary_csv)
from mixassist.errors import ParameterError
from mixassist.loudness import integrated_loudness
from mixassist.testing import synthetic_stems


SR = 44100
GOOD = ["a", "b", "c"]


def _stem_folder(path: Path, bass_hz: float, seconds: float = 4.0) -> Path:
    """Drums, bass (at ``bass_hz``), keys and a quiet vocal line as stem files."""
    path.mkdir(parents=True)
    for name, audio in synthetic_stems(seconds, SR, bass_hz=bass_hz).items():
        save_audio(path / f"{name}.wav", audio, SR)
    return path


def _songs(root: Path, names=GOOD, *, corrupt: bool = False) -> Path:
    for k, name in enumerate(names):
        _stem_folder(root / name, bass_hz=55.0 * (1 + k / 4))
    if corrupt:  # a WAV header with no audio data: load_audio refuses it
        (root / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    return root


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        return {row["name"]: row for row in csv.DictReader(handle)}


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _leftovers(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.endswith((".part", ".old"))]


# -- discovery and bookkeeping (no worker processes) ---------------------------------------------
def test_find_songs_takes_files_and_stem_folders_in_name_order(tmp_path):
    save_audio(tmp_path / "zeta.flac", np.zeros((2, SR), np.float32), SR)
    save_audio(tmp_path / "alpha" / "vocals.wav", np.zeros((2, SR), np.float32), SR)
    (tmp_path / "notes").mkdir()  # no audio inside: not a song
    (tmp_path / "notes" / "readme.txt").write_text("x")
    (tmp_path / "cover.jpg").write_bytes(b"\xff\xd8")
    save_audio(tmp_path / ".hidden.wav", np.zeros((2, SR), np.float32), SR)
    save_audio(tmp_path / "out" / "mix.wav", np.zeros((2, SR), np.float32), SR)
    songs = find_songs(tmp_path, exclude=[tmp_path / "out"])
    assert [(s.name, s.path.name) for s in songs] == [("alpha", "alpha"), ("zeta", "zeta.flac")]


def test_find_songs_refuses_two_songs_with_one_name(tmp_path):
    save_audio(tmp_path / "song.wav", np.zeros((2, SR), np.float32), SR)
    save_audio(tmp_path / "song" / "bass.wav", np.zeros((2, SR), np.float32), SR)
    with pytest.raises(ParameterError, match="would both write 'song/'"):
        find_songs(tmp_path)
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ParameterError, match="holds no songs"):
        find_songs(tmp_path / "nothing")


def test_staging_leftovers_are_cleaned_and_incomplete_results_not_finished(tmp_path):
    (tmp_path / ".song.x1y2.part" / "stems").mkdir(parents=True)
    (tmp_path / ".song.k3.old").mkdir()
    (tmp_path / ".summary.csv.abc.csv.part").write_text("half")
    (tmp_path / "song").mkdir()
    (tmp_path / "song" / "summary.json").write_text('{"name": "song"')  # cut short
    (tmp_path / ".batch.lock").write_text("")
    assert len(clean_staging(tmp_path)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [".batch.lock", "song"]
    assert finished_summary(tmp_path, "song") is None
    write_summary_csv(tmp_path / "summary.csv", [])
    assert (tmp_path / "summary.csv").read_text().startswith("name,input,status,seconds,")


def test_ray_executor_without_ray_names_the_extra(tmp_path, monkeypatch):
    _stem_folder(tmp_path / "in" / "a", 55.0, seconds=1.0)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ParameterError, match=r"mixassist\[ray\]"):
        run_batch(tmp_path / "in", tmp_path / "out", executor="ray")


# -- whole runs (worker processes) ---------------------------------------------------------------
def test_batch_mixes_every_song_and_reports_a_corrupt_file(tmp_path, cli):
    songs, out = _songs(tmp_path / "in", corrupt=True), tmp_path / "out"
    code, _, err = cli(["batch", songs, "-o", out, "--jobs", "2", "--target", "apple"])
    assert code == 1
    assert "1 failed" in err and "broken: error:" in err
    rows = _rows(out)
    assert list(rows) == ["a", "b", "broken", "c"]  # name order, whatever order they finished in
    assert rows["broken"]["status"] == "error"
    assert "broken.wav" in rows["broken"]["message"] and "\n" not in rows["broken"]["message"]
    for name in GOOD:
        row = rows[name]
        assert row["status"] == "ok" and row["target"] == "apple"
        mix, sr = load_audio(out / name / "mix.wav")
        # apple: -16 LUFS; the CSV holds what was measured on the written file
        assert integrated_loudness(mix, sr) == pytest.approx(-16.0, abs=0.5)
        assert float(row["output_lufs"]) == pytest.approx(integrated_loudness(mix, sr), abs=0.05)
        assert float(row["output_true_peak_dbtp"]) <= -1.0 + 0.05
        assert {"mix.wav", "stems", "analysis.json", "plan.json", "report.html",
                "summary.json"} <= {p.name for p in (out / name).iterdir()}
    assert not (out / "broken").exists() and not _leftovers(out)


def test_rerun_skips_finished_songs_and_processes_only_the_missing(tmp_path, cli):
    songs, out = _songs(tmp_path / "in", names=["a", "b"]), tmp_path / "out"
    assert cli(["batch", songs, "-o", out])[0] == 0
    before = {name: _mtimes(out / name) for name in ["a", "b"]}
    _stem_folder(songs / "c", bass_hz=82.5)  # a new song arrives
    code, _, err = cli(["batch", songs, "-o", out])
    assert code == 0 and "1 mixed, 2 skipped" in err
    rows = _rows(out)
    assert [rows[n]["status"] for n in ["a", "b", "c"]] == ["skipped", "skipped", "ok"]
    assert rows["a"]["output_lufs"] != ""  # a skipped song keeps its figures
    assert {name: _mtimes(out / name) for name in ["a", "b"]} == before
    assert (out / "c" / "summary.json").is_file()


_CRASHING_BATCH = textwrap.dedent("""\
    import os, signal, sys, time
    from pathlib import Path

    import mixassist.report

    _write_report = mixassist.report.write_report


    def write_report(path, result, **kwargs):
        # in the worker, half-way through writing song "b": the batch is killed like `kill -9`
        if result.name == "b":
            Path(os.environ["WORKER_PID_FILE"]).write_text(str(os.getpid()))
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(30)
        return _write_report(path, result, **kwargs)


    mixassist.report.write_report = write_report  # runs in the spawned workers too

    if __name__ == "__main__":
        import mixassist.cli.batch
        from mixassist.cli import main

        main(sys.argv[1:])
    """)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie nobody reaped is dead too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and SIGKILL")
def test_rerun_after_kill_9_completes_every_song_exactly_once(tmp_path, cli):
    songs, out = _songs(tmp_path / "in"), tmp_path / "out"
    script, pid_file = tmp_path / "crashing_batch.py", tmp_path / "worker.pid"
    script.write_text(_CRASHING_BATCH)
    env = {**os.environ, "WORKER_PID_FILE": str(pid_file)}
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:  # a file, not a pipe: an orphan would hold a pipe open
        run = subprocess.run([sys.executable, script, "batch", songs, "-o", out], env=env,
                             stdout=subprocess.DEVNULL, stderr=stderr, timeout=120)
    assert run.returncode == -signal.SIGKILL, log.read_text()
    assert finished_summary(out, "a") is not None  # a finished before the kill
    assert not (out / "b").exists() and [p for p in _leftovers(out) if p.startswith(".b.")]
    assert not (out / "c").exists()
    # the orphaned worker dies with the batch, so it cannot race the rerun on song "b"
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not _gone(worker):
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived the killed batch")
    a_before = _mtimes(out / "a")

    code, _, err = cli(["batch", songs, "-o", out])
    assert code == 0, err
    rows = _rows(out)
    assert [rows[n]["status"] for n in GOOD] == ["skipped", "ok", "ok"]
    assert _mtimes(out / "a") == a_before
    assert not _leftovers(out)
    for name in GOOD:
        assert finished_summary(out, name) is not None


@pytest.mark.slow
def test_ray_executor_gives_the_same_mix_as_local(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'mixassist[ray]')")
    songs = _songs(tmp_path / "in", names=["a", "b"], corrupt=True)
    local = run_batch(songs, tmp_path / "local", jobs=2, target="spotify")
    remote = run_batch(songs, tmp_path / "ray", jobs=2, executor="ray", target="spotify")
    assert [r["status"] for r in remote.rows] == [r["status"] for r in local.rows] \
        == ["ok", "ok", "error"]
    assert remote.rows[2]["message"] == local.rows[2]["message"]
    for name in ["a", "b"]:
        x, _ = load_audio(tmp_path / "local" / name / "mix.wav")
        y, _ = load_audio(tmp_path / "ray" / name / "mix.wav")
        assert x.shape == y.shape
        assert 20 * np.log10(np.max(np.abs(x - y)) + 1e-12) < -90.0
