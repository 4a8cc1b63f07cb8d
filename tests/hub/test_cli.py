"""The ``kiosk-hub`` commands a technician and an operator use."""

from __future__ import annotations

import re

import pytest

from hub.cli import main
from tests.hub.harness import HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite


def test_create_kiosk_prints_a_code_that_enrolls(
    hub: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["--db", hub.db_url, "create-kiosk", "city-hall-01", "--location", "City Hall"]) == 0
    )
    out = capsys.readouterr().out
    match = re.search(r"enrollment code: ([2-9A-Z]{5}-[2-9A-Z]{5})", out)
    assert match is not None, out
    assert "valid once, until" in out
    response = hub.client.post(
        "/v1/enroll", json={"code": match.group(1), "hardware": {"hostname": "kiosk"}}
    )
    assert response.status_code == 200 and response.json()["kiosk_id"] == "city-hall-01"
    assert main(["--db", hub.db_url, "create-kiosk", "city-hall-01", "--location", "x"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_kiosk_names_are_checked(hub: HubHarness, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", hub.db_url, "create-kiosk", "City Hall", "--location", "x"]) == 1
    assert "can not name a kiosk" in capsys.readouterr().err


def test_seed_demo_is_repeatable(hub: HubHarness, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", hub.db_url, "seed-demo"]) == 0
    out = capsys.readouterr().out
    assert "kiosk demo-kiosk-01 created" in out and "enrollment code:" in out
    assert main(["--db", hub.db_url, "seed-demo"]) == 0
    assert "already exists" in capsys.readouterr().out
    assert main(["--db", hub.db_url, "kiosks"]) == 0
    listing = capsys.readouterr().out
    assert "demo-kiosk-01" in listing and "not enrolled" in listing


def test_new_code_for_an_existing_kiosk(
    hub: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.create_kiosk("k1")
    assert main(["--db", hub.db_url, "set-kiosk", "k1", "--new-code", "--code-ttl-hours", "2"]) == 0
    assert "enrollment code:" in capsys.readouterr().out


def test_alerts_listing(hub: HubHarness, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", hub.db_url, "alerts"]) == 0
    assert capsys.readouterr().out == ""


def test_bad_options_are_reported_without_a_traceback(
    hub: HubHarness, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    assert main(["--db", hub.db_url, "post", "--posting", "csv"]) == 2
    assert "the csv adapter needs a directory" in capsys.readouterr().err
    assert main(["--db", "postgresql://nobody@127.0.0.1:1/none", "kiosks"]) == 2
    assert "the database can not be used" in capsys.readouterr().err
    assert main(["--db", "mysql://x/y", "kiosks"]) == 2
    assert "SQLite or PostgreSQL" in capsys.readouterr().err
    assert main(["--time-zone", "Mars/Olympus", "--db", hub.db_url, "kiosks"]) == 2
    with pytest.raises(SystemExit):
        main(["--db", hub.db_url, "set-kiosk", "k1", "--message", "no-equals-sign"])
