"""A receipt as plain text, 42 columns: what an 80 mm printer's Font A fits on one line.

Used by the simulated printer and the headless demo; the ESC/POS driver lays out the same
:class:`~kiosk.ports.ReceiptContent` with its own styles.
"""

from __future__ import annotations

from kiosk.ports import ReceiptContent

WIDTH = 42


def _pair(left: str, right: str) -> str:
    space = max(1, WIDTH - len(left) - len(right))
    return f"{left}{' ' * space}{right}"


def _dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def render_text(r: ReceiptContent) -> list[str]:
    rule = "-" * WIDTH
    lines = [
        r.city.center(WIDTH).rstrip(),
        "PAYMENT RECEIPT".center(WIDTH).rstrip(),
        r.location.center(WIDTH).rstrip(),
        rule,
        _pair("Date", r.paid_at_local.strftime("%m/%d/%Y %I:%M %p")),
        _pair("Kiosk", r.kiosk_id),
        _pair("Account", r.account_masked),
        _pair("Service address", r.service_address_masked),
        rule,
        _pair("Amount paid", _dollars(r.amount.cents)),
    ]
    if r.method == "cash":
        lines.append(_pair("Method", "Cash"))
        for denomination, count in r.cash_by_denomination:
            lines.append(
                _pair(
                    f"  {count} x {_dollars(denomination.cents)}",
                    _dollars(denomination.cents * count),
                )
            )
    else:
        lines.append(_pair("Method", f"{r.card_brand} ****{r.card_last4}"))
        lines.append(_pair("Auth code", r.card_auth_code))
        lines.append(_pair("Convenience fee", _dollars(r.fee.cents)))
        lines.append(_pair("Total charged", _dollars(r.total_charged.cents)))
    balance = r.balance_after.cents
    label = "Credit on account" if balance < 0 else "Balance after payment"
    lines += [
        _pair(label, _dollars(abs(balance))),
        rule,
        "CONFIRMATION NUMBER".center(WIDTH).rstrip(),
        r.confirmation.center(WIDTH).rstrip(),
        rule,
    ]
    if r.offline:
        lines += ["Kiosk offline: this payment will be", "posted when the kiosk reconnects."]
    if r.review:
        lines += ["Account entered by hand: the city will", "confirm it before posting."]
    lines += [*r.terminal_lines, "No change given; any extra is credited.", "Thank you!"]
    return lines
