"""A device fault a kiosk journals is an alert at the hub, and in its kiosks list, until the
device's ``device.recovered`` arrives; the ``kiosk-hub`` commands show both."""

from __future__ import annotations

from typing import Any

import pytest

from contract import entries as e
from hub.cli import main
from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import Step

pytestmark = pytest.mark.postgresql_in_slow_suite


def fault(device: str, reason: str) -> Step:
    return Step(e.DEVICE_FAULT, {"device": device, "reason": reason})


def recovered(device: str) -> Step:
    return Step(e.DEVICE_RECOVERED, {"device": device})


def push(hub: HubHarness, creds: Creds, kiosk: KioskSide, steps: list[Step]) -> list[str]:
    """Write ``steps`` to the kiosk's journal and push what the hub does not have yet; the
    times the kiosk wrote them."""
    acked = hub.admin("/v1/kiosks")[0]["acked_seq"]
    written = kiosk.write(steps)
    assert hub.push(creds, kiosk.wire(after=acked)).status_code == 200
    return [entry.at.isoformat() for entry in written]


def device_alerts(hub: HubHarness, resolved: bool = False) -> list[dict[str, Any]]:
    query = "?include_resolved=true" if resolved else ""
    return [a for a in hub.admin(f"/v1/alerts{query}") if a["kind"] == "device_fault"]


def cli(hub: HubHarness, capsys: pytest.CaptureFixture[str], *command: str) -> str:
    capsys.readouterr()
    assert main(["--db", hub.db_url, *command]) == 0
    return capsys.readouterr().out


def test_a_fault_is_an_alert_until_the_device_recovers(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, capsys: pytest.CaptureFixture[str]
) -> None:
    [at] = push(hub, creds, kiosk, [fault("receipt_printer", "paper_out")])
    [alert] = device_alerts(hub)
    assert (alert["kiosk_id"], alert["device"], alert["reason"]) == (
        "k1",
        "receipt_printer",
        "paper_out",
    )
    assert alert["first_seen_at"][:19] == at[:19]  # since the kiosk saw it, not the push
    [printer] = hub.admin("/v1/kiosks")[0]["devices"]
    assert printer["fault_reason"] == "paper_out" and printer["recovered_seq"] is None
    listed = cli(hub, capsys, "alerts")
    assert f"k1 device_fault receipt_printer: paper out since {at[:10]}" in listed
    assert "devices: receipt_printer: paper out; 1 open alert(s)" in cli(hub, capsys, "kiosks")

    [back_at] = push(hub, creds, kiosk, [recovered("receipt_printer")])
    assert device_alerts(hub) == []
    [closed] = device_alerts(hub, resolved=True)
    assert closed["id"] == alert["id"] and closed["resolved_at"][:19] == back_at[:19]
    assert cli(hub, capsys, "alerts") == ""
    kiosks = cli(hub, capsys, "kiosks")
    assert "devices:" not in kiosks and "open alert" not in kiosks


def test_a_new_fault_of_a_faulted_device_updates_its_alert_and_others_stay_apart(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _, _ = push(
        hub,
        creds,
        kiosk,
        [
            fault("bill_acceptor", "cassette_removed"),
            fault("receipt_printer", "paper_out"),
            fault("bill_acceptor", "stacker_full"),
        ],
    )
    alerts = {a["device"]: a for a in device_alerts(hub)}
    assert alerts["bill_acceptor"]["reason"] == "stacker_full"
    assert alerts["bill_acceptor"]["count"] == 2
    assert alerts["bill_acceptor"]["first_seen_at"][:19] == first[:19]
    listing = cli(hub, capsys, "kiosks")
    assert "devices: bill_acceptor: stacker full, receipt_printer: paper out" in listing

    push(hub, creds, kiosk, [recovered("bill_acceptor")])
    assert [a["device"] for a in device_alerts(hub)] == ["receipt_printer"]
    assert "devices: receipt_printer: paper out;" in cli(hub, capsys, "kiosks")

    push(hub, creds, kiosk, [fault("bill_acceptor", "jam")])  # a new fault: a new alert
    assert sorted(a["device"] for a in device_alerts(hub)) == ["bill_acceptor", "receipt_printer"]
    assert len(device_alerts(hub, resolved=True)) == 3


def test_a_recovered_notice_from_an_older_kiosk_closes_the_fault(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    push(hub, creds, kiosk, [fault("scanner", "disconnected")])
    notice = {"device": "scanner", "kind": "recovered", "detail": "disconnected"}
    push(hub, creds, kiosk, [Step(e.DEVICE_NOTICE, notice)])
    assert device_alerts(hub) == []
    [scanner] = hub.admin("/v1/kiosks")[0]["devices"]
    assert scanner["notice_kind"] == "recovered" and scanner["recovered_seq"] == 2


def test_a_restart_closes_the_faults_from_before_it_and_hears_them_again(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, capsys: pytest.CaptureFixture[str]
) -> None:
    push(hub, creds, kiosk, [fault("receipt_printer", "paper_out"), fault("scanner", "jam")])
    started = Step(e.KIOSK_STARTED, {"version": "0.2.0"})
    push(hub, creds, kiosk, [started, fault("scanner", "disconnected")])  # still broken
    [alert] = device_alerts(hub)
    assert (alert["device"], alert["reason"]) == ("scanner", "disconnected")
    assert "devices: scanner: disconnected;" in cli(hub, capsys, "kiosks")
