"""``kiosk-hub user``: staff accounts from the shell, every change audited as ``cli:NAME``."""

from __future__ import annotations

import getpass
import io
import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.cli import main
from hub.models import StaffUser
from hub.staff.signin import LOCK_FOR
from tests.hub.console_client import PASSWORD, audit_trail, failed_attempts, sign_in
from tests.hub.harness import HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite

ME = f"cli:{getpass.getuser()}"


def _cli(hub: HubHarness, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--db", hub.db_url, "user", *args])


def _secret(output: str) -> str:
    found = re.search(r"TOTP secret for \S+: ([A-Z2-7]+)", output)
    assert found is not None, output
    return found.group(1)


def _locked_until(hub: HubHarness) -> datetime | None:
    with hub.ctx.db.read() as conn:
        found: datetime | None = conn.execute(select(StaffUser.locked_until)).scalar_one()
    return found


def test_add_list_reset_and_disable(
    hub: HubHarness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("add", "dana", "--role", "clerk", "--password-stdin")
    assert _cli(hub, monkeypatch, *add, stdin=PASSWORD + "\n") == 0
    out = capsys.readouterr().out
    assert "user dana added as clerk" in out
    secret = _secret(out)
    assert f"otpauth://totp/Utility%20kiosk%20hub:dana?secret={secret}" in out
    with hub.ctx.db.read() as conn:
        stored = conn.execute(select(StaffUser.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert sign_in(hub, "dana", secret).status_code == 303

    assert _cli(hub, monkeypatch, "list") == 0
    listing = capsys.readouterr().out
    assert "dana" in listing and "clerk" in listing and "active" in listing
    assert secret not in listing and "argon2" not in listing

    # a lock is lifted by a new password, which also ends the sessions
    with TestClient(hub.app) as elsewhere:
        for _ in range(10):
            sign_in(hub, "dana", secret, password="wrong password 1", client=elsewhere)
    assert _locked_until(hub) == hub.clock() + LOCK_FOR
    new_password = "another good one 77"
    assert (
        _cli(hub, monkeypatch, "reset-password", "dana", "--password-stdin", stdin=new_password)
        == 0
    )
    assert failed_attempts(hub, "dana") == 0 and _locked_until(hub) is None
    assert hub.client.get("/console/fleet", follow_redirects=False).status_code == 303
    hub.clock.advance(seconds=30)
    assert sign_in(hub, "dana", secret, password=new_password).status_code == 303

    assert _cli(hub, monkeypatch, "reset-totp", "dana") == 0
    new_secret = _secret(capsys.readouterr().out)
    assert new_secret != secret
    assert hub.client.get("/console/fleet", follow_redirects=False).status_code == 303
    hub.clock.advance(seconds=30)
    assert sign_in(hub, "dana", secret, password=new_password).status_code == 401
    assert sign_in(hub, "dana", new_secret, password=new_password).status_code == 303

    assert _cli(hub, monkeypatch, "disable", "dana") == 0
    assert hub.client.get("/console/fleet", follow_redirects=False).status_code == 303
    hub.clock.advance(seconds=30)
    assert sign_in(hub, "dana", new_secret, password=new_password).status_code == 401
    assert _cli(hub, monkeypatch, "list") == 0
    assert "disabled" in capsys.readouterr().out

    mine = [(action, target) for actor, action, target, _ in audit_trail(hub) if actor == ME]
    assert mine == [
        ("user.add", "dana"),
        ("user.reset_password", "dana"),
        ("user.reset_totp", "dana"),
        ("user.disable", "dana"),
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--role", "clerk"), "short1\n", "at least 12 characters"),
        (("--role", "clerk"), "no digits in this one\n", "both letters and digits"),
        (("--role", "clerk"), "dana-password-123\n", "must not contain the user's name"),
        (("--role", "clerk"), "", "no password was given"),
    ],
)
def test_bad_passwords_add_nothing(
    hub: HubHarness,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    stdin: str,
    message: str,
) -> None:
    assert _cli(hub, monkeypatch, "add", "dana", *args, "--password-stdin", stdin=stdin) == 1
    assert message in capsys.readouterr().err
    assert _cli(hub, monkeypatch, "list") == 0
    assert capsys.readouterr().out == ""
    assert audit_trail(hub) == []


def test_bad_names_roles_and_repeats_are_refused(
    hub: HubHarness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(hub, monkeypatch, "add", "dana lopez", "--role", "clerk", "--password-stdin") == 1
    assert "can not name a user" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli(hub, monkeypatch, "add", "dana", "--role", "cashier", "--password-stdin")
    add = ("add", "dana", "--role", "clerk", "--password-stdin")
    assert _cli(hub, monkeypatch, *add, stdin=PASSWORD) == 0
    assert _cli(hub, monkeypatch, *add, stdin=PASSWORD) == 1
    assert "already exists" in capsys.readouterr().err
    assert _cli(hub, monkeypatch, "disable", "nobody") == 1
    assert "no user named 'nobody'" in capsys.readouterr().err
