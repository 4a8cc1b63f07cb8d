"""In-memory stand-ins for the engine's ports.

Each fake keeps the "hardware truth" a test checks the journal against (bills in the cash
box, approvals in the terminal's ledger, receipts that came out) and lets the test decide
when the device answers, so every interleaving can be exercised without threads or sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from argon2 import PasswordHasher

from kiosk.config import KioskConfig, Service, Technician
from kiosk.device_calls import Deliver, DeviceCall, answer
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    Account,
    AccountFound,
    AccountNotFound,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    CardOutcome,
    CardProgress,
    CardResult,
    CardSettlement,
    DeviceHealth,
    Emit,
    Health,
    LookupSource,
    PortSet,
    Printable,
    ReceiptDone,
    Scanned,
    UsageMonth,
)


def _drop(_event: object) -> None:
    return None


class FakeClock:
    def __init__(self) -> None:
        self._now = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._now += timedelta(seconds=seconds)

    def step(self, seconds: float) -> None:
        """The wall clock set forward (or back, negative) as NTP does; no time passes."""
        self._now += timedelta(seconds=seconds)


@dataclass
class FakeAcceptor:
    """``auto`` answers stack/return at once; otherwise the test calls ``finish_*``.
    ``counts`` False: an acceptor that keeps no cash box count (the port answers None)."""

    auto: bool = True
    counts: bool = True
    emit: Emit = _drop
    enabled: bool = False
    denominations: list[Money] = field(default_factory=list)
    escrow: Money | None = None
    cashbox: list[Money] = field(default_factory=list)
    returned: list[Money] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    state: DeviceHealth = field(default_factory=DeviceHealth)

    def attach(self, emit: Emit) -> None:
        self.emit = emit

    def enable(self, denominations: list[Money]) -> None:
        self.enabled, self.denominations = True, list(denominations)
        self.commands.append("enable")

    def disable(self) -> None:
        self.enabled = False
        self.commands.append("disable")

    def stack(self) -> None:
        self.commands.append("stack")
        if self.auto:
            self.finish_stack()

    def return_bill(self) -> None:
        self.commands.append("return")
        if self.auto:
            self.finish_return()

    def cashbox_count(self) -> int | None:
        return len(self.cashbox) if self.counts else None

    def escrowed(self) -> Money | None:
        return self.escrow

    def wait_idle(self, timeout: float) -> bool:
        return True

    def health(self) -> DeviceHealth:
        return self.state

    # test controls: what the hardware does
    def insert(self, dollars: int) -> None:
        bill = Money(dollars * 100)
        if bill not in self.denominations or not self.enabled:
            self.emit(BillRejected("not accepted now"))
            return
        self.escrow = bill
        self.emit(BillEscrowed(bill))

    def insert_anyway(self, dollars: int) -> None:
        """A bill that arrives while the acceptor should be disabled (a race with disable)."""
        self.escrow = Money(dollars * 100)
        self.emit(BillEscrowed(self.escrow))

    def finish_stack(self, report: bool = True) -> None:
        assert self.escrow is not None, "nothing in escrow to stack"
        bill, self.escrow = self.escrow, None
        self.cashbox.append(bill)
        if report:
            self.emit(BillStacked(bill))

    def finish_return(self, report: bool = True) -> None:
        assert self.escrow is not None, "nothing in escrow to return"
        bill, self.escrow = self.escrow, None
        self.returned.append(bill)
        if report:
            self.emit(BillReturned(bill))

    def fault(self, reason: str) -> None:
        self.state = DeviceHealth(Health.FAULT, reason)
        self.emit(AcceptorFault(reason))


@dataclass
class FakeTerminal:
    """``next_outcome`` decides the next sale; ``None`` leaves it unanswered.

    ``approve_in_doubt``: an IN_DOUBT answer hides a sale the host did approve (the money is
    taken). ``status_blind``: the status query can not see the ledger and answers
    ``status_answer`` whatever happened. ``status_fails``: the status query raises.
    """

    next_outcome: CardOutcome | None = CardOutcome.APPROVED
    status_answer: CardOutcome = CardOutcome.IN_DOUBT
    reversal_works: bool = True
    approve_in_doubt: bool = False
    status_blind: bool = False
    status_fails: bool = False
    emit: Emit = _drop
    sales: list[tuple[str, Money]] = field(default_factory=list)
    approved: dict[str, Money] = field(default_factory=dict)
    reversed: list[str] = field(default_factory=list)
    aborts: int = 0
    settlements: list[Money] = field(default_factory=list)
    settled: set[str] = field(default_factory=set)
    status_queries: list[str] = field(default_factory=list)
    reversal_requests: list[str] = field(default_factory=list)
    state: DeviceHealth = field(default_factory=DeviceHealth)

    def attach(self, emit: Emit) -> None:
        self.emit = emit

    def start_sale(self, amount: Money, reference: str) -> None:
        self.sales.append((reference, amount))
        self.emit(CardProgress(reference, "insert_card"))
        if self.next_outcome is not None:
            self.answer(self.next_outcome)

    def answer(self, outcome: CardOutcome, reference: str | None = None) -> None:
        reference = reference or self.sales[-1][0]
        amount = dict(self.sales)[reference]
        if outcome is CardOutcome.APPROVED or (
            outcome is CardOutcome.IN_DOUBT
            and (self.approve_in_doubt or self.status_answer is CardOutcome.APPROVED)
        ):
            self.approved[reference] = amount
        if outcome is CardOutcome.APPROVED:
            self.emit(self.approval(reference))
        else:
            self.emit(CardResult(reference, outcome, reason=outcome.value))

    def approval(self, reference: str) -> CardResult:
        return CardResult(
            reference,
            CardOutcome.APPROVED,
            amount=self.approved[reference],
            auth_code="A1B2C3",
            brand="VISA",
            last4="4242",
            terminal_ref=f"T{len(self.approved):05d}",
            receipt_lines=("VISA ****4242", "APPROVED"),
        )

    def abort(self) -> None:
        self.aborts += 1

    def reverse(self, reference: str) -> bool:
        self.reversal_requests.append(reference)
        if not self.reversal_works:
            return False
        self.approved.pop(reference, None)
        self.reversed.append(reference)
        return True

    def end_of_day(self) -> CardSettlement:
        """Totals of the approvals since the last end of day (reversed ones are gone)."""
        fresh = {r: a for r, a in self.approved.items() if r not in self.settled}
        self.settled |= set(fresh)
        total = Money(sum(a.cents for a in fresh.values()))
        self.settlements.append(total)
        return CardSettlement(ok=True, total=total, count=len(fresh))

    def status(self, reference: str) -> CardResult:
        self.status_queries.append(reference)
        if self.status_fails:
            raise OSError("terminal does not answer")
        if reference in self.approved and not self.status_blind:
            return self.approval(reference)
        return CardResult(reference, self.status_answer)

    def health(self) -> DeviceHealth:
        return self.state


@dataclass
class FakePrinter:
    """``remembers=False``: a printer that can not tell recovery what it printed."""

    works: bool = True
    auto: bool = True
    remembers: bool = True
    emit: Emit = _drop
    printed: list[Printable] = field(default_factory=list)
    pending: list[Printable] = field(default_factory=list)
    state: DeviceHealth = field(default_factory=DeviceHealth)

    def attach(self, emit: Emit) -> None:
        self.emit = emit

    def print_receipt(self, receipt: Printable) -> None:
        self.pending.append(receipt)
        if self.auto:
            self.finish()

    def finish(self) -> None:
        receipt = self.pending.pop(0)
        if self.works:
            self.printed.append(receipt)
            self.emit(ReceiptDone(receipt.confirmation, printed=True))
        else:
            self.emit(ReceiptDone(receipt.confirmation, printed=False, reason="paper_out"))

    def was_printed(self, confirmation: str) -> bool | None:
        if not self.remembers:
            return None
        return any(r.confirmation == confirmation for r in self.printed)

    def health(self) -> DeviceHealth:
        return self.state


@dataclass
class FakeScanner:
    emit: Emit = _drop

    def attach(self, emit: Emit) -> None:
        self.emit = emit

    def scan(self, code: str) -> None:
        self.emit(Scanned(code))

    def health(self) -> DeviceHealth:
        return DeviceHealth()


def _cheap_hash(pin: str) -> str:
    """An argon2id hash made with small costs, so tests do not spend seconds hashing; the
    kiosk verifies it like any other (the costs travel inside the hash)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(pin)


#: technicians for tests of service mode: Dana (PIN 2468, badge TECH-0042), Lee (PIN 1357)
TECHNICIANS = (
    Technician(name="Dana Lopez", pin_hash=_cheap_hash("2468"), badge="TECH-0042"),
    Technician(name="Lee Chen", pin_hash=_cheap_hash("1357")),
)
WITH_TECHNICIANS = KioskConfig(service=Service(technicians=list(TECHNICIANS)))


def demo_account(number: str = "100200300", balance: str = "43.17") -> Account:
    return Account(
        number=number,
        name="Maria Gonzalez",
        service_address="1234 Oak St",
        balance=Money.parse(balance),
        due_date=date(2026, 11, 20),
        usage=tuple(UsageMonth(f"2026-{m:02d}", 3000 + 100 * m) for m in range(1, 13)),
    )


@dataclass
class FakeDirectory:
    """``source`` forces how a found account is reported (e.g. MANUAL: typed in offline)."""

    accounts: dict[str, Account] = field(default_factory=dict)
    is_online: bool = True
    source: LookupSource | None = None
    auto: bool = True
    emit: Emit = _drop
    requests: list[str] = field(default_factory=list)

    def attach(self, emit: Emit) -> None:
        self.emit = emit

    def lookup(self, number: str) -> None:
        self.requests.append(number)
        if self.auto:
            self.answer(number)

    def answer(self, number: str) -> None:
        account = self.accounts.get(number)
        if account is None:
            self.emit(AccountNotFound(number, "unknown"))
        else:
            source = self.source or (LookupSource.LIVE if self.is_online else LookupSource.CACHE)
            self.emit(AccountFound(number, account, source))

    def online(self) -> bool:
        return self.is_online


@dataclass
class FakePorts:
    acceptor: FakeAcceptor = field(default_factory=FakeAcceptor)
    terminal: FakeTerminal = field(default_factory=FakeTerminal)
    printer: FakePrinter = field(default_factory=FakePrinter)
    scanner: FakeScanner = field(default_factory=FakeScanner)
    directory: FakeDirectory = field(
        default_factory=lambda: FakeDirectory({"100200300": demo_account()})
    )

    def port_set(self) -> PortSet:
        return PortSet(self.acceptor, self.terminal, self.printer, self.scanner, self.directory)


class ControlledCalls:
    """The engine's device-call runner for tests: answers at once on the calling thread (the
    answer still comes through the engine's queue), or holds calls by name (``"status"``,
    ``"reverse"``, ``"cashbox_count"``...) until :meth:`release`, so a test can act while a
    slow call is under way. A held call runs when released, against the device as it is then.
    """

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver
        self.hold: set[str] = set()
        self.held: list[DeviceCall] = []
        self.started: list[str] = []

    def start(self, call: DeviceCall) -> None:
        self.started.append(call.name)
        if call.name in self.hold:
            self.held.append(call)
        else:
            self.deliver(answer(call))

    def release(self) -> int:
        held, self.held = self.held, []
        for call in held:
            self.deliver(answer(call))
        return len(held)

    def wait_idle(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        return None
