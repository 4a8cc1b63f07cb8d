"""A served hub tells systemd it is ready once it listens, keeps telling the watchdog it is
alive, and says when it stops (sd_notify(3)); the test is systemd: it binds the notify
socket and reads the datagrams. Outside systemd nothing is sent and nothing fails."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.cli import spawn_serve
from hub.systemd import Notifier, watchdog_period

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(60)
    yield listener, str(path)
    listener.close()


def next_message(listener: socket.socket) -> str:
    return listener.recv(4096).decode("utf-8")


def test_ready_once_it_listens_alive_while_it_runs_stopping_at_the_end(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    listener, address = notify_socket
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}
    with (tmp_path / "hub.log").open("wb") as log:
        process, url = spawn_serve(
            str(tmp_path / "hub.sqlite"), ["--post-interval", "0"], log=log, cwd=ROOT, env=env
        )
    try:
        messages = [next_message(listener)]
        while not messages[-1].startswith("READY=1"):
            messages.append(next_message(listener))
        # ready means serving: the health check answers at once
        assert httpx.get(f"{url}/v1/health", timeout=5).status_code == 200
        assert "STATUS=serving" in messages[-1]
        pings = [next_message(listener) for _ in range(3)]
        assert pings == ["WATCHDOG=1"] * 3
        process.send_signal(signal.SIGTERM)
        while (message := next_message(listener)) == "WATCHDOG=1":
            pass
        assert message == "STOPPING=1"
        # uvicorn shuts down, then ends by the signal it caught, which systemd counts as a
        # clean stop of a service sent SIGTERM
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_abstract_socket_name_and_no_systemd_at_all() -> None:
    name = f"kiosk-hub-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name)
        listener.settimeout(5)
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready("up")
        assert listener.recv(4096) == b"READY=1\nSTATUS=up"
    quiet = Notifier({})
    assert not quiet.enabled and quiet.watchdog_s is None
    quiet.ready()  # nothing listens and nothing is sent: no error either


def test_the_watchdog_period_is_this_process_s_only() -> None:
    assert watchdog_period({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_period({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_period({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_period({"WATCHDOG_USEC": "soon"}) is None
