"""The API as a whole: OpenAPI document, health, errors as JSON, the staff token."""

from __future__ import annotations

from tests.hub.harness import ADMIN_TOKEN, HubHarness


def test_the_openapi_document_lists_every_endpoint(hub: HubHarness) -> None:
    document = hub.client.get("/openapi.json").json()
    assert document["info"]["title"] == "Utility kiosk hub"
    assert set(document["paths"]) >= {
        "/v1/health",
        "/v1/enroll",
        "/v1/kiosks/{kiosk_id}/journal",
        "/v1/kiosks/{kiosk_id}/journal/ack",
        "/v1/kiosks/{kiosk_id}/settings",
        "/v1/accounts/snapshot",
        "/v1/accounts/delta",
        "/v1/accounts/{number}",
        "/v1/alerts",
        "/v1/postings",
        "/v1/payments",
        "/v1/batches",
        "/v1/kiosks",
    }
    push = document["paths"]["/v1/kiosks/{kiosk_id}/journal"]["post"]
    assert {"200", "401", "403", "409", "422"} <= set(push["responses"])
    assert push["security"] == [{"kioskSignature": []}]
    assert "kioskSignature" in document["components"]["securitySchemes"]


def test_health(hub: HubHarness) -> None:
    response = hub.client.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_unknown_paths_and_methods_answer_json(hub: HubHarness) -> None:
    missing = hub.client.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = hub.client.delete("/v1/health")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


def test_staff_endpoints_need_the_admin_token(hub: HubHarness) -> None:
    assert hub.client.get("/v1/alerts").status_code == 401
    bad = hub.client.get("/v1/alerts", headers={"Authorization": "Bearer wrong-token-123456"})
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"
    good = hub.client.get("/v1/alerts", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert good.status_code == 200 and good.json() == []
    assert (
        hub.client.get(
            "/v1/postings?status=lost", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ).status_code
        == 422
    )


def test_staff_endpoints_are_off_without_a_token(db_url: str, tmp_path: object) -> None:
    from fastapi.testclient import TestClient

    from hub.api import create_app
    from hub.settings import HubSettings, PostingSettings

    app = create_app(HubSettings(database=db_url, posting=PostingSettings(interval_s=0)))
    with TestClient(app) as client:
        response = client.get("/v1/kiosks", headers={"Authorization": "Bearer anything-at-all"})
        assert response.status_code == 403 and "admin API is disabled" in response.json()["message"]
