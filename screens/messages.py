"""The resident's words for what the engine and the devices report.

The engine speaks in short keys (``Snapshot.message``, ``card_prompt``,
``card_decline_reason``); this is the one place they become sentences a resident reads,
short and calm, never a code or a traceback. Anything without its own sentence gets the
general one of its kind, so a new key from a device never shows up raw.
"""

from __future__ import annotations

from kiosk.engine.snapshot import Snapshot
from screens.texts import N_, Texts

MESSAGES: dict[str, str] = {
    "barcode_not_recognised": N_(
        "That barcode is not a bill from the city. Type your account number instead."
    ),
    "account_unknown": N_("We could not find that account number. Please check it and try again."),
    "account_invalid": N_("That is not a valid account number. Please check it and try again."),
    "account_closed": N_("That account is closed. Please call customer service."),
    "account_unavailable": N_(
        "We can not look up accounts right now. Please try again in a moment."
    ),
    "amount_too_low": N_("The smallest payment this kiosk takes is {low}."),
    "amount_too_high": N_("The largest payment this kiosk takes is {high}."),
    "cash_over_limit": N_(
        "That amount is more than this kiosk takes in cash. Please pay by card or pay less."
    ),
    "cash_unavailable": N_("Cash is not available right now. Please pay by card."),
    "card_unavailable": N_("Card payment is not available right now. Please pay with cash."),
    "bill_not_accepted_now": N_("The bill was returned. Please take it."),
    "bill_over_limit": N_(
        "That bill would go over the most this kiosk takes. Please take it back."
    ),
    "bill_rejected": N_("That bill could not be read. Please try it again, flat and face up."),
    "card_declined": N_("Your card was not accepted."),
}
GENERAL_MESSAGE = N_("Something went wrong. Please try again.")
WITH_PHONE: dict[str, str] = {
    "account_closed": N_("That account is closed. Please call customer service at {phone}."),
}
"""The sentences that send a resident to customer service, with the city's number (used
when the kiosk's settings give one)."""

CARD_PROMPTS: dict[str, str] = {
    "insert_card": N_("Insert, tap or swipe your card on the card reader"),
    "enter_pin": N_("Enter your PIN on the card reader"),
    "processing": N_("Processing, please wait"),
    # the engine asks the terminal what became of a sale whose answer was lost (card_checking)
    "checking": N_("Checking the payment with the card reader, please wait"),
    "wait": N_("Please wait"),
    "remove_card": N_("Please remove your card"),
    "select_application": N_("Choose how to pay on the card reader"),
    "confirm_amount": N_("Check the amount on the card reader"),
    "card_error": N_("The card could not be read. Please try again."),
    "declined": N_("Card not accepted"),
    "approved": N_("Approved"),
}
CARD_PROMPT_FIRST = N_("Follow the instructions on the card reader")

DECLINE_REASONS: dict[str, str] = {
    "insufficient_funds": N_("The card has insufficient funds."),
    "credit_not_sufficient": N_("The card has insufficient funds."),
    "card_expired": N_("The card has expired."),
    "incorrect_pin": N_("The PIN was not correct."),
    "pin_tries_exceeded": N_("Too many PIN tries. Please use another card."),
    "cancelled": N_("The payment was cancelled at the card reader."),
    "aborted": N_("The payment was cancelled at the card reader."),
    "cardholder": N_("The payment was cancelled at the card reader."),
    "card_not_readable": N_("The card could not be read."),
    "chip_error": N_("The card could not be read."),
    "in_doubt_reversed": N_(
        "The card reader did not answer; nothing was charged. Please try again."
    ),
    "in_doubt_unreversed": N_(
        "The card reader did not answer. If your card was charged, the charge will be"
        " cancelled. Please try again or pay with cash."
    ),
    "timeout": N_("The card reader did not answer; nothing was charged. Please try again."),
    "issuer_unavailable": N_("Your bank could not be reached. Please try again or pay with cash."),
    "no_connection": N_("The card reader is offline. Please pay with cash."),
    "terminal_unavailable": N_("The card reader is not available. Please pay with cash."),
}
DECLINE_GENERAL = N_("Your card was declined by your bank.")


def message(texts: Texts, key: str, snapshot: Snapshot | None = None) -> str:
    """The sentence for ``key``, with the limits and the city's phone number of
    ``snapshot`` where it names them."""
    if not key:
        return ""
    phone = snapshot.contact.phone if snapshot is not None else ""
    if phone and key in WITH_PHONE:
        sentence = texts._(WITH_PHONE[key])
    else:
        sentence = texts._(MESSAGES.get(key, GENERAL_MESSAGE))
    if snapshot is None:
        return sentence.replace("{low}", "").replace("{high}", "")
    return sentence.format(
        low=texts.money(snapshot.min_amount), high=texts.money(snapshot.max_amount), phone=phone
    )


def card_prompt(texts: Texts, key: str) -> str:
    return texts._(CARD_PROMPTS.get(key, CARD_PROMPT_FIRST) if key else CARD_PROMPT_FIRST)


def decline_reason(texts: Texts, key: str) -> str:
    return texts._(DECLINE_REASONS.get(key, DECLINE_GENERAL))
