"""The technician's words for what service mode shows: devices, their states and counters,
the tests, the reasons to take the kiosk out of service, and the service messages.

The engine and the drivers speak in keys (``fault``, ``paper_out``, ``wrong_pin``); this is
the one place the service pages turn them into English or Spanish. A key without words of
its own is shown as it is, with its underscores made spaces: a technician can look a raw
reason up in the docs, which a resident could not.
"""

from __future__ import annotations

from kiosk.money import Money
from screens.texts import N_, Texts

DEVICE_NAMES: dict[str, str] = {
    "bill_acceptor": N_("Bill acceptor"),
    "card_terminal": N_("Card reader"),
    "receipt_printer": N_("Receipt printer"),
    "barcode_scanner": N_("Barcode scanner"),
}

STATES: dict[str, str] = {
    "ok": N_("OK"),
    "degraded": N_("Needs care"),
    "fault": N_("Fault"),
}

REASONS: dict[str, str] = {
    "paper_out": N_("paper out"),
    "paper_low": N_("paper low"),
    "cover_open": N_("cover open"),
    "cutter_error": N_("cutter jammed"),
    "offline": N_("offline"),
    "no_response": N_("no answer"),
    "disconnected": N_("disconnected"),
    "jam": N_("bill jammed"),
    "cassette_removed": N_("cash box out"),
    "stacker_full": N_("cash box full"),
    "failure": N_("hardware failure"),
}

# the few counters worth a glance per device, in the order shown
COUNTERS: dict[str, tuple[str, ...]] = {
    "bill_acceptor": ("stacked", "returned", "rejects", "jams"),
    "receipt_printer": ("printed", "failed", "cut_short", "reconnects"),
    "barcode_scanner": ("codes_read", "lines_discarded", "disconnects"),
    "card_terminal": ("sales", "reversals", "end_of_days", "disconnects"),
}
COUNTER_NAMES: dict[str, str] = {
    "stacked": N_("stacked"),
    "returned": N_("returned"),
    "rejects": N_("rejected"),
    "jams": N_("jams"),
    "printed": N_("printed"),
    "failed": N_("failed"),
    "cut_short": N_("cut short"),
    "reconnects": N_("reconnects"),
    "codes_read": N_("codes read"),
    "lines_discarded": N_("unreadable"),
    "disconnects": N_("disconnects"),
    "sales": N_("sales"),
    "reversals": N_("reversals"),
    "end_of_days": N_("end of days"),
}

SERVICE_MESSAGES: dict[str, str] = {
    "checking": N_("Checking the PIN..."),
    "wrong_pin": N_("Wrong PIN."),
    "locked": N_("Too many wrong PINs."),
    "seal_invalid": N_("That is not a bag or seal number. Type it again."),
}

TESTS: dict[str, str] = {
    "print": N_("Print a test page"),
    "bill": N_("Test the bill acceptor"),
    "scanner": N_("Test the scanner"),
    "terminal": N_("Test the card reader"),
}
TEST_ORDER = ("print", "bill", "scanner", "terminal")
TEST_STATUS: dict[str, str] = {
    "running": N_("Running..."),
    "passed": N_("Passed"),
    "failed": N_("Failed"),
    "waiting": N_("Waiting..."),
}

# Why a technician takes the kiosk out of service, picked with one touch. The English words
# are journaled (the hub and finance read them); the screen shows them translated.
OUT_OF_SERVICE_REASONS: tuple[str, ...] = (
    N_("Maintenance"),
    N_("Cash box full"),
    N_("Printer broken"),
    N_("Card reader broken"),
)


def raw(key: str) -> str:
    return key.replace("_", " ")


def device_name(texts: Texts, name: str) -> str:
    return texts._(DEVICE_NAMES[name]) if name in DEVICE_NAMES else raw(name)


def state_word(texts: Texts, state: str) -> str:
    return texts._(STATES[state]) if state in STATES else raw(state)


def reason(texts: Texts, key: str) -> str:
    """A device's reason (``paper_out``) in words; "" stays ""."""
    return texts._(REASONS[key]) if key in REASONS else raw(key)


def counters(texts: Texts, device: str, counts: tuple[tuple[str, int], ...]) -> str:
    """``"stacked 3 · returned 0 · rejected 1 · jams 0"``: the figures a technician checks."""
    have = dict(counts)
    shown = [n for n in COUNTERS.get(device, ()) if n in have]
    # a figure never wraps away from its name
    return " · ".join(f"{texts._(COUNTER_NAMES[n])}\u00a0{have[n]}" for n in shown)


def service_message(texts: Texts, key: str) -> str:
    return texts._(SERVICE_MESSAGES[key]) if key in SERVICE_MESSAGES else raw(key)


def out_of_service_reason(texts: Texts, text: str) -> str:
    """One of the menu's reasons in the technician's language; the hub's own words as
    they came."""
    return texts._(text) if text in OUT_OF_SERVICE_REASONS else text


def result_text(texts: Texts, test: str, status: str, detail: str) -> str:
    """What a test showed, in a sentence."""
    _ = texts._
    if status == "waiting":
        return (
            _("Insert a bill. It will be given back.")
            if test == "bill"
            else _("Scan any barcode.")
            if test == "scanner"
            else ""
        )
    if test == "bill" and status == "passed" and detail.isdigit():
        return _("Read a {amount} bill and gave it back.").format(
            amount=texts.money(Money(int(detail)))
        )
    if test == "scanner" and status == "passed":
        return _("Read: {code}").format(code=detail)
    if test == "print" and status == "passed":
        return _("Check the page: every line whole, the paper cut.")
    if test == "print" and status == "running":
        return ""
    return reason(texts, detail) if detail else ""
