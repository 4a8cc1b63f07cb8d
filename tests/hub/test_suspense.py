"""Suspense: a payment the billing system refuses for its account, or one the hub holds
(over its kiosk's limit), waits for a clerk, who names the right account; it then posts
once, with who resolved it kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import accounts, demo, suspense
from hub.cli import main
from hub.errors import Invalid, NotFound
from hub.kiosk_config import SettingsChange, update_settings
from hub.models import Posting, TransmissionPayment
from tests.hub.console_client import form_token, sign_in_as
from tests.hub.harness import HubHarness, KioskSide
from tests.store.builders import cash_payment

TYPO = "100200399"  # typed by hand while the kiosk was offline: no such account
MEANT = "100200302"


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskSide]:
    side = KioskSide(tmp_path / "kiosk.sqlite")
    side.write(cash_payment("s1", TYPO, [2000, 500]))
    yield side
    side.close()


@pytest.fixture
def held(hub: HubHarness, kiosk: KioskSide) -> HubHarness:
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())
    hub.push(hub.enroll(), kiosk.wire())
    hub.ctx.poster.run()
    return hub


def _balance(hub: HubHarness, number: str) -> int:
    return {a.number: a.balance_cents for a in accounts.snapshot(hub.ctx.db).accounts}[number]


def test_an_unknown_account_is_held_in_suspense_not_retried(held: HubHarness) -> None:
    [row] = suspense.listing(held.ctx.db)
    assert (row.payment_id, row.account_number, row.amount_cents) == ("P-s1", TYPO, 2500)
    assert "is not in the hub's accounts" in row.reason
    held.clock.advance(hours=5)
    assert held.ctx.poster.run().posted == []
    assert [r.payment_id for r in suspense.listing(held.ctx.db)] == ["P-s1"]


def test_a_clerk_assigns_the_right_account_and_it_posts_once(
    held: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _balance(held, MEANT)
    code = main(["--db", held.db_url, "suspense", "resolve", "P-s1", MEANT, "--by", "clerk-ana"])
    assert code == 0, capsys.readouterr()
    assert "assigned to 100200302 by clerk-ana: posted" in capsys.readouterr().out
    assert _balance(held, MEANT) == before - 2500
    assert suspense.listing(held.ctx.db) == []
    with held.ctx.db.read() as conn:
        posting = conn.execute(Posting.__table__.select()).one()
    assert (posting.status, posting.assigned_account, posting.resolved_by) == (
        "posted",
        MEANT,
        "clerk-ana",
    )
    held.ctx.poster.run(include_waiting=True)
    assert _balance(held, MEANT) == before - 2500, "posted once"


def test_resolving_is_refused_when_it_makes_no_sense(held: HubHarness) -> None:
    now = held.clock()
    with pytest.raises(Invalid, match="not in the hub's accounts"):
        suspense.resolve(held.ctx.db, "P-s1", "999999999", "clerk-ana", now)
    with pytest.raises(Invalid, match="give the account number"):
        suspense.resolve(held.ctx.db, "P-s1", "  ", "clerk-ana", now)
    with pytest.raises(NotFound):
        suspense.resolve(held.ctx.db, "P-nope", MEANT, "clerk-ana", now)
    assert [r.payment_id for r in suspense.listing(held.ctx.db)] == ["P-s1"], "nothing changed"
    suspense.resolve(held.ctx.db, "P-s1", MEANT, "clerk-ana", now)
    with pytest.raises(Invalid, match="not in suspense"):
        suspense.resolve(held.ctx.db, "P-s1", MEANT, "clerk-bo", now)


def test_the_list_command(held: HubHarness, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", held.db_url, "suspense", "list"]) == 0
    out = capsys.readouterr().out
    assert "P-s1" in out and f"paid to {TYPO}" in out and "1 payment(s) in suspense" in out


# ------------------------------------------------- held by the hub: over the kiosk's limit

LOWERED = {"max_payment_cents": 1000, "max_cash_cents": 1000}  # + $100 overpayment: $110
OVER = "P-s9"  # $150 in cash, taken before the kiosk pulled the lowered limits


def _over_limit(hub: HubHarness, tmp_path: Path) -> None:
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())
    creds = hub.enroll()
    update_settings(hub.ctx.db, "k1", SettingsChange(limits=LOWERED))
    side = KioskSide(tmp_path / "over.sqlite")
    try:
        side.write(cash_payment("s9", MEANT, [10000, 5000]))
        assert hub.push(creds, side.wire()).status_code == 200
    finally:
        side.close()


@pytest.fixture
def over(hub: HubHarness, tmp_path: Path) -> HubHarness:
    _over_limit(hub, tmp_path)
    return hub


def test_an_over_limit_payment_waits_for_a_clerk(
    over: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    [row] = suspense.listing(over.ctx.db)
    assert (row.payment_id, row.account_number, row.amount_cents) == (OVER, MEANT, 15000)
    assert "over the kiosk's limit of $110.00 at the time it arrived" in row.reason
    assert main(["--db", over.db_url, "suspense", "list"]) == 0
    assert "over the kiosk's limit of $110.00" in capsys.readouterr().out
    assert main(["--db", over.db_url, "post"]) == 0  # an explicit run leaves it held
    over.clock.advance(hours=5)
    assert over.ctx.poster.run().posted == []
    assert over.ctx.poster.post_one(OVER) == ("skipped", "")
    assert [r.payment_id for r in suspense.listing(over.ctx.db)] == [OVER]


def test_released_to_the_account_it_was_paid_to_it_posts_once(
    over: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _balance(over, MEANT)
    code = main(["--db", over.db_url, "suspense", "resolve", OVER, MEANT, "--by", "clerk-ana"])
    assert code == 0, capsys.readouterr()
    assert f"assigned to {MEANT} by clerk-ana: posted" in capsys.readouterr().out
    assert _balance(over, MEANT) == before - 15000
    over.ctx.poster.run(include_waiting=True)
    assert over.ctx.poster.post_one(OVER) == ("skipped", "")
    assert _balance(over, MEANT) == before - 15000, "posted once"
    with over.ctx.db.read() as conn:
        posting = conn.execute(Posting.__table__.select()).one()
    assert (posting.status, posting.held, posting.attempts) == ("posted", False, 1)


def test_a_file_run_leaves_it_out_until_released(db_url: str, tmp_path: Path) -> None:
    hub = HubHarness(db_url, tmp_path, adapter="file", file_dir=tmp_path / "cis", layout="lockbox")
    try:
        _over_limit(hub, tmp_path)
        hub.ctx.poster.run(include_waiting=True)
        assert _in_files(hub) == []
        suspense.resolve(hub.ctx.db, OVER, "100200419", "clerk-ana", hub.clock())
        assert hub.ctx.poster.post_one(OVER) == ("posted", "")
        hub.ctx.poster.run(include_waiting=True)
        assert _in_files(hub) == [OVER], "in one file, once"
    finally:
        hub.close()


def _in_files(hub: HubHarness) -> list[str]:
    with hub.ctx.db.read() as conn:
        return list(conn.execute(select(TransmissionPayment.payment_id)).scalars())


def test_the_console_shows_why_and_a_clerk_releases_it(over: HubHarness) -> None:
    sign_in_as(over, "clerk")
    page = over.client.get("/console/suspense")
    assert page.status_code == 200
    assert "over the kiosk&#39;s limit of $110.00 at the time it arrived" in page.text
    assert "$150.00" in page.text and "Why it waits" in page.text
    before = _balance(over, MEANT)
    released = over.client.post(
        f"/console/suspense/{OVER}", data={"csrf_token": form_token(page), "account": MEANT}
    )
    assert f"assigned to account {MEANT} and posted" in released.text
    assert "Nothing in suspense." in released.text
    assert _balance(over, MEANT) == before - 15000
