"""The journal's vocabulary: every entry type and what its payload carries.

The journal is the only source of truth (DESIGN.md, "The journal"); projections, recovery and
the hub read these names, so they are declared once here. Payload amounts are integer cents,
times are ISO-8601 UTC strings.

Intents are written *before* an irreversible device command; the entry that settles one
carries ``intent_seq``, the seq of that intent, and has one of the types listed for it in
:data:`INTENT_OUTCOMES`. Recovery looks for intents that nothing settled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Protocol

# session life cycle
SESSION_STARTED: Final = "session.started"  # {session_id, language}
SESSION_ENDED: Final = (
    "session.ended"  # {session_id, outcome: completed|cancelled|timed_out|recovered}
)
ACCOUNT_SELECTED: Final = "account.selected"
# {session_id, account_number, source: live|cache|manual, review: bool, balance_cents}
AMOUNT_CHOSEN: Final = "amount.chosen"  # {session_id, amount_cents}
METHOD_CHOSEN: Final = "method.chosen"  # {session_id, method: cash|card, fee_cents}

# cash
BILL_ESCROWED: Final = "bill.escrowed"  # {session_id, denomination_cents}
BILL_STACK_REQUESTED: Final = "bill.stack.requested"
# intent: {session_id, bill_id, denomination_cents, cashbox_before: int | None}
BILL_STACKED: Final = "bill.stacked"
# outcome: {session_id, bill_id, denomination_cents, recovered: bool}
BILL_NOT_STACKED: Final = "bill.not_stacked"
# outcome of a stack intent that did not stack: {session_id, bill_id, denomination_cents, reason}
BILL_RETURN_REQUESTED: Final = "bill.return.requested"
# intent: {session_id, denomination_cents, reason}
BILL_RETURNED: Final = "bill.returned"  # outcome: {session_id, denomination_cents}
BILL_REJECTED: Final = "bill.rejected"  # {session_id, reason}: the acceptor refused it itself

# card
CARD_SALE_REQUESTED: Final = "card.sale.requested"
# intent: {session_id, reference, amount_cents, fee_cents, total_cents}
CARD_SALE_APPROVED: Final = "card.sale.approved"
# {session_id, reference, total_cents, auth_code, brand, last4, terminal_ref, receipt_lines}
CARD_SALE_DECLINED: Final = "card.sale.declined"  # {session_id, reference, reason}
CARD_SALE_CANCELLED: Final = "card.sale.cancelled"  # {session_id, reference, by}
CARD_SALE_IN_DOUBT: Final = "card.sale.in_doubt"  # {session_id, reference}
CARD_REVERSAL_REQUESTED: Final = (
    "card.reversal.requested"  # intent: {session_id, reference, reason}
)
CARD_REVERSED: Final = "card.reversed"  # outcome: {session_id, reference}
CARD_REVERSAL_FAILED: Final = "card.reversal.failed"  # {session_id, reference, reason}

# completion and receipt
PAYMENT_COMPLETED: Final = "payment.completed"
# {session_id, payment_id, confirmation, account_number, method, amount_cents, fee_cents,
#  cash_cents, bills: {denomination_cents: count}, card: {...} | None, paid_at, review,
#  balance_before_cents}
RECEIPT_PRINT_REQUESTED: Final = "receipt.print.requested"  # intent: {session_id, confirmation}
RECEIPT_PRINTED: Final = "receipt.printed"  # outcome: {session_id, confirmation}
RECEIPT_FAILED: Final = "receipt.failed"  # outcome: {session_id, confirmation, reason}

# recovery and operations
RECOVERY_STARTED: Final = "recovery.started"  # {open_intents: int}
RECOVERY_RESOLVED: Final = "recovery.resolved"  # {intent_seq, intent_type, resolution}
BATCH_CLOSED: Final = "batch.closed"  # {batch_id, reason, by, kiosk and terminal totals}
CARD_END_OF_DAY: Final = "card.end_of_day"
# the terminal's settlement at batch close: {ok, total_cents, count, by_brand, trace, reason}
KIOSK_STARTED: Final = "kiosk.started"  # {version}

# service mode (a technician at the touchscreen); ``technician`` is the name they entered as
SERVICE_PIN_FAILED: Final = "service.pin_failed"  # {attempt: consecutive wrong PINs, badge}
SERVICE_LOCKED: Final = "service.locked"  # {until, attempts}: entry locked after wrong PINs
SERVICE_ENTERED: Final = "service.entered"  # {technician, via: pin|badge}
SERVICE_LEFT: Final = "service.left"  # {technician, reason: done|timed_out}
SERVICE_ACTION: Final = "service.action"  # {technician, action, detail}

# cash-box collection: batch close, the terminal's end of day, the slip
COLLECTION_STARTED: Final = "collection.started"
# intent: {collection_id, slip_number, batch_id, technician, cashbox_id, seal_number}
CARD_END_OF_DAY_REQUESTED: Final = "card.end_of_day.requested"  # intent: {collection_id}
COLLECTION_COMPLETED: Final = "collection.completed"
# outcome: {collection_id, slip_number, batch_id, counts, terminal totals, agreed, recovered}
SLIP_PRINT_REQUESTED: Final = (
    "slip.print.requested"  # intent: {collection_id, confirmation, reprint}
)
SLIP_PRINTED: Final = "slip.printed"  # outcome: {confirmation}
SLIP_FAILED: Final = "slip.failed"  # outcome: {confirmation, reason}

#: intent type -> the entry types that settle it
INTENT_OUTCOMES: Final[dict[str, tuple[str, ...]]] = {
    BILL_STACK_REQUESTED: (BILL_STACKED, BILL_NOT_STACKED),
    BILL_RETURN_REQUESTED: (BILL_RETURNED, BILL_STACKED),
    CARD_SALE_REQUESTED: (
        CARD_SALE_APPROVED,
        CARD_SALE_DECLINED,
        CARD_SALE_CANCELLED,
        CARD_REVERSED,
    ),
    CARD_REVERSAL_REQUESTED: (CARD_REVERSED, CARD_REVERSAL_FAILED),
    RECEIPT_PRINT_REQUESTED: (RECEIPT_PRINTED, RECEIPT_FAILED),
    COLLECTION_STARTED: (COLLECTION_COMPLETED,),
    CARD_END_OF_DAY_REQUESTED: (CARD_END_OF_DAY,),
    SLIP_PRINT_REQUESTED: (SLIP_PRINTED, SLIP_FAILED),
}

DEVICE_FAULT: Final = "device.fault"  # {device, reason}
DEVICE_NOTICE: Final = "device.notice"  # {device, kind, detail}
DEVICE_RECOVERED: Final = "device.recovered"  # {device}: usable again after a device.fault
OUT_OF_SERVICE: Final = "kiosk.out_of_service"  # {reason}
CONFIG_APPLIED: Final = "kiosk.config_applied"  # {limits, card_fee}: the hub's settings taken
IN_SERVICE: Final = "kiosk.in_service"  # {}


class EntryLike(Protocol):
    """What readers of the journal need of an entry (``kiosk.store.journal.JournalEntry``)."""

    @property
    def seq(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
