"""Enrollment: a one-time, expiring code traded once for the kiosk's id and secret."""

from __future__ import annotations

from datetime import timedelta

from hub.enrollment import issue_code, normalise_code
from tests.hub.harness import HubHarness


def _enroll(hub: HubHarness, code: str) -> tuple[int, dict[str, object]]:
    response = hub.client.post(
        "/v1/enroll", json={"code": code, "hardware": {"hostname": "kiosk-a", "machine": "aarch64"}}
    )
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
    assert status == 410 and again["error"] == "code_used"
    assert "already used" in str(again["message"])


def test_a_wrong_code_is_401(hub: HubHarness) -> None:
    hub.create_kiosk()
    status, body = _enroll(hub, "ABCDE-FGHJK")
    assert status == 401 and body["error"] == "invalid_code"


def test_an_expired_code_is_410(hub: HubHarness) -> None:
    code = hub.create_kiosk()
    hub.clock.advance(hours=24, seconds=1)
    status, body = _enroll(hub, code)
    assert status == 410 and body["error"] == "code_expired"


def test_a_new_code_replaces_the_old_and_rotates_the_secret(hub: HubHarness) -> None:
    creds = hub.enroll("k1")
    assert hub.signed("GET", "/v1/kiosks/k1/journal/ack", creds).status_code == 200
    first = issue_code(hub.ctx.db, "k1", hub.clock(), timedelta(hours=1)).code
    second = issue_code(hub.ctx.db, "k1", hub.clock(), timedelta(hours=1)).code
    status, body = _enroll(hub, first)
    assert status == 410 and body["error"] == "code_replaced"
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
