"""What observers (the screens, the demo script, tests) see of the engine.

A snapshot is immutable and complete: a screen renders from it alone and never reaches into
the engine, so the engine thread stays the one writer of payment state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import UsageMonth


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
    max_cash: Money = field(default_factory=Money.zero)
    accepted_bills: tuple[Money, ...] = ()  # the denominations the acceptor takes, ascending
    inserted: Money = field(default_factory=Money.zero)
    bills: tuple[Money, ...] = ()
    bill_in_escrow: bool = False
    card_prompt: str = ""
    card_decline_reason: str = ""
    confirmation: str | None = None
    receipt: str | None = None  # "printing" | "printed" | "failed"
    offline: bool = False
    seconds_left: float | None = None
    out_of_service_reason: str = ""
    version: int = 0  # grows by one per published snapshot
