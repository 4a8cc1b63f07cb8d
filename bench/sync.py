"""How fast does a kiosk's backlog reach the hub, how fast does a fleet's, and how soon do
kiosks push again when the hub comes back?

Every figure is against a real hub (``kiosk-hub serve`` in a subprocess, uvicorn, one
process, 127.0.0.1), through the kiosk's real client and push worker (``sync.worker``), and
is printed beside a baseline measured in the same run:

1. **Drain a backlog** of N journal entries (default 10,000: an outage of a day or two on
   a busy kiosk) in batches of 500, on a hub over SQLite and over PostgreSQL. Repeated
   ``--reps`` times (a fresh kiosk each time); the median is quoted.
   *Baseline*: one request per entry, against the same hub: what a naive client would do.
   It is measured on the first ``--baseline-entries`` (2,000) entries of a backlog and
   projected to N (it is linear: every request costs the same); the ratio is printed.
2. **Resume after an outage** (SQLite hub): ``--resume-kiosks`` (20) kiosks' push workers
   run on their own threads with the kiosk's default backoff while the hub process is
   stopped for ``--outage`` (30) seconds, then started again on the same port. From the
   moment the hub answers ``/v1/health`` again to each kiosk's first acknowledged push.
3. **Fleet ingest on PostgreSQL**: ``--kiosks`` (50) enrolled kiosks, each with its own
   journal of ``--per-kiosk`` (200) entries, all pushing at once from threads in pushes of
   ``--fleet-batch`` (100): entries per second, and the p50/p99 time for a push to be
   answered. *Baseline*: a bare insert of the same rows into a copy of the hub's
   ``journal_entries`` table, in the same database: one writer per kiosk, all at once,
   ``--fleet-batch`` rows a transaction, the sha256 of each row recomputed; the hub's
   ingest rate as a share of it is printed.

The backlog is real journal rows (the kiosk's schema, its hash chain, the entries of cash
payments), written straight into the journal table in one transaction so that making the
backlog does not dominate the run; the worker reads them through ``Journal.entries`` as it
does on a kiosk. Payments go to accounts the hub knows, so the hub also posts them to its
ledger, as in production. PostgreSQL is the server on 127.0.0.1:5432, database ``test``, in
a schema made for the run and dropped after it. The resume and fleet figures start with
the hub idle (every payment it took so far posted). Prints figures only, each goal beside
it.

    .venv/bin/python bench/sync.py [--entries 10000] [--reps 3] [--kiosks 50] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import MetaData, Table, create_engine, func, insert, select, text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contract import entries as e  # noqa: E402
from contract.chain import GENESIS, canonical_json, entry_hash  # noqa: E402
from contract.wire import (  # noqa: E402
    Conflict,
    EnrollRequest,
    KioskHardware,
    PushResponse,
    WireEntry,
)
from hub import accounts, enrollment  # noqa: E402
from hub.context import HubContext  # noqa: E402
from hub.ingest import stored_row  # noqa: E402
from hub.models import Posting  # noqa: E402
from hub.settings import HubSettings, PostingSettings  # noqa: E402
from kiosk.bill_stub import luhn_check_digit  # noqa: E402
from kiosk.store.db import open_database, upgrade_to_head  # noqa: E402
from kiosk.store.journal import Journal, format_at  # noqa: E402
from kiosk.store.models import Base  # noqa: E402
from sync.backoff import Backoff  # noqa: E402
from sync.client import HubClient  # noqa: E402
from sync.service import SyncOptions  # noqa: E402
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
                "name_masked": "B**** R*******",
                "address_masked": "1** Bench St",
                "balance_cents": 10_000,
                "due_date": "2026-12-01",
                "source": "live",
                "review": False,
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
                "balance_before_cents": 10_000,
                "balance_after_cents": 7_500,
                "recovered": False,
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
    """A hub process on ``db_url`` and an in-process context for setting it up.

    The process can be stopped and started again on the same port (:meth:`stop`,
    :meth:`start`): a hub that goes away and comes back, as kiosks see it.
    """

    def __init__(self, db_url: str, log: Path) -> None:
        self.db_url = db_url
        self.log = log
        self.ctx = HubContext.open(HubSettings(database=db_url, posting=PostingSettings()))
        now = datetime.now(UTC)
        lines = ["account_number,name,service_address,balance_cents,due_date,status"]
        lines += [f"{n},Bench {n},1 Bench St,100000000,2026-12-01,active" for n in ACCOUNTS]
        accounts.import_accounts(self.ctx.db, "\n".join(lines) + "\n", now, now.date())
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start ``kiosk-hub serve`` (on the same port as before, if it ran before); the
        ``time.monotonic()`` at which it first answered ``/v1/health`` with 200."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = int(listener.getsockname()[1])
        command = [sys.executable, "-m", "hub.cli", "--db", self.db_url, "serve"]
        command += ["--fd", str(listener.fileno()), "--log-level", "warning"]
        with listener, self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the hub exited: {self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return time.monotonic()
            except requests.RequestException:
                pass
            time.sleep(0.01)
        raise SystemExit(f"the hub did not start: {self.log.read_text()}")

    def stop(self) -> None:
        """Stop the process: connections to its port are refused until :meth:`start`."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def kiosk(self) -> TimedClient:
        """A freshly created and enrolled kiosk's signed client."""
        name = f"bench-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        code = enrollment.create_kiosk(self.ctx.db, name, "bench", now, timedelta(hours=1)).code
        request = EnrollRequest(code=code, hardware=KioskHardware(hostname=name))
        secret = enrollment.enroll(self.ctx.db, request, now).secret
        return TimedClient(self.url, name, secret, timeout=TIMEOUT)

    def settle(self, timeout: float = 600.0) -> None:
        """Wait until the hub has posted every payment it took (so that one figure's
        background posting is not measured in the next)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.ctx.db.read() as conn:
                pending = conn.execute(
                    select(func.count()).select_from(Posting).where(Posting.status == "pending")
                ).scalar_one()
            if not pending:
                return
            time.sleep(0.2)
        raise SystemExit(f"the hub still has payments to post after {timeout:g} s")

    def close(self) -> None:
        self.stop()
        self.ctx.close()


class TimedClient(HubClient):
    """The kiosk's client, keeping how long each journal push took to be answered, and
    when the first push after :meth:`mark` was acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.push_seconds: list[float] = []
        self.first_ack_at: float | None = None
        self.attempts = 0  # requests of every kind, answered or not

    def push(self, *args: Any, **kwargs: Any) -> PushResponse | Conflict:
        started = time.monotonic()
        answer = super().push(*args, **kwargs)
        done = time.monotonic()
        self.push_seconds.append(done - started)
        if self.first_ack_at is None and isinstance(answer, PushResponse):
            self.first_ack_at = done
        return answer

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.attempts += 1
        return super().request(*args, **kwargs)

    def mark(self) -> None:
        self.push_seconds.clear()
        self.first_ack_at = None
        self.attempts = 0


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


@dataclass
class FleetRun:
    wall_s: float
    median_kiosk_s: float
    push_seconds: list[float]
    hub_cpu_s: float  # CPU seconds the hub process used while the kiosks pushed
    kiosks_cpu_s: float  # and this process, the kiosks' side


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default); 0 where unknown."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # not Linux
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fleet(hub: Hub, journals: list[Journal], batch: int) -> FleetRun:
    """All kiosks push their journals at once (one thread each)."""
    clients = [hub.kiosk() for _ in journals]
    barrier = threading.Barrier(len(journals) + 1)
    took: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(journal: Journal, client: TimedClient) -> None:
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
    hub_pid = hub.process.pid if hub.process is not None else None
    hub_cpu, own_cpu = cpu_seconds(hub_pid), cpu_seconds()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(600)
    wall = time.perf_counter() - started
    hub_cpu, own_cpu = cpu_seconds(hub_pid) - hub_cpu, cpu_seconds() - own_cpu
    for client in clients:
        client.close()
    if failures:
        raise SystemExit(f"{len(failures)} kiosks did not finish: {failures[:3]}")
    pushes = [seconds for client in clients for seconds in client.push_seconds]
    return FleetRun(wall, statistics.median(took), pushes, hub_cpu, own_cpu)


def bare_insert(url: str, journals: list[Journal], batch: int) -> float:
    """The baseline for fleet ingest: seconds to insert the same rows with nothing else.

    One writer per kiosk, all at once, each on its own connection, in transactions of
    ``batch`` rows (one executemany each) into a copy of ``journal_entries`` (its
    columns, keys and indexes), recomputing each row's sha256 as it goes: what storing the
    entries costs PostgreSQL and Python, without the HTTP, the signing, the chain checks and
    the projections.
    """
    engine = create_engine(url, pool_size=len(journals), max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bare_journal"))
        conn.execute(text("CREATE TABLE bare_journal (LIKE journal_entries INCLUDING ALL)"))
    table = Table("bare_journal", MetaData(), autoload_with=engine)
    received = datetime.now(UTC)
    per_kiosk = [
        (f"bare-{n}", [WireEntry.of(entry) for entry in journal.entries()])
        for n, journal in enumerate(journals)
    ]
    barrier = threading.Barrier(len(journals) + 1)
    errors: list[BaseException] = []

    def write(kiosk_id: str, entries: list[WireEntry]) -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            conn.commit()
            barrier.wait()
            try:
                for at in range(0, len(entries), batch):
                    rows = []
                    for entry in entries[at : at + batch]:
                        if entry.computed_hash() != entry.hash:
                            raise ValueError(f"entry {entry.seq} does not hash to its hash")
                        rows.append(stored_row(kiosk_id, entry, received))
                    conn.execute(insert(table), rows)
                    conn.commit()
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=pair, daemon=True) for pair in per_kiosk]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(600)
    wall = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bare_journal"))
    engine.dispose()
    if errors:
        raise SystemExit(f"bare insert failed: {errors[0]!r}")
    return wall


def resume(hub: Hub, folder: Path, kiosks: int, outage_s: float) -> tuple[list[float], int]:
    """Kiosks' push workers running as on a kiosk (their own threads, the default backoff)
    while the hub is down for ``outage_s``: seconds from the hub answering again to each
    kiosk's first acknowledged push, and how many requests they made during the outage."""
    journals = [make_backlog(folder / f"r{n}.sqlite", 50) for n in range(kiosks)]
    clients = [hub.kiosk() for _ in journals]
    options = SyncOptions()
    workers = [
        SyncWorker(
            journal,
            client,
            batch_size=options.batch_size,
            backoff=Backoff(options.backoff_base_s, options.backoff_cap_s),
            poll_s=options.poll_s,
            probe_s=options.probe_s,
        )
        for journal, client in zip(journals, clients, strict=True)
    ]
    hub.stop()
    for worker in workers:
        worker.start()
    time.sleep(outage_s)
    attempts = sum(c.attempts for c in clients)
    for client in clients:
        client.mark()
    back = hub.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(c.first_ack_at is None for c in clients):
        time.sleep(0.02)
    for worker in workers:
        worker.stop()
    for journal, client in zip(journals, clients, strict=True):
        client.close()
        journal.close()
    waits = [c.first_ack_at - back for c in clients if c.first_ack_at is not None]
    if len(waits) < kiosks:
        raise SystemExit(f"{kiosks - len(waits)} kiosks did not push within 120 s of the hub")
    return waits, attempts


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


def backlog_figures(
    hub: Hub,
    folder: Path,
    args: argparse.Namespace,
    label: str,
    goal: tuple[float, float] | None = None,
) -> None:
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
        + (f" (goal: <= {goal[0]:g} s and >= {goal[1]:g}x)" if goal else "")
    )


def percentile(values: list[float], share: float) -> float:
    """The value ``share`` (0-1) of the way up ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def fleet_figures(hub: Hub, url: str, folder: Path, args: argparse.Namespace) -> None:
    total = args.kiosks * args.per_kiosk
    walls, bares, pushes, kiosk_s, cpus = [], [], [], [], []
    for rep in range(args.fleet_reps):
        journals = [
            make_backlog(folder / f"f{rep}-{n}.sqlite", args.per_kiosk) for n in range(args.kiosks)
        ]
        hub.settle()  # the hub idle, as before a fleet comes back
        try:
            # the baseline first and the fleet second in even reps, the other way in odd
            # ones, so a noisy neighbour or a warming cache does not favour either
            # (three bare inserts each time: one takes a fraction of a second)
            if rep % 2 == 0:
                bares += [bare_insert(url, journals, args.fleet_batch) for _ in range(3)]
            run = fleet(hub, journals, args.fleet_batch)
            if rep % 2 == 1:
                bares += [bare_insert(url, journals, args.fleet_batch) for _ in range(3)]
        finally:
            for journal in journals:
                journal.close()
        walls.append(run.wall_s)
        kiosk_s.append(run.median_kiosk_s)
        pushes.extend(run.push_seconds)
        cpus.append((run.hub_cpu_s, run.kiosks_cpu_s))
    wall, bare = statistics.median(walls), statistics.median(bares)
    rate, bare_rate = total / wall, total / bare
    print(
        f"PostgreSQL  fleet: {args.kiosks} kiosks pushing at once, {total} entries in "
        f"{wall:.2f} s median of {args.fleet_reps} [{', '.join(f'{t:.2f}' for t in walls)}] = "
        f"{rate:,.0f} entries/s ingested; median kiosk done in {statistics.median(kiosk_s):.2f} s"
    )
    print(
        f"{'':<11} bare insert of the same rows ({args.kiosks} writers, {args.fleet_batch} "
        f"rows a transaction, sha256 per row): {bare:.2f} s median "
        f"[{', '.join(f'{t:.2f}' for t in bares)}] = {bare_rate:,.0f} rows/s; "
        f"the hub ingests at {rate / bare_rate:.0%} of it (goal: >= 5,000 entries/s and >= 25%)"
    )
    print(
        f"{'':<11} push latency over {len(pushes)} pushes of {args.fleet_batch}: "
        f"p50 {percentile(pushes, 0.5) * 1000:,.0f} ms, p99 "
        f"{percentile(pushes, 0.99) * 1000:,.0f} ms, max {max(pushes) * 1000:,.0f} ms "
        "(goal: p99 <= 500 ms)"
    )
    hub_cpu = statistics.median(c[0] for c in cpus)
    kiosks_cpu = statistics.median(c[1] for c in cpus)
    print(
        f"{'':<11} CPU while they pushed: the hub process {hub_cpu:.2f} s "
        f"({hub_cpu / wall:.0%} of one CPU), the {args.kiosks} kiosks {kiosks_cpu:.2f} s "
        f"({hub_cpu / total * 1e6:,.0f} and {kiosks_cpu / total * 1e6:,.0f} us an entry), "
        f"on {os.cpu_count()} CPUs shared with PostgreSQL"
    )


def resume_figures(hub: Hub, folder: Path, args: argparse.Namespace) -> None:
    hub.settle()
    waits, attempts = resume(hub, folder, args.resume_kiosks, args.outage)
    print(
        f"{'':<11} hub back after {args.outage:g} s down: {args.resume_kiosks} kiosks' first "
        f"push acknowledged p50 {statistics.median(waits):.2f} s, max {max(waits):.2f} s after "
        f"it answered again ({attempts} requests during the outage, "
        f"{attempts / args.resume_kiosks / args.outage:.1f} per kiosk a second; goal: <= 2 s)"
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
    parser.add_argument("--fleet-reps", type=int, default=3, help="fleet runs (and baselines)")
    parser.add_argument("--resume-kiosks", type=int, default=20)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the hub is down")
    parser.add_argument(
        "--quick", action="store_true", help="1 drain, 500 one by one, 1 fleet run, 10 s outage"
    )
    parser.add_argument("--dir", type=Path, help="where the SQLite files go (default: temp)")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.fleet_reps = 1, 1
        args.baseline_entries = min(args.baseline_entries, 500)
        args.outage = min(args.outage, 10.0)
    print(
        f"sync bench: backlog {args.entries} entries; baseline {args.baseline_entries}; "
        f"fleet {args.kiosks} kiosks x {args.per_kiosk} entries (batch {args.fleet_batch}); "
        f"{os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        hub = Hub(str(folder / "hub.sqlite"), folder / "hub-sqlite.log")
        try:
            backlog_figures(hub, folder, args, "SQLite", goal=(3.0, 30.0))
            resume_figures(hub, folder, args)
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
                fleet_figures(hub, url, folder, args)
            finally:
                hub.close()
        finally:
            drop()


if __name__ == "__main__":
    main()
