"""What a receipt says, line by line, in the resident's language: one layout for every printer.

A receipt is laid out once, here, as :class:`Section` s of styled lines 42 columns wide
(what an 80 mm printer's Font A fits on one line). The ESC/POS driver
(``devices/escpos/layout.py``) turns the same sections into printer commands, section by
section so it can check the printer between them; :func:`render_text` flattens them into the
plain text the simulated printer and the headless demo show. So the paper receipt and its
plain-text twin can not drift apart, and both are translated the same way.

Every string here is a gettext message (``_("...")``) extracted by Babel into
``kiosk/locale``; amounts and dates go through :mod:`kiosk.i18n`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from kiosk.i18n import format_date, format_money, format_time, translator
from kiosk.money import Money
from kiosk.ports import ReceiptContent

WIDTH = 42
"""Columns of Font A on 80 mm paper."""

Align = Literal["left", "center", "right"]
TIMES = "\N{MULTIPLICATION SIGN}"


@dataclass(frozen=True, slots=True)
class Text:
    """One printed line, already fitted to its width.

    ``big`` is double width and height (21 columns), ``tall`` double height only (42).
    """

    text: str
    align: Align = "left"
    bold: bool = False
    big: bool = False
    tall: bool = False

    @property
    def columns(self) -> int:
        return WIDTH // 2 if self.big else WIDTH


@dataclass(frozen=True, slots=True)
class Qr:
    """A QR code of ``data`` (the confirmation number), centred."""

    data: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A full-width separator."""


@dataclass(frozen=True, slots=True)
class Blank:
    """An empty line."""


Block = Text | Qr | Rule | Blank


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the receipt the printer driver sends as one chunk, then checks the printer."""

    name: str
    blocks: tuple[Block, ...]


# ----------------------------------------------------------------------------- fitting text


def wrap(text: str, width: int = WIDTH) -> list[str]:
    """Break at spaces only (so phrases survive joining the lines back with spaces)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def pair(left: str, right: str, width: int = WIDTH) -> list[str]:
    """``label .... value`` on one line, or the value right-aligned below a long label."""
    if len(left) + 1 + len(right) <= width:
        return [left + " " * (width - len(left) - len(right)) + right]
    lines = wrap(left, width)
    if len(lines[-1]) + 1 + len(right) <= width:
        last = lines.pop()
        return [*lines, last + " " * (width - len(last) - len(right)) + right]
    return [*lines, *(value.rjust(width) for value in wrap(right, width))]


def texts(lines: Iterable[str], *, bold: bool = False) -> list[Text]:
    return [Text(line, bold=bold) for line in lines]


def row(label: str, value: str, *, bold: bool = False) -> list[Text]:
    """A :func:`pair` as printed lines."""
    return texts(pair(label, value), bold=bold)


def centred(text: str, *, bold: bool = False, big: bool = False, tall: bool = False) -> list[Text]:
    width = WIDTH // 2 if big else WIDTH
    return [Text(line, "center", bold, big, tall) for line in wrap(text, width)]


# ----------------------------------------------------------------------------- the receipt


TEST_METHOD = "test"
"""``ReceiptContent.method`` of a printer test page (service mode): no payment on it."""


def test_page_sections(r: ReceiptContent) -> tuple[Section, ...]:
    """A page that can not be mistaken for a receipt: who printed it, when, and its id."""
    _: Callable[[str], str] = translator(r.language).gettext
    lang = r.language
    blocks: list[Block] = [
        *centred(r.city, bold=True, tall=True),
        *centred(_("Printer test").upper(), bold=True, big=True),
        *centred(_("Not a receipt. No payment was made."), bold=True),
        Rule(),
        *row(_("Kiosk"), r.kiosk_id),
        *centred(r.location),
        *row(_("Date"), format_date(r.paid_at_local, lang)),
        *row(_("Time"), format_time(r.paid_at_local, lang)),
        Rule(),
        *centred(r.confirmation, bold=True),
        Qr(r.confirmation),
    ]
    return (Section("test", tuple(blocks)),)


def receipt_sections(r: ReceiptContent) -> tuple[Section, ...]:
    """The receipt in ``r.language``, as the sections a printer prints one after another."""
    if r.method == TEST_METHOD:
        return test_page_sections(r)
    _: Callable[[str], str] = translator(r.language).gettext
    lang = r.language

    def money(amount: Money) -> str:
        return format_money(amount, lang)

    header: list[Block] = [
        *centred(r.city, bold=True, tall=True),
        *centred(_("Payment receipt").upper(), bold=True),
        *centred(r.location),
    ]

    details: list[Block] = [
        Rule(),
        *row(_("Date"), format_date(r.paid_at_local, lang)),
        *row(_("Time"), format_time(r.paid_at_local, lang)),
        *row(_("Kiosk"), r.kiosk_id),
        *row(_("Account"), r.account_masked),
        *row(_("Service address"), r.service_address_masked),
    ]

    payment: list[Block] = [Rule(), *row(_("Credited to your account"), money(r.amount))]
    if r.method == "cash":
        payment += row(_("Method"), _("Cash"))
        for denomination, count in sorted(r.cash_by_denomination, reverse=True):
            bills = f"  {count} {TIMES} {money(denomination)}"
            payment += row(bills, money(denomination * count))
    else:
        card = f"{r.card_brand} ****{r.card_last4}".strip() if r.card_last4 else r.card_brand
        payment += row(_("Method"), card or _("Card"))
        if r.card_auth_code:
            payment += row(_("Auth code"), r.card_auth_code)
        payment += row(_("Convenience fee"), money(r.fee))
        payment += row(_("Total charged to your card"), money(r.total_charged), bold=True)
    if r.balance_after.cents < 0:
        payment += row(_("Credit on account"), money(-r.balance_after))
    else:
        payment += row(_("Balance after payment"), money(r.balance_after))

    confirmation: list[Block] = [
        Rule(),
        *centred(_("Confirmation number").upper()),
        *centred(r.confirmation, bold=True, big=True),
        Qr(r.lookup_link or r.confirmation),
    ]
    if r.lookup_link:
        confirmation += centred(_("Scan the code with a phone to see this payment online."))
    confirmation += centred(_("Keep this receipt as proof of payment."))

    notes: list[Block] = []
    if r.offline:
        notes += texts(
            wrap(_("Kiosk offline: this payment will be posted when the kiosk reconnects."))
        )
    if r.review:
        notes += texts(wrap(_("Account entered by hand: the city will confirm it before posting.")))
    for line in r.terminal_lines:
        notes += texts(wrap(line))
    if r.method == "cash":
        notes += texts(wrap(_("No change given; any extra is credited to your account.")))
    if notes:
        notes.insert(0, Rule())

    footer: list[Block] = [*contact_blocks(r), Blank(), *centred(_("Thank you!"), bold=True)]

    sections = [
        Section("header", tuple(header)),
        Section("details", tuple(details)),
        Section("payment", tuple(payment)),
        Section("confirmation", tuple(confirmation)),
        Section("notes", tuple(notes)),
        Section("footer", tuple(footer)),
    ]
    return tuple(s for s in sections if s.blocks)


def contact_blocks(r: ReceiptContent) -> list[Block]:
    """Where a resident with a question about the payment turns: the city's customer
    service, as the kiosk's settings give it."""
    _: Callable[[str], str] = translator(r.language).gettext
    lines = [
        line
        for line in (
            _("Phone: {phone}").format(phone=r.contact_phone) if r.contact_phone else "",
            _("Online: {web}").format(web=r.contact_web) if r.contact_web else "",
            _("In person: {address}").format(address=r.contact_address)
            if r.contact_address
            else "",
        )
        if line
    ]
    if not lines:
        return []
    blocks: list[Block] = [Rule(), *centred(_("Questions about this payment?"), bold=True)]
    for line in lines:
        blocks += centred(line)
    return blocks


def render_text(receipt: ReceiptContent) -> list[str]:
    """The receipt as plain lines of at most 42 characters (no QR code: its data is shown)."""
    return render_sections(receipt_sections(receipt))


def render_sections(sections: Iterable[Section]) -> list[str]:
    """Sections as plain lines, as a printer would place them; a QR code is left out."""
    lines: list[str] = []
    for section in sections:
        for block in section.blocks:
            if isinstance(block, Rule):
                lines.append("-" * WIDTH)
            elif isinstance(block, Blank):
                lines.append("")
            elif isinstance(block, Qr):
                continue
            elif block.align == "center":
                lines.append(block.text.center(WIDTH).rstrip())
            elif block.align == "right":
                lines.append(block.text.rjust(WIDTH))
            else:
                lines.append(block.text)
    return lines
