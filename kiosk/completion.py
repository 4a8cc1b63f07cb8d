"""Finishing a payment: the ``payment.completed`` entry and the receipt's content.

Shared by the engine (a resident finished) and recovery (the power went out after the money
was in), so a payment finished either way looks the same to the hub and on paper.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from contract import payloads
from kiosk.config import KioskConfig
from kiosk.confirmation import confirmation_for
from kiosk.engine.session import Session
from kiosk.masking import mask_account, mask_address, mask_name
from kiosk.money import Money
from kiosk.ports import CardResult, ReceiptContent
from kiosk.receipt_text import TEST_METHOD


def credited_amount(session: Session) -> Money:
    """What goes onto the account: the cash inserted, or the card amount without the fee."""
    if session.card_approval is not None:
        return session.card_approval.total - session.fee
    return session.inserted


def completion_payload(
    session: Session, paid_at: datetime, recovered: bool
) -> payloads.PaymentCompleted:
    payment_id = str(uuid.uuid4())
    account = session.account
    amount = credited_amount(session)
    balance_before = account.balance if account is not None else Money(0)
    bills = Counter(b.cents for b in session.bills)
    card = session.card_approval
    return payloads.PaymentCompleted(
        session_id=session.session_id,
        payment_id=payment_id,
        confirmation=confirmation_for(payment_id),
        account_number=account.number if account is not None else "",
        method="card" if card is not None else "cash",
        amount_cents=amount.cents,
        fee_cents=session.fee.cents if card is not None else 0,
        cash_cents=session.inserted.cents,
        bills={str(k): v for k, v in sorted(bills.items())},
        card=payloads.PaymentCard.model_validate(card.as_payload()) if card else None,
        paid_at=paid_at.isoformat(),
        review=session.review,
        balance_before_cents=balance_before.cents,
        balance_after_cents=(balance_before - amount).cents,
        recovered=recovered,
    )


def receipt_content(
    session: Session, payment: payloads.PaymentCompleted, config: KioskConfig, offline: bool
) -> ReceiptContent:
    account = session.account
    card = session.card_approval
    paid_at = datetime.fromisoformat(payment.paid_at).astimezone(config.locale.zone())
    fee = Money(payment.fee_cents)
    amount = Money(payment.amount_cents)
    return ReceiptContent(
        city=config.identity.city,
        location=config.identity.location,
        kiosk_id=config.identity.kiosk_id,
        paid_at_local=paid_at,
        language=session.language,
        account_masked=mask_account(account.number) if account else "",
        service_address_masked=mask_address(account.service_address) if account else "",
        amount=amount,
        method=payment.method,
        fee=fee,
        total_charged=amount + fee,
        cash_by_denomination=tuple((Money(int(k)), v) for k, v in payment.bills.items()),
        card_brand=card.brand if card else "",
        card_last4=card.last4 if card else "",
        card_auth_code=card.auth_code if card else "",
        balance_after=Money(payment.balance_after_cents),
        confirmation=payment.confirmation,
        offline=offline,
        review=payment.review,
        terminal_lines=card.receipt_lines if card else (),
        lookup_link=config.receipt.link(payment.confirmation),
        contact_phone=config.contact.phone,
        contact_web=config.contact.web,
        contact_address=config.contact.address,
    )


def approval_payload(
    result: CardResult, session_id: str | None, intent_seq: int | None, recovered: bool
) -> payloads.CardSaleApproved:
    """The ``card.sale.approved`` entry for the terminal's answer: what it keeps of it (never
    card data), the session, the sale intent it settles and whether recovery learnt it."""
    return payloads.CardSaleApproved(
        session_id=session_id,
        intent_seq=intent_seq,
        reference=result.reference,
        total_cents=result.amount.cents,
        auth_code=result.auth_code,
        brand=result.brand,
        last4=result.last4,
        terminal_ref=result.terminal_ref,
        receipt_lines=list(result.receipt_lines),
        recovered=recovered,
    )


def account_selected_payload(session: Session) -> payloads.AccountSelected:
    account = session.account
    assert account is not None, "an account is selected before it is journaled"
    source = session.account_source.value if session.account_source else "live"
    return payloads.AccountSelected(
        session_id=session.session_id,
        account_number=account.number,
        name_masked=mask_name(account.name),
        address_masked=mask_address(account.service_address),
        balance_cents=account.balance.cents,
        due_date=account.due_date.isoformat() if account.due_date else None,
        source=source,  # type: ignore[arg-type]  # a LookupSource value
        review=session.review,
    )


def test_page(
    config: KioskConfig, confirmation: str, when: datetime, language: str
) -> ReceiptContent:
    """A printer test (``method`` "test"): no payment, only the test's id to look for."""
    zero = Money(0)
    return ReceiptContent(
        city=config.identity.city,
        location=config.identity.location,
        kiosk_id=config.identity.kiosk_id,
        paid_at_local=when.astimezone(config.locale.zone()),
        language=language,
        account_masked="",
        service_address_masked="",
        amount=zero,
        method=TEST_METHOD,
        fee=zero,
        total_charged=zero,
        cash_by_denomination=(),
        card_brand="",
        card_last4="",
        card_auth_code="",
        balance_after=zero,
        confirmation=confirmation,
        offline=False,
        review=False,
    )
