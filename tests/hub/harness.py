"""A hub under test and the kiosks that talk to it.

:class:`HubHarness` wraps the real app (``create_app``) in FastAPI's TestClient with a clock
the test can move; :class:`KioskSide` is a kiosk: a real journal (``Journal.open``) that
entries are written to as the engine would, and a signing client that pushes them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from contract import signing
from contract.wire import PushRequest, WireEntry
from hub.api import create_app
from hub.context import HubContext
from hub.enrollment import create_kiosk
from hub.posting import PostReport
from hub.settings import HubSettings, PostingSettings
from kiosk.store.db import open_database, upgrade_to_head
from kiosk.store.journal import Journal, JournalEntry
from tests.store.builders import Step, StepClock, write

ADMIN_TOKEN = "test-admin-token-0123456789"
HUB_START = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)  # days after the kiosks' payments


class MovableClock:
    def __init__(self, start: datetime = HUB_START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class Creds:
    kiosk_id: str
    secret: str


class HubHarness:
    def __init__(self, db_url: str, tmp_path: Path, **posting: Any) -> None:
        self.db_url = db_url
        self.tmp_path = tmp_path
        self.clock = MovableClock()
        self.settings = HubSettings(
            database=db_url,
            admin_token=ADMIN_TOKEN,
            posting=PostingSettings.model_validate({"interval_s": 0} | posting),
        )
        self.app = create_app(self.settings, clock=self.clock)
        self.ctx: HubContext = self.app.state.hub
        self.client = TestClient(self.app)

    def close(self) -> None:
        self.client.close()
        self.ctx.close()

    # ------------------------------------------------------------------ enrollment

    def create_kiosk(self, name: str = "k1", location: str = "Test lobby") -> str:
        return create_kiosk(self.ctx.db, name, location, self.clock(), timedelta(hours=24)).code

    def enroll(self, name: str = "k1") -> Creds:
        code = self.create_kiosk(name)
        response = self.client.post(
            "/v1/enroll", json={"code": code, "hardware": {"hostname": name}}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Creds(body["kiosk_id"], body["secret"])

    # ---------------------------------------------------------------- signed calls

    def signed(
        self,
        method: str,
        path: str,
        creds: Creds,
        body: bytes = b"",
        *,
        now: float | None = None,
        nonce: str | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        headers = signing.sign(
            method,
            path,
            body,
            creds.kiosk_id,
            secret or creds.secret,
            now=self.clock().timestamp() if now is None else now,
            nonce=nonce,
        )
        if body:
            headers["Content-Type"] = "application/json"
        response: httpx.Response = self.client.request(method, path, content=body, headers=headers)
        return response

    def push(
        self,
        creds: Creds,
        entries: Sequence[WireEntry],
        kiosk_id: str | None = None,
        head_seq: int | None = None,
    ) -> httpx.Response:
        push = PushRequest(entries=list(entries), head_seq=head_seq)
        body = push.model_dump_json(exclude_none=True).encode("utf-8")
        return self.signed("POST", f"/v1/kiosks/{kiosk_id or creds.kiosk_id}/journal", creds, body)

    def push_raw(self, creds: Creds, document: Any) -> httpx.Response:
        body = json.dumps(document).encode("utf-8")
        return self.signed("POST", f"/v1/kiosks/{creds.kiosk_id}/journal", creds, body)

    def admin(self, path: str) -> Any:
        response = self.client.get(path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 200, response.text
        return response.json()

    # ------------------------------------------------------------------- database

    def stored(self, kiosk_id: str = "k1") -> list[tuple[int, str]]:
        from sqlalchemy import select

        from hub.models import JournalEntry as Row

        with self.ctx.db.read() as conn:
            return [
                (int(seq), str(hash_))
                for seq, hash_ in conn.execute(
                    select(Row.seq, Row.hash).where(Row.kiosk_id == kiosk_id).order_by(Row.seq)
                )
            ]


class KioskSide:
    """A kiosk's real journal (without fsync: these tests are about content)."""

    def __init__(self, path: Path, start: datetime | None = None) -> None:
        engine = open_database(path, synchronous="OFF")
        upgrade_to_head(engine)
        self.journal = Journal(engine, now=StepClock(start))

    def write(self, steps: Iterable[Step]) -> list[JournalEntry]:
        return write(self.journal, steps)

    def wire(self, after: int = 0, limit: int | None = None) -> list[WireEntry]:
        return [WireEntry.of(entry) for entry in self.journal.entries(after, limit)]

    def close(self) -> None:
        self.journal.close()


def post_from_two_processes(hub: HubHarness) -> list[PostReport]:
    """Two more hub processes' worth of posting (two engines on the hub's database) run a
    posting pass at the same moment; their reports."""
    others = [HubContext.open(hub.settings, hub.clock, migrate=False) for _ in range(2)]
    barrier = threading.Barrier(len(others))
    reports: list[PostReport] = []

    def work(ctx: HubContext) -> None:
        barrier.wait()
        reports.append(ctx.poster.run())

    threads = [threading.Thread(target=work, args=(ctx,)) for ctx in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ctx in others:
        ctx.close()
    return reports
