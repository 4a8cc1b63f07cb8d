"""What a cash-box collection slip says, line by line, in the technician's language.

The slip is the paper finance matches a counted cash bag against, so it is laid out like a
receipt (:mod:`kiosk.receipt_text`: the same :class:`~kiosk.receipt_text.Section` s of styled
lines, 42 columns, the same helpers) and every printer that prints a receipt prints it the same
way: the ESC/POS driver section by section with a status check between them, the simulated
printer and the demo as plain text (:func:`render_slip_text`). Its QR code holds the slip's
document id, so the printer emulator counts it as it counts receipts, and finance can scan it.

The card verdict is printed as words, not left to the reader's arithmetic: a technician who
sees NOT AGREED calls it in before the bag leaves the kiosk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.i18n import format_date, format_money, format_time, translator
from kiosk.money import Money
from kiosk.ports import CollectionSlip
from kiosk.receipt_text import (
    TIMES,
    WIDTH,
    Blank,
    Block,
    Qr,
    Rule,
    Section,
    Text,
    centred,
    render_sections,
    row,
    texts,
    wrap,
)

SIGNATURE_LINE = "_"


def slip_sections(slip: CollectionSlip) -> tuple[Section, ...]:
    """The slip in ``slip.language``, as the sections a printer prints one after another."""
    _: Callable[[str], str] = translator(slip.language).gettext
    lang = slip.language

    def money(amount: Money) -> str:
        return format_money(amount, lang)

    def moment(when: datetime) -> str:
        return f"{format_date(when, lang)} {format_time(when, lang)}"

    header: list[Block] = [
        *centred(slip.city, bold=True, tall=True),
        *centred(_("Cash-box collection").upper(), bold=True),
    ]
    if slip.copy:
        header += centred(_("Copy").upper(), bold=True, big=True)
    header += centred(slip.location)

    previous = (
        moment(slip.previous_collected_at_local)
        if slip.previous_collected_at_local is not None
        else _("first collection")
    )
    details: list[Block] = [
        Rule(),
        *row(_("Kiosk"), slip.kiosk_id),
        *row(_("Slip number"), f"{slip.slip_number:05d}"),
        *row(_("Batch"), slip.batch_id),
        *row(_("This collection"), moment(slip.collected_at_local)),
        *row(_("Last collection"), previous),
        *row(_("Technician"), slip.technician),
        *row(_("Cash box"), slip.cashbox_id),
        *row(_("Bag / seal number"), slip.seal_number),
    ]

    sections = [
        Section("header", tuple(header)),
        Section("details", tuple(details)),
        Section("cash", tuple(_cash(slip, _, money))),
        Section("cards", tuple(_cards(slip, _, money))),
        Section("confirmation", tuple(_confirmation(slip, _))),
        Section("signatures", tuple(_signatures(_))),
    ]
    return tuple(sections)


def render_slip_text(slip: CollectionSlip) -> list[str]:
    """The slip as plain lines of at most 42 characters (no QR code: its data is shown)."""
    return render_sections(slip_sections(slip))


# ----------------------------------------------------------------------------- the parts

Translate = Callable[[str], str]
Format = Callable[[Money], str]


def _cash(slip: CollectionSlip, _: Translate, money: Format) -> list[Block]:
    """count x value = amount per denomination, lowest first, counts and values aligned."""
    bills = sorted(slip.bills)
    blocks: list[Block] = [
        Rule(),
        *row(_("Cash by denomination"), _("Amount"), bold=True),
    ]
    if bills:
        count_width = max(len(str(count)) for _bill, count in bills)
        value_width = max(len(money(bill)) for bill, _count in bills)
        for bill, count in bills:
            label = f"  {count:>{count_width}} {TIMES} {money(bill):>{value_width}}"
            blocks += row(label, money(bill * count))
    else:
        blocks += texts(wrap(_("No bills in the cash box.")))
    blocks += [
        *row(_("Bills"), str(sum(count for _bill, count in bills))),
        *row(_("Cash total"), money(slip.cash_total), bold=True),
        *row(_("Rejected bills"), str(slip.rejected_bills)),
        Rule(),
        *row(_("Payments"), str(slip.payments)),
        *row(_("Journal entries"), f"{slip.first_seq}\N{EN DASH}{slip.last_seq}"),
    ]
    return blocks


def _cards(slip: CollectionSlip, _: Translate, money: Format) -> list[Block]:
    """The kiosk's card approvals beside the terminal's end of day, and what that means."""
    counts = [_("Count"), str(slip.card_count)]
    totals = [_("Amount"), money(slip.card_total)]
    if slip.terminal_ok:
        counts.append("\N{EM DASH}" if slip.terminal_count is None else str(slip.terminal_count))
        totals.append(money(slip.terminal_total))
    count_width = max(map(len, counts))
    total_width = max(map(len, totals))

    def cells(count: str, total: str) -> str:
        return f"{count:>{count_width}}  {total:>{total_width}}"

    blocks: list[Block] = [
        Rule(),
        *row(_("Card approvals"), cells(counts[0], totals[0]), bold=True),
        *row(_("Kiosk"), cells(counts[1], totals[1])),
    ]
    if slip.terminal_ok:
        blocks += row(_("Terminal end of day"), cells(counts[2], totals[2]))
    else:
        blocks += row(_("Terminal end of day"), _("no answer"))
    verdict = _("Agreed") if slip.card_agreed else _("Not agreed")
    blocks += [Blank(), *centred(verdict.upper(), bold=True, big=True)]
    for reason in _disagreements(slip, _, money):
        blocks += centred(reason)
    return blocks


def _disagreements(slip: CollectionSlip, _: Translate, money: Format) -> list[str]:
    """Why the card totals are not agreed, in words; nothing when they are."""
    if not slip.terminal_ok:
        return [_("The card terminal did not answer its end of day.")]
    reasons: list[str] = []
    if slip.terminal_count is not None and slip.terminal_count != slip.card_count:
        difference = abs(slip.card_count - slip.terminal_count)
        reasons.append(_("The counts differ by {count}.").format(count=difference))
    if slip.terminal_total != slip.card_total:
        difference_total = Money(abs(slip.card_total.cents - slip.terminal_total.cents))
        reasons.append(_("The totals differ by {amount}.").format(amount=money(difference_total)))
    return reasons


def _confirmation(slip: CollectionSlip, _: Translate) -> list[Block]:
    return [
        Rule(),
        *row(_("Software version"), slip.software_version),
        Blank(),
        *centred(slip.confirmation, bold=True),
        Qr(slip.confirmation),
    ]


def _signatures(_: Translate) -> list[Block]:
    """A name, a signature and a date for each of the two people who saw the bag sealed."""
    blocks: list[Block] = [Rule()]
    for person in (_("Technician"), _("Witness")):
        blocks += [
            Text(person, bold=True),
            Blank(),
            _write_on(_("Name")),
            Blank(),
            Blank(),  # a signature needs more room than a name
            _write_on(_("Signature")),
            Blank(),
            _write_on(_("Date")),
            Blank(),
        ]
    blocks += centred(_("Sign, then put this slip in the cash bag."))
    return blocks


def _write_on(label: str) -> Text:
    """``Name ______``: a label and a line to write on, to the right edge."""
    label = label[: WIDTH - 11]
    return Text(f"{label} " + SIGNATURE_LINE * (WIDTH - len(label) - 1))
