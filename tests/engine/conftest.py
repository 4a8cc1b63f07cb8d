"""A harness around the real engine and a real journal file, with fake devices."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contract import entries as E
from kiosk import crashpoints
from kiosk.config import KioskConfig
from kiosk.device_calls import Deliver
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import CardOutcome, DeviceHealth, DeviceNotice
from kiosk.recovery import RecoveryReport, recover
from kiosk.store.journal import Journal
from tests.fakes import (
    ControlledCalls,
    FakeAcceptor,
    FakeClock,
    FakeDirectory,
    FakePorts,
    FakePrinter,
    FakeTerminal,
)


class Harness:
    def __init__(self, path: Path, config: KioskConfig | None = None) -> None:
        self.path = path
        self.config = config or KioskConfig()
        self.clock = FakeClock()
        self.devices = FakePorts()
        self.journal = Journal.open(path, now=self.clock.now)
        self.calls: ControlledCalls
        self.engine = PaymentEngine(
            self.config, self.journal, self.devices.port_set(), self.clock, calls=self._calls
        )
        self.seen: list[Snapshot] = []
        self.engine.subscribe(self.seen.append)

    def _calls(self, deliver: Deliver) -> ControlledCalls:
        self.calls = ControlledCalls(deliver)
        return self.calls

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
        while self.engine.pump():  # what the time-out's own actions made the devices say
            pass
        return self.engine.snapshot

    def seconds_to_deadline(self) -> float:
        """How long until the current screen times out (the engine's own deadline)."""
        deadline = self.engine._deadline
        assert deadline is not None, f"no time-out running in {self.state.value}"
        return deadline - self.clock.monotonic()

    def expire(self) -> Snapshot:
        """Advance the clock just past the current deadline (never a real sleep)."""
        return self.wait(self.seconds_to_deadline() + 0.001)

    @property
    def state(self) -> State:
        return self.engine.state

    @property
    def acceptor(self) -> FakeAcceptor:
        return self.devices.acceptor

    @property
    def terminal(self) -> FakeTerminal:
        return self.devices.terminal

    @property
    def printer(self) -> FakePrinter:
        return self.devices.printer

    @property
    def directory(self) -> FakeDirectory:
        return self.devices.directory

    @property
    def reference(self) -> str:
        """The reference of the card sale under way."""
        assert self.engine.session is not None and self.engine.session.card_reference
        return self.engine.session.card_reference

    # a power cut, then start-up recovery against the same journal file
    def restart(self) -> Journal:
        """Drop the engine as a power cut would and reopen the journal file."""
        self.journal.close()
        self.journal = Journal.open(self.path, now=self.clock.now)
        return self.journal

    def recover(self, answer_timeout: float = 0.05) -> RecoveryReport:
        """Run start-up recovery on a freshly opened journal, the fakes being the hardware."""
        self.restart()
        return recover(
            self.journal, self.devices.port_set(), self.config, self.clock, answer_timeout
        )

    def new_engine(self) -> PaymentEngine:
        """The engine a restarted kiosk builds once recovery is done."""
        self.engine = PaymentEngine(
            self.config, self.journal, self.devices.port_set(), self.clock, calls=self._calls
        )
        self.seen = []
        self.engine.subscribe(self.seen.append)
        return self.engine

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

    def to_card_checking(self, status: CardOutcome = CardOutcome.IN_DOUBT) -> None:
        """A sale answered "in doubt"; the status query (which will say ``status``) held."""
        self.terminal.status_answer = status
        self.calls.hold.add("status")
        self.to_card()
        self.terminal.answer(CardOutcome.IN_DOUBT)
        self.pump()
        assert self.state is State.CARD_CHECKING
        assert self.calls.held, "the status query should be under way"

    # a technician at the touchscreen (the config must name them: tests/fakes.py TECHNICIANS)
    def to_service(self, pin: str = "2468") -> None:
        self.send(ui.EnterService(), ui.EnterPin(pin))
        assert self.state is State.SERVICE_MENU, self.state

    def collect(self, seal: str = "BAG-0042") -> None:
        """A whole cash-box collection from the menu: box out, seal, box in, slip."""
        self.send(ui.StartCollection())
        self.acceptor.fault("cassette_removed")
        self.pump()
        self.send(ui.EnterSeal(seal))
        self.acceptor.state = DeviceHealth()
        self.send(DeviceNotice("bill_acceptor", "cassette_replaced"))
        assert self.engine.snapshot.collection is not None
        assert self.engine.snapshot.collection.step == "done", self.engine.snapshot.collection

    # reading the journal
    def types(self) -> list[str]:
        return [e.type for e in self.journal.entries()]

    def of_type(self, type_: str) -> list[dict[str, object]]:
        return [dict(e.payload) for e in self.journal.entries() if e.type == type_]

    def of_type_seq(self, type_: str) -> list[int]:
        return [e.seq for e in self.journal.entries() if e.type == type_]

    def payments(self) -> list[dict[str, object]]:
        return self.of_type(E.PAYMENT_COMPLETED)

    def credited_cents(self) -> int:
        return sum(int(str(p["denomination_cents"])) for p in self.of_type(E.BILL_STACKED))

    def session_outcomes(self) -> list[object]:
        return [p["outcome"] for p in self.of_type(E.SESSION_ENDED)]

    def assert_card_invariants(self, failed_reversals: int = 0) -> None:
        """DESIGN.md rule 5 for cards, checked against the terminal's own ledger.

        Every approval the terminal holds is a recorded payment (or a reversal that failed
        and is journaled as such); every approval in the journal is a payment or reversed.
        """
        paid = {
            str(card["reference"]) for p in self.payments() if isinstance(card := p["card"], dict)
        }
        reversed_refs = {str(p["reference"]) for p in self.of_type(E.CARD_REVERSED)}
        failed = {str(p["reference"]) for p in self.of_type(E.CARD_REVERSAL_FAILED)}
        assert len(failed) == failed_reversals
        assert not paid & reversed_refs, "a payment was recorded for a reversed sale"
        for reference in self.terminal.approved:
            assert reference in paid | failed, f"{reference} charged but not recorded"
        for approval in self.of_type(E.CARD_SALE_APPROVED):
            reference = str(approval["reference"])
            assert reference in paid | reversed_refs | failed, (
                f"{reference} neither paid nor reversed"
            )
        assert self.journal.verify().ok


MakeHarness = Callable[..., Harness]


class PowerCut(BaseException):
    """Raised at a crash point instead of SIGKILL: the in-process stand-in for a power cut.

    A BaseException, so nothing that catches ``Exception`` on the way up can swallow it.
    """


ArmPowerCut = Callable[..., None]


@pytest.fixture
def power_cut(monkeypatch: pytest.MonkeyPatch) -> ArmPowerCut:
    """``power_cut("card.after_sale_sent")`` cuts the power the next time that point is hit."""

    def arm(name: str, nth: int = 1) -> None:
        assert name in _KNOWN_POINTS, f"no crash point {name!r} in the code"
        seen = {"count": 0}

        def hit(point: str) -> None:
            if point == name:
                seen["count"] += 1
                if seen["count"] == nth:
                    monkeypatch.setattr(crashpoints, "hit", _no_crash)
                    raise PowerCut(name)

        monkeypatch.setattr(crashpoints, "hit", hit)

    return arm


def _no_crash(_point: str) -> None:
    return None


def _crash_points() -> set[str]:
    import re

    root = Path(crashpoints.__file__).parent
    found: set[str] = set()
    for path in root.rglob("*.py"):
        found |= set(re.findall(r'crashpoints\.hit\("([^"]+)"\)', path.read_text("utf-8")))
    return found


_KNOWN_POINTS = _crash_points()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path / "journal.sqlite")
    yield h
    h.journal.close()


@pytest.fixture
def make_harness(tmp_path: Path) -> Iterator[MakeHarness]:
    made: list[Harness] = []

    def make(config: KioskConfig | None = None) -> Harness:
        h = Harness(tmp_path / f"journal{len(made)}.sqlite", config)
        made.append(h)
        return h

    yield make
    for h in made:
        h.journal.close()
