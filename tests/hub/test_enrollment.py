"""Enrollment: a one-time, expiring code traded once for the kiosk's id and secret."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from hub.enrollment import FAILURE_WINDOW, MAX_FAILURES, issue_code, normalise_code
from tests.hub.harness import HubHarness


def _enroll(
    hub: HubHarness, code: str, client: tuple[str, int] | None = None
) -> tuple[int, dict[str, object]]:
    body = {"code": code, "hardware": {"hostname": "kiosk-a", "machine": "aarch64"}}
    if client is None:
        response = hub.client.post("/v1/enroll", json=body)
    else:
        # not entered: entering would run the app's lifespan, which closes the hub's context
        response = TestClient(hub.app, client=client).post("/v1/enroll", json=body)
    return response.status_code, response.json()


def test_a_code_is_exchanged_once(hub: HubHarness) -> None:
    code = hub.create_kiosk("city-hall-01", "City Hall lobby")
    assert len(normalise_code(code)) == 10
    status, body = _enroll(hub, code.lower().replace("-", " "))  # as a technician might type it
    assert status == 200
    assert body["kiosk_id"] == "city-hall-01" and body["location"] == "City Hall lobby"
    assert len(str(body["secret"])) == 43
    assert str(body["hub_time"]).startswith("2025-03-04T12:00:00")
    status, again = _enroll(hub, code)
    assert status == 401 and again["error"] == "invalid_code"


def test_a_wrong_code_is_401(hub: HubHarness) -> None:
    hub.create_kiosk()
    status, body = _enroll(hub, "ABCDE-FGHJK")
    assert status == 401 and body["error"] == "invalid_code"


def test_an_expired_code_is_answered_as_a_wrong_one(hub: HubHarness) -> None:
    code = hub.create_kiosk()
    _, wrong = _enroll(hub, "ABCDE-FGHJK")
    hub.clock.advance(hours=24, seconds=1)
    status, body = _enroll(hub, code)
    assert status == 401 and body == wrong


def test_a_new_code_replaces_the_old_and_rotates_the_secret(hub: HubHarness) -> None:
    creds = hub.enroll("k1")
    assert hub.signed("GET", "/v1/kiosks/k1/journal/ack", creds).status_code == 200
    first = issue_code(hub.ctx.db, "k1", hub.clock(), timedelta(hours=1)).code
    second = issue_code(hub.ctx.db, "k1", hub.clock(), timedelta(hours=1)).code
    status, body = _enroll(hub, first)
    assert status == 401 and body["error"] == "invalid_code" and "k1" not in str(body)
    status, body = _enroll(hub, second)
    assert status == 200 and body["secret"] != creds.secret
    old = hub.signed("GET", "/v1/kiosks/k1/journal/ack", creds)
    assert old.status_code == 401 and old.json()["message"] == "bad signature"


def test_enrollment_requests_are_validated(hub: HubHarness) -> None:
    response = hub.client.post("/v1/enroll", json={"code": "X"})
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["body", "hardware"]
    response = hub.client.post(
        "/v1/enroll", content=b"not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"


def test_failed_attempts_are_limited_per_address_and_per_kiosk(hub: HubHarness) -> None:
    code = hub.create_kiosk("k1")
    for _ in range(MAX_FAILURES):
        assert _enroll(hub, "ABCDE-FGHJK")[0] == 401
    status, body = _enroll(hub, code)  # a good code too, from this address
    assert status == 429 and body["error"] == "too_many_attempts"
    hub.clock.advance(seconds=FAILURE_WINDOW.total_seconds() + 1)
    assert _enroll(hub, code)[0] == 200
    # the used code of k1, tried again and again: k1's enrollment locks, from any address
    for _ in range(MAX_FAILURES):
        assert _enroll(hub, code)[0] == 401
    hub.clock.advance(seconds=FAILURE_WINDOW.total_seconds() + 1)
    for _ in range(MAX_FAILURES):
        assert _enroll(hub, code, client=("10.0.0.9", 5000))[0] == 401
    new = issue_code(hub.ctx.db, "k1", hub.clock(), timedelta(hours=1)).code
    assert _enroll(hub, new, client=("10.0.0.10", 5000))[0] == 429
    assert _enroll(hub, hub.create_kiosk("k2"), client=("10.0.0.10", 5000))[0] == 200
