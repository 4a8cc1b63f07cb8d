"""Kiosk settings: set at the hub (``kiosk-hub set-kiosk``), pulled by the kiosk itself."""

from __future__ import annotations

import pytest

from hub.cli import main
from tests.hub.harness import Creds, HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite


def _settings(hub: HubHarness, creds: Creds) -> dict[str, object]:
    response = hub.signed("GET", "/v1/kiosks/k1/settings", creds)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_new_kiosk_gets_the_defaults(hub: HubHarness, creds: Creds) -> None:
    settings = _settings(hub, creds)
    assert settings["version"] == 1 and settings["out_of_service"] is False
    assert settings["limits"] == {
        "min_payment_cents": 100,
        "max_payment_cents": 200_000,
        "max_overpayment_cents": 10_000,
        "max_cash_cents": 100_000,
        "accepted_bills_cents": [100, 500, 1000, 2000, 5000, 10000],
    }
    assert settings["card_fee"] == {
        "flat_cents": 0,
        "percent_bp": 250,
        "minimum_cents": 100,
        "maximum_cents": None,
    }


def test_set_kiosk_changes_what_the_kiosk_pulls(
    hub: HubHarness, creds: Creds, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--db", hub.db_url, "set-kiosk", "k1"]
    assert (
        main(
            [
                *args,
                "--out-of-service",
                "cash box full",
                "--min-payment-cents",
                "500",
                "--card-fee-percent-bp",
                "300",
                "--message",
                "en:banner=Closed Monday",
                "--message",
                "es:banner=Cerrado el lunes",
            ]
        )
        == 0
    )
    assert "OUT OF SERVICE (cash box full)" in capsys.readouterr().out
    settings = _settings(hub, creds)
    assert settings["version"] == 2
    assert (
        settings["out_of_service"] is True and settings["out_of_service_reason"] == "cash box full"
    )
    assert settings["limits"]["min_payment_cents"] == 500  # type: ignore[index]
    assert settings["card_fee"]["percent_bp"] == 300  # type: ignore[index]
    assert settings["messages"] == {
        "en": {"banner": "Closed Monday"},
        "es": {"banner": "Cerrado el lunes"},
    }
    assert main([*args, "--in-service", "--message", "es:banner="]) == 0
    settings = _settings(hub, creds)
    assert settings["version"] == 3 and settings["out_of_service"] is False
    assert settings["messages"] == {"en": {"banner": "Closed Monday"}}
    assert settings["limits"]["min_payment_cents"] == 500  # type: ignore[index]


def test_invalid_settings_change_nothing(
    hub: HubHarness, creds: Creds, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--db", hub.db_url, "set-kiosk", "k1"]
    assert main([*args, "--min-payment-cents", "300000"]) == 1
    assert "min_payment_cents (300000) is greater than" in capsys.readouterr().err
    assert main([*args, "--message", "fr:banner=Bonjour"]) == 1
    assert main([*args, "--card-fee-percent-bp", "5000"]) == 1
    assert _settings(hub, creds)["version"] == 1
    assert main(["--db", hub.db_url, "set-kiosk", "nobody", "--in-service"]) == 1
    assert "no kiosk named 'nobody'" in capsys.readouterr().err


def test_a_kiosk_reads_only_its_own_settings(hub: HubHarness, creds: Creds) -> None:
    hub.enroll("k2")
    response = hub.signed("GET", "/v1/kiosks/k2/settings", creds)
    assert response.status_code == 403
    assert hub.client.get("/v1/kiosks/k1/settings").status_code == 401
