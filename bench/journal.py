"""How much does durability cost? Journal appends with synchronous=FULL against OFF.

Every append is one fsync'd transaction on the kiosk (DESIGN.md rule 2); OFF is the
baseline without the fsync. Both run in the same process, interleaved in rounds (the order
alternating) so that a noisy neighbour or a warming cache hits both alike. The entries are
a realistic mix of a cash payment's entries, projections included. Prints figures only.

    .venv/bin/python bench/journal.py [--count 2000] [--rounds 4] [--dir /var/lib/kiosk]
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contract import entries as e
from kiosk.store.db import Synchronous, open_database, upgrade_to_head
from kiosk.store.journal import Journal

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
            yield e.BILL_STACKED, bill | {"recovered": False, "intent_seq": 0}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="appends per mode (default 2000)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds (default 4)")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary databases go")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
