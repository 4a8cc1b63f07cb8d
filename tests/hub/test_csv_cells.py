"""CSV cells a spreadsheet would run as a formula are written as text; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.csv_cells import FORMULA_STARTS, cell, row
from hub.models import Payment
from hub.posting.poster import _to_post
from tests.hub.harness import HubHarness, KioskSide
from tests.store.builders import cash_payment

DANGEROUS = {
    "=": '=HYPERLINK("http://x.test","$")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


def test_every_formula_start_is_covered() -> None:
    assert set(DANGEROUS) == set(FORMULA_STARTS)


@pytest.mark.parametrize("first", sorted(DANGEROUS))
def test_text_that_could_be_a_formula_gets_a_quote_in_front(first: str) -> None:
    text = DANGEROUS[first]
    assert cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "C-100200302", "2025-03-01T14:05:00+00:00", "VISA", "O'Brien", "a=b", " =1"]
)
def test_ordinary_text_is_written_as_it_is(text: str) -> None:
    assert cell(text) == text


def test_numbers_stay_numbers_even_when_negative() -> None:
    assert row([-4317, Decimal(-4317).scaleb(-2), 0, 12950]) == ["-4317", "-43.17", "0", "12950"]


def test_a_number_sent_as_text_is_text() -> None:
    """Whether a cell is a number is decided by its type, never by how a kiosk's text looks."""
    assert cell("-43.17") == "'-43.17"


def test_a_flag_must_be_written_as_text() -> None:
    with pytest.raises(TypeError):
        cell(True)


def test_a_neutralised_row_reads_back_through_the_csv_module() -> None:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerow(row([*DANGEROUS.values(), -5]))
    (back,) = csv.reader(io.StringIO(out.getvalue(), newline=""))
    assert back == ["'" + text for text in DANGEROUS.values()] + ["-5"]


# ------------------------------------------------------------- the posting CSV, end to end


@pytest.fixture
def csv_hub(tmp_path: Path) -> Iterator[HubHarness]:
    harness = HubHarness(
        f"sqlite:///{tmp_path / 'hub.sqlite'}", tmp_path, adapter="csv", csv_dir=tmp_path / "cis"
    )
    yield harness
    harness.close()


def test_a_kiosks_formula_lands_in_the_posting_csv_as_text(
    csv_hub: HubHarness, tmp_path: Path
) -> None:
    steps = cash_payment("s1", "100200302", [2000, 500])
    completed = next(s for s in steps if "confirmation" in s.payload and "bills" in s.payload)
    completed.payload["payment_id"] = "-P-s1"
    completed.payload["confirmation"] = DANGEROUS["="]
    kiosk = KioskSide(tmp_path / "kiosk.sqlite")
    try:
        kiosk.write(steps)
        creds = csv_hub.enroll()
        assert csv_hub.push(creds, kiosk.wire()).status_code == 200
    finally:
        kiosk.close()
    csv_hub.ctx.poster.run(include_waiting=True)
    (path,) = (tmp_path / "cis").glob("payments-*.csv")
    (written,) = csv.DictReader(path.open(encoding="utf-8", newline=""))
    assert written["confirmation"] == "'" + DANGEROUS["="]
    assert written["payment_id"] == "'-P-s1"
    assert (written["amount_cents"], written["amount"], written["fee_cents"]) == (
        "2500",
        "25.00",
        "0",
    )
    assert written["journal_seq"].isdigit()
    # delivered again (a crash before it was marked posted): the neutralised id still
    # matches the row already written, so there is still one row
    with csv_hub.ctx.db.read() as conn:
        stored = conn.execute(select(Payment.__table__)).one()
    csv_hub.ctx.poster.adapter.deliver(_to_post(stored._mapping), path.name)
    assert len(list(csv.DictReader(path.open(encoding="utf-8", newline="")))) == 1


def test_every_csv_writer_of_the_hub_writes_through_csv_cells() -> None:
    hub = Path(__file__).resolve().parents[2] / "hub"
    writers = [
        path
        for path in hub.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert writers, "the posting CSV at least"
    unsafe = [p for p in writers if "csv_cells" not in p.read_text(encoding="utf-8")]
    assert unsafe == []
