"""The account catalog: importing it from the CIS, and serving it to kiosks.

Kiosks look accounts up live (``GET /v1/accounts/{number}``) and keep a cache for when the
hub is out of reach: a snapshot once, then deltas since the version they hold. Every change
to the catalog (an import, a ledger posting) takes the catalog row's lock and a new version
in the same transaction, so versions commit in order and a delta never misses a change.

Import format (CSV, UTF-8, header row; see docs/hub.md): ``account_number, name,
service_address, balance_cents, due_date, status`` then usage, either as ``usage_1`` …
``usage_12`` (gallons, oldest first) or one ``usage`` column ``"a;b;c"``; optionally
``usage_through`` (``YYYY-MM``, the month of the newest figure), the last payment the
billing system recorded (``last_payment_cents`` and ``last_payment_date``, both or
neither) and the current bill by service, one ``charge_<service>`` column each in cents
(``charge_water``, ``charge_sewer``…; an empty cell leaves that service out). An import is
all or nothing: every bad row is reported with its line number and nothing is imported.

Every value is checked against the bounds of the wire model kiosks read
(:class:`contract.wire.Account`) as it arrives, so an account that imported is an account
every kiosk can be sent. Should a stored row still not fit (a balance changed in the
database by hand), that one account is left out of snapshots and deltas and its lookup is
a 503 naming it, with the details in the log: the other accounts are served as usual.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, insert, select, update

from contract.payloads import MAX_CENTS
from contract.wire import MAX_GALLONS, Account, AccountDelta, AccountSnapshot, UsageMonth
from hub.db import Database
from hub.errors import HubError
from hub.models import AccountCatalog, AccountRow

REQUIRED = ("account_number", "name", "service_address", "balance_cents", "due_date", "status")
USAGE_COLUMNS = tuple(f"usage_{n}" for n in range(1, 13))
OPTIONAL = ("usage", "usage_through", *USAGE_COLUMNS, "last_payment_cents", "last_payment_date")
#: a column of the current bill's charge for one service: ``charge_water``, ``charge_sewer``
CHARGE_PREFIX = "charge_"
_SERVICE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_CHARGES = 8
STATUSES = ("active", "inactive", "closed")
ACCOUNT_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_INTEGER = re.compile(r"^-?\d{1,12}$")
_MAX_PROBLEMS = 50
log = logging.getLogger(__name__)


class AccountImportError(Exception):
    """The file can not be imported; ``problems`` lists each one with its line number."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:_MAX_PROBLEMS]
        more = len(problems) - len(shown)
        text = "\n".join(shown) + (f"\n… and {more} more" if more else "")
        super().__init__(f"nothing was imported:\n{text}")
        self.problems = problems


@dataclass(frozen=True)
class ImportReport:
    version: int
    added: int
    changed: int
    unchanged: int
    removed: int


@dataclass
class _Parsed:
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- versions


def next_version(conn: Connection, now: datetime) -> int:
    """Take the catalog's lock and its next version (committed with the caller's change)."""
    conn.execute(
        update(AccountCatalog)
        .where(AccountCatalog.id == 1)
        .values(version=AccountCatalog.version + 1, updated_at=now)
    )
    return int(
        conn.execute(select(AccountCatalog.version).where(AccountCatalog.id == 1)).scalar_one()
    )


def current_version(conn: Connection) -> int:
    return int(
        conn.execute(select(AccountCatalog.version).where(AccountCatalog.id == 1)).scalar_one()
    )


# ---------------------------------------------------------------------------- parsing


def _months_ending(through: tuple[int, int], count: int) -> list[str]:
    year, month = through
    index = year * 12 + (month - 1)
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def _default_through(due: date | None, today: date) -> tuple[int, int]:
    """Usage runs to the month before the bill is due (or before today, with no due date)."""
    anchor = due or today
    return (anchor.year, anchor.month - 1) if anchor.month > 1 else (anchor.year - 1, 12)


def parse_csv(text: str, today: date) -> _Parsed:
    """Read and check every row; collects all problems rather than stopping at the first.

    Line numbers are physical lines of the file (a quoted value may span several), so a
    clerk can open the file in an editor and go to the line.
    """
    result = _Parsed()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        result.problems.append(f"line 1: not readable as CSV ({exc})")
        return result
    if not header:
        result.problems.append("line 1: the file is empty; the first line must name the columns")
        return result
    names = [name.strip() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    unknown = [
        name
        for name in names
        if name not in REQUIRED and name not in OPTIONAL and not _is_charge(name)
    ]
    duplicate = sorted({name for name in names if names.count(name) > 1})
    if missing:
        result.problems.append(f"line 1: missing column(s): {', '.join(missing)}")
    if unknown:
        result.problems.append(
            f"line 1: unknown column(s): {', '.join(unknown)} "
            f"(the columns are {', '.join(REQUIRED + OPTIONAL)})"
        )
    if duplicate:
        result.problems.append(f"line 1: column(s) named twice: {', '.join(duplicate)}")
    if len([name for name in names if _is_charge(name)]) > MAX_CHARGES:
        result.problems.append(f"line 1: at most {MAX_CHARGES} charge_<service> columns")
    if "usage" in names and any(name in names for name in USAGE_COLUMNS):
        result.problems.append("line 1: use either the usage column or usage_1..usage_12")
    if result.problems:
        return result
    first_line: dict[str, int] = {}
    line = reader.line_num
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != len(names):
                result.problems.append(
                    f"line {start}: {len(cells)} values, but the header names {len(names)} columns"
                )
                continue
            account, problems = _parse_row(dict(zip(names, cells, strict=True)), today)
            result.problems += [f"line {start}: {problem}" for problem in problems]
            if account is None:
                continue
            number = account["number"]
            if number in first_line:
                result.problems.append(
                    f"line {start}: account {number} is already on line {first_line[number]}"
                )
                continue
            first_line[number] = start
            result.accounts[number] = account
    except csv.Error as exc:
        result.problems.append(f"line {reader.line_num}: not readable as CSV ({exc})")
    return result


def _parse_row(row: Mapping[str, str], today: date) -> tuple[dict[str, Any] | None, list[str]]:
    problems: list[str] = []
    get = {key: value.strip() for key, value in row.items()}
    number = get["account_number"]
    if not ACCOUNT_NUMBER.match(number):
        problems.append(
            f"account_number {number!r} must be 1-64 letters, digits or dashes"
            if number
            else "account_number is empty"
        )
    name, address = get["name"], get["service_address"]
    for column, value in (("name", name), ("service_address", address)):
        if not value:
            problems.append(f"{column} is empty")
        elif len(value) > 255 or "\x00" in value:
            problems.append(f"{column} is longer than 255 characters or holds a NUL")
    balance = get["balance_cents"]
    if not _INTEGER.match(balance):
        problems.append(
            f"balance_cents {balance!r} is not a whole number of cents (write 4317 for $43.17)"
        )
    elif abs(int(balance)) > MAX_CENTS:
        problems.append(f"balance_cents {balance} is out of bounds: at most {MAX_CENTS} either way")
    due: date | None = None
    if get["due_date"]:
        try:
            due = date.fromisoformat(get["due_date"])
            if len(get["due_date"]) != 10:
                raise ValueError
        except ValueError:
            problems.append(f"due_date {get['due_date']!r} is not a date (YYYY-MM-DD)")
    status = get["status"] or "active"
    if status not in STATUSES:
        problems.append(f"status {status!r} is not one of {', '.join(STATUSES)}")
    usage_texts = (
        [part.strip() for part in get["usage"].split(";") if part.strip()]
        if get.get("usage")
        else [get[c] for c in USAGE_COLUMNS if get.get(c)]
    )
    gallons: list[int] = []
    for text in usage_texts:
        if not text.isdigit() or len(text) > 9:
            problems.append(f"usage {text!r} is not a whole number of gallons")
        elif int(text) > MAX_GALLONS:
            problems.append(f"usage {text!r} is more than {MAX_GALLONS} gallons in a month")
        else:
            gallons.append(int(text))
    if len(usage_texts) > 12:
        problems.append(f"{len(usage_texts)} months of usage given; at most 12")
    through = _default_through(due, today)
    if get.get("usage_through"):
        match = _MONTH.match(get["usage_through"])
        if match is None:
            problems.append(f"usage_through {get['usage_through']!r} is not a month (YYYY-MM)")
        else:
            through = (int(match.group(1)), int(match.group(2)))
    bill = _bill(get, problems)
    if problems:
        return None, problems
    months = _months_ending(through, len(gallons))
    return {
        "number": number,
        "name": name,
        "service_address": address,
        "balance_cents": int(balance),
        "due_date": due,
        "status": status,
        "usage": json.dumps(
            [{"month": m, "gallons": g} for m, g in zip(months, gallons, strict=True)],
            separators=(",", ":"),
        ),
        "bill": json.dumps(bill, separators=(",", ":"), sort_keys=True),
    }, []


def _is_charge(name: str) -> bool:
    return name.startswith(CHARGE_PREFIX) and bool(_SERVICE.match(name[len(CHARGE_PREFIX) :]))


def _bill(get: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """The last payment and the charges by service of a row, as ``accounts.bill`` keeps them."""
    bill: dict[str, Any] = {}
    amount, when = get.get("last_payment_cents", ""), get.get("last_payment_date", "")
    if amount or when:
        if not (amount and when):
            problems.append("last_payment_cents and last_payment_date go together")
        elif not amount.isdigit() or int(amount) > MAX_CENTS:
            problems.append(f"last_payment_cents {amount!r} is not a whole number of cents")
        else:
            try:
                paid_on = date.fromisoformat(when)
                if len(when) != 10:
                    raise ValueError
            except ValueError:
                problems.append(f"last_payment_date {when!r} is not a date (YYYY-MM-DD)")
            else:
                bill["last_payment"] = {"amount_cents": int(amount), "paid_on": paid_on.isoformat()}
    charges = []
    for name, value in get.items():
        if not _is_charge(name) or not value:
            continue
        if not _INTEGER.match(value) or abs(int(value)) > MAX_CENTS:
            problems.append(f"{name} {value!r} is not a whole number of cents")
            continue
        service = name[len(CHARGE_PREFIX) :].replace("_", " ").capitalize()
        charges.append({"service": service, "amount_cents": int(value)})
    if charges:
        bill["charges"] = charges
    return bill


# ---------------------------------------------------------------------------- writing


def import_accounts(
    db: Database, text: str, now: datetime, today: date, *, partial: bool = False
) -> ImportReport:
    """Import a catalog file: all of it in one transaction, or nothing.

    A full import (the default) removes accounts missing from the file; ``partial`` only
    adds and updates.
    """
    parsed = parse_csv(text, today)
    if parsed.problems:
        raise AccountImportError(parsed.problems)
    return _write(db, parsed.accounts, now, partial)


def upsert_accounts(
    db: Database, accounts: Iterable[Mapping[str, Any]], now: datetime
) -> ImportReport:
    """Add or update accounts given as parsed rows (the demo seed)."""
    return _write(db, {str(a["number"]): dict(a) for a in accounts}, now, partial=True)


_FIELDS = ("name", "service_address", "balance_cents", "due_date", "status", "usage", "bill")


def _write(
    db: Database, accounts: Mapping[str, Mapping[str, Any]], now: datetime, partial: bool
) -> ImportReport:
    added = changed = unchanged = removed = 0
    with db.write() as conn:
        version = next_version(conn, now)
        existing = {
            row.number: row
            for row in conn.execute(
                select(AccountRow.number, AccountRow.removed_version, *_columns())
            )
        }
        for number, account in accounts.items():
            values = {name: account[name] for name in _FIELDS}
            old = existing.get(number)
            if old is None:
                conn.execute(
                    insert(AccountRow).values(
                        number=number, version=version, updated_at=now, **values
                    )
                )
                added += 1
            elif old.removed_version is None and all(
                getattr(old, name) == values[name] for name in _FIELDS
            ):
                unchanged += 1
            else:
                conn.execute(
                    update(AccountRow)
                    .where(AccountRow.number == number)
                    .values(version=version, removed_version=None, updated_at=now, **values)
                )
                changed += 1
        if not partial:
            gone = [
                number
                for number, row in existing.items()
                if number not in accounts and row.removed_version is None
            ]
            for start in range(0, len(gone), 500):
                conn.execute(
                    update(AccountRow)
                    .where(AccountRow.number.in_(gone[start : start + 500]))
                    .values(removed_version=version, updated_at=now)
                )
            removed = len(gone)
    return ImportReport(version, added, changed, unchanged, removed)


def _columns() -> list[Any]:
    return [getattr(AccountRow, name) for name in _FIELDS]


# ---------------------------------------------------------------------------- reading


def _account(row: Any) -> Account:
    return Account(
        number=row.number,
        name=row.name,
        service_address=row.service_address,
        balance_cents=row.balance_cents,
        due_date=row.due_date,
        status=row.status,
        usage=[UsageMonth.model_validate(item) for item in json.loads(row.usage)],
        **json.loads(row.bill or "{}"),
    )


def _readable(rows: Iterable[Any]) -> list[Account]:
    """The rows as accounts, leaving out (and logging) any that no kiosk could be sent."""
    out: list[Account] = []
    for row in rows:
        try:
            out.append(_account(row))
        except (ValidationError, ValueError) as exc:
            log.error("account %s is left out: it does not fit the wire model: %s", row.number, exc)
    return out


def lookup(db: Database, number: str) -> Account | None:
    with db.read() as conn:
        row = conn.execute(
            select(AccountRow.number, *_columns()).where(
                AccountRow.number == number, AccountRow.removed_version.is_(None)
            )
        ).first()
    if row is None:
        return None
    found = _readable([row])
    if not found:
        raise HubError(
            f"account {number} can not be shown just now; the hub's log says why",
            code="account_unavailable",
            status=503,
        )
    return found[0]


def snapshot(db: Database) -> AccountSnapshot:
    with db.read() as conn:
        version = current_version(conn)
        rows = conn.execute(
            select(AccountRow.number, *_columns())
            .where(AccountRow.removed_version.is_(None))
            .order_by(AccountRow.number)
        )
        return AccountSnapshot(version=version, accounts=_readable(rows))


def delta(db: Database, since: int) -> AccountDelta:
    """Accounts added or changed after ``since``, and those removed after it."""
    with db.read() as conn:
        version = current_version(conn)
        rows = conn.execute(
            select(AccountRow.number, *_columns())
            .where(AccountRow.version > since, AccountRow.removed_version.is_(None))
            .order_by(AccountRow.number)
        )
        accounts = _readable(rows)
        removed = [
            str(number)
            for number in conn.execute(
                select(AccountRow.number)
                .where(AccountRow.removed_version > since)
                .order_by(AccountRow.number)
            ).scalars()
        ]
    return AccountDelta(since=since, version=version, accounts=accounts, removed=removed)
