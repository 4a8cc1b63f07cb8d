"""The demo's data: three accounts with a year of usage, a demo kiosk, and one console login
per staff role.

The accounts are the ones the kiosk's simulated directory knows (devices/simulated.py), with
valid check digits, so the demo pays the same bills against the hub as without it. Seeding
goes through the ordinary import (as a partial import), so it is checked like any file.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from hub import accounts, enrollment
from hub.db import Database
from hub.enrollment import IssuedCode
from hub.errors import AlreadyExists
from hub.models import StaffUser
from hub.staff import totp, users
from hub.staff.roles import ROLES

DEMO_KIOSK = "demo-kiosk-01"
DEMO_LOCATION = "City Hall, 100 Main St"
#: every demo login's password: a demo, on a hub that listens on 127.0.0.1 only
DEMO_PASSWORD = "kiosk demo 2026"

#: number, name, service address, balance (cents), due date, base monthly gallons
DEMO_ACCOUNTS = (
    ("100200302", "Maria Gonzalez", "1234 Oak St", 4317, "2026-12-05", 3100),
    ("100200419", "James Carter", "88 Riverside Dr", 12950, "2026-12-01", 5200),
    ("100200526", "Linh Nguyen", "405 Elm Ave Apt 3", 2875, "2026-11-28", 2100),
)
#: what the billing system says of each demo bill: (last payment cents, its date) and the
#: charges by service (water, sewer, trash), which add up to the balance
DEMO_BILLS = {
    "100200302": ((3890, "2026-11-04"), (2910, 1107, 300)),
    "100200419": ((11200, "2026-10-30"), (8420, 3630, 900)),
    "100200526": ((2875, "2026-10-27"), (1800, 775, 300)),
}


def demo_csv() -> str:
    """The demo accounts as an import file (12 months of usage, December 2025 to November
    2026, oldest first; the last payment and the bill by service)."""
    lines = [
        "account_number,name,service_address,balance_cents,due_date,status,usage,usage_through,"
        "last_payment_cents,last_payment_date,charge_water,charge_sewer,charge_trash"
    ]
    for number, name, address, balance, due, base in DEMO_ACCOUNTS:
        usage = ";".join(str(base + (i % 6) * 350) for i in range(12))
        (paid, paid_on), charges = DEMO_BILLS[number]
        bill = ",".join(str(c) for c in charges)
        lines.append(
            f'{number},{name},"{address}",{balance},{due},active,{usage},2026-11,'
            f"{paid},{paid_on},{bill}"
        )
    return "\n".join(lines) + "\n"


def seed(
    db: Database, now: datetime, today: date, ttl: timedelta
) -> tuple[accounts.ImportReport, IssuedCode | None]:
    """Add the demo accounts (leaving any others alone) and the demo kiosk if it is new."""
    report = accounts.import_accounts(db, demo_csv(), now, today, partial=True)
    try:
        issued: IssuedCode | None = enrollment.create_kiosk(db, DEMO_KIOSK, DEMO_LOCATION, now, ttl)
    except AlreadyExists:
        issued = None
    return report, issued


@dataclass(frozen=True)
class DemoLogin:
    """A demo console login: what a person types, and the secret for their authenticator."""

    name: str
    role: str
    password: str
    totp_secret: str

    @property
    def uri(self) -> str:
        return totp.uri(self.totp_secret, self.name)


def seed_staff(db: Database, now: datetime) -> list[DemoLogin]:
    """One login per role (``clerk-demo``…), added if missing; existing ones keep their
    TOTP secret, so an authenticator set up on an earlier run still works."""
    for role in ROLES:
        with contextlib.suppress(AlreadyExists):
            users.add(db, f"{role}-demo", role, DEMO_PASSWORD, now, "demo")
    names = [f"{role}-demo" for role in ROLES]
    with db.read() as conn:
        rows = conn.execute(
            select(StaffUser.name, StaffUser.role, StaffUser.totp_secret).where(
                StaffUser.name.in_(names)
            )
        ).all()
    found = {row.name: row for row in rows}
    return [
        DemoLogin(name, found[name].role, DEMO_PASSWORD, found[name].totp_secret)
        for name in names
        if name in found
    ]
