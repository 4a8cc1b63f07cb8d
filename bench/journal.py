"""What the journal costs: start-up and recovery against the journal's age, and appends.

``startup`` (the default) builds journals of 10,000, 100,000 and 1,000,000 entries (a year of
a busy kiosk is half a million), straight into SQLite as ``bench/sync.py`` builds its
backlog, with an intent from the first day that never got its outcome. On each it times
``build_kiosk`` on simulated devices (open the journal, recover, build the engine and its
first snapshot: start-up to ready) and :func:`kiosk.recovery.recover` with one fresh open
intent, and prints the medians and the ratio of the largest journal to the smallest.

``appends`` measures what durability costs: journal appends with synchronous=FULL against
OFF, in the same process, interleaved in rounds (the order alternating) so that a noisy
neighbour or a warming cache hits both alike. Prints figures only.

    .venv/bin/python bench/journal.py [startup] [--quick] [--sizes 10000,100000] [--runs 5]
    .venv/bin/python bench/journal.py appends [--count 2000] [--rounds 4] [--dir /var/lib/kiosk]
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

# bench/ is sys.path[0] when run as a script, and its devices.py is not the devices package
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from composition.hardware import Hardware, build_hardware  # noqa: E402
from composition.wiring import JOURNAL_FILE, build_kiosk  # noqa: E402
from contract import entries as e  # noqa: E402
from contract.chain import GENESIS, canonical_json, entry_hash  # noqa: E402
from kiosk.clock import SystemClock  # noqa: E402
from kiosk.config import Devices, KioskConfig, Storage  # noqa: E402
from kiosk.recovery import recover  # noqa: E402
from kiosk.store.db import Synchronous, open_database, upgrade_to_head  # noqa: E402
from kiosk.store.journal import Journal, format_at  # noqa: E402
from kiosk.store.models import Base  # noqa: E402

MODES: tuple[Synchronous, ...] = ("FULL", "OFF")


def payment_entries() -> Iterator[tuple[str, dict[str, Any]]]:
    """An endless stream of cash payments, entry by entry: 1 session, 3 bills, a receipt."""
    for n in itertools.count():
        sid = f"s{n}"
        yield e.SESSION_STARTED, {"session_id": sid, "language": "en"}
        yield e.AMOUNT_CHOSEN, {"session_id": sid, "amount_cents": 4500}
        for b, cents in enumerate((2000, 2000, 500)):
            bill = {"session_id": sid, "bill_id": f"{sid}-{b}", "denomination_cents": cents}
            yield e.BILL_STACK_REQUESTED, bill | {"cashbox_before": n * 3 + b}
            request_seq = n * 10 + 3 + 2 * b  # 10 entries a payment, from seq 1
            yield e.BILL_STACKED, bill | {"recovered": False, "intent_seq": request_seq}
        yield (
            e.PAYMENT_COMPLETED,
            {
                "session_id": sid,
                "payment_id": f"P{n}",
                "confirmation": f"C{n}",
                "account_number": "100200300",
                "method": "cash",
                "amount_cents": 4500,
                "fee_cents": 0,
                "cash_cents": 4500,
                "bills": {"2000": 2, "500": 1},
                "card": None,
                "paid_at": "2025-03-01T14:05:00+00:00",
                "review": False,
                "balance_before_cents": 10_000,
                "balance_after_cents": 5_500,
                "recovered": False,
            },
        )
        yield e.SESSION_ENDED, {"session_id": sid, "outcome": "completed"}


def run_round(
    journal: Journal, stream: Iterator[tuple[str, dict[str, Any]]], count: int
) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        type_, payload = next(stream)
        before = time.perf_counter()
        journal.append(type_, payload)
        latencies.append(time.perf_counter() - before)
    return time.perf_counter() - started, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_appends(args: argparse.Namespace) -> None:
    per_round = max(1, args.count // args.rounds)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        journals: dict[str, Journal] = {}
        for mode in MODES:
            engine = open_database(Path(tmp) / f"{mode.lower()}.sqlite", synchronous=mode)
            upgrade_to_head(engine)
            journals[mode] = Journal(engine)
        streams = {mode: payment_entries() for mode in MODES}
        elapsed = dict.fromkeys(MODES, 0.0)
        latencies: dict[str, list[float]] = {mode: [] for mode in MODES}
        for round_no in range(args.rounds):
            order = MODES if round_no % 2 == 0 else MODES[::-1]
            for mode in order:
                seconds, samples = run_round(journals[mode], streams[mode], per_round)
                elapsed[mode] += seconds
                latencies[mode] += samples
        for mode in MODES:
            assert journals[mode].verify().ok  # a sanity check of the run, not a timing assert
            journals[mode].close()

        print(f"journal appends: {per_round * args.rounds} per mode in {args.rounds} rounds")
        print(f"database directory: {tmp} (SQLite {sqlite3.sqlite_version}, WAL)")
        print(f"{'synchronous':<12}{'appends/s':>11}{'p50 ms':>9}{'p99 ms':>9}")
        medians = {}
        for mode in MODES:
            rate = len(latencies[mode]) / elapsed[mode]
            medians[mode] = statistics.median(latencies[mode])
            p99 = percentile(latencies[mode], 0.99)
            print(f"{mode:<12}{rate:>11.0f}{medians[mode] * 1000:>9.2f}{p99 * 1000:>9.2f}")
        print(f"median latency FULL/OFF: {medians['FULL'] / medians['OFF']:.1f}x")


# ------------------------------------------------------------------ start-up and recovery

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
WEEK = 10_500  # entries between two cash-box collections at ~1,500 a day
OLD_INTENT_SEQ = 3


def aged_rows(count: int) -> Iterator[dict[str, Any]]:
    """``count`` chained journal rows spread over the last year: cash payments (intents
    settled by their outcomes), a batch closed every week, and at seq 3 a receipt print
    intent that never got its outcome (the power went), which recovery must still find."""
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / count
    prev, seq, opened, n = GENESIS, 0, 1, 0

    def row(type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        nonlocal prev, seq
        seq += 1
        entry_id, at = str(uuid.uuid4()), format_at(start + step * seq)
        digest = entry_hash(prev, seq, entry_id, at, type_, payload)
        out = {
            "seq": seq,
            "id": entry_id,
            "at": at,
            "type": type_,
            "payload": canonical_json(payload),
            "prev_hash": prev,
            "hash": digest,
        }
        prev = digest
        return out

    while seq < count:
        sid = f"s{n}"
        script: list[tuple[str, dict[str, Any]]] = [
            (e.SESSION_STARTED, {"session_id": sid, "language": "en"}),
            (e.AMOUNT_CHOSEN, {"session_id": sid, "amount_cents": 2500}),
        ]
        for type_, payload in script:
            yield row(type_, payload)
        if n == 0:
            yield row(e.RECEIPT_PRINT_REQUESTED, {"session_id": sid, "confirmation": "OLD-1"})
        for b, cents in enumerate((2000, 500)):
            bill = {"session_id": sid, "bill_id": f"{sid}-{b}", "denomination_cents": cents}
            yield row(e.BILL_STACK_REQUESTED, bill | {"cashbox_before": n * 2 + b})
            yield row(e.BILL_STACKED, bill | {"intent_seq": seq, "recovered": False})
        payment = {
            "session_id": sid,
            "payment_id": f"P{n}",
            "confirmation": f"C{n}",
            "account_number": "100200300",
            "method": "cash",
            "amount_cents": 2500,
            "fee_cents": 0,
            "cash_cents": 2500,
            "bills": {"2000": 1, "500": 1},
            "card": None,
            "paid_at": format_at(start + step * seq),
            "review": False,
            "balance_before_cents": 10_000,
            "balance_after_cents": 7_500,
            "recovered": False,
        }
        yield row(e.PAYMENT_COMPLETED, payment)
        yield row(e.SESSION_ENDED, {"session_id": sid, "outcome": "completed"})
        n += 1
        if seq - opened >= WEEK:
            closed = {
                "batch_id": f"B{opened:06d}",
                "reason": "cash_box_collection",
                "by": "bench",
                "first_seq": opened,
                "bills": {},
                "cash_cents": 0,
                "card_cents": 0,
                "card_count": 0,
                "reversals": 0,
            }
            yield row(e.BATCH_CLOSED, closed)
            opened = seq + 1


def build_journal(path: Path, count: int) -> None:
    """A kiosk database holding ``count`` aged entries, its projections caught up."""
    engine = open_database(path, synchronous="OFF")
    upgrade_to_head(engine)
    table = Base.metadata.tables["journal"]
    rows = aged_rows(count)
    while chunk := list(itertools.islice(rows, 50_000)):
        with engine.begin() as conn:
            conn.execute(insert(table), chunk)
    engine.dispose()
    Journal.open(path).close()  # replays the journal into the projections, once


def bench_config(data_dir: Path) -> KioskConfig:
    simulated = "simulated"
    devices = Devices(
        bill_acceptor=simulated,
        card_terminal=simulated,
        receipt_printer=simulated,
        barcode_scanner=simulated,
    )
    return KioskConfig(storage=Storage(data_dir=data_dir), devices=devices)


def warm_up(config: KioskConfig) -> None:
    """A first start, not counted: it settles the year-old open intent, and says so (or the
    bench stops: recovery must find it however old it is)."""
    kiosk = build_kiosk(config)
    found = [line for line in kiosk.recovery.intents if line.startswith(f"{OLD_INTENT_SEQ} ")]
    kiosk.close()
    if not found:
        raise SystemExit(f"recovery missed the open intent at seq {OLD_INTENT_SEQ}")


def time_startup(config: KioskConfig) -> float:
    """Start-up to ready: ``build_kiosk`` (journal, recovery, engine and first snapshot)."""
    before = time.perf_counter()
    kiosk = build_kiosk(config)
    elapsed = time.perf_counter() - before
    kiosk.close()
    return elapsed


def time_recovery(journal: Journal, hardware: Hardware, config: KioskConfig, n: int) -> float:
    """``recover`` with one open intent (a receipt the power cut short)."""
    journal.append(e.RECEIPT_PRINT_REQUESTED, {"session_id": None, "confirmation": f"R{n}"})
    before = time.perf_counter()
    report = recover(journal, hardware.ports, config, SystemClock(), answer_timeout=1.0)
    elapsed = time.perf_counter() - before
    assert len(report.intents) == 1, report.intents  # a sanity check, not timing
    return elapsed


def run_startup(args: argparse.Namespace) -> None:
    sizes = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        configs: dict[int, KioskConfig] = {}
        for size in sizes:
            folder = Path(tmp) / f"k{size}"
            started = time.perf_counter()
            build_journal(folder / JOURNAL_FILE, size)
            megabytes = (folder / JOURNAL_FILE).stat().st_size / 1e6
            print(
                f"built {size} entries in {time.perf_counter() - started:.0f} s "
                f"({megabytes:.0f} MB)",
                flush=True,
            )
            configs[size] = bench_config(folder)
            warm_up(configs[size])
        # the sizes take turns, run after run, so a noisy neighbour hits them all alike
        startups: dict[int, list[float]] = {size: [] for size in sizes}
        recoveries: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(args.runs):
            for size in sizes:
                startups[size].append(time_startup(configs[size]))
        opened = {}
        for size, config in configs.items():
            folder = config.storage.resolved_data_dir()
            hardware = build_hardware(config, folder / "devices")
            opened[size] = (Journal.open(folder / JOURNAL_FILE), hardware)
        for n in range(args.runs):
            for size in sizes:
                journal, hardware = opened[size]
                recoveries[size].append(time_recovery(journal, hardware, configs[size], n))
        for journal, hardware in opened.values():
            journal.close()
            hardware.close()

    print(f"median of {args.runs} runs, the sizes in turn")
    print(f"{'entries':>10}{'start-up ms':>13}{'recovery ms':>13}")
    for size in sizes:
        startup, recovery = statistics.median(startups[size]), statistics.median(recoveries[size])
        print(f"{size:>10}{startup * 1000:>13.1f}{recovery * 1000:>13.1f}")
    small, big = min(sizes), max(sizes)
    if big != small:
        ratio_s = statistics.median(startups[big]) / statistics.median(startups[small])
        ratio_r = statistics.median(recoveries[big]) / statistics.median(recoveries[small])
        print(
            f"ratio {big} vs {small}: start-up {ratio_s:.2f}x, recovery {ratio_r:.2f}x "
            "(goal: within 1.2x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what")
    startup = sub.add_parser("startup", help="start-up and recovery against journal size")
    appends = sub.add_parser("appends", help="durable appends, synchronous FULL against OFF")
    for p in (parser, startup):
        p.add_argument("--quick", action="store_true", help="10,000 and 100,000 entries only")
        p.add_argument("--sizes", default="", help="journal sizes, comma-separated")
        p.add_argument("--runs", type=int, default=9, help="timed runs per size (default 9)")
    for p in (parser, startup, appends):
        p.add_argument("--dir", type=Path, default=None, help="where the temporary databases go")
    appends.add_argument("--count", type=int, default=2000, help="appends per mode (default 2000)")
    appends.add_argument("--rounds", type=int, default=4, help="interleaved rounds (default 4)")
    args = parser.parse_args()
    if args.what == "appends":
        run_appends(args)
    else:
        run_startup(args)


if __name__ == "__main__":
    main()
