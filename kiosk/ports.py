"""The core's ports: what the engine needs from hardware, the hub and time.

Drivers in ``devices/`` and adapters in ``sync/`` implement these; tests use in-memory fakes.
Commands never block the engine thread: a port starts the action and later reports what the
device did by calling the ``emit`` function it was given in :meth:`attach`, which puts an
event on the engine's one input queue. Queries used by recovery (``cashbox_count``,
``status``) may block briefly; recovery runs before the engine takes payments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Protocol, runtime_checkable

from kiosk.money import Money


class Health(Enum):
    OK = "ok"
    DEGRADED = "degraded"
    FAULT = "fault"


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    state: Health = Health.OK
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.state is not Health.FAULT


# ----------------------------------------------------------------------------- events
# Everything a device, the hub lookup or the UI tells the engine is one of these.


@dataclass(frozen=True, slots=True)
class BillEscrowed:
    denomination: Money


@dataclass(frozen=True, slots=True)
class BillStacked:
    denomination: Money


@dataclass(frozen=True, slots=True)
class BillReturned:
    denomination: Money


@dataclass(frozen=True, slots=True)
class BillRejected:
    reason: str


@dataclass(frozen=True, slots=True)
class AcceptorFault:
    """Jam, cassette removed, disconnected: the acceptor can not go on."""

    reason: str


class CardOutcome(Enum):
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    IN_DOUBT = "in_doubt"


@dataclass(frozen=True, slots=True)
class CardProgress:
    """The terminal's prompt to the cardholder ("insert card", "enter PIN", "processing")."""

    reference: str
    message: str


@dataclass(frozen=True, slots=True)
class CardResult:
    """What a semi-integrated terminal may tell us: never a card number (DESIGN.md rule 4)."""

    reference: str
    outcome: CardOutcome
    amount: Money = field(default_factory=Money.zero)
    auth_code: str = ""
    brand: str = ""
    last4: str = ""
    terminal_ref: str = ""
    reason: str = ""
    receipt_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiptDone:
    confirmation: str
    printed: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Scanned:
    code: str


@dataclass(frozen=True, slots=True)
class UsageMonth:
    month: str  # "2026-10"
    gallons: int


@dataclass(frozen=True, slots=True)
class LastPaid:
    """The last payment the billing system recorded on an account (from any channel)."""

    amount: Money
    paid_on: date


@dataclass(frozen=True, slots=True)
class Charge:
    """One service's part of the current bill."""

    service: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Account:
    number: str
    name: str
    service_address: str
    balance: Money
    due_date: date | None
    status: str = "active"
    usage: tuple[UsageMonth, ...] = ()
    last_payment: LastPaid | None = None
    charges: tuple[Charge, ...] = ()


class LookupSource(Enum):
    LIVE = "live"
    CACHE = "cache"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class AccountFound:
    request: str
    account: Account
    source: LookupSource


@dataclass(frozen=True, slots=True)
class AccountNotFound:
    request: str
    reason: str  # "unknown", "invalid", "closed"


Emit = Callable[[object], None]


# ----------------------------------------------------------------------------- devices


class DeviceError(Exception):
    """The root of every error a device driver raises (a lost line, a device not answering).

    Declared here, beside the ports, so the core and the technician's tools can catch one
    class for any device without importing a driver; each driver's own errors subclass it.
    """


@runtime_checkable
class Device(Protocol):
    """The one shape every device driver has, whatever port it also implements (UnifiedPOS).

    ``open`` starts the driver (its threads, the port) and returns at once; ``wait_ready``
    blocks until the device has answered once, or ``timeout`` seconds pass. From ``open`` on,
    the driver reports its health as it changes through the one outlet ``attach`` connects,
    starting with what it finds at open (a printer out of paper at start-up is a
    :class:`DeviceFault` like a jam is), so nothing it saw before the engine attached is lost.
    ``close`` stops it; ``counters`` are for technicians (what moved, what failed).
    """

    def attach(self, emit: Emit) -> None: ...
    def open(self) -> None: ...
    def close(self) -> None: ...
    def wait_ready(self, timeout: float) -> bool: ...
    def health(self) -> DeviceHealth: ...
    def counters(self) -> dict[str, int]: ...


# ----------------------------------------------------------------------------- ports


class BillAcceptor(Protocol):
    def attach(self, emit: Emit) -> None: ...
    def enable(self, denominations: list[Money]) -> None: ...
    def disable(self) -> None: ...
    def stack(self) -> None:
        """Stack the bill in escrow; a :class:`BillStacked` (or fault) follows."""

    def return_bill(self) -> None:
        """Return the bill in escrow; a :class:`BillReturned` follows."""

    def cashbox_count(self) -> int | None:
        """Bills in the cash box now, or None for an acceptor that keeps no count.

        Counting is optional in the protocols (an MEI EBDS acceptor answers it, a Pyramid
        Apex or a JCM ID-003 does not), so a driver learns whether it can when it opens, and
        cash intake never waits on it. With a count, a stack intent carries the count from
        before it and a stack whose fate a fault or a crash hid is settled by comparing. With
        None, the journal's open stack intent and what the acceptor holds decide: a note
        still in escrow (reported so after a power-up too) was not stacked, and a note the
        acceptor was told to stack and no longer holds was. Raises
        :class:`DeviceError` when an acceptor that does count can not answer now.
        """

    def escrowed(self) -> Money | None:
        """The bill held in escrow now, if any."""

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no note is moving; True if it got there within ``timeout`` seconds."""

    def health(self) -> DeviceHealth: ...


@dataclass(frozen=True, slots=True)
class CardBrandTotal:
    brand: str
    count: int
    amount: Money


@dataclass(frozen=True, slots=True)
class CardSettlement:
    """The terminal's end of day: what it will settle, to set beside the kiosk's own totals."""

    ok: bool
    total: Money = field(default_factory=Money.zero)
    count: int | None = None
    """Transactions in the batch when the terminal gives totals per group, else None."""
    by_brand: tuple[CardBrandTotal, ...] = ()
    trace: int | None = None
    receipt_lines: tuple[str, ...] = ()
    reason: str = ""


class CardTerminal(Protocol):
    def attach(self, emit: Emit) -> None: ...
    def start_sale(self, amount: Money, reference: str) -> None:
        """Begin a sale; :class:`CardProgress` events then one :class:`CardResult` follow."""

    def abort(self) -> None: ...
    def reverse(self, reference: str) -> bool:
        """Reverse (void) a sale; True when the terminal confirms it."""

    def status(self, reference: str) -> CardResult:
        """What became of ``reference``: IN_DOUBT when even the terminal does not know."""

    def end_of_day(self) -> CardSettlement:
        """Close the terminal's day (blocks): run at the batch close, when the kiosk is idle."""

    def health(self) -> DeviceHealth: ...


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    """What a receipt says; the printer driver decides how it looks."""

    city: str
    location: str
    kiosk_id: str
    paid_at_local: datetime
    language: str
    account_masked: str
    service_address_masked: str
    amount: Money
    method: str
    fee: Money
    total_charged: Money
    cash_by_denomination: tuple[tuple[Money, int], ...]
    card_brand: str
    card_last4: str
    card_auth_code: str
    balance_after: Money
    confirmation: str
    offline: bool
    review: bool
    terminal_lines: tuple[str, ...] = field(default=())
    lookup_link: str = ""
    """What the QR code holds: a link a phone opens to the payment; "" for the confirmation
    number alone."""
    contact_phone: str = ""
    contact_web: str = ""
    contact_address: str = ""


@dataclass(frozen=True, slots=True)
class CollectionSlip:
    """What a cash-box collection slip says: the paper a technician signs and puts in the bag.

    Finance matches the counted bag against it, so it carries the kiosk's own count per
    denomination, the journal range the batch covers and the card terminal's end-of-day total
    beside the kiosk's. The printer answers a slip like a receipt, with a :class:`ReceiptDone`
    whose ``confirmation`` is :attr:`confirmation` (the slip's document id).
    """

    city: str
    location: str
    kiosk_id: str
    language: str
    slip_number: int
    batch_id: str
    collected_at_local: datetime
    previous_collected_at_local: datetime | None
    technician: str
    cashbox_id: str
    seal_number: str
    bills: tuple[tuple[Money, int], ...]  # (denomination, count), ascending
    rejected_bills: int
    payments: int
    first_seq: int
    last_seq: int
    card_count: int
    card_total: Money
    terminal_ok: bool  # the terminal answered its end of day
    terminal_count: int | None  # None: the terminal gives a total without a count
    terminal_total: Money
    software_version: str
    copy: bool = False  # a reprint: marked as a copy

    @property
    def confirmation(self) -> str:
        return f"SLIP-{self.kiosk_id}-{self.slip_number:05d}"

    @property
    def cash_total(self) -> Money:
        return Money(sum(d.cents * n for d, n in self.bills))

    @property
    def card_agreed(self) -> bool:
        return (
            self.terminal_ok
            and self.terminal_total == self.card_total
            and self.terminal_count in (None, self.card_count)
        )


Printable = ReceiptContent | CollectionSlip


class ReceiptPrinter(Protocol):
    def attach(self, emit: Emit) -> None: ...
    def print_receipt(self, receipt: Printable) -> None:
        """Print a receipt or a collection slip; a :class:`ReceiptDone` follows, named by its
        ``confirmation``."""

    def was_printed(self, confirmation: str) -> bool | None:
        """For recovery: True/False when the printer can tell, None when it can not."""

    def health(self) -> DeviceHealth: ...


class Scanner(Protocol):
    def attach(self, emit: Emit) -> None: ...
    def health(self) -> DeviceHealth: ...


class AccountDirectory(Protocol):
    def attach(self, emit: Emit) -> None: ...
    def lookup(self, number: str) -> None:
        """Find an account; an :class:`AccountFound` or :class:`AccountNotFound` follows."""

    def online(self) -> bool: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC: for the journal and receipts."""

    def monotonic(self) -> float:
        """Seconds that never go back: for time-outs."""


@dataclass(frozen=True, slots=True)
class DeviceFault:
    """A device other than the acceptor reports a fault (for the journal and the hub)."""

    device: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeviceNotice:
    """Something a technician or finance should find in the journal, not a fault.

    ``kind`` examples: ``power_up_with_bill_in_escrow``, ``cassette_removed``,
    ``cassette_replaced``, ``paper_low``, ``reconnected``.
    """

    device: str
    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DeviceRecovered:
    """A device that reported a fault (:class:`DeviceFault` or :class:`AcceptorFault`) is
    usable again: the hub closes that device's alert on it, so it follows every fault once."""

    device: str


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """The hub link as a technician sees it on the service screen."""

    enrolled: bool
    online: bool = False
    last_contact: datetime | None = None
    waiting: int = 0  # journal entries the hub has not acknowledged
    problem: str = ""  # the last error, or a stop that needs a person


class HubLink(Protocol):
    """The kiosk's replication to the hub, for service mode: how it stands, and "push now"."""

    def status(self) -> LinkStatus: ...
    def push_now(self) -> None: ...


class NoHub:
    """A kiosk that is not enrolled: nothing to push, nothing waits."""

    def status(self) -> LinkStatus:
        return LinkStatus(enrolled=False)

    def push_now(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class PortSet:
    """Everything the engine drives, assembled by the composition root."""

    acceptor: BillAcceptor
    terminal: CardTerminal
    printer: ReceiptPrinter
    scanner: Scanner
    directory: AccountDirectory
    link: HubLink = field(default_factory=NoHub)
