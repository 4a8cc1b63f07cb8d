"""The console's admin and technician actions: staff accounts, the second-count option, a
kiosk's service state and enrollment codes; each checked against the role on the server,
audited with before and after, and refused with a clear message that changes nothing."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from sqlalchemy import func, select

from hub import alerts, kiosk_config, options
from hub.models import AuditEntry, EnrollmentCode
from hub.staff import users
from hub.staff.roles import ACTIONS, ROLES
from tests.hub.console_client import PASSWORD, audit_trail, form_token, sign_in, sign_in_as
from tests.hub.harness import HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite

NEW_PASSWORD = "a brand new passphrase 7"


def _entries(hub: HubHarness, action: str) -> list[tuple[str, str, object, object]]:
    """(actor, target, before, after) of each audit entry of ``action``."""
    with hub.ctx.db.read() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.target, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        ).all()
    return [
        (r.actor, r.target, json.loads(r.before or "null"), json.loads(r.after or "null"))
        for r in rows
    ]


def _token(hub: HubHarness, path: str) -> str:
    return form_token(hub.client.get(path))


def test_an_admin_adds_a_user_whose_secret_is_shown_once(hub: HubHarness) -> None:
    sign_in_as(hub, "admin")
    token = _token(hub, "/console/users")
    fields = {"csrf_token": token, "name": "dana", "role": "clerk"}
    short = hub.client.post(
        "/console/users", data=fields | {"password": "short", "password_again": "short"}
    )
    assert short.status_code == 422 and "Nothing was changed" in short.text
    differ = hub.client.post(
        "/console/users", data=fields | {"password": PASSWORD, "password_again": PASSWORD + "x"}
    )
    assert differ.status_code == 422 and "the two passwords differ" in differ.text
    assert "dana" not in [a.name for a in users.listing(hub.ctx.db)]

    added = hub.client.post(
        "/console/users", data=fields | {"password": PASSWORD, "password_again": PASSWORD}
    )
    assert added.status_code == 200 and "User dana added as clerk." in added.text
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', added.text)
    assert found is not None
    assert "totp-secret" not in hub.client.get("/console/users").text  # shown once
    assert [(a, t, after) for a, t, _, after in _entries(hub, "user.add")][-1] == (
        "admin-1",
        "dana",
        {"role": "clerk"},
    )
    taken = hub.client.post(
        "/console/users", data=fields | {"password": PASSWORD, "password_again": PASSWORD}
    )
    assert taken.status_code == 409 and "already exists" in taken.text

    hub.client.cookies.clear()
    assert sign_in(hub, "dana", found.group(1)).status_code == 303  # the secret works


def test_an_admin_disables_resets_and_is_refused_their_own_account(hub: HubHarness) -> None:
    secret = users.add(hub.ctx.db, "dana", "clerk", PASSWORD, hub.clock(), "test").secret
    sign_in_as(hub, "admin")
    token = _token(hub, "/console/users")
    own = hub.client.post("/console/users/admin-1/disable", data={"csrf_token": token})
    assert own.status_code == 422 and "can not disable your own account" in own.text
    assert ("admin-1", "user.disable.refused", "admin-1") in [t[:3] for t in audit_trail(hub)]

    new = {"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    reset = hub.client.post("/console/users/dana/password", data=new)
    assert reset.status_code == 200 and "User dana has a new password" in reset.text
    totp = hub.client.post("/console/users/dana/totp", data={"csrf_token": token})
    fresh = re.search(r'id="totp-secret">([A-Z2-7]+)<', totp.text)
    assert fresh is not None and fresh.group(1) != secret
    nobody = hub.client.post("/console/users/nobody/totp", data={"csrf_token": token})
    assert nobody.status_code == 404 and "no user named" in nobody.text

    disabled = hub.client.post("/console/users/dana/disable", data={"csrf_token": token})
    assert "User dana is disabled" in disabled.text
    [(actor, target, before, after)] = _entries(hub, "user.disable")
    assert (actor, target, before, after) == (
        "admin-1",
        "dana",
        {"disabled": False},
        {"disabled": True},
    )
    hub.client.cookies.clear()
    hub.clock.advance(seconds=31)
    assert sign_in(hub, "dana", fresh.group(1), password=NEW_PASSWORD).status_code == 401


def test_only_an_admin_changes_users_and_settings(hub: HubHarness) -> None:
    sign_in_as(hub, "auditor")
    page = hub.client.get("/console/users")
    assert page.status_code == 200 and "Add a user" not in page.text  # reads, changes nothing
    token = form_token(hub.client.get("/console/fleet"))
    fields = {"csrf_token": token, "name": "eve", "role": "admin"}
    fields |= {"password": PASSWORD, "password_again": PASSWORD}
    for role in ("auditor", "supervisor", "clerk"):
        if role != "auditor":
            sign_in_as(hub, role)
            token = form_token(hub.client.get("/console/fleet"))
        refused = hub.client.post("/console/users", data=fields | {"csrf_token": token})
        assert refused.status_code == 403
        assert f"Your role ({role}) may not change staff accounts" in refused.text
        setting = hub.client.post(
            "/console/settings/second-count", data={"csrf_token": token, "second_count": "on"}
        )
        assert setting.status_code == 403
    assert "eve" not in [a.name for a in users.listing(hub.ctx.db)]
    assert options.current(hub.ctx.db).second_count is False


def test_an_admin_turns_the_second_count_on_audited_before_and_after(hub: HubHarness) -> None:
    sign_in_as(hub, "admin")
    token = _token(hub, "/console/settings")
    bad = hub.client.post(
        "/console/settings/second-count", data={"csrf_token": token, "second_count": "maybe"}
    )
    assert bad.status_code == 422 and "choose on or off" in bad.text
    on = hub.client.post(
        "/console/settings/second-count", data={"csrf_token": token, "second_count": "on"}
    )
    assert on.status_code == 200 and "The second count is now on." in on.text
    assert "set by admin-1" in on.text
    again = hub.client.post(
        "/console/settings/second-count", data={"csrf_token": token, "second_count": "on"}
    )
    assert again.status_code == 422 and "already on" in again.text
    assert _entries(hub, "option.changed") == [
        ("admin-1", "second_count", {"second_count": False}, {"second_count": True})
    ]
    assert options.current(hub.ctx.db).second_count is True


def test_a_technician_takes_a_kiosk_out_of_service_and_issues_a_code(hub: HubHarness) -> None:
    hub.create_kiosk("k1", "Library")
    sign_in_as(hub, "clerk")
    token = _token(hub, "/console/fleet")
    refused = hub.client.post(
        "/console/fleet/k1/service", data={"csrf_token": token, "service": "out", "reason": "x"}
    )
    assert (
        refused.status_code == 403
        and not kiosk_config.get_settings(hub.ctx.db, "k1").out_of_service
    )

    sign_in_as(hub, "technician")
    token = _token(hub, "/console/fleet")
    url = "/console/fleet/k1/service"
    blank = hub.client.post(url, data={"csrf_token": token, "service": "out", "reason": "  "})
    assert blank.status_code == 422 and "say why the kiosk is out of service" in blank.text
    back = hub.client.post(url, data={"csrf_token": token, "service": "in"})
    assert back.status_code == 422 and "not held out of service" in back.text
    out = hub.client.post(
        url, data={"csrf_token": token, "service": "out", "reason": "bill acceptor replaced"}
    )
    assert "Kiosk k1 is out of service: bill acceptor replaced." in out.text
    settings = kiosk_config.get_settings(hub.ctx.db, "k1")
    assert (settings.out_of_service, settings.out_of_service_reason) == (
        True,
        "bill acceptor replaced",
    )
    hub.client.post(url, data={"csrf_token": token, "service": "in"})
    assert not kiosk_config.get_settings(hub.ctx.db, "k1").out_of_service
    assert [(before, after) for _, _, before, after in _entries(hub, "kiosk.service")] == [
        (
            {"out_of_service": False, "reason": ""},
            {"out_of_service": True, "reason": "bill acceptor replaced"},
        ),
        (
            {"out_of_service": True, "reason": "bill acceptor replaced"},
            {"out_of_service": False, "reason": ""},
        ),
    ]

    with hub.ctx.db.read() as conn:
        codes_before = conn.execute(select(func.count()).select_from(EnrollmentCode)).scalar()
    issued = hub.client.post("/console/fleet/k1/enrollment-code", data={"csrf_token": token})
    code = re.search(r'id="enrollment-code">([A-Z0-9]{5}-[A-Z0-9]{5})<', issued.text)
    assert issued.status_code == 200 and code is not None
    with hub.ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(EnrollmentCode)).scalar() == (
            (codes_before or 0) + 1
        )
        logged = conn.execute(select(AuditEntry.after, AuditEntry.detail)).all()
    assert all(code.group(1) not in f"{a}{d}" for a, d in logged)  # never in the log
    unknown = hub.client.post("/console/fleet/k9/enrollment-code", data={"csrf_token": token})
    assert unknown.status_code == 404 and "no kiosk named &#39;k9&#39;" in unknown.text


def test_a_technician_adds_a_kiosk_and_sees_its_open_alerts(hub: HubHarness) -> None:
    sign_in_as(hub, "technician")
    token = _token(hub, "/console/fleet")
    bad = hub.client.post("/console/fleet", data={"csrf_token": token, "kiosk": "City Hall"})
    assert bad.status_code == 422 and "can not name a kiosk" in bad.text
    added = hub.client.post(
        "/console/fleet", data={"csrf_token": token, "kiosk": "k2", "location": "City Hall"}
    )
    assert added.status_code == 200 and "Kiosk k2 added" in added.text
    assert re.search(r'id="enrollment-code">[A-Z0-9]{5}-[A-Z0-9]{5}<', added.text)
    [(actor, target, _, after)] = _entries(hub, "kiosk.created")
    assert (actor, target, after["location"]) == ("technician-1", "k2", "City Hall")  # type: ignore[index]
    again = hub.client.post("/console/fleet", data={"csrf_token": token, "kiosk": "k2"})
    assert again.status_code == 409 and "already exists" in again.text

    with hub.ctx.db.write() as conn:
        alerts.device_fault(conn, "k2", "printer", "paper_out", 7, hub.clock(), hub.clock())
    fleet = hub.client.get("/console/fleet").text
    assert "Open alerts" in fleet and "paper_out" in fleet

    sign_in_as(hub, "clerk")
    token = _token(hub, "/console/fleet")
    refused = hub.client.post("/console/fleet", data={"csrf_token": token, "kiosk": "k3"})
    assert refused.status_code == 403 and "may not issue enrollment codes" in refused.text


#: one request per action of the roles table; a new action without one here fails the test
ACTION_REQUESTS: dict[str, tuple[str, str]] = {
    "count": ("POST", "/console/batches/k1/B000001/count"),
    "approve": ("POST", "/console/batches/k1/B000001/approve"),
    "reconcile": ("POST", "/console/batches/k1/B000001/reconcile"),
    "retry": ("POST", "/console/payments/P-x/retry"),
    "resolve": ("POST", "/console/suspense/P-x"),
    "export": ("GET", "/console/exports/over-short.csv"),
    "users": ("POST", "/console/users"),
    "settings": ("POST", "/console/settings/second-count"),
    "service": ("POST", "/console/fleet/k1/service"),
    "enroll": ("POST", "/console/fleet/k1/enrollment-code"),
    "configure": ("POST", "/console/fleet/k1/settings"),
}


def test_every_action_is_refused_on_the_server_to_the_roles_the_table_leaves_out(
    hub: HubHarness,
) -> None:
    assert set(ACTION_REQUESTS) == set(ACTIONS)
    hub.create_kiosk("k1", "Library")
    for role in ROLES:
        sign_in_as(hub, role)
        token = _token(hub, "/console/fleet")
        for action, (method, path) in ACTION_REQUESTS.items():
            answer = hub.client.request(method, path, data={"csrf_token": token})
            refused = answer.status_code == 403 and "may not" in answer.text
            assert refused == (role not in ACTIONS[action]), (role, action, answer.status_code)
    assert options.current(hub.ctx.db).second_count is False
    assert not kiosk_config.get_settings(hub.ctx.db, "k1").out_of_service


def _settings_form(page: httpx.Response) -> dict[str, str]:
    """The kiosk settings form's fields as the page filled them (a browser would send them)."""
    fields = dict(re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', page.text))
    ticked = re.findall(r'name="(bill-\d+)" checked', page.text)
    return fields | dict.fromkeys(ticked, "on") | {"csrf_token": form_token(page)}


def test_a_technician_changes_a_kiosks_settings_in_dollars(hub: HubHarness) -> None:
    hub.create_kiosk("k1", "Library")
    sign_in_as(hub, "clerk")
    seen = hub.client.get("/console/fleet/k1").text
    assert "<fieldset disabled>" in seen and "Save the settings" not in seen
    assert hub.client.get("/console/fleet/k9").status_code == 404

    sign_in_as(hub, "technician")
    form = _settings_form(hub.client.get("/console/fleet/k1"))
    assert form["max_payment_cents"] == "2000.00" and form["percent"] == "2.50"
    form["version"] = "1"
    url = "/console/fleet/k1/settings"
    for field, typed, problem in (
        ("max_payment_cents", "12.345", "Largest payment: &#39;12.345&#39; is not an amount"),
        ("percent", "-1", "is not a percent"),
        ("min_payment_cents", "5000", "is greater than max_payment_cents"),
    ):
        bad = hub.client.post(url, data=form | {field: typed})
        assert bad.status_code == 422 and problem in bad.text, (field, bad.text)
    no_notes = {k: v for k, v in form.items() if not k.startswith("bill-")}
    assert "at least one note" in hub.client.post(url, data=no_notes).text
    assert kiosk_config.get_settings(hub.ctx.db, "k1").version == 1  # nothing changed

    changed = form | {"max_payment_cents": "1,500", "percent": "3", "banner-es": "Cerrado el lunes"}
    del changed["bill-100"]
    saved = hub.client.post(url, data=changed)
    assert saved.status_code == 200 and "settings saved (version 2)" in saved.text
    stale = hub.client.post(url, data=form)  # the page as it was before that change
    assert stale.status_code == 409 and "changed since the page was loaded" in stale.text
    now = kiosk_config.get_settings(hub.ctx.db, "k1")
    assert (now.limits.max_payment_cents, now.card_fee.percent_bp) == (150_000, 300)
    assert 100 not in now.limits.accepted_bills_cents
    assert now.messages == {"es": {"banner": "Cerrado el lunes"}}
    [(actor, target, before, after)] = _entries(hub, "kiosk.settings")
    assert (actor, target) == ("technician-1", "k1")
    assert before["limits"]["max_payment_cents"] == 200_000  # type: ignore[index]
    assert after["limits"]["max_payment_cents"] == 150_000  # type: ignore[index]
