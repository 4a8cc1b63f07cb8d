"""Staff accounts and a browser-like client for the console's tests.

:func:`sign_in` does what a person does: opens the sign-in page (which sets its form
cookie and token), then posts name, password and a TOTP code computed with pyotp from the
account's secret at the hub's clock.
"""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pyotp
from sqlalchemy import select

from hub.models import AuditEntry, StaffUser
from hub.staff import users
from tests.hub.harness import HubHarness

PASSWORD = "correct horse 42 battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(hub: HubHarness, name: str, role: str, password: str = PASSWORD) -> str:
    """A new account; returns its TOTP secret."""
    return users.add(hub.ctx.db, name, role, password, hub.clock(), "test").secret


def code(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def form_token(page: httpx.Response) -> str:
    found = _TOKEN.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def sign_in(
    hub: HubHarness,
    name: str,
    secret: str,
    password: str = PASSWORD,
    totp_code: str | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    browser = client or hub.client
    page = browser.get("/console/sign-in", follow_redirects=False)
    assert page.status_code == 200, page.text
    fields = {
        "csrf_token": form_token(page),
        "name": name,
        "password": password,
        "code": totp_code if totp_code is not None else code(secret, hub.clock()),
    }
    response: httpx.Response = browser.post("/console/sign-in", data=fields, follow_redirects=False)
    return response


def sign_in_as(hub: HubHarness, role: str, name: str = "") -> str:
    """A new account of ``role`` (named ``role-1`` unless named), signed in on ``hub.client``
    in place of whoever was; the clock moves on a TOTP step first, as each code is good
    once. Returns the account's TOTP secret."""
    name = name or f"{role}-1"
    secret = add_user(hub, name, role)
    hub.client.cookies.clear()
    hub.clock.advance(seconds=31)
    assert sign_in(hub, name, secret).status_code == 303
    return secret


def failed_attempts(hub: HubHarness, name: str) -> int:
    with hub.ctx.db.read() as conn:
        return int(
            conn.execute(
                select(StaffUser.failed_attempts).where(StaffUser.name == name)
            ).scalar_one()
        )


def audit_trail(hub: HubHarness) -> list[tuple[str, str, str, str]]:
    """(actor, action, target, detail) of every audit entry, oldest first."""
    with hub.ctx.db.read() as conn:
        rows = conn.execute(
            select(
                AuditEntry.actor, AuditEntry.action, AuditEntry.target, AuditEntry.detail
            ).order_by(AuditEntry.id)
        ).all()
    return [(r.actor, r.action, r.target, r.detail) for r in rows]
