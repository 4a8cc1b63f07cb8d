"""A barcode scanner in serial mode, on a pseudo-terminal: what the operator "scans" is sent.

A real scanner sends each code it decodes followed by its programmed suffix and pays no
attention to the host (serial commands to configure it are out of scope here). The
emulator does the same, plus what a scanner does in the field when things go wrong: noise
on the line, an over-long stream, and the USB cable pulled out and put back.
"""

from __future__ import annotations

from pathlib import Path

from devices.emulators.base import Control
from devices.emulators.pty_port import EmulatorLoop, PtyPort
from kiosk.bill_stub import make_stub_code
from kiosk.money import Money, MoneyError

NOISE = b"\x00\x1b[\xff\xfe\x07~\x15"
"""What a bad cable or a wrong baud rate looks like: bytes outside printable ASCII."""

LONG_LINE = 300
"""Longer than the driver's default line limit (256)."""


class ScannerEmulator:
    """Implements :class:`devices.emulators.base.Emulator` for the ``scanner`` name."""

    name = "barcode_scanner"

    def __init__(self, link: Path | None = None, *, suffix: bytes = b"\r\n") -> None:
        self.port = PtyPort(link)
        self.suffix = suffix
        self._loop = EmulatorLoop(self.port, self._from_host, self.name)
        self._codes_sent = 0
        self._garbage_sent = 0
        self._bytes_from_host = 0

    # ------------------------------------------------------------------ Emulator surface
    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def controls(self) -> dict[str, Control]:
        return {
            "scan": Control("scan CODE: send CODE and the suffix, as a scan", self._scan),
            "scan-stub": Control(
                "scan-stub ACCOUNT [AMOUNT]: send a bill stub for ACCOUNT, amount e.g. 43.17",
                self._scan_stub,
            ),
            "garbage": Control(
                "garbage [long]: send a line of noise, or a line too long to be a code",
                self._garbage,
            ),
            "unplug": Control("unplug: pull the USB cable (the port vanishes)", self._unplug),
            "replug": Control("replug: put the cable back (same port path)", self._replug),
        }

    def counters(self) -> dict[str, int | bool]:
        return {
            "codes_sent": self._codes_sent,
            "garbage_sent": self._garbage_sent,
            "bytes_from_host": self._bytes_from_host,
            "plugged": self.port.plugged,
        }

    # ------------------------------------------------------------------ for tests
    def send(self, code: str) -> None:
        """Scan ``code`` (printable ASCII), as the ``scan`` control does."""
        self._scan([code])

    def send_raw(self, data: bytes) -> None:
        """Put ``data`` on the line as it is: for splitting and garbage tests."""
        self.port.write(data)

    # ------------------------------------------------------------------ controls
    def _scan(self, args: list[str]) -> str:
        if not args:
            raise ValueError("usage: scan CODE")
        code = " ".join(args)
        if not all(" " <= char <= "~" for char in code):
            raise ValueError("a code is printable ASCII; use garbage to send noise")
        self._require_plugged()
        self.port.write(code.encode("ascii") + self.suffix)
        self._codes_sent += 1
        return f"scanned {code}"

    def _scan_stub(self, args: list[str]) -> str:
        if len(args) not in (1, 2):
            raise ValueError("usage: scan-stub ACCOUNT [AMOUNT], e.g. scan-stub 100200526 28.75")
        try:
            amount = Money.parse(args[1]) if len(args) == 2 else None
        except MoneyError as exc:
            raise ValueError(str(exc)) from exc
        return self._scan([make_stub_code(args[0], amount)])

    def _garbage(self, args: list[str]) -> str:
        if args not in ([], ["long"]):
            raise ValueError("usage: garbage [long]")
        self._require_plugged()
        if args:
            self.port.write(b"7" * LONG_LINE + self.suffix)
            what = f"a {LONG_LINE}-byte line"
        else:
            self.port.write(NOISE + self.suffix)
            what = "a line of noise"
        self._garbage_sent += 1
        return f"sent {what}"

    def _unplug(self, args: list[str]) -> str:
        if not self.port.plugged:
            return "already unplugged"
        self.port.unplug()
        return f"unplugged: {self.port.path} is gone"

    def _replug(self, args: list[str]) -> str:
        if self.port.plugged:
            return "already plugged in"
        self.port.replug()
        return f"plugged in again at {self.port.path}"

    def _require_plugged(self) -> None:
        if not self.port.plugged:
            raise ValueError("unplugged: nothing sent (replug first)")

    def _from_host(self, data: bytes) -> None:
        self._bytes_from_host += len(data)
