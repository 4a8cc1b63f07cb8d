"""What observers (the screens, the demo script, tests) see of the engine.

A snapshot is immutable and complete: a screen renders from it alone and never reaches into
the engine, so the engine thread stays the one writer of payment state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import Charge, LastPaid, LinkStatus, UsageMonth


@dataclass(frozen=True, slots=True)
class AccountView:
    number_masked: str
    name_masked: str
    address_masked: str
    balance: Money
    due_date: date | None
    usage: tuple[UsageMonth, ...]
    source: str
    review: bool
    past_due: bool = False  # a balance still due after its due date (the kiosk's local day)
    last_payment: LastPaid | None = None  # as the billing system recorded it, if it says
    charges: tuple[Charge, ...] = ()  # the current bill by service, if the billing system says


@dataclass(frozen=True, slots=True)
class ContactView:
    """How a resident reaches the city (the kiosk's ``[contact]`` settings)."""

    phone: str = ""
    address: str = ""
    web: str = ""


@dataclass(frozen=True, slots=True)
class DeviceView:
    """One device on the technician's status page."""

    name: str  # the config's name: bill_acceptor, card_terminal, receipt_printer, barcode_scanner
    state: str  # ok | degraded | fault
    reason: str
    last_fault: str  # the last fault journaled since the kiosk started, "" for none
    counters: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class TestResult:
    """What one service-mode test showed: ``status`` running | passed | failed | waiting."""

    test: str  # print | bill | scanner | terminal
    status: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class UnprintedReceipt:
    confirmation: str
    paid_at_local: datetime
    amount: Money
    print_state: str = ""  # "" (not asked again) | printing | printed | failed


@dataclass(frozen=True, slots=True)
class CollectionView:
    """Where a cash-box collection stands: ``step`` box_out | seal | box_in | closing | done."""

    step: str
    box_reported_out: bool = False
    seal_number: str = ""
    slip_number: int = 0
    cash_total: Money = field(default_factory=Money.zero)
    bill_count: int = 0
    card_count: int = 0
    card_total: Money = field(default_factory=Money.zero)
    terminal_ok: bool | None = None
    terminal_total: Money | None = None
    agreed: bool | None = None
    slip: str | None = None  # printing | printed | failed
    slip_reason: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    state: State
    language: str
    session_id: str | None = None
    interrupted: State | None = None  # what "Are you still there?" interrupted
    message: str = ""  # a message key the screen translates, "" for none
    lookup_pending: bool = False
    bill_amount: Money | None = None  # the amount due on a scanned bill stub
    account: AccountView | None = None
    amount: Money | None = None
    min_amount: Money = field(default_factory=Money.zero)
    max_amount: Money = field(default_factory=Money.zero)
    method: str | None = None
    card_fee: Money = field(default_factory=Money.zero)
    cash_available: bool = True
    card_available: bool = True
    printer_available: bool = True  # False: a confirmation number on screen, no paper receipt
    max_cash: Money = field(default_factory=Money.zero)
    accepted_bills: tuple[Money, ...] = ()  # the denominations the acceptor takes, ascending
    inserted: Money = field(default_factory=Money.zero)
    bills: tuple[Money, ...] = ()
    bill_in_escrow: bool = False
    card_prompt: str = ""
    card_decline_reason: str = ""
    confirmation: str | None = None
    confirmation_link: str = ""  # what the QR code holds: a link to the payment, or the number
    receipt: str | None = None  # "printing" | "printed" | "failed"
    offline: bool = False
    seconds_left: float | None = None
    out_of_service_reason: str = ""
    contact: ContactView = field(default_factory=ContactView)
    version: int = 0  # grows by one per published snapshot
    # service mode (a technician at the touchscreen)
    technician: str = ""
    service_message: str = ""  # a message key the service screens translate
    locked_until: datetime | None = None  # PIN entry locked until then (local time)
    pin_attempts_left: int | None = None
    devices: tuple[DeviceView, ...] = ()
    link: LinkStatus | None = None
    tests: tuple[TestResult, ...] = ()
    unprinted: tuple[UnprintedReceipt, ...] = ()
    collection: CollectionView | None = None
    last_slip: int | None = None  # the number of the slip that can be printed again
