"""Everything that crosses the wire between a kiosk and the hub, as pydantic models.

This module is the whole contract (DESIGN.md: the hub shares only the wire schemas with the
kiosk), so the hub imports the journal's hash chain from here rather than from ``kiosk``.

Rules the models enforce:

- Amounts are integer cents, validated strictly: ``1.0`` or ``"100"`` is refused rather than
  silently turned into money. There is no float anywhere in these schemas.
- Requests the hub receives forbid unknown fields, so a typo is a 422 naming the field and
  not an ignored value. Responses the kiosk receives ignore unknown fields, so a newer hub can
  add one without breaking older kiosks in the field.
- A journal entry travels exactly as the kiosk hashed it: ``at`` is the stored text, not a
  parsed time, because the hub recomputes the hash over that very text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contract.chain import GENESIS, canonical_json, entry_hash
from contract.payloads import PayloadError, parse
from contract.pins import ARGON2_HASH

__all__ = [
    "ACCOUNT_NUMBER_PATTERN",
    "AT_FORMAT",
    "GENESIS",
    "LONE_SURROGATE",
    "MAX_GALLONS",
    "MAX_PUSH_ENTRIES",
    "MAX_TECHNICIANS",
    "Account",
    "AccountDelta",
    "AccountSnapshot",
    "AckResponse",
    "Conflict",
    "ConflictKind",
    "EnrollRequest",
    "EnrollResponse",
    "ErrorBody",
    "ErrorDetail",
    "Health",
    "KioskHardware",
    "KioskSettings",
    "PushRequest",
    "PushResponse",
    "UsageMonth",
    "WireCardFee",
    "WireEntry",
    "WireLimits",
    "WireTechnician",
    "canonical_json",
    "entry_hash",
    "format_at",
]

#: most entries one push may carry; a backlog drains in batches of this size
MAX_PUSH_ENTRIES: Final = 500
#: the journal's ``at`` text (kiosk.store.journal.format_at): fixed width, UTC, microseconds
AT_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
#: a payload nested deeper than this is refused before anything recurses over it
MAX_PAYLOAD_DEPTH: Final = 32
#: most gallons one month of an account's usage may show
MAX_GALLONS: Final = 100_000_000
#: most technicians one kiosk's settings may carry (the kiosk config's own bound)
MAX_TECHNICIANS: Final = 200

Cents = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
SignedCents = Annotated[int, Field(strict=True, ge=-100_000_000, le=100_000_000)]
Seq = Annotated[int, Field(strict=True, ge=1, le=2**62)]
SeqOrZero = Annotated[int, Field(strict=True, ge=0, le=2**62)]
Version = Annotated[int, Field(strict=True, ge=0, le=2**62)]
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
KioskId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
#: what an account number is, wherever it travels (lookups, the catalog, payments)
ACCOUNT_NUMBER_PATTERN: Final = r"^[A-Za-z0-9-]{1,64}$"
AccountNumber = Annotated[str, Field(pattern=ACCOUNT_NUMBER_PATTERN)]
Language = Literal["en", "es"]
AccountStatus = Literal["active", "inactive", "closed"]
ConflictKind = Literal["gap", "hash_mismatch", "chain_break", "bad_hash"]
Text = Annotated[str, Field(max_length=500)]


def format_at(moment: datetime) -> str:
    """A journal time as the kiosk stores and hashes it; naive times are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a journal time must carry a time zone")
    return moment.astimezone(UTC).strftime(AT_FORMAT)


class _Request(BaseModel):
    """A body the hub receives: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    """A body the kiosk receives: unknown fields are ignored (newer hubs may add some)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# ------------------------------------------------------------------------- enrollment


class KioskHardware(_Request):
    """What the kiosk says about itself when it enrolls; kept for technicians, never trusted."""

    hostname: Annotated[str, Field(min_length=1, max_length=255)]
    machine: Annotated[str, Field(max_length=64)] = ""
    system: Annotated[str, Field(max_length=255)] = ""
    software_version: Annotated[str, Field(max_length=64)] = ""
    serial_number: Annotated[str, Field(max_length=128)] = ""


class EnrollRequest(_Request):
    """The one-time code a technician got from ``kiosk-hub create-kiosk``."""

    code: Annotated[str, Field(min_length=1, max_length=64)]
    hardware: KioskHardware


class EnrollResponse(_Response):
    """The kiosk's identity and signing secret; the secret is shown only this once.

    ``hub_time`` lets the kiosk see at once whether its clock is off by more than the
    signature's skew limit.
    """

    kiosk_id: KioskId
    location: str
    secret: str
    hub_time: datetime


# ------------------------------------------------------------------------ the journal


class _HasEntryFields(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


#: why a lone surrogate is refused, for the messages that name one
LONE_SURROGATE: Final = "which UTF-8 can not carry (an unpaired \\ud800-\\udfff escape)"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_plain(payload: Mapping[str, Any]) -> None:
    """Refuse what the kiosk's journal refuses (floats, non-text keys) and absurd nesting.

    Iterative, so a hostile payload can not exhaust the stack before it is refused.
    """
    stack: list[tuple[Any, str, int]] = [(payload, "payload", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            raise ValueError(f"{path} is nested more than {MAX_PAYLOAD_DEPTH} levels deep")
        if isinstance(value, float):
            raise ValueError(f"{path} is a float ({value!r}); amounts are integer cents")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(f"{path} contains a NUL character")
        if isinstance(value, str) and _SURROGATE.search(value):
            raise ValueError(f"{path} holds a lone surrogate, {LONE_SURROGATE}")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ValueError(f"{path} has a key that is not text")
                if _SURROGATE.search(key):
                    raise ValueError(f"{path} has a key with a lone surrogate, {LONE_SURROGATE}")
                stack.append((item, f"{path}[{key!r}]", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif not (value is None or isinstance(value, bool | int | str)):
            raise ValueError(f"{path} is a {type(value).__name__}, which JSON can not hold")


class WireEntry(_Request):
    """One journal entry exactly as the kiosk stored it (docs/journal.md, "An entry")."""

    seq: Seq
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
    at: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")]
    type: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")]
    payload: dict[str, Any]
    prev_hash: Hash
    hash: Hash

    @field_validator("payload")
    @classmethod
    def _plain(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_plain(value)
        return value

    @model_validator(mode="after")
    def _payload_matches_its_type(self) -> WireEntry:
        """The payload must match its entry type's model (``contract.payloads``), as the
        kiosk's journal checked when it was written; the error names the entry's seq."""
        try:
            parse(self.type, self.payload)
        except PayloadError as exc:
            raise ValueError(f"entry seq {self.seq}: {exc}") from None
        return self

    @classmethod
    def of(cls, entry: _HasEntryFields) -> WireEntry:
        """The wire form of a kiosk ``JournalEntry`` (its ``at`` formatted as it was hashed)."""
        return cls(
            seq=entry.seq,
            id=entry.id,
            at=format_at(entry.at),
            type=entry.type,
            payload=dict(entry.payload),
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )

    def computed_hash(self) -> str:
        """The hash this entry's content really has; equal to ``hash`` unless it was edited."""
        return entry_hash(self.prev_hash, self.seq, self.id, self.at, self.type, self.payload)

    def payload_text(self) -> str:
        """The canonical JSON text that was hashed, as the hub stores it."""
        return canonical_json(self.payload)


class PushRequest(_Request):
    """A run of consecutive entries, starting at most one past the hub's acknowledged seq."""

    entries: Annotated[list[WireEntry], Field(min_length=1, max_length=MAX_PUSH_ENTRIES)]
    head_seq: SeqOrZero | None = None
    """The kiosk's last journal seq as it sends: the console shows how much is still to come
    (a backlog a technician may need to look at), which the hub can not see otherwise."""

    @model_validator(mode="after")
    def _consecutive(self) -> PushRequest:
        for before, after in zip(self.entries, self.entries[1:], strict=False):
            if after.seq != before.seq + 1:
                raise ValueError(
                    f"entries must have consecutive seqs: {after.seq} follows {before.seq}"
                )
        if self.head_seq is not None and self.head_seq < self.entries[-1].seq:
            raise ValueError(
                f"head_seq {self.head_seq} is before the last entry sent ({self.entries[-1].seq})"
            )
        return self


class PushResponse(_Response):
    """The hub's acknowledged seq (every entry up to it is stored) and that entry's hash."""

    acked_seq: SeqOrZero
    acked_hash: Hash = GENESIS


AckResponse = PushResponse


class Conflict(_Response):
    """The 409 body: the hub will not store what was pushed, and why.

    ``gap``: the push starts after ``expected_seq``. ``hash_mismatch``: an entry the hub
    already holds was sent with a different hash (a restored or forked kiosk, or tampering).
    ``chain_break``: an entry's ``prev_hash`` is not the hash of the entry before it.
    ``bad_hash``: an entry's content does not hash to its ``hash`` (it was edited).
    Entries before the offending one are stored; ``expected_seq`` is where the hub is now.
    """

    error: Literal["conflict"] = "conflict"
    kind: ConflictKind
    reason: str
    expected_seq: Seq
    seq: Seq | None = None
    acked_seq: SeqOrZero


# --------------------------------------------------------------------------- accounts


class UsageMonth(_Response):
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    gallons: Annotated[int, Field(strict=True, ge=0, le=MAX_GALLONS)]


class LastPayment(_Response):
    """The last payment the billing system recorded on the account (from any channel)."""

    amount_cents: Cents
    paid_on: date


class Charge(_Response):
    """One service's part of the current bill, as the billing system breaks it down."""

    service: Annotated[str, Field(min_length=1, max_length=40)]
    amount_cents: SignedCents


class Account(_Response):
    """An account as the kiosk shows it; ``usage`` is oldest month first. ``last_payment``
    and ``charges`` only when the billing system gives them."""

    number: AccountNumber
    name: str
    service_address: str
    balance_cents: SignedCents
    due_date: date | None
    status: AccountStatus = "active"
    usage: Annotated[list[UsageMonth], Field(max_length=12)] = Field(default_factory=list)
    last_payment: LastPayment | None = None
    charges: Annotated[list[Charge], Field(max_length=8)] = Field(default_factory=list)


class AccountSnapshot(_Response):
    """Every account at ``version``; a kiosk then asks for deltas since that version."""

    version: Version
    accounts: list[Account]


class AccountDelta(_Response):
    """What changed after ``since`` up to ``version``: new or changed accounts, and the
    numbers of accounts removed."""

    since: Version
    version: Version
    accounts: list[Account]
    removed: list[str]


# ---------------------------------------------------------------------- kiosk settings


class WireLimits(_Response):
    """Payment limits in cents; the same fields and rules as ``kiosk.config.Limits``."""

    min_payment_cents: Cents = 100
    max_payment_cents: Cents = 200_000
    max_overpayment_cents: Cents = 10_000
    max_cash_cents: Cents = 100_000
    accepted_bills_cents: list[Annotated[int, Field(strict=True)]] = Field(
        default_factory=lambda: [100, 500, 1000, 2000, 5000, 10000]
    )

    @field_validator("accepted_bills_cents")
    @classmethod
    def _real_bills(cls, value: list[int]) -> list[int]:
        allowed = {100, 200, 500, 1000, 2000, 5000, 10000}
        wrong = [v for v in value if v not in allowed]
        if wrong:
            raise ValueError(f"not a US bill denomination (cents): {wrong}")
        return sorted(set(value))

    @model_validator(mode="after")
    def _ordered(self) -> WireLimits:
        if self.min_payment_cents > self.max_payment_cents:
            raise ValueError(
                f"min_payment_cents ({self.min_payment_cents}) is greater than "
                f"max_payment_cents ({self.max_payment_cents})"
            )
        if self.max_cash_cents > self.max_payment_cents:
            raise ValueError(
                f"max_cash_cents ({self.max_cash_cents}) is greater than "
                f"max_payment_cents ({self.max_payment_cents})"
            )
        return self


class WireCardFee(_Response):
    """The card convenience fee; the same fields and rules as ``kiosk.config.CardFee``."""

    flat_cents: Cents = 0
    percent_bp: Annotated[int, Field(strict=True, ge=0, le=1000)] = 250
    minimum_cents: Cents = 100
    maximum_cents: Cents | None = None

    @model_validator(mode="after")
    def _bounds(self) -> WireCardFee:
        if self.maximum_cents is not None and self.maximum_cents < self.minimum_cents:
            raise ValueError(
                f"maximum_cents ({self.maximum_cents}) is below "
                f"minimum_cents ({self.minimum_cents})"
            )
        return self


class WireTechnician(_Response):
    """Someone who may enter service mode; the same fields and rules as
    ``kiosk.config.Technician``. Only the argon2 hash of the PIN ever crosses the wire;
    ``badge`` is empty when the technician has none."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    pin_hash: Annotated[str, Field(max_length=256, pattern=ARGON2_HASH)]
    badge: Annotated[str, Field(max_length=64)] = ""


class KioskSettings(_Response):
    """What the hub decides for one kiosk; ``version`` goes up on every change.

    ``messages`` maps a language to message keys and texts: ``banner`` (shown on the idle
    screen) and ``out_of_service`` (shown while the hub holds the kiosk out of service).
    ``technicians`` are the hub's active technicians (every kiosk gets the same list); empty
    from a hub that has none, or that predates them.
    """

    kiosk_id: KioskId
    version: Version
    limits: WireLimits = Field(default_factory=WireLimits)
    card_fee: WireCardFee = Field(default_factory=WireCardFee)
    messages: dict[Language, dict[Annotated[str, Field(max_length=64)], Text]] = Field(
        default_factory=dict
    )
    out_of_service: bool = False
    out_of_service_reason: Text = ""
    technicians: Annotated[list[WireTechnician], Field(max_length=MAX_TECHNICIANS)] = Field(
        default_factory=list
    )


# ------------------------------------------------------------------- health and errors


class Health(_Response):
    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unreachable"]
    time: datetime


class ErrorDetail(_Response):
    """One schema problem: where (``loc``, e.g. ``["body", "entries", 0, "seq"]``) and what."""

    loc: list[str | int]
    message: str
    type: str


class ErrorBody(_Response):
    """Every error the hub answers, except a 409 on the journal (:class:`Conflict`).

    ``error`` is a stable code a program can branch on (``invalid_request``,
    ``unauthorized``, ``forbidden``, ``not_found``, ``code_expired``…); ``message`` is for a
    person.
    """

    error: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
