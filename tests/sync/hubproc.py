"""A real hub for the sync tests: ``kiosk-hub serve`` in a subprocess on a free port of
127.0.0.1, over a SQLite file, plus an in-process :class:`HubContext` on the same file for
the administrator's side (create kiosks, read the replica, the payments, the ledger)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from hub import accounts, demo, enrollment
from hub.cli import spawn_serve
from hub.clock import utc_now
from hub.context import HubContext
from hub.models import AccountRow, JournalEntry, Payment, Posting
from hub.settings import HubSettings, PostingSettings
from kiosk.bill_stub import luhn_check_digit

ROOT = Path(__file__).resolve().parents[2]
#: extra accounts beyond the demo's three, so payments spread over many balances
EXTRA_ACCOUNTS = [
    f"{body}{luhn_check_digit(body)}" for body in (f"2003004{n:02d}" for n in range(20))
]


@contextmanager
def refused_port() -> Iterator[int]:
    """A port of 127.0.0.1 where nothing answers, for as long as the block runs: bound here
    but not listening, so a connection is refused at once and no other process can start
    listening on it meanwhile (a port picked free and let go could be taken)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def seed_accounts(ctx: HubContext) -> None:
    """The demo's accounts and :data:`EXTRA_ACCOUNTS`, each of the latter owing 1,000.00."""
    now = utc_now()
    accounts.import_accounts(ctx.db, demo.demo_csv(), now, now.date(), partial=True)
    lines = ["account_number,name,service_address,balance_cents,due_date,status"]
    lines += [
        f"{n},Resident {n},{i} Test St,100000,2026-12-01,active"
        for i, n in enumerate(EXTRA_ACCOUNTS)
    ]
    accounts.import_accounts(ctx.db, "\n".join(lines) + "\n", now, now.date(), partial=True)


@dataclass(frozen=True)
class HubProcess:
    """``kiosk-hub serve`` running in a child process, answering at ``url``."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path


def spawn_hub_process(
    db: str, log_path: Path, options: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> HubProcess:
    """Start serving on a port of 127.0.0.1 bound before the child starts (so its URL is
    known at once and nobody can take the port meanwhile); not yet answering."""
    with log_path.open("wb") as log:
        process, url = spawn_serve(
            db, ["--log-level", "warning", *options], log=log, cwd=ROOT, env=env
        )
    return HubProcess(process, url, log_path)


def wait_until_up(hub: HubProcess, timeout_s: float = 30) -> None:
    """Until ``/v1/health`` answers 200; an early exit or no answer in time is an error
    with the child's output in it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"hub exited: {hub.log_path.read_text()}")
        try:
            if httpx.get(f"{hub.url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"hub did not answer in time: {hub.log_path.read_text()}")


def start_hub_process(
    db: str, log_path: Path, options: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> HubProcess:
    hub = spawn_hub_process(db, log_path, options, env)
    try:
        wait_until_up(hub)
    except BaseException:
        stop_hub_processes([hub.process])
        raise
    return hub


def stop_hub_processes(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Terminate them all at once, then wait for each (killed if it will not stop)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def hub_processes(
    db: str,
    folder: Path,
    count: int,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[list[HubProcess]]:
    """``count`` hub processes on one database, started together (their start-ups overlap,
    as when a fleet's hubs are rolled) and all answering before the block runs; stopped
    after it, whatever happens."""
    started: list[HubProcess] = []
    try:
        for n in range(count):
            started.append(spawn_hub_process(db, folder / f"hub{n}.log", options, env))
        for hub in started:
            wait_until_up(hub)
        yield started
    finally:
        stop_hub_processes([hub.process for hub in started])


class RunningHub:
    def __init__(self, folder: Path) -> None:
        self.db_path = folder / "hub.sqlite"
        self.log_path = folder / "hub.log"
        self.url = ""  # known once started
        settings = HubSettings(database=str(self.db_path), posting=PostingSettings(interval_s=0))
        self.ctx = HubContext.open(settings)
        seed_accounts(self.ctx)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def start(self, *options: str, env: dict[str, str] | None = None) -> None:
        """Serve, with more ``serve`` options and environment variables if given."""
        served = start_hub_process(
            str(self.db_path),
            self.log_path,
            ["--post-interval", "1", *options],
            env=env,
        )
        self.process, self.url = served.process, served.url

    def stop(self) -> None:
        if self.process is not None:
            stop_hub_processes([self.process])
        self.ctx.close()

    # ------------------------------------------------------------------ admin side

    def create_kiosk(self, name: str) -> str:
        issued = enrollment.create_kiosk(
            self.ctx.db, name, f"{name} lobby", utc_now(), timedelta(hours=1)
        )
        return issued.code

    def hub_cli(self, *args: str) -> int:
        from hub.cli import main

        return main(["--db", str(self.db_path), *args])

    def replica(self, kiosk_id: str) -> list[tuple[int, str]]:
        with self.ctx.db.read() as conn:
            rows = conn.execute(
                select(JournalEntry.seq, JournalEntry.hash)
                .where(JournalEntry.kiosk_id == kiosk_id)
                .order_by(JournalEntry.seq)
            ).all()
        return [(int(seq), str(hash_)) for seq, hash_ in rows]

    def stored_entry(self, kiosk_id: str, seq: int) -> tuple[str, str]:
        with self.ctx.db.read() as conn:
            row = conn.execute(
                select(JournalEntry.payload, JournalEntry.hash).where(
                    JournalEntry.kiosk_id == kiosk_id, JournalEntry.seq == seq
                )
            ).one()
        return str(row.payload), str(row.hash)

    def payments(self, kiosk_id: str) -> dict[str, tuple[str, str, int, str]]:
        """payment id -> (paid_at, effective date, amount, account)"""
        with self.ctx.db.read() as conn:
            rows = conn.execute(
                select(
                    Payment.payment_id,
                    Payment.paid_at,
                    Payment.effective_date,
                    Payment.amount_cents,
                    Payment.account_number,
                ).where(Payment.kiosk_id == kiosk_id)
            ).all()
        return {r[0]: (r[1], r[2].isoformat(), r[3], r[4]) for r in rows}

    def postings(self, kiosk_id: str) -> dict[str, int]:
        with self.ctx.db.read() as conn:
            rows = conn.execute(
                select(Posting.status, func.count())
                .where(Posting.kiosk_id == kiosk_id)
                .group_by(Posting.status)
            ).all()
        return {str(status): int(count) for status, count in rows}

    def balances(self) -> dict[str, int]:
        with self.ctx.db.read() as conn:
            rows = conn.execute(select(AccountRow.number, AccountRow.balance_cents)).all()
        return {str(n): int(b) for n, b in rows}


@contextmanager
def running_hub(folder: Path) -> Iterator[RunningHub]:
    hub = RunningHub(folder)
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()
