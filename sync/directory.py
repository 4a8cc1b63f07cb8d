"""The account directory the engine uses (:class:`kiosk.ports.AccountDirectory`), backed
by the hub, its cache on the kiosk, and manual entry as the last resort.

Why this order (DESIGN.md, "Offline behaviour"): the hub's answer is the truth, so it is
asked first, with a short time-out (``[timeouts] account_lookup``, 3 s) because a resident is
waiting. If the hub can not answer, the cached copy is nearly as good (it may be a few
minutes old). If the account is not cached either, the number alone is accepted when it is
well formed and its check digit is right: the resident confirms it, and the payment is
flagged for review (``LookupSource.MANUAL``); a resident is never turned away because the
network is down. A number that fails its format or check digit is refused at once, without
asking anyone: it is a typo, and a typo must not become a payment to someone else.

``lookup`` never blocks the engine: the work runs on a small thread pool of its own, and
the answer comes back through ``emit`` like any device event. ``request`` in the answer is
the number exactly as the engine asked, which is how it matches answers to its session.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from contract import wire
from kiosk.bill_stub import luhn_valid
from kiosk.money import Money
from kiosk.ports import (
    Account,
    AccountFound,
    AccountNotFound,
    Charge,
    Emit,
    LastPaid,
    LookupSource,
    UsageMonth,
)
from sync.account_cache import AccountCache, CacheError
from sync.client import HubClient, HubRefused, HubUnavailable

log = logging.getLogger(__name__)

#: what the hub accepts in a path at all; anything else is not worth a request
_PLAUSIBLE = re.compile(r"[A-Za-z0-9-]{1,64}")
DEFAULT_ACCOUNT_FORMAT = r"\d{9}"

LookupAnswer = AccountFound | AccountNotFound


def _drop(_event: object) -> None:
    """Before ``attach``, answers go nowhere (there is no engine to tell)."""


class HubDirectory:
    """Live lookups at the hub, then the cache, then manual entry; see the module doc."""

    def __init__(
        self,
        client: HubClient,
        cache: AccountCache | None,
        *,
        timeout_s: float = 3.0,
        account_format: str = DEFAULT_ACCOUNT_FORMAT,
        account_check: Literal["luhn", "none"] = "luhn",
        skip_live_for_s: float = 10.0,
        workers: int = 2,
    ) -> None:
        self.client = client
        self.cache = cache
        self.timeout_s = timeout_s
        self.format = re.compile(account_format, re.ASCII)
        self.account_check = account_check
        self.skip_live_for_s = skip_live_for_s
        self._emit: Emit = _drop
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="account-lookup")

    # ------------------------------------------------------------- the port

    def attach(self, emit: Emit) -> None:
        self._emit = emit

    def lookup(self, number: str) -> None:
        """Start a lookup; an :class:`AccountFound` or :class:`AccountNotFound` follows."""
        try:
            self._pool.submit(self._answer, number)
        except RuntimeError:  # shut down: the kiosk is closing
            log.warning("account lookup after the directory was closed")

    def online(self) -> bool:
        return self.client.connectivity.online()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------- the work

    def _answer(self, number: str) -> None:
        try:
            answer = self.find(number)
        except Exception:  # the engine must hear back, whatever happened here
            log.exception("account lookup for a number failed")
            answer = self._manual_or_invalid(number, number.strip())
        self._emit(answer)

    def find(self, number: str) -> LookupAnswer:
        """The whole decision, synchronously (the pool runs it; tests call it directly)."""
        text = number.strip()
        if not self.well_formed(text):
            return AccountNotFound(number, "invalid")
        if self._live_worth_trying():
            try:
                account = self.client.account(
                    text, timeout=(min(1.0, self.timeout_s), self.timeout_s)
                )
            except HubUnavailable as exc:
                log.info("live account lookup failed, using the cache: %s", exc)
            except HubRefused as exc:  # a signature or clock problem: lookups can't use the hub
                log.warning("the hub refused an account lookup: %s", exc)
            else:
                if account is None:
                    return AccountNotFound(number, "unknown")
                return self._found(number, account, LookupSource.LIVE)
        cached = self._cached(text)
        if cached is not None:
            return self._found(number, cached, LookupSource.CACHE)
        return self._manual_or_invalid(number, text)

    def well_formed(self, text: str) -> bool:
        """Format and check digit, as configured; what a manual entry must pass."""
        if not _PLAUSIBLE.fullmatch(text) or not self.format.fullmatch(text):
            return False
        return self.account_check == "none" or luhn_valid(text)

    def _live_worth_trying(self) -> bool:
        """Skip the live call for a few seconds after one failed, so a resident does not
        wait out a time-out on every lookup while the hub is known to be away."""
        failing = self.client.connectivity.failing_for()
        return failing is None or failing >= self.skip_live_for_s

    def _cached(self, text: str) -> wire.Account | None:
        if self.cache is None:
            return None
        try:
            return self.cache.lookup(text)
        except (CacheError, ValueError) as exc:
            log.warning("account cache unusable: %s", exc)
            return None

    def _manual_or_invalid(self, number: str, text: str) -> LookupAnswer:
        if not self.well_formed(text):
            return AccountNotFound(number, "invalid")
        manual = Account(number=text, name="", service_address="", balance=Money(0), due_date=None)
        return AccountFound(number, manual, LookupSource.MANUAL)

    @staticmethod
    def _found(number: str, account: wire.Account, source: LookupSource) -> LookupAnswer:
        if account.status == "closed":
            return AccountNotFound(number, "closed")
        return AccountFound(number, to_port_account(account), source)


def to_port_account(account: wire.Account) -> Account:
    """The hub's account as the engine's value type (cents become :class:`Money`)."""
    return Account(
        number=account.number,
        name=account.name,
        service_address=account.service_address,
        balance=Money(account.balance_cents),
        due_date=account.due_date,
        status=account.status,
        usage=tuple(UsageMonth(u.month, u.gallons) for u in account.usage),
        last_payment=(
            None
            if account.last_payment is None
            else LastPaid(Money(account.last_payment.amount_cents), account.last_payment.paid_on)
        ),
        charges=tuple(Charge(c.service, Money(c.amount_cents)) for c in account.charges),
    )
