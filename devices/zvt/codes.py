"""What ZVT's numbers mean for the kiosk: result codes, intermediate statuses, card types.

Result codes (BMP 27, the byte after 06 1E, the code in a negative acknowledgement 84 xx)
come from the spec's list of error messages: 00 is success; 0x01..0x63 are passed through
from the network operator / authorisation system, which this driver reads as the two-digit
ISO 8583 response code (0x05 = "05 do not honour", 0x33 = "51 insufficient funds"); 0x64
and above are the terminal's own. Each becomes a short reason slug for the journal and the
screens; codes not listed here become ``result_0xNN`` so nothing is lost.

Intermediate statuses (04 FF) become the small prompt vocabulary the engine passes to the
screens (``CardProgress.message``): ``insert_card``, ``enter_pin``, ``processing``,
``remove_card``, ``wait``, ``select_application``, ``confirm_amount``, ``card_error``,
``declined`` and ``approved``.
"""

from __future__ import annotations

from enum import Enum

SUCCESS = 0x00
ABORTED = 0x6C
"""Abort via time-out or abort key: the cardholder (or the ECR's 06 B0) stopped the sale."""
FUNCTION_NOT_POSSIBLE = 0x83
PROTOCOL_ERROR = 0x9A
ALREADY_REVERSED = 0xB4
RECEIVER_NOT_READY = 0xA0
NOT_REGISTERED = 0x6B

HOST_CODES: dict[int, str] = {
    3: "invalid_merchant",
    4: "pick_up_card",
    5: "declined_by_issuer",
    12: "invalid_transaction",
    13: "invalid_amount",
    14: "invalid_card_number",
    41: "lost_card",
    43: "stolen_card",
    51: "insufficient_funds",
    54: "card_expired",
    55: "incorrect_pin",
    57: "not_permitted_for_card",
    58: "not_permitted_for_terminal",
    61: "amount_limit_exceeded",
    62: "restricted_card",
    65: "frequency_limit_exceeded",
    75: "pin_tries_exceeded",
    91: "issuer_unavailable",
    96: "system_malfunction",
}
"""ISO 8583 response codes, carried by ZVT result codes 0x01..0x63 as their binary value."""

TERMINAL_CODES: dict[int, str] = {
    0x64: "card_not_readable",
    0x65: "card_data_missing",
    0x66: "processing_error",
    0x67: "not_permitted_for_debit_card",
    0x68: "not_permitted_for_credit_card",
    0x6A: "turnover_file_full",
    0x6B: "terminal_not_registered",
    0x6C: "aborted",
    0x6E: "card_blocked",
    0x6F: "wrong_currency",
    0x71: "credit_not_sufficient",
    0x72: "chip_error",
    0x73: "card_data_incorrect",
    0x77: "end_of_day_not_possible",
    0x78: "card_expired",
    0x79: "card_not_yet_valid",
    0x7A: "card_unknown",
    0x7D: "communication_error",
    0x83: "function_not_possible",
    0x85: "key_missing",
    0x89: "pin_pad_defective",
    0x9A: "protocol_error",
    0x9B: "dial_up_error",
    0x9C: "please_wait",
    0xA0: "receiver_not_ready",
    0xA1: "remote_station_not_responding",
    0xA3: "no_connection",
    0xA5: "not_allowed_pci_dss",
    0xB1: "memory_full",
    0xB2: "merchant_journal_full",
    0xB4: "already_reversed",
    0xB5: "reversal_not_possible",
    0xB7: "amount_wrong",
    0xBF: "voltage_too_low",
    0xC0: "card_lock_defective",
    0xC1: "merchant_card_locked",
    0xC2: "diagnosis_required",
    0xC3: "maximum_amount_exceeded",
    0xC4: "card_profile_invalid",
    0xC5: "payment_method_not_supported",
    0xC6: "currency_not_applicable",
    0xC8: "amount_too_small",
    0xC9: "maximum_amount_too_small",
    0xCC: "printer_not_ready",
    0xCD: "cashback_not_possible",
    0xDC: "card_inserted",
    0xDD: "card_eject_error",
    0xDE: "card_insert_error",
    0xE0: "remote_maintenance_active",
    0xE2: "card_reader_defective",
    0xE3: "shutter_closed",
    0xE4: "terminal_activation_required",
    0xEC: "pin_processing_not_possible",
    0xED: "pin_pad_defective",
    0xF0: "open_end_of_day_batch",
    0xF1: "offline_error",
    0xFA: "clearing_error",
    0xFC: "device_missing_or_defective",
    0xFF: "system_error",
}


def result_reason(code: int) -> str:
    """A stable slug for a result code, for the journal, logs and screens."""
    if code == SUCCESS:
        return "approved"
    if 0x01 <= code <= 0x63:
        return HOST_CODES.get(code, f"host_declined_{code:02d}")
    return TERMINAL_CODES.get(code, f"result_0x{code:02x}")


class Outcome(Enum):
    """What a result code says became of a transaction (the driver maps it to the port's)."""

    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"


def outcome_for(code: int) -> Outcome:
    """APPROVED for 00, CANCELLED for an abort (time-out, stop key, 06 B0), else DECLINED."""
    if code == SUCCESS:
        return Outcome.APPROVED
    if code == ABORTED:
        return Outcome.CANCELLED
    return Outcome.DECLINED


_PROGRESS: dict[int, str] = {
    0x00: "confirm_amount",
    0x01: "enter_pin",
    0x02: "enter_pin",
    0x03: "declined",
    0x04: "processing",
    0x05: "processing",
    0x06: "processing",
    0x07: "card_error",
    0x08: "card_error",
    0x09: "card_error",
    0x0A: "insert_card",
    0x0B: "remove_card",
    0x0C: "card_error",
    0x0D: "card_error",
    0x0E: "wait",
    0x0F: "wait",
    0x10: "card_error",
    0x12: "card_error",
    0x13: "declined",
    0x14: "declined",
    0x15: "enter_pin",
    0x16: "declined",
    0x17: "wait",
    0x18: "declined",
    0x19: "card_error",
    0x1B: "approved",
    0x1C: "approved",
    0x1D: "declined",
    0x28: "wait",
    0x29: "wait",
    0x2A: "insert_card",
    0x2B: "wait",
    0x2C: "select_application",
    0x68: "processing",
    0xD2: "processing",
    0xD3: "processing",
    0xE0: "select_application",
    0xF2: "processing",
}


def progress_message(code: int) -> str:
    """The prompt vocabulary word for an intermediate status code.

    Codes 0x41..0x5D are 0x01..0x1D plus "please remove card": the card comes first.
    """
    if 0x41 <= code <= 0x5D:
        return "remove_card"
    return _PROGRESS.get(code, "wait")


CARD_TYPES: dict[int, str] = {
    2: "girocard",
    5: "girocard",
    6: "Mastercard",
    8: "American Express",
    10: "VISA",
    11: "VISA Electron",
    12: "Diners",
    13: "V PAY",
    14: "JCB",
    46: "Maestro",
    198: "UnionPay",
    232: "Discover",
}
"""ZVT card-type numbers (BMP 8A) for the brands a US kiosk meets, from the spec's list."""

BRAND_CARD_TYPES: dict[str, int] = {
    "visa": 10,
    "mastercard": 6,
    "amex": 8,
    "girocard": 5,
    "diners": 12,
    "jcb": 14,
    "maestro": 46,
    "discover": 232,
}
"""Short names (for the emulator's ``brand`` control) to card-type numbers."""


def brand_for(card_type: int | None, card_name: str) -> str:
    """The brand to print and journal: the terminal's card name, else the card-type table."""
    name = card_name.strip()
    if name:
        return name
    if card_type is not None:
        return CARD_TYPES.get(card_type, f"card_type_{card_type}")
    return ""


TOTALS_GROUPS: tuple[str, ...] = (
    "girocard",
    "JCB",
    "Mastercard",
    "American Express",
    "VISA",
    "Diners",
    "other",
)
"""The seven groups of BMP 60 (individual totals) in their order on the wire."""


def totals_group(card_type: int | None) -> int:
    """Which BMP 60 group a card type's turnover is counted in (the last is "remaining")."""
    return {2: 0, 5: 0, 14: 1, 6: 2, 8: 3, 10: 4, 11: 4, 13: 4, 12: 5}.get(card_type or -1, 6)
