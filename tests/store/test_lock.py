"""The data directory's lock between real processes: a holder refuses the next one by name,
and a holder killed outright leaves the directory usable."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.store.lock import LOCK_FILE, DataDirBusy, DataDirError, DataDirLock, holder

ROOT = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from pathlib import Path
from kiosk.store.lock import DataDirLock
lock = DataDirLock(Path(sys.argv[1]), command="kiosk run --config /etc/kiosk/kiosk.toml")
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def holding(script: str, data_dir: Path, ready: str) -> Iterator[subprocess.Popen[str]]:
    """``script`` in another process on ``data_dir``, once it printed ``ready``; it runs
    until its stdin closes (or the test kills it)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == ready
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    with holding(HOLD, tmp_path, "held") as proc:
        yield proc


def test_a_second_process_is_refused_with_the_holders_pid_and_command(
    tmp_path: Path, held: subprocess.Popen[str]
) -> None:
    with pytest.raises(DataDirBusy) as refused:
        DataDirLock(tmp_path).acquire()
    assert refused.value.holder.pid == held.pid
    message = str(refused.value)
    assert f"pid {held.pid} (kiosk run --config /etc/kiosk/kiosk.toml)" in message
    assert str(tmp_path) in message and message.endswith("stop it first")
    other = refused.value.advised("collect the cash box from the service mode")
    assert str(other).endswith("collect the cash box from the service mode")
    assert f"pid {held.pid}" in str(other)


def test_the_probe_names_the_holder_and_takes_nothing(
    tmp_path: Path, held: subprocess.Popen[str]
) -> None:
    found = holder(tmp_path)
    assert found is not None and found.pid == held.pid
    assert holder(tmp_path) is not None  # asking twice changes nothing
    assert held.stdin is not None
    held.stdin.close()  # the holder ends normally
    assert held.wait(timeout=10) == 0
    assert holder(tmp_path) is None
    with DataDirLock(tmp_path) as lock:
        assert lock.held
        mine = holder(tmp_path)
        assert mine is not None and mine.pid == os.getpid()
    assert holder(tmp_path) is None


def test_a_holder_killed_outright_leaves_the_directory_usable(
    tmp_path: Path, held: subprocess.Popen[str]
) -> None:
    held.send_signal(signal.SIGKILL)
    assert held.wait(timeout=10) == -signal.SIGKILL
    # the file is still there, naming the dead process; the kernel dropped the lock itself
    assert (tmp_path / LOCK_FILE).read_text(encoding="utf-8").strip()
    assert holder(tmp_path) is None
    lock = DataDirLock(tmp_path, command="kiosk recover").acquire()
    try:
        assert lock.held
    finally:
        lock.release()


def test_one_process_takes_it_once(tmp_path: Path) -> None:
    """flock on a second descriptor conflicts even within a process: the refusal then names
    this very process, so a double take shows up at once instead of passing silently."""
    lock = DataDirLock(tmp_path).acquire()
    try:
        assert lock.acquire() is lock  # the same lock again: a no-op
        with pytest.raises(DataDirBusy) as refused:
            DataDirLock(tmp_path).acquire()
        assert refused.value.holder.pid == os.getpid()
    finally:
        lock.release()
    assert not lock.held
    DataDirLock(tmp_path).acquire().release()  # free again once released


def test_an_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(DataDirError, match="can not create the lock file"):
        DataDirLock(blocker / "data").acquire()
