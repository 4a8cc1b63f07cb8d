"""``GET /metrics``: Prometheus' text format, parsed with the official client's parser.
What the process served (requests by route template and status, latencies) and what the
database holds (entries per kiosk, entries waiting, postings by status, open alerts), behind
a read-only metrics token or the admin token."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.api import create_app
from hub.settings import HubSettings
from tests.hub.harness import ADMIN_TOKEN, Creds, HubHarness, KioskSide
from tests.store.builders import card_payment, cash_payment

PUSH = "/v1/kiosks/{kiosk_id}/journal"
METRICS_TOKEN = "scrape-only-token-0123"


def scrape(
    client: TestClient, token: str = ADMIN_TOKEN
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_pushes_entries_postings_and_alerts_are_counted(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    kiosk.write(cash_payment("s1", "100200302", [2000, 500]))
    kiosk.write(card_payment("s2", "100200419", 12950, 324))
    entries = kiosk.wire()
    half = len(entries) // 2
    assert hub.push(creds, entries[:half], head_seq=len(entries)).status_code == 200
    first = scrape(hub.client)
    assert first[("kiosk_hub_entries_stored_total", (("kiosk", "k1"),))] == half
    assert first[("kiosk_hub_entries_waiting", (("kiosk", "k1"),))] == len(entries) - half
    assert ("kiosk_hub_kiosk_last_contact_timestamp_seconds", (("kiosk", "k1"),)) in first
    pushes = ("kiosk_hub_requests_total", (("method", "POST"), ("route", PUSH), ("status", "200")))
    assert first[pushes] == 1
    latency = ("kiosk_hub_request_seconds_count", (("method", "POST"), ("route", PUSH)))
    assert first[latency] == 1

    assert hub.push(creds, entries[half:], head_seq=len(entries)).status_code == 200
    again = hub.push(creds, entries[:1])  # an entry pushed again changes nothing, and counts
    assert again.status_code == 200
    after = scrape(hub.client)
    assert after[("kiosk_hub_entries_stored_total", (("kiosk", "k1"),))] == len(entries)
    assert after[("kiosk_hub_entries_waiting", (("kiosk", "k1"),))] == 0
    assert after[pushes] == 3
    posted = sum(
        value
        for (name, labels), value in after.items()
        if name == "kiosk_hub_postings" and ("held", "false") in labels
    )
    assert posted == 2, after
    assert after[("kiosk_hub_posting_oldest_unposted_age_seconds", ())] == 0


def test_refusals_count_under_their_route_and_unknown_paths_under_one_label(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    kiosk.write(cash_payment("s1", "100200302", [2000]))
    entries = kiosk.wire()
    assert hub.push(creds, entries[1:]).status_code == 409  # a gap: the alert and the 409
    for n in range(3):
        assert hub.client.get(f"/v1/no-such-thing-{n}").status_code == 404
    seen = scrape(hub.client)
    refused = ("kiosk_hub_requests_total", (("method", "POST"), ("route", PUSH), ("status", "409")))
    assert seen[refused] == 1
    unknown = (
        "kiosk_hub_requests_total",
        (("method", "GET"), ("route", "unmatched"), ("status", "404")),
    )
    assert seen[unknown] == 3
    assert not any("no-such-thing" in value for _, labels in seen for _, value in labels)


def test_a_metrics_token_scrapes_but_opens_nothing_else(db_url: str, tmp_path: Path) -> None:
    path = db_url if db_url.startswith("postgresql") else str(tmp_path / "hub.sqlite")
    app = create_app(HubSettings(database=path, metrics_token=METRICS_TOKEN))
    with TestClient(app) as client:
        assert scrape(client, METRICS_TOKEN)
        wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
        assert wrong.status_code == 401
        assert client.get("/metrics").status_code == 401
        staff = client.get("/v1/postings", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert staff.status_code == 403  # the admin API is off; the metrics token is no key
    app = create_app(HubSettings(database=path))
    with TestClient(app) as client:
        off = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert off.status_code == 403
        assert "KIOSK_HUB_METRICS_TOKEN" in off.text
