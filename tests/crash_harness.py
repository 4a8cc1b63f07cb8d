"""What the crash tests on real protocols share: a device emulator in a process of its own,
driven through its console, and ``kiosk`` processes on one data directory that name its link.

The emulator outlives the kiosk it serves, as hardware outlives a killed computer: the
kiosk's real driver talks to it over the port link, dies at a crash point, and ``kiosk
recover`` builds a new driver on the same link and asks the same device what became of the
money. The device's own counters (its console's ``counters``) are the truth the journal is
checked against.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kiosk.store.journal import Journal

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 40.0
"""One kiosk process (a payment, or a recovery); normally 2-7 s."""
CONSOLE_TIMEOUT = 10.0
START_TIMEOUT = 20.0


class DeviceConsole:
    """``kiosk emulate DEVICE --link PATH [options]`` in its own process, driven through its
    console: commands on stdin, one answer line each on stdout.

    ``stdin`` is where the console reads its commands: a pipe of the test's own (None), or
    the descriptor of a FIFO the test holds open for reading and writing, so that another
    process (the kiosk's demo script, working the device's controls) can write commands too
    and the console never sees the end of its input while the test runs.
    """

    def __init__(
        self,
        device: str,
        link: Path,
        log: Path,
        options: tuple[str, ...] = (),
        stdin: int | None = None,
    ) -> None:
        self.link = link
        self._log = log.open("w")
        self._stdin_fd = stdin
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "composition.cli",
                "emulate",
                device,
                "--link",
                str(link),
                *options,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE if stdin is None else stdin,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        """Every line the console printed, whoever asked for it."""
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.expect(lambda line: line.startswith(f"{device}: port"), START_TIMEOUT)
        except BaseException:
            self.close()
            raise

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.seen.append(line.rstrip("\n"))
            self._lines.put(line.rstrip("\n"))

    def expect(self, wanted: Callable[[str], bool], timeout: float = CONSOLE_TIMEOUT) -> str:
        """The next line the console prints that ``wanted`` accepts (others are skipped)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if wanted(line):
                return line
        raise AssertionError(f"the device's console did not answer within {timeout} s")

    def _write(self, text: str) -> None:
        if self._stdin_fd is not None:
            os.write(self._stdin_fd, (text + "\n").encode())
            return
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write(text + "\n")
        stdin.flush()

    def command(self, text: str, wanted: Callable[[str], bool]) -> str:
        assert self.proc.poll() is None, "the device's emulator died"
        self._write(text)
        return self.expect(wanted)

    def counters(self) -> dict[str, Any]:
        answer = self.command("counters", lambda line: line.startswith("{"))
        counters: dict[str, Any] = json.loads(answer)
        return counters

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self._write("quit")
                self.proc.wait(5.0)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5.0)
            self._log.close()


@dataclass
class Kiosk:
    """``kiosk`` processes on one data directory; ``demo`` runs ``script`` through ``child``
    (a shim around the ``kiosk`` command that works the device under test's controls)."""

    config: Path
    data: Path
    child: str
    script: str
    env: dict[str, str]

    @classmethod
    def on(
        cls,
        tmp_path: Path,
        devices: dict[str, str],
        child: str,
        script: str,
        env: dict[str, str] | None = None,
    ) -> Kiosk:
        """A kiosk whose ``[devices]`` are ``devices``; every other device is simulated."""
        names = ("bill_acceptor", "card_terminal", "receipt_printer", "barcode_scanner")
        section = {name: "simulated" for name in names} | devices
        config = tmp_path / "kiosk.toml"
        config.write_text(
            "[devices]\n" + "".join(f'{key} = "{value}"\n' for key, value in section.items())
        )
        return cls(config, tmp_path / "data", child, script, dict(env or {}))

    def start(self, command: str, crash_at: str | None = None) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k != "KIOSK_CRASH_AT"} | self.env
        if crash_at:
            env["KIOSK_CRASH_AT"] = crash_at
        where = ["--config", str(self.config), "--data-dir", str(self.data)]
        if command == "demo":
            argv = [sys.executable, "-c", self.child, "demo", "--no-screens"]
            argv += ["--script", self.script, *where]
        else:
            argv = [sys.executable, "-m", "composition.cli", command, *where]
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def run(self, command: str, crash_at: str | None = None) -> tuple[int, str]:
        proc = self.start(command, crash_at)
        try:
            out, _ = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            message = f"kiosk {command} did not finish in {RUN_TIMEOUT} s:\n{out}"
            raise AssertionError(message) from None
        return proc.returncode, out

    def kill_demo(self, when: Callable[[], None]) -> str:
        """Start a payment, SIGKILL it from outside once ``when`` returns; its output."""
        proc = self.start("demo")
        try:
            when()
            proc.send_signal(signal.SIGKILL)
            out, _ = proc.communicate(timeout=10.0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == -signal.SIGKILL, out
        return out

    def pay(self) -> str:
        """One whole payment by the script, which must succeed."""
        code, out = self.run("demo")
        assert code == 0, f"the {self.script} payment failed:\n{out}"
        return out

    def recover(self) -> str:
        code, out = self.run("recover")
        assert code == 0, f"recovery failed:\n{out}"
        return out

    def journaled(self, type_: str) -> int:
        """How many ``type_`` entries the journal holds; read-only, the kiosk may be running."""
        path = self.data / "journal.sqlite"
        if not path.exists():
            return 0
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
            try:
                row = db.execute("SELECT count(*) FROM journal WHERE type = ?", (type_,)).fetchone()
            finally:
                db.close()
        except sqlite3.Error:
            return 0  # not created yet, or being migrated
        return int(row[0])


def journal_of(data: Path) -> tuple[list[Any], list[Any]]:
    """The journal's entries and its open intents, once its chain has verified."""
    with Journal.open(data / "journal.sqlite") as journal:
        report = journal.verify()
        assert report.ok, report.problem
        return list(journal.entries()), list(journal.open_intents())


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)
