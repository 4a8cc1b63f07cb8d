"""Two hub processes on one PostgreSQL database, as behind a load balancer.

Real ``kiosk-hub serve`` processes on 127.0.0.1, real HTTP. A balancer may send any request
to any process, so a kiosk's pushes alternate between the two; both background posters
work the same queue (posting on ingest is off, so they are the only ones posting); a
staff member's session and forms are used on the process that did not issue them. None of
it may depend on which process answered: every entry stored once, every payment posted
once, every lookup the same, a replay refused wherever it is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from contract import signing
from contract.wire import EnrollRequest, KioskHardware, PushRequest, WireEntry
from hub import accounts, enrollment
from hub.clock import utc_now
from hub.context import HubContext
from hub.models import Kiosk, Posting
from hub.settings import HubSettings, PostingSettings
from hub.staff import users
from tests.hub.conftest import drop_pg_schema, new_pg_schema
from tests.hub.console_client import PASSWORD, code, form_token
from tests.hub.harness import KioskSide
from tests.store.builders import cash_payment
from tests.sync.hubproc import EXTRA_ACCOUNTS, hub_processes, seed_accounts

KIOSKS = 6
PAYMENTS_PER_KIOSK = 8
BATCH = 5  # entries per push: several pushes per kiosk, so each process gets some
OPENING_BALANCE = 100_000  # what each of EXTRA_ACCOUNTS owes before the test


@dataclass
class Fleet:
    ctx: HubContext  # the administrator's side, on the same database
    urls: list[str]
    secrets: dict[str, str]
    folder: Path


@pytest.fixture(scope="module")
def fleet(
    pg_server: tuple[Engine, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    schema, db_url = new_pg_schema(pg_server)
    folder = tmp_path_factory.mktemp("scale-out")
    ctx = HubContext.open(HubSettings(database=db_url, posting=PostingSettings(interval_s=0)))
    try:
        seed_accounts(ctx)
        now = utc_now()
        secrets = {}
        for n in range(KIOSKS):
            name = f"k{n}"
            issued = enrollment.create_kiosk(ctx.db, name, "lobby", now, timedelta(hours=1))
            request = EnrollRequest(code=issued.code, hardware=KioskHardware(hostname=name))
            secrets[name] = enrollment.enroll(ctx.db, request, now).secret
        options = ["--post-interval", "0.2"]
        env = {"KIOSK_HUB_POST_ON_INGEST": "0"}
        with hub_processes(db_url, folder, 2, options, env) as started:
            yield Fleet(ctx, [hub.url for hub in started], secrets, folder)
    finally:
        ctx.close()
        drop_pg_schema(pg_server, schema)


def _signed(
    client: httpx.Client, fleet: Fleet, kiosk_id: str, method: str, url: str, body: bytes = b""
) -> httpx.Response:
    path = httpx.URL(url).raw_path.decode("ascii")
    headers = signing.sign(method, path, body, kiosk_id, fleet.secrets[kiosk_id])
    if body:
        headers["Content-Type"] = "application/json"
    return client.request(method, url, content=body, headers=headers)


def test_kiosks_split_between_two_processes_are_stored_looked_up_and_posted_once(
    fleet: Fleet,
) -> None:
    account_of = {f"k{n}": EXTRA_ACCOUNTS[n] for n in range(KIOSKS)}
    failures: list[str] = []
    lock = threading.Lock()

    journals: dict[str, list[WireEntry]] = {}
    for kiosk_id, number in account_of.items():  # one at a time: each migrates its journal
        side = KioskSide(fleet.folder / f"{kiosk_id}.sqlite")
        for n in range(PAYMENTS_PER_KIOSK):
            side.write(cash_payment(f"{kiosk_id}-s{n}", number, [100 * (n + 1)]))
        journals[kiosk_id] = side.wire()
        side.close()

    def kiosk_run(kiosk_id: str, first: int) -> None:
        entries = journals[kiosk_id]
        with httpx.Client(timeout=30) as client:
            for turn, start in enumerate(range(0, len(entries), BATCH)):
                url = fleet.urls[(first + turn) % 2]  # alternate, as a balancer may
                found = _signed(
                    client, fleet, kiosk_id, "GET", f"{url}/v1/accounts/{account_of[kiosk_id]}"
                )
                body = PushRequest(entries=entries[start : start + BATCH])
                pushed = _signed(
                    client,
                    fleet,
                    kiosk_id,
                    "POST",
                    f"{url}/v1/kiosks/{kiosk_id}/journal",
                    body.model_dump_json().encode(),
                )
                with lock:
                    for answer in (found, pushed):
                        if answer.status_code != 200:
                            failures.append(f"{kiosk_id} {answer.status_code} {answer.text}")

    threads = [threading.Thread(target=kiosk_run, args=(f"k{n}", n % 2)) for n in range(KIOSKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    with fleet.ctx.db.read() as conn:
        acked = {str(k): int(s) for k, s in conn.execute(select(Kiosk.id, Kiosk.acked_seq))}
    assert {k: acked[k] for k in journals} == {k: len(e) for k, e in journals.items()}

    # both processes' posters take from one queue; each payment goes to one of them, once
    payments = KIOSKS * PAYMENTS_PER_KIOSK
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with fleet.ctx.db.read() as conn:
            rows = [
                (str(s), int(n)) for s, n in conn.execute(select(Posting.status, Posting.attempts))
            ]
        if len(rows) == payments and all(status == "posted" for status, _ in rows):
            break
        time.sleep(0.2)
    assert sorted(set(rows)) == [("posted", 1)]
    assert len(rows) == payments

    paid = sum(100 * (n + 1) for n in range(PAYMENTS_PER_KIOSK))
    with httpx.Client(timeout=30) as client:
        for kiosk_id, number in account_of.items():
            stored = accounts.lookup(fleet.ctx.db, number)
            assert stored is not None and stored.balance_cents == OPENING_BALANCE - paid
            for url in fleet.urls:  # either process answers what the other posted
                found = _signed(client, fleet, kiosk_id, "GET", f"{url}/v1/accounts/{number}")
                assert found.status_code == 200, found.text
                assert found.json()["balance_cents"] == OPENING_BALANCE - paid


def test_a_request_replayed_to_the_other_process_is_refused(fleet: Fleet) -> None:
    first, other = fleet.urls
    path = "/v1/kiosks/k0/settings"
    headers = signing.sign("GET", path, b"", "k0", fleet.secrets["k0"])
    with httpx.Client(timeout=30) as client:
        assert client.get(first + path, headers=headers).status_code == 200
        replay = client.get(other + path, headers=headers)
    assert replay.status_code == 401
    assert "replayed" in replay.json()["message"]


def test_a_console_session_and_its_forms_work_on_either_process(fleet: Fleet) -> None:
    a, b = fleet.urls
    secret = users.add(fleet.ctx.db, "tech-1", "technician", PASSWORD, utc_now(), "test").secret
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        page = browser.get(f"{a}/console/sign-in")
        assert page.status_code == 200, page.text
        signed_in = browser.post(
            f"{b}/console/sign-in",
            data={
                "csrf_token": form_token(page),
                "name": "tech-1",
                "password": PASSWORD,
                "code": code(secret, utc_now()),
            },
        )
        assert signed_in.status_code == 303, signed_in.text

        fleet_page = browser.get(f"{a}/console/fleet")
        assert fleet_page.status_code == 200, fleet_page.text
        stale = browser.post(
            f"{b}/console/fleet/k5/service", data={"csrf_token": "x" * 43, "service": "out"}
        )
        assert stale.status_code == 403
        taken_out = browser.post(
            f"{b}/console/fleet/k5/service",
            data={"csrf_token": form_token(fleet_page), "service": "out", "reason": "Glass"},
        )
        assert taken_out.status_code == 200, taken_out.text
        assert "Kiosk k5 is out of service: Glass." in taken_out.text

        with httpx.Client(timeout=30) as kiosk:
            told = _signed(kiosk, fleet, "k5", "GET", f"{a}/v1/kiosks/k5/settings")
        assert told.status_code == 200, told.text
        assert told.json()["out_of_service"] is True

        kept = browser.cookies.get("kiosk_console")  # as a copied cookie would be
        assert kept
        signed_out = browser.post(
            f"{b}/console/sign-out", data={"csrf_token": form_token(fleet_page)}
        )
        assert signed_out.status_code == 303
        gone = httpx.get(f"{a}/console/fleet", cookies={"kiosk_console": kept}, timeout=30)
    assert gone.status_code == 303
    assert gone.headers["location"].endswith("/console/sign-in")
