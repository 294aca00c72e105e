"""A fanned-out run tells a worker that is still preparing a file from one that died: the
worker's heartbeat file changes every few seconds while it works. A worker never writes
into a run that has ended."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from liver_audit.errors import StageFailed
from liver_audit.fan_out import (
    Liveness,
    beating,
    file_folder,
    prepare_to_folder,
    scratch_warehouse,
)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_worker_is_alive_while_its_heartbeat_changes(tmp_path):
    heartbeat, clock = tmp_path / "heartbeat", Clock()
    liveness = Liveness(heartbeat, timeout=300, clock=clock)
    heartbeat.write_text("1")
    assert liveness.alive()
    clock.now = 290
    heartbeat.write_text("29")
    assert liveness.alive()
    clock.now = 580  # 290 s since the last change
    assert liveness.alive()
    clock.now = 591  # 301 s since the last change: the worker stopped
    assert not liveness.alive()


def test_a_worker_that_never_beats_is_given_the_timeout_from_when_the_run_looked(tmp_path):
    clock = Clock()
    liveness = Liveness(tmp_path / "heartbeat", timeout=300, clock=clock)
    clock.now = 1000
    assert liveness.alive()  # the first look starts the count
    clock.now = 1300
    assert liveness.alive()
    clock.now = 1301
    assert not liveness.alive()


def test_beating_writes_the_worker_and_a_new_count_until_the_block_ends(tmp_path, monkeypatch):
    monkeypatch.setattr("liver_audit.fan_out.HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setenv("LIVER_AUDIT_WORKER", "worker-x")
    heartbeat = tmp_path / "heartbeat"
    with beating(heartbeat):
        time.sleep(0.3)
        worker, during = heartbeat.read_text().split()
    after = heartbeat.read_text()
    time.sleep(0.2)
    assert worker == "worker-x" and int(during) >= 3
    assert heartbeat.read_text() == after  # stopped with the block


def test_a_worker_that_takes_a_file_after_its_run_ended_writes_nothing(tmp_path):
    """The run deletes its work folder at its end (clear_up); a worker that starts on one of
    its files late, or that was taken for dead, must not make it again."""
    folder = file_folder(tmp_path / "work", "20261129T020000Z-abcdef", file_id=3)
    extract = tmp_path / "extract.txt"
    extract.write_text("EPIKEY|PROCODE3\n1|RXA\n")
    with pytest.raises(StageFailed, match="extract.txt: its run's work folder is gone"):
        prepare_to_folder(extract, "episode_extract", 3, folder, synonyms=[])
    assert list(tmp_path.iterdir()) == [extract]


def test_a_scratch_warehouse_a_killed_worker_left_goes_with_the_next_file(tmp_path, monkeypatch):
    """Only this machine's, of processes that have ended: not a live one's, nor one of a
    machine whose name starts with this one's."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    host, pid = socket.gethostname(), int(ended.stdout)
    left = tmp_path / f"liver-audit-scratch-{host}-{pid}-k1ll3d"
    live = tmp_path / f"liver-audit-scratch-{host}-{os.getpid()}-l1v3"
    # of the machine named "<host>-<pid>", its process <pid>
    other_machine = tmp_path / f"liver-audit-scratch-{host}-{pid}-{pid}-0th3r"
    for folder in (left, live, other_machine):
        folder.mkdir()
        (folder / "prepare.duckdb").touch()
    with scratch_warehouse(synonyms=[]) as con:
        (scratch,) = con.sql("select path from duckdb_databases() where path != ''").fetchall()
        assert sorted(tmp_path.iterdir()) == sorted([live, other_machine, Path(scratch[0]).parent])
    assert sorted(tmp_path.iterdir()) == sorted([live, other_machine])
