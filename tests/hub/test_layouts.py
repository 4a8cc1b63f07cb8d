"""Payment import files in a configured layout: exact bytes, each payment once, again later."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update

from hub import accounts, demo, suspense
from hub.cli import main
from hub.db import database_url
from hub.models import Payment, Transmission, TransmissionPayment
from hub.posting import layout as layouts
from hub.posting.csv_file import COLUMNS
from hub.posting.files import FileAdapter
from tests.hub.harness import HubHarness, KioskSide, post_from_two_processes
from tests.store.builders import card_payment, cash_payment

FIXTURES = Path(__file__).parent / "fixtures"

NARROW = """
name = "narrow"
format = "fixed"
[detail]
fields = [
  { source = "account", width = 6 },
  { source = "amount", width = 8 },
]
"""


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskSide]:
    side = KioskSide(tmp_path / "kiosk.sqlite")
    side.write(cash_payment("s1", "100200302", [2000, 500]))
    side.write(card_payment("s2", "100200419", 12950, 324))
    yield side
    side.close()


def _file_hub(db_url: str, tmp_path: Path, layout: str = "lockbox") -> HubHarness:
    """A hub posting files; by default not after each push (a file per run, not per push)."""
    return HubHarness(db_url, tmp_path, adapter="file", file_dir=tmp_path / "cis", layout=layout)


def _files(hub: HubHarness) -> list[Path]:
    folder = hub.tmp_path / "cis"
    return sorted(folder.iterdir()) if folder.exists() else []


def _item(**changes: object) -> layouts.Item:
    values: dict[str, object] = {
        "payment_id": "P-1",
        "account": "100200302",
        "amount_cents": 4317,
        "fee_cents": 0,
        "cash_cents": 4317,
        "method": "cash",
        "paid_at": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        "effective_date": date(2025, 3, 1),
        "confirmation": "C-1",
        "kiosk": "k1",
        "batch": "B1",
        "journal_seq": 7,
        "card_brand": None,
        "card_last4": None,
        "card_auth_code": None,
        "review": False,
    }
    return layouts.Item(**(values | changes))  # type: ignore[arg-type]


# ------------------------------------------------------------------- the layout itself


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'name = "x"\nformat = "fixed"\n[detail]\nfields = [{ source = "account" }]',
            "detail.fields.0.width: a fixed-width field needs a width",
        ),
        (
            'name = "x"\nformat = "fixed"\n[detail]\nfields = [{ source = "acount", width = 3 }]',
            "detail.fields.0.source: Input should be",
        ),
        (
            'name = "x"\nformat = "fixed"\n[detail]\nfields = [{ value = "6", width = 1 },'
            ' { source = "amount", width = 9, start = 3 }]',
            "detail.fields.1.start: the field starts at column 2",
        ),
        (
            'name = "x"\nformat = "fixed"\n[[header]]\nfields = [{ source = "amount", width = 9 }]'
            '\n[detail]\nfields = [{ value = "6", width = 1 }]',
            "header.0.fields.0.source: amount is only in detail records",
        ),
        (
            'name = "../x"\nformat = "delimited"\n[detail]\nfields = [{ value = "1" }]',
            "file_name: '../x-000001-20000101.txt' is not a plain file name",
        ),
        (
            'name = "x"\nformat = "fixed"\n[detail]\nfields = [{ value = "01", width = 1 }]',
            "detail.fields.0.value: '01' is longer than its width 1",
        ),
        (
            'name = "x"\nformat = "delimited"\n[detail]\nfields = [{ source = "account",'
            ' value = "1" }]',
            "detail.fields.0: give exactly one of source",
        ),
    ],
)
def test_a_bad_layout_is_refused_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(layouts.LayoutError) as caught:
        layouts.parse(text, "city.toml", "toml")
    assert str(caught.value).startswith("city.toml: ")
    assert message in str(caught.value)


def test_a_layout_file_is_json_or_toml_and_its_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    path.write_text('{"name": "city", "format": "fixed", "detail": {"fields": []}}')
    with pytest.raises(layouts.LayoutError, match=r"city.json: detail.fields: List should have"):
        layouts.load(path)
    with pytest.raises(layouts.LayoutError, match=r"give a \.toml or \.json file"):
        layouts.load(tmp_path / "city.yaml")


def test_a_value_wider_than_its_field_fails_the_file_and_is_never_cut() -> None:
    narrow = layouts.parse(NARROW, "narrow", "toml")
    ok = layouts.render(narrow, 1, datetime(2025, 3, 4, tzinfo=UTC), [_item(account="100200")])
    assert ok.content == b"10020000004317\r\n"
    with pytest.raises(layouts.LayoutOverflow, match="account '100200302' is 9 characters"):
        layouts.render(narrow, 1, datetime(2025, 3, 4, tzinfo=UTC), [_item()])
    with pytest.raises(layouts.LayoutOverflow, match="amount '123456789' is 9 characters"):
        item = _item(account="1", amount_cents=123456789)
        layouts.render(narrow, 1, datetime(2025, 3, 4, tzinfo=UTC), [item])


def test_delimited_text_is_quoted_and_neutralised_numbers_are_not() -> None:
    built_in = layouts.load("csv")
    out = layouts.render(
        built_in, 1, datetime(2025, 3, 4, tzinfo=UTC), [_item(confirmation="=1+2", kiosk="a,b")]
    )
    rows = list(csv.reader(out.content.decode().splitlines()))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1][1] == "'=1+2" and rows[1][2] == "a,b"
    assert rows[1][4:6] == ["4317", "43.17"]
    assert out.record_count == 2 and out.total_cents == 4317


# ------------------------------------------------------------------------- files


def test_the_lockbox_file_is_the_one_written_by_hand_from_the_positions(
    db_url: str, tmp_path: Path, kiosk: KioskSide, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = _file_hub(db_url, tmp_path)
    try:
        creds = hub.enroll()
        hub.push(creds, kiosk.wire())
        assert _files(hub) == [], "no file per push: files are made by the posting runs"
        report = hub.ctx.poster.run()
        assert sorted(report.posted) == ["P-s1", "P-s2"]
        [written] = _files(hub)
        expected = FIXTURES / "lockbox-000001-20250304.txt"
        assert written.name == expected.name
        assert written.read_bytes() == expected.read_bytes()
        postings = hub.admin("/v1/postings")
        assert {(p["status"], p["reference"]) for p in postings} == {("posted", written.name)}
        # the same payments pushed and posted again: no second file, nothing in two files
        hub.push(creds, kiosk.wire())
        assert hub.ctx.poster.run(include_waiting=True).posted == []
        assert _files(hub) == [written]
        with hub.ctx.db.read() as conn:
            row = conn.execute(select(Transmission.__table__)).one()
            assert (row.record_count, row.detail_count, row.total_cents) == (7, 2, 15450)
            assert row.layout_hash == layouts.load("lockbox").digest
            assert row.sha256 == hashlib.sha256(expected.read_bytes()).hexdigest()
    finally:
        hub.close()
    # written again from the records, byte for byte, even with another layout configured
    again = tmp_path / "again"
    again.mkdir()
    # (in the time zone the file was made in, whatever the hub's is now)
    args = ["--db", db_url, "--time-zone", "UTC", "posting", "rewrite", "1", "--out", str(again)]
    assert main(args) == 0
    assert (again / expected.name).read_bytes() == expected.read_bytes()
    assert main(["--db", db_url, "posting", "files"]) == 0
    listed = capsys.readouterr().out
    assert f"1  {expected.name}  lockbox v1" in listed and "2 payment(s), 15450 cents" in listed
    # records changed behind the hub's back: refused, not a different file under that name
    engine = create_engine(database_url(db_url))
    with engine.begin() as conn:
        conn.execute(update(Payment).where(Payment.payment_id == "P-s1").values(amount_cents=1))
    engine.dispose()
    assert main([*args[:-1], str(tmp_path / "other.txt")]) == 1
    assert "would not come out as written" in capsys.readouterr().err
    assert not (tmp_path / "other.txt").exists()


def test_postings_wait_while_the_billing_system_is_down_and_keep_their_date(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    """Down: the import directory can not be written. The file waits (same transmission,
    same payments) and is written when it comes back, days later; each row still carries
    the day the resident paid."""
    (tmp_path / "cis").write_text("not a directory yet")
    hub = _file_hub(db_url, tmp_path, layout="csv")
    try:
        creds = hub.enroll()
        hub.push(creds, kiosk.wire())
        report = hub.ctx.poster.run()
        assert set(report.failed) == {"P-s1", "P-s2"}
        assert "could not write" in report.failed["P-s1"]
        assert {p["status"] for p in hub.admin("/v1/postings")} == {"failed"}
        side = KioskSide(tmp_path / "k2.sqlite")
        side.write(cash_payment("t1", "100200526", [1000]))
        hub.push(hub.enroll("k2"), side.wire())
        side.close()
        hub.clock.advance(minutes=5)
        assert set(hub.ctx.poster.run().failed) == {"P-s1", "P-s2"}, "no second file waits"
        hub.clock.advance(days=3)
        (tmp_path / "cis").unlink()
        report = hub.ctx.poster.run()
        assert sorted(report.posted) == ["P-s1", "P-s2", "P-t1"]
        written, later = _files(hub)
        assert written.name == "payments-000001-20250304.csv"  # the file begun on day one
        assert later.name == "payments-000002-20250307.csv"
        rows = list(csv.DictReader(written.open(encoding="utf-8", newline="")))
        assert [(r["payment_id"], r["effective_date"]) for r in rows] == [
            ("P-s1", "2025-03-01"),
            ("P-s2", "2025-03-01"),
        ]
        with hub.ctx.db.read() as conn:
            assert conn.execute(select(func.count()).select_from(Transmission)).scalar() == 2
        assert not [p for p in _files(hub) if p.name.startswith(".")]
    finally:
        hub.close()


def test_a_payment_to_an_account_the_billing_system_lacks_goes_to_suspense(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    hub = _file_hub(db_url, tmp_path)
    try:
        rows = [r for r in demo.demo_csv().splitlines() if not r.startswith("100200419")]
        accounts.import_accounts(hub.ctx.db, "\n".join(rows) + "\n", hub.clock(), date(2025, 3, 4))
        creds = hub.enroll()
        hub.push(creds, kiosk.wire())
        report = hub.ctx.poster.run()
        assert report.posted == ["P-s1"] and list(report.failed) == ["P-s2"]
        [held] = hub.admin("/v1/postings?status=suspense")
        assert "100200419 is not in the billing system's accounts" in held["last_error"]
        assert hub.ctx.poster.run().posted == [], "suspense waits for a clerk"
        suspense.resolve(hub.ctx.db, "P-s2", "100200526", "clerk", hub.clock())
        assert hub.ctx.poster.post_one("P-s2") == ("posted", "")
        second = _files(hub)[1]
        assert second.name == "lockbox-000002-20250304.txt"
        detail = second.read_text().splitlines()[2]
        assert detail[17:37].rstrip() == "100200526" and detail[7:17] == "0000012950"
        with hub.ctx.db.read() as conn:
            placed = conn.execute(
                select(TransmissionPayment.payment_id, TransmissionPayment.transmission_id)
            ).all()
        assert sorted(placed) == [("P-s1", 1), ("P-s2", 2)]
    finally:
        hub.close()


def test_a_file_whose_values_do_not_fit_is_not_written_and_waits_for_a_fixed_layout(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    narrow = tmp_path / "narrow.toml"
    narrow.write_text(NARROW)
    hub = _file_hub(db_url, tmp_path, layout=str(narrow))
    try:
        creds = hub.enroll()
        hub.push(creds, kiosk.wire())
        report = hub.ctx.poster.run()
        assert "account '100200302' is 9 characters, its field is 6" in report.failed["P-s1"]
        assert set(report.failed) == {"P-s1", "P-s2"}
        assert _files(hub) == []
        with hub.ctx.db.read() as conn:
            assert conn.execute(select(func.count()).select_from(Transmission)).scalar() == 0
        wide = layouts.parse(NARROW.replace("width = 6", "width = 12"), "wide", "toml")
        hub.ctx.poster.adapter = FileAdapter(tmp_path / "cis", wide, hub.settings.zone)
        hub.clock.advance(minutes=1)
        assert sorted(hub.ctx.poster.run().posted) == ["P-s1", "P-s2"]
        [written] = _files(hub)
        assert written.read_bytes() == b"100200302   00002500\r\n100200419   00012950\r\n"
    finally:
        hub.close()


def test_the_settings_refuse_a_broken_layout_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "city.toml"
    broken.write_text('name = "city"\nformat = "fixed"\n[detail]\nfields = [{ value = "6" }]')
    args = ["--db", str(tmp_path / "h.sqlite"), "post", "--posting", "file"]
    assert main([*args, "--layout", str(broken), "--file-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"{broken}: detail.fields.0.width: a fixed-width field needs a width" in error


def test_more_payments_than_a_file_takes_go_into_the_next_file(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    one = tmp_path / "one.toml"
    one.write_text("max_payments = 1\n" + NARROW.replace("width = 6", "width = 9"))
    hub = _file_hub(db_url, tmp_path, layout=str(one))
    try:
        hub.push(hub.enroll(), kiosk.wire())
        assert sorted(hub.ctx.poster.run().posted) == ["P-s1", "P-s2"]
        assert [p.read_bytes() for p in _files(hub)] == [
            b"10020030200002500\r\n",
            b"10020041900012950\r\n",
        ]
    finally:
        hub.close()


def test_a_file_written_before_a_crash_is_finished_not_written_twice(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    """The process died after recording the transmission (and perhaps writing the file)
    but before marking the postings: the next run finishes that file, same bytes."""
    hub = _file_hub(db_url, tmp_path)
    try:
        hub.push(hub.enroll(), kiosk.wire())
        adapter = hub.ctx.poster.adapter
        assert isinstance(adapter, FileAdapter)
        begun = adapter._begin(hub.ctx.db, hub.clock, None, False, {})
        assert begun == (1, 2)
        expected = (FIXTURES / "lockbox-000001-20250304.txt").read_bytes()
        (tmp_path / "cis").mkdir()
        (tmp_path / "cis" / "lockbox-000001-20250304.txt").write_bytes(expected)
        assert {p["status"] for p in hub.admin("/v1/postings")} == {"pending"}
        hub.clock.advance(minutes=10)
        assert sorted(hub.ctx.poster.run().posted) == ["P-s1", "P-s2"]
        assert [p.read_bytes() for p in _files(hub)] == [expected]
        assert {p["status"] for p in hub.admin("/v1/postings")} == {"posted"}
    finally:
        hub.close()


def test_two_hub_processes_posting_at_once_put_each_payment_in_one_file(
    db_url: str, tmp_path: Path
) -> None:
    hub = _file_hub(db_url, tmp_path, layout="csv")
    side = KioskSide(tmp_path / "backlog.sqlite")
    try:
        for n in range(20):
            side.write(cash_payment(f"s{n}", "100200302", [100]))
        hub.push(hub.enroll(), side.wire())
        post_from_two_processes(hub)
        hub.ctx.poster.run()  # whatever a lost race left
        ids = [
            row["payment_id"]
            for path in _files(hub)
            for row in csv.DictReader(path.open(encoding="utf-8", newline=""))
        ]
        assert sorted(ids) == sorted(f"P-s{n}" for n in range(20))
        assert {p["status"] for p in hub.admin("/v1/postings")} == {"posted"}
    finally:
        side.close()
        hub.close()


def test_a_delimited_layout_with_header_batches_and_trailer_from_json(tmp_path: Path) -> None:
    path = tmp_path / "pipes.json"
    path.write_text(
        json.dumps(
            {
                "name": "pipes",
                "format": "delimited",
                "delimiter": "|",
                "line_ending": "lf",
                "batch_by": "kiosk",
                "header": [
                    {"fields": [{"value": "H"}, {"source": "transmission_id"}]},
                ],
                "batch_header": {"fields": [{"value": "B"}, {"source": "batch_kiosk"}]},
                "detail": {
                    "fields": [
                        {"value": "D"},
                        {"source": "sequence"},
                        {"source": "account"},
                        {"source": "amount", "amount": "decimal"},
                        {"source": "paid_at", "date_format": "%Y%m%d%H%M"},
                    ]
                },
                "batch_trailer": {
                    "fields": [
                        {"value": "BT"},
                        {"source": "batch_count"},
                        {"source": "batch_total"},
                    ]
                },
                "trailer": [
                    {
                        "fields": [
                            {"value": "T"},
                            {"source": "record_count"},
                            {"source": "batch_total_count"},
                            {"source": "total", "amount": "decimal"},
                        ]
                    }
                ],
            }
        )
    )
    pipes = layouts.load(path)
    items = [
        _item(payment_id="a", kiosk="k2", amount_cents=100),
        _item(payment_id="b", kiosk="k1", amount_cents=250, account="100200419"),
        _item(payment_id="c", kiosk="k2", amount_cents=5),
    ]
    out = layouts.render(pipes, 42, datetime(2025, 3, 4, tzinfo=UTC), items)
    assert out.content.decode().splitlines() == [
        "H|42",
        "B|k1",
        "D|1|100200419|2.50|202503010930",
        "BT|1|250",
        "B|k2",
        "D|2|100200302|1.00|202503010930",
        "D|3|100200302|0.05|202503010930",
        "BT|2|105",
        "T|9|2|3.55",
    ]
    assert (out.record_count, out.detail_count, out.total_cents) == (9, 3, 355)
