"""Two hub processes on one database, receiving the same kiosk's batches at once.

Real ``kiosk-hub serve`` processes (uvicorn, 127.0.0.1, free ports), real HTTP, threads
pushing overlapping runs of the same journal to both: every seq must be stored exactly once,
no gap, the acknowledged seq right, every payment posted once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from contract import signing
from contract.wire import EnrollRequest, KioskHardware, PushRequest, WireEntry
from hub import accounts, demo, enrollment
from hub.clock import utc_now
from hub.context import HubContext
from hub.models import JournalEntry, Kiosk, Posting
from hub.settings import HubSettings, PostingSettings
from tests.hub.harness import KioskSide
from tests.store.builders import cash_payment
from tests.sync.hubproc import hub_processes

PAYMENTS = 30


@pytest.fixture
def hubs(db_url: str, tmp_path: Path) -> Iterator[list[str]]:
    with hub_processes(db_url, tmp_path, 2, ["--post-interval", "0"]) as started:
        yield [hub.url for hub in started]


def test_two_hub_processes_store_every_entry_once(
    db_url: str, tmp_path: Path, hubs: list[str]
) -> None:
    settings = HubSettings(database=db_url, posting=PostingSettings(interval_s=0))
    ctx = HubContext.open(settings)
    now = utc_now()
    accounts.import_accounts(ctx.db, demo.demo_csv(), now, now.date())
    code = enrollment.create_kiosk(ctx.db, "k1", "lobby", now, timedelta(hours=1)).code
    request = EnrollRequest(code=code, hardware=KioskHardware(hostname="k1"))
    secret = enrollment.enroll(ctx.db, request, now).secret

    kiosk = KioskSide(tmp_path / "kiosk.sqlite")
    for n in range(PAYMENTS):
        kiosk.write(cash_payment(f"s{n}", "100200302", [100]))
    entries = kiosk.wire()
    total = len(entries)

    barrier = threading.Barrier(4)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def pusher(url: str, size: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            barrier.wait()
            for start in range(0, total, size):
                batch: list[WireEntry] = entries[start : start + size]
                body = PushRequest(entries=batch).model_dump_json().encode()
                path = "/v1/kiosks/k1/journal"
                headers = signing.sign("POST", path, body, "k1", secret)
                response = client.post(
                    path, content=body, headers=headers | {"Content-Type": "application/json"}
                )
                with lock:
                    answers.append((response.status_code, response.text))

    threads = [
        threading.Thread(target=pusher, args=(hubs[0], 25)),
        threading.Thread(target=pusher, args=(hubs[1], 40)),
        threading.Thread(target=pusher, args=(hubs[0], 60)),
        threading.Thread(target=pusher, args=(hubs[1], 33)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {status for status, _ in answers} == {200}, [a for a in answers if a[0] != 200][:3]
    with ctx.db.read() as conn:
        stored = conn.execute(
            select(JournalEntry.seq, JournalEntry.hash).order_by(JournalEntry.seq)
        ).all()
        acked = conn.execute(select(Kiosk.acked_seq).where(Kiosk.id == "k1")).scalar_one()
    assert [(seq, hash_) for seq, hash_ in stored] == [(e.seq, e.hash) for e in entries]
    assert acked == total

    deadline = time.monotonic() + 20  # postings run in each process after its pushes
    while time.monotonic() < deadline:
        with ctx.db.read() as conn:
            statuses = {
                str(status): int(count)
                for status, count in conn.execute(
                    select(Posting.status, func.count()).group_by(Posting.status)
                )
            }
        if statuses == {"posted": PAYMENTS}:
            break
        time.sleep(0.2)
    assert statuses == {"posted": PAYMENTS}
    maria = accounts.lookup(ctx.db, "100200302")
    assert maria is not None and maria.balance_cents == 4317 - PAYMENTS * 100
    kiosk.close()
    ctx.close()
