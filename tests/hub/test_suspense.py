"""Suspense: a payment the billing system refuses for its account waits for a clerk, who
names the right account; it then posts once, with who resolved it kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import accounts, demo, suspense
from hub.cli import main
from hub.errors import Invalid, NotFound
from hub.models import Posting
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
