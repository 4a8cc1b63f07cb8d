"""How fast does a kiosk's backlog reach the hub, and how much does batching buy?

Three figures, each against a real hub (``kiosk-hub serve`` in a subprocess, uvicorn, one
process, 127.0.0.1), through the kiosk's real client and push worker (``sync.worker``):

1. **Drain a backlog** of N journal entries (default 10,000: an outage of a day or two on
   a busy kiosk) in batches of 500, on a hub over SQLite and over PostgreSQL. Repeated
   ``--reps`` times (a fresh kiosk each time); the median is quoted.
2. **The baseline, one request per entry**, in the same run against the same hub: what a
   naive client would do. At some 60 requests a second it is measured on the first
   ``--baseline-entries`` (2,000) entries of a backlog and projected to N (it is linear:
   every request costs the same); the batched/baseline ratio is printed.
3. **Fleet ingest on PostgreSQL**: ``--kiosks`` (50) enrolled kiosks, each with its own
   journal of ``--per-kiosk`` (200) entries, all pushing at once from threads.

The backlog is real journal rows (the kiosk's schema, its hash chain, the entries of cash
payments), written straight into the journal table in one transaction so that making the
backlog does not dominate the run; the worker reads them through ``Journal.entries`` as it
does on a kiosk. Payments go to accounts the hub knows, so the hub also posts them to its
ledger, as in production. PostgreSQL is the server on 127.0.0.1:5432, database ``test``, in
a schema made for the run and dropped after it. Prints figures only.

    .venv/bin/python bench/sync.py [--entries 10000] [--reps 3] [--kiosks 50] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, insert, text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contract import entries as e  # noqa: E402
from contract.chain import GENESIS, canonical_json, entry_hash  # noqa: E402
from contract.wire import EnrollRequest, KioskHardware  # noqa: E402
from hub import accounts, enrollment  # noqa: E402
from hub.cli import spawn_serve  # noqa: E402
from hub.context import HubContext  # noqa: E402
from hub.settings import HubSettings, PostingSettings  # noqa: E402
from kiosk.bill_stub import luhn_check_digit  # noqa: E402
from kiosk.store.db import open_database, upgrade_to_head  # noqa: E402
from kiosk.store.journal import Journal, format_at  # noqa: E402
from kiosk.store.models import Base  # noqa: E402
from sync.client import HubClient  # noqa: E402
from sync.worker import SyncWorker  # noqa: E402

PG_URLS = [
    os.environ.get("KIOSK_HUB_TEST_PG", ""),
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]
ACCOUNTS = [f"{b}{luhn_check_digit(b)}" for b in (f"7001002{n:02d}" for n in range(50))]
TIMEOUT = (5.0, 120.0)


# ------------------------------------------------------------------------- the backlog


def payment_entries(tag: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Cash payments, entry by entry (9 per payment), with ids unique to ``tag``."""
    n = 0
    while True:
        sid = f"{tag}-s{n}"
        account = ACCOUNTS[n % len(ACCOUNTS)]
        yield e.SESSION_STARTED, {"session_id": sid, "language": "en"}
        yield (
            e.ACCOUNT_SELECTED,
            {
                "session_id": sid,
                "account_number": account,
                "source": "live",
                "review": False,
                "balance_cents": 10_000,
            },
        )
        yield e.AMOUNT_CHOSEN, {"session_id": sid, "amount_cents": 2500}
        for b, cents in enumerate((2000, 500)):
            bill = {"session_id": sid, "bill_id": f"{sid}-{b}", "denomination_cents": cents}
            yield e.BILL_STACK_REQUESTED, bill | {"cashbox_before": n * 2 + b}
            yield e.BILL_STACKED, bill | {"recovered": False}
        yield (
            e.PAYMENT_COMPLETED,
            {
                "session_id": sid,
                "payment_id": f"{tag}-P{n}",
                "confirmation": f"{tag}-C{n}",
                "account_number": account,
                "method": "cash",
                "amount_cents": 2500,
                "fee_cents": 0,
                "cash_cents": 2500,
                "bills": {"2000": 1, "500": 1},
                "card": None,
                "paid_at": "2025-03-01T14:05:00+00:00",
                "review": False,
            },
        )
        yield e.SESSION_ENDED, {"session_id": sid, "outcome": "completed"}
        n += 1


def make_backlog(path: Path, count: int) -> Journal:
    """A kiosk journal of ``count`` chained entries (the kiosk's schema and hashing)."""
    engine = open_database(path, synchronous="OFF")
    upgrade_to_head(engine)
    table = Base.metadata.tables["journal"]
    start = datetime.now(UTC) - timedelta(days=2)
    rows, prev = [], GENESIS
    stream = payment_entries(uuid.uuid4().hex[:10])
    for seq in range(1, count + 1):
        type_, payload = next(stream)
        entry_id, at = str(uuid.uuid4()), format_at(start + timedelta(seconds=seq))
        digest = entry_hash(prev, seq, entry_id, at, type_, payload)
        rows.append(
            {
                "seq": seq,
                "id": entry_id,
                "at": at,
                "type": type_,
                "payload": canonical_json(payload),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    with engine.begin() as conn:
        conn.execute(insert(table), rows)
    return Journal(engine)


# ------------------------------------------------------------------------------ the hub


class Hub:
    """A hub process on ``db_url`` and an in-process context for setting it up."""

    def __init__(self, db_url: str, log: Path) -> None:
        self.db_url = db_url
        self.ctx = HubContext.open(HubSettings(database=db_url, posting=PostingSettings()))
        now = datetime.now(UTC)
        lines = ["account_number,name,service_address,balance_cents,due_date,status"]
        lines += [f"{n},Bench {n},1 Bench St,100000000,2026-12-01,active" for n in ACCOUNTS]
        accounts.import_accounts(self.ctx.db, "\n".join(lines) + "\n", now, now.date())
        with log.open("wb") as out:
            self.process, self.url = spawn_serve(
                db_url, ["--log-level", "warning"], log=out, cwd=ROOT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the hub exited: {log.read_text()}")
            try:
                if requests.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise SystemExit(f"the hub did not start: {log.read_text()}")

    def kiosk(self) -> HubClient:
        """A freshly created and enrolled kiosk's signed client."""
        name = f"bench-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        code = enrollment.create_kiosk(self.ctx.db, name, "bench", now, timedelta(hours=1)).code
        request = EnrollRequest(code=code, hardware=KioskHardware(hostname=name))
        secret = enrollment.enroll(self.ctx.db, request, now).secret
        return HubClient(self.url, name, secret, timeout=TIMEOUT)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.ctx.close()


# -------------------------------------------------------------------------- measuring


def drain(hub: Hub, folder: Path, count: int, batch: int) -> float:
    """Seconds for a fresh kiosk's worker to push ``count`` entries in ``batch``es."""
    journal = make_backlog(folder / f"k-{uuid.uuid4().hex[:8]}.sqlite", count)
    client = hub.kiosk()
    try:
        worker = SyncWorker(journal, client, batch_size=batch)
        started = time.perf_counter()
        report = worker.push_now()
        elapsed = time.perf_counter() - started
        if not report.caught_up:
            raise SystemExit(f"the drain did not finish: {report}")
        return elapsed
    finally:
        client.close()
        journal.close()


def fleet(hub: Hub, folder: Path, kiosks: int, per_kiosk: int, batch: int) -> tuple[float, float]:
    """All kiosks push their journals at once: (wall seconds, median seconds per kiosk)."""
    journals = [make_backlog(folder / f"f{n}.sqlite", per_kiosk) for n in range(kiosks)]
    clients = [hub.kiosk() for _ in range(kiosks)]
    barrier = threading.Barrier(kiosks + 1)
    took: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(journal: Journal, client: HubClient) -> None:
        worker = SyncWorker(journal, client, batch_size=batch)
        barrier.wait()
        started = time.perf_counter()
        report = worker.push_now()
        with lock:
            took.append(time.perf_counter() - started)
            if not report.caught_up:
                failures.append(report.error or report.halted)

    pairs = zip(journals, clients, strict=True)
    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in pairs]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(600)
    wall = time.perf_counter() - started
    for journal, client in zip(journals, clients, strict=True):
        journal.close()
        client.close()
    if failures:
        raise SystemExit(f"{len(failures)} kiosks did not finish: {failures[:3]}")
    return wall, statistics.median(took)


def postgres_schema() -> tuple[Callable[[], None], str] | None:
    """A fresh schema on the test server: (drop it, the hub's URL), or None."""
    for base in filter(None, PG_URLS):
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                schema = f"bench_sync_{uuid.uuid4().hex[:8]}"
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OperationalError:
            engine.dispose()
            continue

        def drop(engine: Any = engine, schema: str = schema) -> None:
            with engine.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()

        return drop, f"{base}?options=-csearch_path%3D{schema}"
    return None


def backlog_figures(hub: Hub, folder: Path, args: argparse.Namespace, label: str) -> None:
    batched = [drain(hub, folder, args.entries, 500) for _ in range(args.reps)]
    single = [drain(hub, folder, args.baseline_entries, 1) for _ in range(args.baseline_reps)]
    median = statistics.median(batched)
    per_entry = statistics.median(single) / args.baseline_entries
    projected = per_entry * args.entries
    print(
        f"{label:<11} batched (500/push): {args.entries} entries in {median:6.2f} s median "
        f"of {args.reps} [{', '.join(f'{t:.2f}' for t in batched)}] = "
        f"{args.entries / median:,.0f} entries/s"
    )
    measured = (
        f"{args.baseline_entries} entries in {statistics.median(single):.2f} s"
        if args.baseline_entries != args.entries
        else f"{statistics.median(single):.2f} s"
    )
    print(
        f"{'':<11} one request per entry: {measured} (median of {args.baseline_reps}) = "
        f"{1 / per_entry:,.0f} entries/s -> {projected:,.1f} s for {args.entries}; "
        f"batching is {projected / median:.1f}x faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="backlog size")
    parser.add_argument("--reps", type=int, default=3, help="batched drains per database")
    parser.add_argument(
        "--baseline-entries",
        type=int,
        default=2000,
        help="entries sent one per request (2000; projected to --entries)",
    )
    parser.add_argument("--baseline-reps", type=int, default=1)
    parser.add_argument("--kiosks", type=int, default=50)
    parser.add_argument("--per-kiosk", type=int, default=200)
    parser.add_argument("--fleet-batch", type=int, default=100, help="entries per fleet push")
    parser.add_argument("--quick", action="store_true", help="2,000 entries, 1 rep each")
    parser.add_argument("--dir", type=Path, help="where the SQLite files go (default: temp)")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.reps = min(args.entries, 2000), 1
        args.baseline_entries = min(args.baseline_entries, 500)
    print(
        f"sync bench: backlog {args.entries} entries; baseline {args.baseline_entries}; "
        f"fleet {args.kiosks} kiosks x {args.per_kiosk} entries (batch {args.fleet_batch}); "
        f"{os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        hub = Hub(str(folder / "hub.sqlite"), folder / "hub-sqlite.log")
        try:
            backlog_figures(hub, folder, args, "SQLite")
        finally:
            hub.close()
        found = postgres_schema()
        if found is None:
            print("PostgreSQL   not reachable on 127.0.0.1:5432 (database test): skipped")
            return
        drop, url = found
        try:
            hub = Hub(url, folder / "hub-pg.log")
            try:
                backlog_figures(hub, folder, args, "PostgreSQL")
                wall, per = fleet(hub, folder, args.kiosks, args.per_kiosk, args.fleet_batch)
                total = args.kiosks * args.per_kiosk
                print(
                    f"PostgreSQL  fleet: {args.kiosks} kiosks pushing at once, {total} entries "
                    f"in {wall:.2f} s = {total / wall:,.0f} entries/s ingested; median kiosk "
                    f"done in {per:.2f} s"
                )
            finally:
                hub.close()
        finally:
            drop()


if __name__ == "__main__":
    main()
