"""Finance exports read back: a day's payments, batches and over/short as CSV, a batch's
reconciliation report and a day's deposit slip as PDF; made again, the same bytes."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from contract import entries as E
from contract import payloads
from hub import accounts, counts, demo, exports, options
from hub.cli import main as hub_cli
from hub.errors import NotFound
from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import Step, card_payment, cash_payment

pytestmark = pytest.mark.postgresql_in_slow_suite

ZONE = ZoneInfo("America/Chicago")
PAID = date(2025, 3, 1)  # the builders' payments: 2025-03-01T14:05Z, 08:05 in Chicago
COUNTED = date(2025, 3, 4)  # the hub's clock: 2025-03-04T12:00Z
HYPERLINK = '=HYPERLINK("http://x.test","$")'
REASON = "one $20 note found stuck in the acceptor's path"


def _with_confirmation(steps: list[Step], confirmation: str) -> list[Step]:
    for step in steps:
        if step.type == E.PAYMENT_COMPLETED:
            step.payload["confirmation"] = confirmation
    return steps


def _collected_day(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> str:
    """Two cash payments ($25, one of them from a kiosk sending a formula as confirmation)
    and a card payment ($30 + $1.50 fee); the box collected into bag SEAL-0042, the
    terminal's end of day short of the kiosk's approvals; everything at the hub, posted."""
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())
    kiosk.write(_with_confirmation(cash_payment("s1", "100200302", [2000, 500]), HYPERLINK))
    kiosk.write(card_payment("s2", "100200419", 3000, 150))
    kiosk.write(cash_payment("s3", "100200526", [2000, 2000]))
    batch_id = kiosk.journal.open_batch_id()
    started = kiosk.journal.record(
        payloads.CollectionStarted(
            collection_id="col-1",
            slip_number=7,
            batch_id=batch_id,
            technician="Dana Lopez <& Sons>",
            cashbox_id="BOX-3",
            seal_number="SEAL-0042",
        )
    )
    kiosk.journal.record(
        payloads.BatchClosed(
            batch_id=batch_id,
            reason="cash_box_collection",
            by="Dana Lopez <& Sons>",
            first_seq=1,
            bills={"500": 1, "2000": 3},
            cash_cents=6500,
            card_cents=3150,
            card_count=1,
            reversals=0,
            terminal_ok=True,
            terminal_card_cents=0,
            card_matches=False,
        )
    )
    kiosk.journal.record(
        payloads.CollectionCompleted(
            intent_seq=started.seq,
            collection_id="col-1",
            slip_number=7,
            batch_id=batch_id,
            bills={"500": 1, "2000": 3},
            cash_cents=6500,
            rejected_bills=2,
            payments=3,
            first_seq=1,
            last_seq=started.seq,
            card_count=1,
            card_cents=3150,
            terminal_ok=True,
            terminal_count=0,
            terminal_cents=0,
            agreed=False,
        )
    )
    assert hub.push(creds, kiosk.wire()).status_code == 200
    return batch_id


def _read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def _pdf_text(data: bytes) -> str:
    """The words of every page, each run of white space one space (table cells included)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_a_days_payments_with_their_postings_and_no_more_card_data(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    _collected_day(hub, creds, kiosk)
    data = exports.payments_csv(hub.ctx.db, ZONE, PAID)
    assert data.count(b"\r\n") == 4 and b"\n" not in data.replace(b"\r\n", b"")
    rows = _read_csv(data)
    assert [r["account_number"] for r in rows] == ["100200302", "100200419", "100200526"]
    cash, card, _ = rows
    assert (cash["method"], cash["amount_cents"], cash["amount"], cash["cash_cents"]) == (
        "cash",
        "2500",
        "25.00",
        "2500",
    )
    assert (card["amount_cents"], card["fee_cents"], card["card_brand"]) == ("3000", "150", "VISA")
    assert (card["card_last4"], card["card_auth_code"]) == ("4242", "A1B2C3")
    assert {r["posting_status"] for r in rows} == {"posted"}
    assert {r["attempts"] for r in rows} == {"1"}
    assert {r["effective_date"] for r in rows} == {"2025-03-01"}
    assert cash["paid_at"] == "2025-03-01T14:05:00+00:00"
    assert b"T-000123" not in data, "the terminal's reference is not exported"
    assert b"R-s2" not in data, "nor the kiosk's card sale reference"


def test_a_formula_from_a_kiosk_is_written_as_text(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    _collected_day(hub, creds, kiosk)
    first = _read_csv(exports.payments_csv(hub.ctx.db, ZONE, PAID))[0]
    assert first["confirmation"] == "'" + HYPERLINK


def test_the_same_day_made_again_is_the_same_bytes(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch_id = _collected_day(hub, creds, kiosk)
    counts.record_count(hub.ctx.db, "k1", batch_id, {500: 1, 2000: 2}, "clerk-ana", hub.clock())
    counts.approve_variance(hub.ctx.db, "k1", batch_id, "sup-bo", REASON, 1, hub.clock())

    def everything() -> list[bytes]:
        db = hub.ctx.db
        return [
            exports.payments_csv(db, ZONE, PAID),
            exports.payments_csv(db, ZONE, PAID, "k1"),
            exports.batches_csv(db, ZONE, PAID),
            exports.over_short_csv(db, ZONE),
            exports.batch_report_pdf(db, ZONE, "k1", batch_id),
            exports.deposit_slip_pdf(db, ZONE, COUNTED),
        ]

    first = everything()
    hub.clock.advance(days=40)
    assert everything() == first
    assert all(first[-2:]) and first[-1].startswith(b"%PDF")


def test_a_day_without_anything_gives_headers_and_an_empty_slip(hub: HubHarness) -> None:
    db = hub.ctx.db
    for data, first in (
        (exports.payments_csv(db, ZONE, PAID), b"payment_id,confirmation,kiosk_id,"),
        (exports.batches_csv(db, ZONE, PAID), b"kiosk_id,batch_id,status,"),
        (exports.over_short_csv(db, ZONE), b"day,kiosk_id,batches,"),
    ):
        assert data.startswith(first) and data.count(b"\r\n") == 1
    slip = _pdf_text(exports.deposit_slip_pdf(db, ZONE, PAID))
    assert "nothing to deposit" in slip and "$0.00" in slip


def test_batches_of_the_day_with_their_collection_and_count(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch_id = _collected_day(hub, creds, kiosk)
    [collected] = _read_csv(exports.batches_csv(hub.ctx.db, ZONE, PAID))
    assert (collected["batch_id"], collected["status"]) == (batch_id, "collected")
    assert collected["seal_number"] == "SEAL-0042"
    assert collected["collected_by"] == "Dana Lopez <& Sons>"
    assert (collected["cash_cents"], collected["card_cents"]) == ("6500", "3150")
    assert (collected["terminal_cents"], collected["card_agreed"]) == ("0", "0")
    assert collected["counted_cents"] == "" and collected["payment_count"] == "3"
    assert collected["closed_at"].startswith("2025-03-01T08:0") and collected["closed_at"].endswith(
        "-06:00"
    )
    counts.record_count(hub.ctx.db, "k1", batch_id, {500: 1, 2000: 2}, "clerk-ana", hub.clock())
    [counted] = _read_csv(exports.batches_csv(hub.ctx.db, ZONE, PAID, "k1"))
    assert (counted["status"], counted["counted_cents"], counted["variance_cents"]) == (
        "variance",
        "4500",
        "-2000",
    )
    assert counted["counted_at"] == "2025-03-04T06:00:00-06:00"
    assert _read_csv(exports.batches_csv(hub.ctx.db, ZONE, PAID, "k2")) == []
    assert _read_csv(exports.batches_csv(hub.ctx.db, ZONE, date(2025, 3, 2))) == []


def test_one_kiosks_payments(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, tmp_path: Path
) -> None:
    _collected_day(hub, creds, kiosk)
    other = hub.enroll("k2")
    second = KioskSide(tmp_path / "k2.sqlite")
    try:
        second.write(cash_payment("t1", "100200302", [100]))
        assert hub.push(other, second.wire()).status_code == 200
    finally:
        second.close()
    everyone = _read_csv(exports.payments_csv(hub.ctx.db, ZONE, PAID))
    assert [r["kiosk_id"] for r in everyone] == ["k1", "k1", "k1", "k2"]
    only = _read_csv(exports.payments_csv(hub.ctx.db, ZONE, PAID, "k2"))
    assert [(r["kiosk_id"], r["amount_cents"]) for r in only] == [("k2", "100")]


def test_the_over_short_ledger_between_two_days(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch_id = _collected_day(hub, creds, kiosk)
    counts.record_count(hub.ctx.db, "k1", batch_id, {500: 2, 2000: 3}, "clerk-ana", hub.clock())
    [row] = _read_csv(exports.over_short_csv(hub.ctx.db, ZONE, COUNTED, COUNTED))
    assert row == {
        "day": "2025-03-04",
        "kiosk_id": "k1",
        "batches": "1",
        "over_cents": "500",
        "short_cents": "0",
        "net_cents": "500",
    }
    assert _read_csv(exports.over_short_csv(hub.ctx.db, ZONE, since=date(2025, 3, 5))) == []


def test_a_batch_report_before_and_after_its_count(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch_id = _collected_day(hub, creds, kiosk)
    before = _pdf_text(exports.batch_report_pdf(hub.ctx.db, ZONE, "k1", batch_id))
    for shown in (
        f"Kiosk k1, batch {batch_id}",
        "Test lobby",
        "Dana Lopez <& Sons>",
        "2025-03-01 08:0",
        "SEAL-0042",
        "BOX-3",
        "not counted yet",
        "1 approval(s), $31.50",
        "0 approval(s), $0.00",
        "NOT AGREED",
    ):
        assert shown in before, shown
    counts.record_count(hub.ctx.db, "k1", batch_id, {500: 1, 2000: 2}, "clerk-ana", hub.clock())
    counts.approve_variance(hub.ctx.db, "k1", batch_id, "sup-bo", REASON, 1, hub.clock())
    after = _pdf_text(exports.batch_report_pdf(hub.ctx.db, ZONE, "k1", batch_id))
    for shown in (
        "-$20.00 (short)",
        "Variance approved",
        "clerk-ana, 2025-03-04 06:00 CST",
        "sup-bo, 2025-03-04 06:00 CST",
        REASON,
        "$65.00",  # expected
        "$45.00",  # counted
        "-1 (-$20.00)",
        "Figures as of 2025-03-04 06:00 CST",
    ):
        assert shown in after, shown
    with pytest.raises(NotFound):
        exports.batch_report_pdf(hub.ctx.db, ZONE, "k1", "B999")


def test_the_deposit_slip_of_the_day_the_bags_were_counted(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch_id = _collected_day(hub, creds, kiosk)
    counts.record_count(hub.ctx.db, "k1", batch_id, {500: 1, 2000: 2}, "clerk-ana", hub.clock())
    slip = _pdf_text(exports.deposit_slip_pdf(hub.ctx.db, ZONE, COUNTED))
    for shown in (
        "cash counted on 2025-03-04",
        "SEAL-0042",
        f"{batch_id} *",
        "Received by the bank",
    ):
        assert shown in slip, shown
    assert "Total to deposit $45.00" in slip
    assert "not yet signed off" in slip
    assert "nothing to deposit" in _pdf_text(exports.deposit_slip_pdf(hub.ctx.db, ZONE, PAID))


def test_the_command_writes_a_file_or_standard_output(
    hub: HubHarness,
    creds: Creds,
    kiosk: KioskSide,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    batch_id = _collected_day(hub, creds, kiosk)
    db = ["--db", hub.db_url]
    out = tmp_path / "payments.csv"
    assert hub_cli([*db, "export", "payments", "--day", "2025-03-01", "-o", str(out)]) == 0
    assert out.read_bytes() == exports.payments_csv(hub.ctx.db, ZONE, PAID)
    capsysbinary.readouterr()
    assert hub_cli([*db, "export", "batch-report", "k1", batch_id]) == 0
    assert capsysbinary.readouterr().out == exports.batch_report_pdf(
        hub.ctx.db, ZONE, "k1", batch_id
    )
    with pytest.raises(SystemExit) as refused:
        hub_cli([*db, "export", "payments", "--day", "March 1st"])
    assert refused.value.code == 2
    assert "'March 1st' is not a day: write YYYY-MM-DD" in capsysbinary.readouterr().err.decode()
    assert hub_cli([*db, "export", "batch-report", "k1", "B999"]) == 1


def test_a_batch_counted_twice_reports_both_counts(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch_id = _collected_day(hub, creds, kiosk)
    options.set_second_count(hub.ctx.db, True, "admin-al", hub.clock())
    counts.record_count(hub.ctx.db, "k1", batch_id, {500: 1, 2000: 2}, "clerk-ana", hub.clock())
    counts.record_count(hub.ctx.db, "k1", batch_id, {500: 1, 2000: 3}, "clerk-cy", hub.clock())
    report = _pdf_text(exports.batch_report_pdf(hub.ctx.db, ZONE, "k1", batch_id))
    for shown in (
        "First count by clerk-ana, 2025-03-04 06:00 CST: $45.00",
        "Second count by clerk-cy",
        "THE TWO COUNTS DIFFER",
    ):
        assert shown in report, shown
