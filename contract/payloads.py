"""One pydantic model per journal entry type: what its payload holds, and nothing else.

The kiosk builds payloads with these models and its journal refuses a payload that does not
match before anything is written; the hub checks every replicated entry against the same
models (a 422 naming the entry's seq and the field). The models validate, they never
rewrite: the text that is hashed is the payload as it was written (``dump`` leaves out what
was not set), so journals already in the field keep their hashes.

Rules every model follows:

- Money is integer cents with explicit bounds; ``1.0``, ``"100"`` or ``True`` is refused.
- Unknown fields are refused: a typo is an error where it is written, not a value the hub
  silently drops.
- Times are the ISO-8601 text the kiosk wrote, checked to carry a zone, never re-formatted.
- Card data is limited to what the kiosk may keep: brand, last four digits, auth code,
  references (DESIGN.md rule 4); a ``last4`` of more than four digits is refused.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from contract import entries as E

#: a single payment, fee or bill: up to a million dollars
MAX_CENTS: Final = 100_000_000
#: a batch's totals: many payments
MAX_TOTAL_CENTS: Final = 10_000_000_000

Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]
SignedCents = Annotated[int, Field(ge=-MAX_CENTS, le=MAX_CENTS)]
TotalCents = Annotated[int, Field(ge=0, le=MAX_TOTAL_CENTS)]
Denomination = Annotated[int, Field(gt=0, le=10_000)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Seq = Annotated[int, Field(ge=1, le=2**62)]
Id = Annotated[str, Field(max_length=64)]
Text = Annotated[str, Field(max_length=500)]
Short = Annotated[str, Field(max_length=64)]
SessionId = Id | None
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
Method = Literal["cash", "card"]


def _aware_time(text: str) -> str:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a time must carry its zone")
    return text


def _iso_date(text: str) -> str:
    date.fromisoformat(text)
    return text


def _bill_counts(value: dict[str, int]) -> dict[str, int]:
    for key in value:
        if not key.isdigit() or not 0 < int(key) <= 10_000:
            raise ValueError(f"{key!r} is not a bill's value in cents")
    return value


TimeText = Annotated[str, Field(max_length=40), AfterValidator(_aware_time)]
DateText = Annotated[str, Field(max_length=10), AfterValidator(_iso_date)]
BillCounts = Annotated[dict[str, Count], Field(max_length=20), AfterValidator(_bill_counts)]


class Payload(BaseModel):
    """A payload: strict types, no unknown fields, frozen once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    TYPE: ClassVar[str]

    def dump(self) -> dict[str, Any]:
        """The payload as it is stored and hashed: only the fields that were set."""
        return self.model_dump(mode="json", exclude_unset=True)


class _Part(BaseModel):
    """A value nested in a payload: the same strictness."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# ------------------------------------------------------------------ session life cycle


class SessionStarted(Payload):
    TYPE = E.SESSION_STARTED
    session_id: Id
    language: Language


class SessionEnded(Payload):
    TYPE = E.SESSION_ENDED
    session_id: Id
    outcome: Literal["completed", "cancelled", "timed_out", "recovered"]


class AccountSelected(Payload):
    TYPE = E.ACCOUNT_SELECTED
    session_id: Id
    account_number: Short
    name_masked: Text
    address_masked: Text
    balance_cents: SignedCents
    due_date: DateText | None
    source: Literal["live", "cache", "manual"]
    review: bool


class AmountChosen(Payload):
    TYPE = E.AMOUNT_CHOSEN
    session_id: Id
    amount_cents: Cents


class MethodChosen(Payload):
    TYPE = E.METHOD_CHOSEN
    session_id: Id
    method: Method
    fee_cents: Cents


# ------------------------------------------------------------------------------- cash


class BillEscrowed(Payload):
    TYPE = E.BILL_ESCROWED
    session_id: SessionId
    denomination_cents: Denomination


class BillStackRequested(Payload):
    TYPE = E.BILL_STACK_REQUESTED
    session_id: SessionId
    bill_id: Id
    denomination_cents: Denomination
    cashbox_before: Count | None = None
    """None: the acceptor keeps no cash box count (the intent alone settles the stack)."""


class BillStacked(Payload):
    TYPE = E.BILL_STACKED
    session_id: SessionId
    intent_seq: Seq | None = None
    bill_id: Id
    denomination_cents: Denomination
    recovered: bool = False


class BillNotStacked(Payload):
    TYPE = E.BILL_NOT_STACKED
    session_id: SessionId
    intent_seq: Seq
    bill_id: Id
    denomination_cents: Denomination
    reason: Text


class BillReturnRequested(Payload):
    TYPE = E.BILL_RETURN_REQUESTED
    session_id: SessionId
    denomination_cents: Denomination
    reason: Text
    cashbox_before: Count | None = None


class BillReturned(Payload):
    TYPE = E.BILL_RETURNED
    session_id: SessionId
    intent_seq: Seq | None = None
    denomination_cents: Denomination
    recovered: bool = False


class BillRejected(Payload):
    TYPE = E.BILL_REJECTED
    session_id: SessionId
    reason: Text


# ------------------------------------------------------------------------------- card


class CardSaleRequested(Payload):
    TYPE = E.CARD_SALE_REQUESTED
    session_id: Id
    reference: Id
    amount_cents: Cents
    fee_cents: Cents
    total_cents: Cents


Last4 = Annotated[str, Field(pattern=r"^[0-9]{0,4}$")]


class PaymentCard(_Part):
    """What the kiosk keeps of an approval (never card data): in the approval's entry and in
    the payment it paid for."""

    reference: Id
    total_cents: Cents
    auth_code: Annotated[str, Field(max_length=16)]
    brand: Annotated[str, Field(max_length=32)]
    last4: Last4
    terminal_ref: Id


class CardSaleApproved(Payload, PaymentCard):
    TYPE = E.CARD_SALE_APPROVED
    session_id: SessionId
    intent_seq: Seq | None
    receipt_lines: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)]
    recovered: bool = False
    late: bool = False


class _CardSettled(Payload):
    session_id: SessionId
    intent_seq: Seq | None
    reference: Id


class CardSaleDeclined(_CardSettled):
    TYPE = E.CARD_SALE_DECLINED
    reason: Text | None


class CardSaleCancelled(_CardSettled):
    TYPE = E.CARD_SALE_CANCELLED
    by: Text


class CardSaleInDoubt(_CardSettled):
    TYPE = E.CARD_SALE_IN_DOUBT
    reason: Text = ""


class CardReversalRequested(Payload):
    TYPE = E.CARD_REVERSAL_REQUESTED
    session_id: SessionId
    reference: Id
    reason: Text
    sale_intent_seq: Seq | None = None


class CardReversed(Payload):
    TYPE = E.CARD_REVERSED
    session_id: SessionId
    intent_seq: Seq
    reference: Id


class CardReversalFailed(Payload):
    TYPE = E.CARD_REVERSAL_FAILED
    session_id: SessionId
    intent_seq: Seq
    reference: Id
    reason: Text


# ---------------------------------------------------------------- completion, receipts


class PaymentCompleted(Payload):
    TYPE = E.PAYMENT_COMPLETED
    session_id: Id
    payment_id: Id
    confirmation: Annotated[str, Field(min_length=1, max_length=32)]
    account_number: Short
    method: Method
    amount_cents: Cents
    fee_cents: Cents
    cash_cents: Cents
    bills: BillCounts
    card: PaymentCard | None
    paid_at: TimeText
    review: bool
    balance_before_cents: SignedCents
    balance_after_cents: SignedCents
    recovered: bool
    late_credit: bool = False


class ReceiptPrintRequested(Payload):
    TYPE = E.RECEIPT_PRINT_REQUESTED
    session_id: SessionId
    confirmation: Short


class ReceiptPrinted(Payload):
    TYPE = E.RECEIPT_PRINTED
    session_id: SessionId
    intent_seq: Seq | None
    confirmation: Short
    recovered: bool = False


class ReceiptFailed(Payload):
    TYPE = E.RECEIPT_FAILED
    session_id: SessionId
    intent_seq: Seq | None
    confirmation: Short
    reason: Text
    recovered: bool = False


# ------------------------------------------------------------- recovery and operations


class RecoveryStarted(Payload):
    TYPE = E.RECOVERY_STARTED
    open_intents: Count
    open_sessions: Count = 0


class RecoveryResolved(Payload):
    TYPE = E.RECOVERY_RESOLVED
    intent_seq: Seq
    intent_type: Short
    resolution: Text


class BrandTotal(_Part):
    brand: Annotated[str, Field(max_length=32)]
    count: Count
    amount_cents: TotalCents


class CardEndOfDay(Payload):
    """The terminal's settlement at batch close, whatever it said (``ok`` false: it failed)."""

    TYPE = E.CARD_END_OF_DAY
    ok: bool
    total_cents: TotalCents
    count: Count | None
    by_brand: Annotated[list[BrandTotal], Field(max_length=50)]
    trace: Annotated[int, Field(ge=0, le=999_999)] | None
    reason: Text
    # set when a collection asked for it (``card.end_of_day.requested``)
    intent_seq: Seq | None = None
    recovered: bool = False


class BatchClosed(Payload):
    TYPE = E.BATCH_CLOSED
    batch_id: Id
    reason: Short
    by: Text
    first_seq: Annotated[int, Field(ge=0, le=2**62)]
    bills: BillCounts
    cash_cents: TotalCents
    card_cents: TotalCents
    card_count: Count
    reversals: Count
    # the card terminal's end of day, when the close ran one
    terminal_ok: bool | None = None
    terminal_card_cents: TotalCents | None = None
    card_matches: bool | None = None


class KioskStarted(Payload):
    TYPE = E.KIOSK_STARTED
    version: Short
    kiosk_id: Short = ""


class DeviceFault(Payload):
    TYPE = E.DEVICE_FAULT
    device: Short
    reason: Text


class DeviceNotice(Payload):
    TYPE = E.DEVICE_NOTICE
    device: Short
    kind: Short
    detail: Text


class DeviceRecovered(Payload):
    """The device's last ``device.fault`` is over: it is usable again."""

    TYPE = E.DEVICE_RECOVERED
    device: Short


class OutOfService(Payload):
    TYPE = E.OUT_OF_SERVICE
    reason: Text


class InService(Payload):
    TYPE = E.IN_SERVICE


class AppliedLimits(_Part):
    min_payment_cents: Cents
    max_payment_cents: Cents
    max_overpayment_cents: Cents
    max_cash_cents: Cents
    accepted_bills_cents: Annotated[list[Denomination], Field(max_length=20)]


class AppliedCardFee(_Part):
    flat_cents: Cents
    percent_bp: Annotated[int, Field(ge=0, le=1000)]
    minimum_cents: Cents
    maximum_cents: Cents | None


class ConfigApplied(Payload):
    """The hub's settings the kiosk took (between residents)."""

    TYPE = E.CONFIG_APPLIED
    limits: AppliedLimits
    card_fee: AppliedCardFee


# ------------------------------------------------------------- service mode and collection

Technician = Annotated[str, Field(min_length=1, max_length=64)]
SealNumber = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]


class ServicePinFailed(Payload):
    TYPE = E.SERVICE_PIN_FAILED
    attempt: Annotated[int, Field(ge=1, le=1000)]
    badge: Short = ""


class ServiceLocked(Payload):
    TYPE = E.SERVICE_LOCKED
    until: TimeText
    attempts: Annotated[int, Field(ge=1, le=1000)]


class ServiceEntered(Payload):
    TYPE = E.SERVICE_ENTERED
    technician: Technician
    via: Literal["pin", "badge"]


class ServiceLeft(Payload):
    TYPE = E.SERVICE_LEFT
    technician: Technician
    reason: Literal["done", "timed_out"]


class ServiceAction(Payload):
    """One thing a technician did in service mode: who (the entry's time says when), what."""

    TYPE = E.SERVICE_ACTION
    technician: Technician
    action: Short
    detail: Text = ""


class CollectionStarted(Payload):
    """The technician swapped the cash box: the batch closes and the terminal settles next."""

    TYPE = E.COLLECTION_STARTED
    collection_id: Id
    slip_number: Annotated[int, Field(ge=1, le=99_999)]
    batch_id: Id
    technician: Technician
    cashbox_id: Short
    seal_number: SealNumber


class CardEndOfDayRequested(Payload):
    TYPE = E.CARD_END_OF_DAY_REQUESTED
    collection_id: Id


class CollectionCompleted(Payload):
    """What the collection slip says, as finance will match it against the counted bag."""

    TYPE = E.COLLECTION_COMPLETED
    intent_seq: Seq
    collection_id: Id
    slip_number: Annotated[int, Field(ge=1, le=99_999)]
    batch_id: Id
    bills: BillCounts
    cash_cents: TotalCents
    rejected_bills: Count
    payments: Count
    first_seq: Annotated[int, Field(ge=0, le=2**62)]
    last_seq: Annotated[int, Field(ge=0, le=2**62)]
    card_count: Count
    card_cents: TotalCents
    terminal_ok: bool
    terminal_count: Count | None  # None: the terminal gave a total without a count
    terminal_cents: TotalCents
    agreed: bool
    recovered: bool = False


class SlipPrintRequested(Payload):
    TYPE = E.SLIP_PRINT_REQUESTED
    collection_id: Id
    confirmation: Short
    reprint: bool = False


class SlipPrinted(Payload):
    TYPE = E.SLIP_PRINTED
    intent_seq: Seq
    confirmation: Short
    recovered: bool = False


class SlipFailed(Payload):
    TYPE = E.SLIP_FAILED
    intent_seq: Seq
    confirmation: Short
    reason: Text
    recovered: bool = False


# ------------------------------------------------------------------------ the registry

MODELS: Final[dict[str, type[Payload]]] = {
    model.TYPE: model
    for model in (
        SessionStarted,
        SessionEnded,
        AccountSelected,
        AmountChosen,
        MethodChosen,
        BillEscrowed,
        BillStackRequested,
        BillStacked,
        BillNotStacked,
        BillReturnRequested,
        BillReturned,
        BillRejected,
        CardSaleRequested,
        CardSaleApproved,
        CardSaleDeclined,
        CardSaleCancelled,
        CardSaleInDoubt,
        CardReversalRequested,
        CardReversed,
        CardReversalFailed,
        PaymentCompleted,
        ReceiptPrintRequested,
        ReceiptPrinted,
        ReceiptFailed,
        RecoveryStarted,
        RecoveryResolved,
        CardEndOfDay,
        BatchClosed,
        KioskStarted,
        DeviceFault,
        DeviceNotice,
        DeviceRecovered,
        OutOfService,
        InService,
        ConfigApplied,
        ServicePinFailed,
        ServiceLocked,
        ServiceEntered,
        ServiceLeft,
        ServiceAction,
        CollectionStarted,
        CardEndOfDayRequested,
        CollectionCompleted,
        SlipPrintRequested,
        SlipPrinted,
        SlipFailed,
    )
}


class PayloadError(ValueError):
    """A payload that does not match its entry type's model; says which field and why."""

    def __init__(self, type_: str, problems: list[str]) -> None:
        super().__init__(f"{type_} payload: " + "; ".join(problems))
        self.type = type_
        self.problems = problems


def _problems(error: ValidationError) -> list[str]:
    out = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "payload"
        out.append(f"{where}: {item['msg']}")
    return out


def model_for(type_: str) -> type[Payload]:
    try:
        return MODELS[type_]
    except KeyError:
        raise PayloadError(type_, [f"no entry type {type_!r}"]) from None


P = TypeVar("P", bound=Payload)


def parse(type_: str, payload: Any) -> Payload:
    """The payload of an entry of ``type_`` as its model; :class:`PayloadError` if it is not."""
    return read(model_for(type_), payload)


def read(model: type[P], payload: Any) -> P:
    """A stored payload read as the model a reader expects (projections, recovery)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError(model.TYPE, _problems(exc)) from None
