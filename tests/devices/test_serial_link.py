"""The serial base over a real pseudo-terminal: bytes both ways, unplug and replug."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from devices.emulators.pty_port import EmulatorLoop, PtyPort
from devices.serial_link import LinkDown, SerialLink


class Recorder:
    def __init__(self) -> None:
        self.data: queue.Queue[bytes] = queue.Queue()
        self.events: list[str] = []
        self.changed = threading.Event()

    def connection_made(self, link: SerialLink) -> None:
        self.events.append("made")
        self.changed.set()

    def data_received(self, data: bytes) -> None:
        self.data.put(data)

    def connection_lost(self, error: Exception | None) -> None:
        self.events.append("lost")
        self.changed.set()

    def read(self, size: int, timeout: float = 2.0) -> bytes:
        out = b""
        while len(out) < size:
            out += self.data.get(timeout=timeout)
        return out


@pytest.fixture
def echo(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = PtyPort(tmp_path / "echo-device")
    loop = EmulatorLoop(port, lambda data: port.write(data.upper()), "echo")
    loop.start()
    yield port
    loop.stop()


def test_bytes_round_trip(echo: PtyPort) -> None:
    recorder = Recorder()
    link = SerialLink(echo.path, recorder, name="echo")
    link.start()
    try:
        assert link.wait_connected(2.0)
        link.write(b"hello\x00\xff")
        assert recorder.read(7) == b"HELLO\x00\xff"
    finally:
        link.stop()


def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_unplug_is_reported_and_replug_reconnects(echo: PtyPort) -> None:
    recorder = Recorder()
    link = SerialLink(echo.path, recorder, name="echo", reconnect_interval=0.05)
    link.start()
    try:
        # the link counts as connected just before it tells the protocol (which may write
        # at once): wait for the protocol to have heard, not only for the link
        assert _until(lambda: recorder.events == ["made"], 2.0)
        recorder.changed.clear()
        echo.unplug()
        assert recorder.changed.wait(2.0)
        assert recorder.events == ["made", "lost"]
        assert not link.connected
        with pytest.raises(LinkDown):
            link.write(b"x")
        recorder.changed.clear()
        echo.replug()
        assert recorder.changed.wait(2.0)
        assert link.wait_connected(2.0)
        assert recorder.events == ["made", "lost", "made"]
        assert link.reconnects == 1
        link.write(b"again")
        assert recorder.read(5) == b"AGAIN"
    finally:
        link.stop()


def test_a_missing_port_waits_without_crashing(tmp_path: Path) -> None:
    recorder = Recorder()
    link = SerialLink(str(tmp_path / "nothing-here"), recorder, reconnect_interval=0.05)
    link.start()
    try:
        assert not link.wait_connected(0.3)
        assert recorder.events == []
    finally:
        link.stop()


def test_protocol_errors_do_not_kill_the_reader(echo: PtyPort) -> None:
    raised = threading.Event()

    class Fussy(Recorder):
        def data_received(self, data: bytes) -> None:
            if not raised.is_set():
                raised.set()
                raise ValueError("garbage")
            super().data_received(data)

    recorder = Fussy()
    link = SerialLink(echo.path, recorder, name="fussy")
    link.start()
    try:
        assert link.wait_connected(2.0)
        link.write(b"bad")
        assert raised.wait(2.0)
        link.write(b"ok")
        seen = b""
        while not seen.endswith(b"OK"):
            seen += recorder.data.get(timeout=2.0)
    finally:
        link.stop()


def test_a_port_lost_under_writes_only_ever_raises_link_down(echo: PtyPort) -> None:
    """The reader thread closes a lost port while another thread may be writing to it: that
    write must fail as a lost link (which drivers settle, e.g. a card sale as in doubt),
    never with pyserial's half-closed internals (a TypeError from select on no fd)."""
    recorder = Recorder()
    link = SerialLink(echo.path, recorder, name="echo", reconnect_interval=0.01)
    link.start()
    stop = threading.Event()
    unexpected: list[BaseException] = []
    written = [0]

    def write_on() -> None:
        while not stop.is_set():
            try:
                link.write(b"x" * 64)
                written[0] += 1
            except LinkDown:
                pass
            except BaseException as exc:  # collected for the assertion below
                unexpected.append(exc)

    writer = threading.Thread(target=write_on, daemon=True)
    try:
        assert link.wait_connected(2.0)
        writer.start()
        deadline = time.monotonic() + 5.0  # a busy machine may start the writer late
        while written[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        for _ in range(30):
            echo.unplug()
            recorder.changed.clear()
            echo.replug()
            assert link.wait_connected(2.0)
    finally:
        stop.set()
        writer.join(5)
        link.stop()
    assert unexpected == []
    assert written[0] > 0
