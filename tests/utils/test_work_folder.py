"""Work folders: hidden in the output folder, removed afterwards, stale ones cleaned up."""

import os
import subprocess
import sys

import pytest

from mixassist.utils.atomic import WORK_PREFIX, work_folder


def test_work_folder_is_removed_and_a_created_empty_out_dir_too(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with work_folder(out) as work:
            assert work.parent == out and work.name.startswith(f"{WORK_PREFIX}{os.getpid()}-")
            (work / "stem.wav").write_bytes(b"x")
            raise RuntimeError("the job failed")
    assert not out.exists()
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with work_folder(out):
        pass
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_killed_jobs_work_folder_is_removed_by_the_next_job(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)  # that process has ended
    stale = tmp_path / f"{WORK_PREFIX}{pid}-abc"
    live = tmp_path / f"{WORK_PREFIX}{os.getpid()}-other"  # a job of a running process
    for folder in (stale, live):
        folder.mkdir()
        (folder / "drums.wav").write_bytes(b"x")
    with work_folder(tmp_path):
        pass
    assert not stale.exists() and live.exists()
