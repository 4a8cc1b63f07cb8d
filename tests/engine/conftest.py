"""A harness around the real engine and a real journal file, with fake devices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import entries as E
from kiosk.config import KioskConfig
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.store.journal import Journal
from tests.fakes import FakeClock, FakePorts


class Harness:
    def __init__(self, path: Path, config: KioskConfig | None = None) -> None:
        self.config = config or KioskConfig()
        self.clock = FakeClock()
        self.devices = FakePorts()
        self.journal = Journal.open(path, now=self.clock.now)
        self.engine = PaymentEngine(self.config, self.journal, self.devices.port_set(), self.clock)
        self.seen: list[Snapshot] = []
        self.engine.subscribe(self.seen.append)

    # driving
    def send(self, *events: object) -> Snapshot:
        for event in events:
            self.engine.submit(event)
            self.engine.pump()
        return self.engine.snapshot

    def pump(self) -> Snapshot:
        self.engine.pump()
        return self.engine.snapshot

    def wait(self, seconds: float) -> Snapshot:
        self.clock.advance(seconds)
        self.engine.pump()
        return self.engine.snapshot

    @property
    def state(self) -> State:
        return self.engine.state

    @property
    def acceptor(self):  # type: ignore[no-untyped-def]
        return self.devices.acceptor

    @property
    def terminal(self):  # type: ignore[no-untyped-def]
        return self.devices.terminal

    @property
    def printer(self):  # type: ignore[no-untyped-def]
        return self.devices.printer

    # getting somewhere quickly
    def to_find_account(self) -> None:
        self.send(ui.Start("en"))
        assert self.state is State.FIND_ACCOUNT

    def to_confirm(self, number: str = "100200300") -> None:
        self.to_find_account()
        self.send(ui.EnterAccount(number))
        assert self.state is State.CONFIRM_ACCOUNT

    def to_amount(self) -> None:
        self.to_confirm()
        self.send(ui.ConfirmAccount())
        assert self.state is State.AMOUNT

    def to_method(self, amount: str = "43.17") -> None:
        self.to_amount()
        self.send(ui.ChooseAmount(Money.parse(amount)))
        assert self.state is State.METHOD

    def to_cash(self, amount: str = "43.17") -> None:
        self.to_method(amount)
        self.send(ui.ChooseMethod("cash"))
        assert self.state is State.CASH

    def to_card(self, amount: str = "43.17", answer: bool = False) -> None:
        if not answer:
            self.terminal.next_outcome = None
        self.to_method(amount)
        self.send(ui.ChooseMethod("card"))

    # reading the journal
    def types(self) -> list[str]:
        return [e.type for e in self.journal.entries()]

    def of_type(self, type_: str) -> list[dict[str, object]]:
        return [dict(e.payload) for e in self.journal.entries() if e.type == type_]

    def payments(self) -> list[dict[str, object]]:
        return self.of_type(E.PAYMENT_COMPLETED)

    def credited_cents(self) -> int:
        return sum(int(str(p["denomination_cents"])) for p in self.of_type(E.BILL_STACKED))


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path / "journal.sqlite")
    yield h
    h.journal.close()


@pytest.fixture
def make_harness(tmp_path: Path) -> Iterator[object]:
    made: list[Harness] = []

    def make(config: KioskConfig | None = None) -> Harness:
        h = Harness(tmp_path / f"journal{len(made)}.sqlite", config)
        made.append(h)
        return h

    yield make
    for h in made:
        h.journal.close()
