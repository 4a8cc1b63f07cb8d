"""One kiosk per data directory: an exclusive ``flock`` on ``kiosk.lock`` inside it.

The journal has one writer (DESIGN.md rule 3), and the devices behind it have one master:
a second ``kiosk run``, or a ``kiosk batch close`` beside a running kiosk, would append to
the same journal and talk to the same terminal and acceptor as the first. SQLite would
serialise the appends, but not the payment sessions they belong to.

``flock`` is held by an open file description, so the kernel drops it when the process
ends however it ends, SIGKILL and power cuts included: a stale lock file is never a
problem, only a live holder is. The file also says who holds it (pid, command line, start
time), so a refusal can name the process to stop. Two ``flock`` calls on two descriptors
conflict even within one process, so a process takes the lock once and keeps it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

LOCK_FILE = "kiosk.lock"

STOP_IT = "stop it first"
"""What a refused kiosk is told to do about the holder."""

RETRY_S = 0.3
"""How long a refused attempt keeps trying: a read-only probe (:func:`holder`) takes the
lock shared for a moment, and must never be the reason a kiosk does not start."""


class DataDirError(Exception):
    """The data directory can not be locked; the message says why, for a technician."""


@dataclass(frozen=True)
class Holder:
    """The process that holds a data directory, as it wrote itself into the lock file."""

    pid: int | None
    command: str
    started: str

    def describe(self) -> str:
        if self.pid is None:
            return "a process that did not say who it is"
        return f"pid {self.pid} ({self.command}), started {self.started}"


class DataDirBusy(DataDirError):
    """Another process uses the data directory; ``holder`` says which."""

    def __init__(self, data_dir: Path, holder: Holder, advice: str = STOP_IT) -> None:
        self.data_dir = data_dir
        self.holder = holder
        super().__init__(
            f"the data directory {data_dir} is in use by a running kiosk: "
            f"{holder.describe()}; {advice}"
        )

    def advised(self, advice: str) -> DataDirBusy:
        """The same refusal with other advice (what to do instead depends on the command)."""
        return DataDirBusy(self.data_dir, self.holder, advice)


def lock_path(data_dir: Path) -> Path:
    return data_dir / LOCK_FILE


def _command_line() -> str:
    """``kiosk run --config ...`` rather than the interpreter's path to the script."""
    words = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    return " ".join(words)


def _read_holder(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["command"]), str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Holder(None, "", "")


class DataDirLock:
    """The exclusive lock on one data directory, held from :meth:`acquire` to :meth:`release`.

    ``command`` is what the lock file says the holder is running (default: this process's
    command line).
    """

    def __init__(self, data_dir: Path, command: str | None = None) -> None:
        self.data_dir = data_dir
        self.path = lock_path(data_dir)
        self.command = command if command is not None else _command_line()
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> Self:
        """Take the lock, or raise :class:`DataDirBusy` naming the holder."""
        if self._fd is not None:
            return self
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise DataDirError(f"can not create the lock file {self.path}: {exc}") from exc
        try:
            self._lock(fd)
            self._write_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _lock(self, fd: int) -> None:
        deadline = time.monotonic() + RETRY_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise DataDirError(f"can not lock {self.path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise DataDirBusy(self.data_dir, _read_holder(self.path))
            time.sleep(0.05)

    def _write_holder(self, fd: int) -> None:
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = json.dumps({"pid": os.getpid(), "command": self.command, "started": started})
        os.ftruncate(fd, 0)
        os.pwrite(fd, (text + "\n").encode("utf-8"), 0)

    def release(self) -> None:
        """Let the directory go (ending the process does the same)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # nobody is named as holder once it is free
        os.close(fd)

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.release()


def holder(data_dir: Path) -> Holder | None:
    """Who holds ``data_dir`` now, or None when no kiosk does; never takes the lock for long.

    A shared lock for a moment: it conflicts with a holder's exclusive one, and two probes
    never conflict with each other.
    """
    path = lock_path(data_dir)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataDirError(f"can not read the lock file {path}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return _read_holder(path)
            raise DataDirError(f"can not check the lock on {path}: {exc}") from exc
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
