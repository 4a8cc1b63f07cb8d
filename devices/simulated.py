"""Simulated devices whose state lives in small files, like the hardware's own memory.

A real bill acceptor still holds its cash box after the kiosk's computer loses power, and a
payment terminal still knows what it approved. These stand-ins keep that state in JSON files
(written atomically and fsync'ed *before* they report anything), so a kiosk process killed at
any point can be restarted and recovery can ask them what really happened, and the crash test
can compare the journal with the hardware's truth. They answer synchronously on the caller's
thread, through the same :class:`~devices.outlet.EventOutlet` every driver has, and have the
same :class:`~kiosk.ports.Device` shape: ``open`` reports the health they start with (the
printer's paper may have run out before the kiosk started), ``close``, ``wait_ready``,
``health`` and ``counters``.

The device emulators that speak each real protocol on a pseudo-terminal replace these for the
drivers' own tests and for the demo; these remain the simplest ports for scripted runs.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from devices.health import CLOSED, HealthReport
from devices.outlet import EventOutlet
from kiosk import crashpoints
from kiosk.money import Money
from kiosk.ports import (
    Account,
    AccountFound,
    AccountNotFound,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    CardBrandTotal,
    CardOutcome,
    CardProgress,
    CardResult,
    CardSettlement,
    Charge,
    DeviceHealth,
    Emit,
    Health,
    LastPaid,
    LookupSource,
    Printable,
    ReceiptDone,
    Scanned,
    UsageMonth,
)


def _drop(_event: object) -> None:
    return None


class _HasStateFile(Protocol):
    file: StateFile


P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D", bound=_HasStateFile)


def _locked(method: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """Run a read-modify-write of the device's state as one step."""

    def run(self: D, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.file.lock:
            return method(self, *args, **kwargs)

    run.__name__, run.__doc__ = method.__name__, method.__doc__
    return run


class StateFile:
    """A JSON document replaced atomically (write, fsync, rename, fsync the directory)."""

    def __init__(self, path: Path, initial: dict[str, Any]) -> None:
        self.path = path
        self.lock = threading.RLock()  # the control surface and the engine call from two threads
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            self.save(initial)

    def load(self) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def save(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class _StandIn:
    """The :class:`~kiosk.ports.Device` life cycle of a device with no port and no thread."""

    device = "device"

    def __init__(self) -> None:
        self._outlet = EventOutlet(self.device)
        self._health = HealthReport(self._outlet)
        self._open = False

    def attach(self, emit: Emit) -> None:
        self._outlet.attach(emit)

    def emit(self, event: object) -> None:
        self._outlet.send(event)

    def open(self) -> None:
        self._open = True
        self._health.opened()
        self._health.set(self._seen())

    def close(self) -> None:
        self._open = False
        self._health.closed()

    def wait_ready(self, timeout: float) -> bool:
        return self._open

    def health(self) -> DeviceHealth:
        return self._seen() if self._open else CLOSED

    def _seen(self) -> DeviceHealth:
        """The health the stand-in's state shows now."""
        return DeviceHealth()

    def _changed(self) -> None:
        """Report a change of health the control surface made (paper out, paper in)."""
        if self._open:
            self._health.set(self._seen())

    def counters(self) -> dict[str, int]:
        return {}


class SimulatedAcceptor(_StandIn):
    """Escrow, stack and return with a persistent cash box (bills by denomination).

    ``counts`` in its state says whether it answers a cash box count, as an MEI acceptor
    does, or keeps none, as a Pyramid Apex or a JCM does (the port then answers None): the
    crash tests run both ways. A state file written before the first start decides it.
    """

    device = "bill_acceptor"

    def __init__(self, state_path: Path, *, counts: bool = True) -> None:
        super().__init__()
        initial: dict[str, Any] = {"escrow": None, "cashbox": [], "enabled": [], "counts": counts}
        self.file = StateFile(state_path, initial)

    @_locked
    def enable(self, denominations: list[Money]) -> None:
        state = self.file.load()
        state["enabled"] = [d.cents for d in denominations]
        self.file.save(state)

    @_locked
    def disable(self) -> None:
        state = self.file.load()
        state["enabled"] = []
        self.file.save(state)

    @_locked
    def insert(self, denomination: Money) -> None:
        """The resident pushes a bill in (control surface)."""
        state = self.file.load()
        if state["escrow"] is not None or denomination.cents not in state["enabled"]:
            self.emit(BillRejected("not accepted now"))
            return
        state["escrow"] = denomination.cents
        self.file.save(state)
        self.emit(BillEscrowed(denomination))

    @_locked
    def stack(self) -> None:
        state = self.file.load()
        if state["escrow"] is None:
            return
        bill = state["escrow"]
        state["escrow"] = None
        state["cashbox"].append(bill)
        self.file.save(state)
        crashpoints.hit("device.acceptor.after_stack_persisted")
        self.emit(BillStacked(Money(bill)))

    @_locked
    def return_bill(self) -> None:
        state = self.file.load()
        if state["escrow"] is None:
            return
        bill = state["escrow"]
        state["escrow"] = None
        self.file.save(state)
        self.emit(BillReturned(Money(bill)))

    def cashbox_count(self) -> int | None:
        state = self.file.load()
        return len(state["cashbox"]) if state.get("counts", True) else None

    def wait_idle(self, timeout: float) -> bool:
        return True  # a simulated stack is finished when stack() returns

    def cashbox(self) -> list[Money]:
        return [Money(c) for c in self.file.load()["cashbox"]]

    def escrowed(self) -> Money | None:
        bill = self.file.load()["escrow"]
        return None if bill is None else Money(bill)

    def counters(self) -> dict[str, int]:
        return {"cashbox": len(self.file.load()["cashbox"])}


class SimulatedTerminal(_StandIn):
    """A terminal with a persistent ledger and a test card chosen before each sale.

    Test cards: ``approve``, ``decline``, ``in_doubt`` (approves, then the answer is lost),
    ``unknown`` (the terminal itself can not say; the kiosk must reverse).
    """

    device = "card_terminal"

    def __init__(self, state_path: Path) -> None:
        super().__init__()
        self.file = StateFile(state_path, {"ledger": {}, "card": "approve", "sequence": 0})

    @_locked
    def present(self, card: str) -> None:
        state = self.file.load()
        state["card"] = card
        self.file.save(state)

    @_locked
    def start_sale(self, amount: Money, reference: str) -> None:
        state = self.file.load()
        card = state["card"]
        self.emit(CardProgress(reference, "insert_card"))
        self.emit(CardProgress(reference, "processing"))
        if card == "decline":
            state["ledger"][reference] = {"amount": amount.cents, "status": "declined"}
            self.file.save(state)
            self.emit(CardResult(reference, CardOutcome.DECLINED, reason="declined_by_issuer"))
            return
        if card == "unknown":
            state["ledger"][reference] = {"amount": amount.cents, "status": "unknown"}
            self.file.save(state)
            self.emit(CardResult(reference, CardOutcome.IN_DOUBT))
            return
        state["sequence"] += 1
        state["ledger"][reference] = {
            "amount": amount.cents,
            "status": "approved",
            "trace": state["sequence"],
        }
        self.file.save(state)
        crashpoints.hit("device.terminal.after_approval_persisted")
        if card == "in_doubt":
            self.emit(CardResult(reference, CardOutcome.IN_DOUBT))
        else:
            self.emit(self._approval(reference, state["ledger"][reference]))

    @staticmethod
    def _approval(reference: str, row: dict[str, Any]) -> CardResult:
        trace = int(row.get("trace", 0))
        return CardResult(
            reference,
            CardOutcome.APPROVED,
            amount=Money(int(row["amount"])),
            auth_code=f"{(trace * 7919) % 1_000_000:06d}",
            brand="VISA",
            last4="0119",
            terminal_ref=f"{trace:06d}",
            receipt_lines=("VISA ************0119", "APPROVED"),
        )

    def abort(self) -> None:
        return None

    @_locked
    def reverse(self, reference: str) -> bool:
        state = self.file.load()
        row = state["ledger"].get(reference)
        if row is None or row["status"] in {"approved", "unknown"}:
            state["ledger"][reference] = {**(row or {"amount": 0}), "status": "reversed"}
            self.file.save(state)
        return True

    def status(self, reference: str) -> CardResult:
        row = self.file.load()["ledger"].get(reference)
        if row is None:
            return CardResult(reference, CardOutcome.DECLINED, reason="no such transaction")
        if row["status"] == "approved":
            return self._approval(reference, row)
        if row["status"] == "declined":
            return CardResult(reference, CardOutcome.DECLINED, reason="declined_by_issuer")
        if row["status"] == "reversed":
            return CardResult(reference, CardOutcome.CANCELLED, reason="reversed")
        return CardResult(reference, CardOutcome.IN_DOUBT)

    @_locked
    def end_of_day(self) -> CardSettlement:
        """Totals of what is approved and not yet settled; settling starts a new day."""
        state = self.file.load()
        open_rows = [
            row
            for row in state["ledger"].values()
            if row["status"] == "approved" and not row.get("settled")
        ]
        for row in open_rows:
            row["settled"] = True
        self.file.save(state)
        crashpoints.hit("device.terminal.after_end_of_day_persisted")
        total = Money(sum(int(row["amount"]) for row in open_rows))
        by_brand = (CardBrandTotal("VISA", len(open_rows), total),) if open_rows else ()
        return CardSettlement(ok=True, total=total, count=len(open_rows), by_brand=by_brand)

    def ledger(self) -> dict[str, dict[str, Any]]:
        ledger: dict[str, dict[str, Any]] = self.file.load()["ledger"]
        return ledger

    def counters(self) -> dict[str, int]:
        return {"sales": len(self.ledger())}


class SimulatedPrinter(_StandIn):
    """Prints receipts and slips as text and remembers which confirmations came out."""

    device = "receipt_printer"

    def __init__(
        self, state_path: Path, render: Callable[[Printable], Iterable[str]] | None = None
    ) -> None:
        super().__init__()
        self.file = StateFile(state_path, {"printed": [], "paper": True})
        self.render = render
        self.last_text: list[str] = []

    @_locked
    def set_paper(self, present: bool) -> None:
        state = self.file.load()
        state["paper"] = present
        self.file.save(state)
        self._changed()

    @_locked
    def print_receipt(self, receipt: Printable) -> None:
        state = self.file.load()
        if not state["paper"]:
            self.emit(ReceiptDone(receipt.confirmation, printed=False, reason="paper_out"))
            return
        if self.render is not None:
            self.last_text = list(self.render(receipt))
        state["printed"].append(receipt.confirmation)
        self.file.save(state)
        self.emit(ReceiptDone(receipt.confirmation, printed=True))

    def was_printed(self, confirmation: str) -> bool | None:
        return confirmation in self.file.load()["printed"]

    def printed(self) -> list[str]:
        printed: list[str] = self.file.load()["printed"]
        return printed

    def _seen(self) -> DeviceHealth:
        if not self.file.load()["paper"]:
            return DeviceHealth(Health.FAULT, "paper_out")
        return DeviceHealth()

    def counters(self) -> dict[str, int]:
        return {"printed": len(self.printed())}


class SimulatedScanner(_StandIn):
    device = "scanner"

    def __init__(self) -> None:
        super().__init__()
        self._scanned = 0

    def scan(self, code: str) -> None:
        self._scanned += 1
        self.emit(Scanned(code))

    def counters(self) -> dict[str, int]:
        return {"codes_read": self._scanned}


def _usage(base: int) -> tuple[UsageMonth, ...]:
    months = [f"2025-{m:02d}" for m in (12,)] + [f"2026-{m:02d}" for m in range(1, 12)]
    return tuple(UsageMonth(m, base + (i % 6) * 350) for i, m in enumerate(months))


def _bill(water: int, sewer: int, trash: int) -> tuple[Charge, ...]:
    return tuple(
        Charge(service, Money(cents))
        for service, cents in (("Water", water), ("Sewer", sewer), ("Trash", trash))
    )


#: the same accounts as the demo hub's (hub/demo.py), bills and last payments included
DEMO_ACCOUNTS: tuple[Account, ...] = (
    Account(
        "100200302",
        "Maria Gonzalez",
        "1234 Oak St",
        Money(4317),
        date(2026, 12, 5),
        usage=_usage(3100),
        last_payment=LastPaid(Money(3890), date(2026, 11, 4)),
        charges=_bill(2910, 1107, 300),
    ),
    Account(
        "100200419",
        "James Carter",
        "88 Riverside Dr",
        Money(12950),
        date(2026, 12, 1),
        usage=_usage(5200),
        last_payment=LastPaid(Money(11200), date(2026, 10, 30)),
        charges=_bill(8420, 3630, 900),
    ),
    Account(
        "100200526",
        "Linh Nguyen",
        "405 Elm Ave Apt 3",
        Money(2875),
        date(2026, 11, 28),
        usage=_usage(2100),
        last_payment=LastPaid(Money(2875), date(2026, 10, 27)),
        charges=_bill(1800, 775, 300),
    ),
)


@dataclass
class SimulatedDirectory:
    """Demo accounts in memory; the hub's live lookup and cache replace it."""

    accounts: dict[str, Account] = field(
        default_factory=lambda: {a.number: a for a in DEMO_ACCOUNTS}
    )
    is_online: bool = True
    emit: Emit = _drop

    def attach(self, emit: Emit) -> None:
        self.emit = emit

    def lookup(self, number: str) -> None:
        account = self.accounts.get(number)
        if account is None:
            self.emit(AccountNotFound(number, "unknown"))
            return
        source = LookupSource.LIVE if self.is_online else LookupSource.CACHE
        self.emit(AccountFound(number, account, source))

    def online(self) -> bool:
        return self.is_online
