"""Signing in to the console: two factors, counted failures, lockout, single-use codes,
idle sign-out, cookie flags, CSRF, and the audit trail of it all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.staff.sessions import IDLE
from hub.staff.signin import LOCK_AFTER, LOCK_FOR
from tests.hub.console_client import (
    add_user,
    audit_trail,
    code,
    failed_attempts,
    form_token,
    sign_in,
)
from tests.hub.harness import HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite


def test_sign_in_with_password_and_totp_opens_the_console(hub: HubHarness) -> None:
    hub.create_kiosk("k1", "Library")
    secret = add_user(hub, "dana", "clerk")
    response = sign_in(hub, "dana", secret)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/fleet"
    cookie = response.headers["set-cookie"]
    assert "kiosk_console=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http, and the settings do not say TLS is in front

    fleet = hub.client.get("/console/fleet")
    assert fleet.status_code == 200
    assert "k1" in fleet.text and "Library" in fleet.text and "dana (clerk)" in fleet.text
    assert ("dana", "signin.ok", "dana", "role clerk") in audit_trail(hub)


def test_cookie_is_secure_over_https_or_behind_tls(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    with TestClient(hub.app, base_url="https://testserver") as browser:
        response = sign_in(hub, "dana", secret, client=browser)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]

    # TLS ends at a proxy in front: the request is plain http, the cookies still Secure (so
    # this plain-http client would not even send the sign-in form's cookie back)
    behind = create_app(hub.settings.model_copy(update={"behind_tls": True}), clock=hub.clock)
    with TestClient(behind) as browser:
        page = browser.get("/console/sign-in")
    assert "kiosk_console_signin=" in page.headers["set-cookie"]
    assert "Secure" in page.headers["set-cookie"]
    behind.state.hub.close()


def test_wrong_password_and_wrong_code_are_counted_and_say_the_same(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    wrong_password = sign_in(hub, "dana", secret, password="not the password 1")
    good = code(secret, hub.clock())
    wrong_code = sign_in(hub, "dana", secret, totp_code=f"{(int(good) + 1) % 1_000_000:06d}")
    unknown = sign_in(hub, "nobody", secret)
    for response in (wrong_password, wrong_code, unknown):
        assert response.status_code == 401
        assert "the name, password or code is not right" in response.text
        assert "kiosk_console=" not in response.headers.get("set-cookie", "")
    assert failed_attempts(hub, "dana") == 2
    trail = audit_trail(hub)
    assert ("dana", "signin.failed", "dana", "wrong password (1 in a row)") in trail
    assert ("dana", "signin.failed", "dana", "wrong code (2 in a row)") in trail
    assert ("anonymous", "signin.failed", "nobody", "no such user") in trail
    # a good sign-in clears the count
    assert sign_in(hub, "dana", secret).status_code == 303
    assert failed_attempts(hub, "dana") == 0


def test_ten_failures_lock_the_account_for_thirty_minutes(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    for _ in range(LOCK_AFTER - 1):
        assert sign_in(hub, "dana", secret, password="wrong password 99").status_code == 401
    tenth = sign_in(hub, "dana", secret, password="wrong password 99")
    assert tenth.status_code == 401 and "locked until" in tenth.text
    assert ("dana", "signin.locked", "dana", "10 failed sign-ins in a row") in audit_trail(hub)

    hub.clock.advance(minutes=29, seconds=30)
    still = sign_in(hub, "dana", secret)  # everything right, and still refused
    assert still.status_code == 401 and "locked until" in still.text
    assert audit_trail(hub)[-1] == ("dana", "signin.refused", "dana", "account locked")
    assert hub.client.get("/console/fleet", follow_redirects=False).status_code == 303

    hub.clock.advance(seconds=31)  # 30 minutes and a second after the lock
    assert LOCK_FOR.total_seconds() == 30 * 60
    assert sign_in(hub, "dana", secret).status_code == 303
    assert hub.client.get("/console/fleet").status_code == 200


def test_a_code_is_accepted_once(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    used = code(secret, hub.clock())
    assert sign_in(hub, "dana", secret, totp_code=used).status_code == 303
    hub.client.cookies.clear()
    again = sign_in(hub, "dana", secret, totp_code=used)
    assert again.status_code == 401
    assert audit_trail(hub)[-1] == (
        "dana",
        "signin.failed",
        "dana",
        "code already used (1 in a row)",
    )
    # the step before the one used is within the drift window, and refused: it is older
    earlier = code(secret, hub.clock() - timedelta(seconds=30))
    assert sign_in(hub, "dana", secret, totp_code=earlier).status_code == 401
    hub.clock.advance(seconds=30)
    assert sign_in(hub, "dana", secret).status_code == 303


def test_a_code_one_step_off_is_accepted_two_steps_off_refused(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    late = code(secret, hub.clock() - timedelta(seconds=30))
    assert sign_in(hub, "dana", secret, totp_code=late).status_code == 303
    hub.client.cookies.clear()
    hub.clock.advance(minutes=5)
    stale = code(secret, hub.clock() - timedelta(seconds=60))
    assert sign_in(hub, "dana", secret, totp_code=stale).status_code == 401


def test_fifteen_minutes_idle_signs_out(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    assert sign_in(hub, "dana", secret).status_code == 303
    hub.clock.advance(minutes=14)
    assert hub.client.get("/console/fleet").status_code == 200  # activity: the clock restarts
    hub.clock.advance(minutes=14)
    assert hub.client.get("/console/fleet").status_code == 200
    hub.clock.advance(seconds=IDLE.total_seconds())
    gone = hub.client.get("/console/fleet", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/console/sign-in"
    assert audit_trail(hub)[-1] == ("dana", "signout.idle", "dana", "15 minutes idle")
    # the session is gone from the database, not just refused once
    assert hub.client.get("/console/fleet", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_csrf_token(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    assert sign_in(hub, "dana", secret).status_code == 303
    page = hub.client.get("/console/fleet")
    token = form_token(page)

    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}):
        refused = hub.client.post("/console/sign-out", data=data, follow_redirects=False)
        assert refused.status_code == 403 and "nothing was" in refused.text
        assert hub.client.get("/console/fleet").status_code == 200  # still signed in
    assert not [a for a in audit_trail(hub) if a[1] == "signout"]

    done = hub.client.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/sign-in"
    assert audit_trail(hub)[-1] == ("dana", "signout", "dana", "")
    assert hub.client.get("/console/fleet", follow_redirects=False).status_code == 303


def test_sign_in_form_without_its_token_changes_nothing(hub: HubHarness) -> None:
    secret = add_user(hub, "dana", "clerk")
    fields = {
        "name": "dana",
        "password": "correct horse 42 battery",
        "code": code(secret, hub.clock()),
    }
    for token in (None, "forged"):
        data = fields if token is None else fields | {"csrf_token": token}
        response = hub.client.post("/console/sign-in", data=data, follow_redirects=False)
        assert response.status_code == 403 and "expired" in response.text
        assert "kiosk_console=" not in response.headers.get("set-cookie", "")
    assert audit_trail(hub) == [("test", "user.add", "dana", "")]  # no attempt was made
    assert failed_attempts(hub, "dana") == 0
    assert sign_in(hub, "dana", secret).status_code == 303  # the code was not used up


def test_without_a_session_pages_redirect_and_the_api_still_answers_401(hub: HubHarness) -> None:
    for path in ("/console", "/console/fleet", "/console/batches", "/console/audit"):
        response = hub.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/console/sign-in"
    refused = hub.client.post("/console/sign-out", data={"csrf_token": "x"}, follow_redirects=False)
    assert refused.status_code == 303
    hub.client.cookies.set("kiosk_console", "made-up", path="/console")
    assert hub.client.get("/console/fleet", follow_redirects=False).status_code == 303
    assert hub.client.get("/v1/kiosks").status_code == 401
