"""A kiosk whose clock is off is flagged: each signed request records how far its
timestamp is from the hub's clock; past a minute an alert says by how much and which way,
and the next request with the clock right resolves it."""

from __future__ import annotations

from hub.alerts import CLOCK_OFF
from tests.hub.harness import Creds, HubHarness

ACK = "/v1/kiosks/k1/journal/ack"


def clock_alerts(hub: HubHarness) -> list[dict[str, object]]:
    every = hub.admin("/v1/alerts?include_resolved=true")
    return [a for a in every if a["kind"] == CLOCK_OFF]


def offset(hub: HubHarness) -> object:
    [kiosk] = hub.admin("/v1/kiosks")
    return kiosk["clock_offset_s"]


def test_a_clock_off_by_more_than_a_minute_is_flagged_until_it_is_right(
    hub: HubHarness, creds: Creds
) -> None:
    now = hub.clock().timestamp()
    assert hub.signed("GET", ACK, creds, now=now + 40).status_code == 200
    assert offset(hub) == 40 and clock_alerts(hub) == []  # within a minute: noted only

    assert hub.signed("GET", ACK, creds, now=now + 95).status_code == 200
    assert hub.signed("GET", ACK, creds, now=now + 97).status_code == 200
    [alert] = clock_alerts(hub)
    assert alert["resolved_at"] is None and alert["kiosk_id"] == "k1"
    assert "97 s ahead of the hub's" in str(alert["reason"]) and alert["count"] == 2
    assert offset(hub) == 97

    assert hub.signed("GET", ACK, creds, now=now - 200).status_code == 200
    [alert] = clock_alerts(hub)
    assert "200 s behind the hub's" in str(alert["reason"])

    assert hub.signed("GET", ACK, creds, now=now + 2).status_code == 200
    [alert] = clock_alerts(hub)
    assert alert["resolved_at"] is not None and offset(hub) == 2


def test_a_request_outside_the_signature_window_records_nothing(
    hub: HubHarness, creds: Creds
) -> None:
    now = hub.clock().timestamp()
    assert hub.signed("GET", ACK, creds, now=now + 400).status_code == 401
    assert offset(hub) is None and clock_alerts(hub) == []
