"""ZVT over TCP (a terminal on the LAN): the same driver, APDUs without DLE framing.

The emulator serves its terminal on 127.0.0.1; "unplug" closes the connection and refuses
new ones, like a terminal that dropped off the network.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.emulators.zvt_emulator import ZvtEmulator
from devices.zvt import apdu as A
from devices.zvt.driver import ZvtTerminal
from devices.zvt.transport import TcpTransport
from kiosk.money import Money
from kiosk.ports import CardOutcome, CardProgress, DeviceFault, DeviceHealth, DeviceNotice
from tests.devices.test_zvt_driver import DRIVER_TIMING, EMULATOR_TIMING, WAIT, Events, sell


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[ZvtEmulator]:
    emu = ZvtEmulator(tmp_path / "unused", timing=EMULATOR_TIMING, tcp_port=0)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def terminal(emulator: ZvtEmulator, events: Events, tmp_path: Path) -> Iterator[ZvtTerminal]:
    assert emulator.tcp_port is not None
    driver = ZvtTerminal.tcp(
        "127.0.0.1",
        emulator.tcp_port,
        state_path=tmp_path / "state.json",
        reconnect_interval=0.05,
        timing=DRIVER_TIMING,
    )
    driver.attach(events)
    driver.open()
    assert driver.wait_ready(WAIT)
    yield driver
    driver.close()


def test_sale_decline_and_abort_over_tcp(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    approved = sell(terminal, events, "43.17", "T-1")
    assert approved.outcome is CardOutcome.APPROVED and approved.last4 == "0119"
    assert events.prompts("T-1") == ["insert_card", "enter_pin", "processing", "remove_card"]
    assert sell(terminal, events, "43.01", "T-2").reason == "declined_by_issuer"
    assert terminal.reverse("T-1")
    assert emulator.entries()[0].reversed
    counts = terminal.counters()
    assert counts["apdus_sent"] > 0 and counts["apdus_received"] > 0


def test_in_doubt_resolved_over_tcp(terminal: ZvtTerminal, events: Events) -> None:
    assert sell(terminal, events, "5.00", "FIRST").outcome is CardOutcome.APPROVED
    assert sell(terminal, events, "9.07", "T-3").outcome is CardOutcome.IN_DOUBT
    assert terminal.status("T-3").outcome is CardOutcome.APPROVED


def test_reconnects_when_the_terminal_comes_back(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    emulator.control("unplug")
    events.wait_for(DeviceFault("card_terminal", "disconnected"))
    emulator.control("replug")
    events.wait_for(DeviceNotice("card_terminal", "reconnected"))
    assert terminal.health() == DeviceHealth()
    assert sell(terminal, events, "3.00", "T-4").outcome is CardOutcome.APPROVED
    assert terminal.counters()["reconnects"] >= 1


def test_the_connection_is_lost_mid_sale(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    terminal.start_sale(Money(2005), "T-5")
    events.wait_for(CardProgress("T-5", "processing"))
    emulator.control("unplug")
    result = events.result("T-5")
    assert (result.outcome, result.reason) == (CardOutcome.IN_DOUBT, "link_lost")


def test_tcp_nodelay_is_set(emulator: ZvtEmulator) -> None:
    assert emulator.tcp_port is not None
    transport = TcpTransport("127.0.0.1", emulator.tcp_port, reconnect_interval=0.05)
    transport.start()
    try:
        assert transport.wait_connected(WAIT)
        sock = transport._sock
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert transport.send(A.status_enquiry("000000").encode())
        raw = transport.receive(WAIT)
        assert raw is not None and A.decode(raw) == A.ack()
    finally:
        transport.stop()
