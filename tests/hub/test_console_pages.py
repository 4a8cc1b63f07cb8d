"""The console's pages: who may open each, and what the batches page shows from the
kiosks' replicated collection entries."""

from __future__ import annotations

import pytest

from contract import entries as e
from contract.wire import WireEntry
from hub.demo import seed_staff
from hub.staff.roles import LABELS, PAGES, ROLES
from tests.hub.console_client import add_user, audit_trail, sign_in
from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import Step, batch_closed, card_payment, cash_payment, write

pytestmark = pytest.mark.postgresql_in_slow_suite


def test_each_role_opens_its_pages_and_is_refused_the_others(hub: HubHarness) -> None:
    money = {"batches", "payments", "suspense", "over-short", "posting-files"}
    expected = {
        "technician": {"fleet"},
        "clerk": {"fleet"} | money,
        "supervisor": {"fleet", "audit", "settings"} | money,
        "admin": {"fleet", "audit", "users", "settings"},
        "auditor": {"fleet", "audit", "users", "settings"} | money,
    }
    assert {role: {p for p in PAGES if role in PAGES[p]} for role in ROLES} == expected
    for role in ROLES:
        secret = add_user(hub, f"{role}-1", role)
        hub.client.cookies.clear()
        assert sign_in(hub, f"{role}-1", secret).status_code == 303
        for page in PAGES:
            response = hub.client.get(f"/console/{page}", follow_redirects=False)
            if page in expected[role]:
                assert response.status_code == 200, (role, page)
                assert f'aria-current="page">{LABELS[page]}' in response.text
            else:
                assert response.status_code == 403, (role, page)
                assert f"Your role ({role}) may not open the {page} page" in response.text
                assert (f"{role}-1", "page.refused", page, f"role {role}") in audit_trail(hub)
        menu = hub.client.get("/console/fleet").text
        for page in PAGES:
            assert (f'href="/console/{page}"' in menu) == (page in expected[role])


def _push_all(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    entries = [WireEntry.of(entry) for entry in kiosk.journal.entries()]
    response = hub.push(creds, entries)
    assert response.status_code == 200, response.text


def _collection(kiosk: KioskSide, batch_id: str, agreed: bool) -> None:
    started = {
        "collection_id": "c1",
        "slip_number": 7,
        "batch_id": batch_id,
        "technician": "Dana Lopez",
        "cashbox_id": "BOX-3",
        "seal_number": "SEAL-0042",
    }
    closed = batch_closed(
        batch_id, bills={"2000": 1}, cash_cents=2000, card_cents=5125, card_count=1
    )
    completed = {
        "collection_id": "c1",
        "slip_number": 7,
        "batch_id": batch_id,
        "bills": {"2000": 1},
        "cash_cents": 2000,
        "rejected_bills": 0,
        "payments": 2,
        "first_seq": 1,
        "last_seq": 40,
        "card_count": 1,
        "card_cents": 5125,
        "terminal_ok": True,
        "terminal_count": 1,
        "terminal_cents": 5125 if agreed else 4000,
        "agreed": agreed,
    }
    write(
        kiosk.journal,
        [
            Step(e.COLLECTION_STARTED, started, intent=True),
            Step(e.BATCH_CLOSED, closed.model_dump(mode="json")),
            Step(e.COLLECTION_COMPLETED, completed, settles=True),
        ],
    )


def test_batches_page_shows_open_and_collected_batches(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    kiosk.write(cash_payment("s1", "100200302", [2000]))
    kiosk.write(card_payment("s2", "100200419", 5000, 125))
    _push_all(hub, creds, kiosk)
    first = hub.admin("/v1/batches")[0]["batch_id"]
    _collection(kiosk, first, agreed=False)
    kiosk.write(cash_payment("s3", "100200302", [500]))
    _push_all(hub, creds, kiosk)

    for role, sees_cash in (("supervisor", True), ("clerk", False)):
        secret = add_user(hub, f"{role}-1", role)
        hub.client.cookies.clear()
        assert sign_in(hub, f"{role}-1", secret).status_code == 303
        page = hub.client.get("/console/batches").text
        assert page.count('class="status collected"') == 1
        assert page.count('class="status open"') == 1
        assert "Dana Lopez" in page and "BOX-3 / SEAL-0042" in page
        assert "differs: $40.00" in page  # the terminal's end of day did not agree
        assert "$51.25" in page  # card total
        # the kiosk's cash figure is for those who do not count it (the count is blind)
        assert ("$20.00" in page) == sees_cash
        assert ("the count is blind" in page) == (not sees_cash)


def test_fleet_page_shows_what_waits_to_be_sent_and_the_last_collection(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    kiosk.write(cash_payment("s1", "100200302", [2000]))
    entries = [WireEntry.of(entry) for entry in kiosk.journal.entries()]
    assert hub.push(creds, entries[:2], head_seq=len(entries)).status_code == 200
    secret = add_user(hub, "tech-1", "technician")
    assert sign_in(hub, "tech-1", secret).status_code == 303
    row = (
        hub.client.get("/console/fleet")
        .text.split('/console/fleet/k1">k1</a></th>')[1]
        .split("</tr>")[0]
    )
    assert f'<span class="flag">{len(entries) - 2}</span>' in row
    assert "none yet" in row

    assert hub.push(creds, entries[2:], head_seq=len(entries)).status_code == 200
    _collection(kiosk, hub.admin("/v1/batches")[0]["batch_id"], agreed=True)
    _push_all(hub, creds, kiosk)
    row = (
        hub.client.get("/console/fleet")
        .text.split('/console/fleet/k1">k1</a></th>')[1]
        .split("</tr>")[0]
    )
    assert "by Dana Lopez, bag SEAL-0042" in row
    assert '<span class="flag">' not in row and "not reported" not in row  # nothing waiting


def test_demo_logins_sign_in_and_keep_their_secrets(hub: HubHarness) -> None:
    logins = seed_staff(hub.ctx.db, hub.clock())
    assert [(login.name, login.role) for login in logins] == [(f"{r}-demo", r) for r in ROLES]
    assert seed_staff(hub.ctx.db, hub.clock()) == logins  # a second run changes nothing
    clerk = logins[1]
    assert f"secret={clerk.totp_secret}" in clerk.uri
    response = sign_in(hub, clerk.name, clerk.totp_secret, password=clerk.password)
    assert response.status_code == 303
    assert hub.client.get("/console/batches").status_code == 200
