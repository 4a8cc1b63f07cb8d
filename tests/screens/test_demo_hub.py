"""The demo with its own hub: a payment made with the cable pulled reaches the hub when it
is plugged back in; the demo window starts and stops with its hub; a demo killed outright
leaves no hub behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from composition.commands.demo_hub import DemoHub
from contract import entries as E
from hub.models import JournalEntry, Payment
from kiosk.store.journal import Journal
from tests.screens.test_ui import ROOT, catches, demo, journaled, payments

# whole demos with their hub in a child process, each allowed RUN_TIMEOUT
pytestmark = pytest.mark.timeout(300)

HUB_LINE = "demo hub on "


def hub_rows(tmp_path: Path) -> tuple[list[tuple[str, int, str]], int]:
    """The hub's payments (id, amount, account) and the last journal seq it holds."""
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'hub' / 'hub.sqlite'}")
    try:
        with engine.connect() as conn:
            paid = conn.execute(
                select(Payment.payment_id, Payment.amount_cents, Payment.account_number)
            ).all()
            seqs = conn.execute(select(JournalEntry.seq)).scalars().all()
    finally:
        engine.dispose()
    return [(str(p), int(a), str(n)) for p, a, n in paid], max(seqs, default=0)


def hub_url(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith(HUB_LINE))
    return line.removeprefix(HUB_LINE).split()[0]


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


# the sync under a pulled cable is tested quickly by tests/sync/test_faults.py; the whole
# payment through the window with the cable pulled: `make test-slow`
@pytest.mark.slow
def test_paid_with_the_cable_pulled_and_synced_when_it_is_back(tmp_path: Path) -> None:
    code, out = demo(tmp_path, "--script", "offline", "--screenshots", str(tmp_path / "shots"))
    assert code == 0, out
    assert "(the network cable is pulled)" in out and "(the network cable is plugged in)" in out
    # the finance console's address and one login per role, with its authenticator secret
    assert f"finance console: {hub_url(out)}/console" in out
    for role in ("technician", "clerk", "supervisor", "admin", "auditor"):
        assert f"otpauth://totp/Utility%20kiosk%20hub:{role}-demo?secret=" in out
    paid = payments(tmp_path)
    assert [(p["method"], p["amount_cents"]) for p in paid] == [("cash", 4500)]
    # the payment was made while the hub could not be reached (the receipt says so) ...
    receipt = tmp_path / "data" / "devices" / "receipts" / "receipt-0001.txt"
    assert "Kiosk offline" in receipt.read_text(encoding="utf-8")
    # ... and the hub has it now, with every entry of the journal
    hub_paid, hub_last = hub_rows(tmp_path)
    assert hub_paid == [(str(paid[0]["payment_id"]), 4500, "100200302")]
    journal = Journal.open(tmp_path / "data" / "journal.sqlite")
    try:
        assert journal.acked_seq() == journal.last_seq() == hub_last
    finally:
        journal.close()
    # the demo's hub stopped with the demo
    assert not answers(hub_url(out))


def test_offline_needs_the_hub(tmp_path: Path) -> None:
    code, out = demo(tmp_path, "--script", "offline", "--no-hub")
    assert code == 1
    assert "needs a hub" in out


def start_window(tmp_path: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    # the window drawn off screen, asked for by name (with no display named, the demo would
    # say so and stop)
    env = {**os.environ, "KIVY_NO_ARGS": "1", "SDL_VIDEODRIVER": "offscreen"}
    argv = [sys.executable, "-m", "composition.cli", "demo", "--data-dir", str(tmp_path / "data")]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    for line in proc.stdout:  # up to the demo accounts, printed once everything is ready
        lines.append(line.rstrip("\n"))
        if line.startswith("demo accounts"):
            break
        assert time.monotonic() < deadline, "\n".join(lines)
    assert any(line.startswith(HUB_LINE) for line in lines), "\n".join(lines)
    # the window is up once the app has its SIGTERM handler (set as it builds the window): a
    # signal before that ends the process the default way, as a fixed wait of 2 s after
    # Kivy's config appeared did on a busy machine
    while not catches(proc.pid, signal.SIGTERM):
        assert proc.poll() is None and time.monotonic() < deadline, "\n".join(lines)
        time.sleep(0.1)
    return proc, hub_url("\n".join(lines)), lines


def test_the_demo_window_starts_with_its_hub_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc, url, lines = start_window(tmp_path)
    assert "demo hub on" in lines[0] and lines[-1].startswith("demo accounts")
    try:
        assert answers(url)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not answers(url)
    assert len(journaled(tmp_path, E.KIOSK_STARTED)) == 1
    # the kiosk was enrolled, synced what it had, and the hub kept it
    _, hub_last = hub_rows(tmp_path)
    assert hub_last >= 1


def test_a_demo_killed_outright_leaves_no_hub_behind(tmp_path: Path) -> None:
    """Killed outright, its hub goes with it; while it ran it held the data directory once
    (it locks before its hub enrolls into it, and its kiosk runs on that lock: a second take
    in one process would refuse the demo itself), and the directory is usable after."""
    proc, url, _lines = start_window(tmp_path)
    data = tmp_path / "data"
    try:
        assert answers(url)
        second = kiosk_cli("demo", "--no-screens", "--data-dir", str(data))
        assert second.returncode == 2
        assert f"pid {proc.pid} (" in second.stderr
        close = kiosk_cli("batch", "close", "--data-dir", str(data))
        assert close.returncode == 2
        assert "touchscreen's service mode" in close.stderr
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 15
    while answers(url):
        assert time.monotonic() < deadline, "the demo hub outlived the demo"
        time.sleep(0.2)
    after = kiosk_cli("recover", "--devices", "simulated", "--data-dir", str(data))
    assert after.returncode == 0, after.stderr


def kiosk_cli(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "composition.cli", *args]
    env = {**os.environ, "KIVY_NO_ARGS": "1"}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_demo_hub_keeps_its_port_from_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program trying for the hub's port just as the hub starts can not have it.

    The interloper binds the port the hub process is about to serve on, the moment before
    that process starts. A port picked free, let go and passed as ``--port`` loses this
    race (the hub dies with "address already in use", as it did on busy machines); a
    listening socket handed over with ``--fd`` is already taken, so the interloper is
    refused and the hub serves on it."""
    real_popen = subprocess.Popen
    tried: list[tuple[int, str]] = []

    def interloper(command: list[str], *args: Any, **kwargs: Any) -> Any:
        if "serve" in command:
            if "--port" in command:
                port = int(command[command.index("--port") + 1])
            else:
                fd = int(command[command.index("--fd") + 1])
                with socket.socket(fileno=os.dup(fd)) as handed:
                    port = handed.getsockname()[1]
            other = socket.socket()
            try:
                other.bind(("127.0.0.1", port))
                other.listen()
                tried.append((port, "taken"))
                stolen.append(other)
            except OSError as exc:
                other.close()
                tried.append((port, f"refused: {exc.strerror}"))
        return real_popen(command, *args, **kwargs)

    stolen: list[socket.socket] = []
    monkeypatch.setattr(subprocess, "Popen", interloper)
    try:
        hub = DemoHub.start(tmp_path / "data")
    finally:
        monkeypatch.undo()
        for sock in stolen:
            sock.close()
    try:
        port = int(hub.hub_url.rsplit(":", 1)[1])
        assert tried == [(port, "refused: Address already in use")]
        assert answers(hub.hub_url) and answers(hub.url)
    finally:
        hub.stop()
