"""The account catalog: import (all or nothing), live lookup, snapshot and deltas."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import accounts, demo
from hub.accounts import AccountImportError
from hub.cli import main
from tests.hub.harness import Creds, HubHarness

HEADER = "account_number,name,service_address,balance_cents,due_date,status"


def _import(hub: HubHarness, text: str, partial: bool = False) -> accounts.ImportReport:
    return accounts.import_accounts(
        hub.ctx.db, text, hub.clock(), hub.clock().date(), partial=partial
    )


def test_the_demo_accounts(hub: HubHarness, creds: Creds) -> None:
    _import(hub, demo.demo_csv())
    response = hub.signed("GET", "/v1/accounts/100200302", creds)
    assert response.status_code == 200
    maria = response.json()
    assert maria["name"] == "Maria Gonzalez" and maria["service_address"] == "1234 Oak St"
    assert maria["balance_cents"] == 4317 and maria["due_date"] == "2026-12-05"
    assert maria["status"] == "active"
    assert [u["month"] for u in maria["usage"]] == ["2025-12"] + [
        f"2026-{m:02d}" for m in range(1, 12)
    ]
    assert maria["usage"][0]["gallons"] == 3100 and maria["usage"][1]["gallons"] == 3450
    from devices.simulated import DEMO_ACCOUNTS

    for kiosk_account in DEMO_ACCOUNTS:  # the same accounts as the kiosk's stand-in directory
        found = hub.signed("GET", f"/v1/accounts/{kiosk_account.number}", creds).json()
        assert found["balance_cents"] == kiosk_account.balance.cents
        assert kiosk_account.due_date is not None
        assert found["due_date"] == kiosk_account.due_date.isoformat()
        assert [(u["month"], u["gallons"]) for u in found["usage"]] == [
            (u.month, u.gallons) for u in kiosk_account.usage
        ]
        assert kiosk_account.last_payment is not None
        assert found["last_payment"] == {
            "amount_cents": kiosk_account.last_payment.amount.cents,
            "paid_on": kiosk_account.last_payment.paid_on.isoformat(),
        }
        assert [(c["service"], c["amount_cents"]) for c in found["charges"]] == [
            (c.service, c.amount.cents) for c in kiosk_account.charges
        ]
        assert sum(c["amount_cents"] for c in found["charges"]) == found["balance_cents"]


def test_lookups_are_signed_and_unknown_accounts_are_404(hub: HubHarness, creds: Creds) -> None:
    _import(hub, demo.demo_csv())
    assert hub.client.get("/v1/accounts/100200302").status_code == 401
    missing = hub.signed("GET", "/v1/accounts/123456789", creds)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    odd = hub.signed("GET", "/v1/accounts/not%20an%20account", creds)
    assert odd.status_code == 422


def test_snapshot_then_deltas(hub: HubHarness, creds: Creds) -> None:
    first = _import(hub, demo.demo_csv())
    snapshot = hub.signed("GET", "/v1/accounts/snapshot", creds).json()
    assert snapshot["version"] == first.version
    assert [a["number"] for a in snapshot["accounts"]] == ["100200302", "100200419", "100200526"]
    # the next file: Maria paid elsewhere, Linh moved away, a new account
    lines = demo.demo_csv().splitlines()
    text = "\n".join(
        [
            lines[0],
            lines[1].replace(",4317,", ",0,"),
            lines[2],
            "100200633,Ana Silva,9 Pine Rd,5000,2026-12-10,active,1;2;3,2026-11,,,,,",
        ]
    )
    second = _import(hub, text)
    assert (second.added, second.changed, second.unchanged, second.removed) == (1, 1, 1, 1)
    delta = hub.signed("GET", f"/v1/accounts/delta?since={first.version}", creds).json()
    assert delta["since"] == first.version and delta["version"] == second.version
    assert [(a["number"], a["balance_cents"]) for a in delta["accounts"]] == [
        ("100200302", 0),
        ("100200633", 5000),
    ]
    assert delta["removed"] == ["100200526"]
    assert hub.signed("GET", "/v1/accounts/100200526", creds).status_code == 404
    nothing = hub.signed("GET", f"/v1/accounts/delta?since={second.version}", creds).json()
    assert nothing["accounts"] == [] and nothing["removed"] == []
    assert hub.signed("GET", "/v1/accounts/delta?since=-1", creds).status_code == 422
    assert hub.signed("GET", "/v1/accounts/delta", creds).status_code == 422


def test_a_partial_import_removes_nothing(hub: HubHarness) -> None:
    _import(hub, demo.demo_csv())
    report = _import(hub, f"{HEADER}\n100200740,Bo Lee,1 Main St,100,,active\n", partial=True)
    assert (report.added, report.removed) == (1, 0)
    assert len(accounts.snapshot(hub.ctx.db).accounts) == 4


def test_usage_as_twelve_columns(hub: HubHarness) -> None:
    usage = ",".join(f"usage_{n}" for n in range(1, 13))
    values = ",".join(str(n * 100) for n in range(1, 13))
    _import(hub, f"{HEADER},{usage}\n100200302,Maria,1 Oak St,100,2026-03-15,active,{values}\n")
    (account,) = accounts.snapshot(hub.ctx.db).accounts
    assert account.usage[0].month == "2025-03" and account.usage[-1].month == "2026-02"
    assert account.usage[-1].gallons == 1200


def test_a_bad_row_imports_nothing_and_says_where(hub: HubHarness) -> None:
    before = _import(hub, demo.demo_csv())
    text = "\n".join(
        [
            HEADER,
            "100200302,Maria,1 Oak St,43.17,2026-12-05,active",
            "100200419,James,2 Elm St,100,2026-02-30,active",
            "",
            '100200526,"Linh',
            'Nguyen",3 Ash St,100,,paused',
            "100200633,Ana,4 Fir St,100,,active",
            "100200633,Ana,4 Fir St,100,,active",
            "100200740,Bo,5 Oak St,1",
        ]
    )
    with pytest.raises(AccountImportError) as caught:
        _import(hub, text)
    assert caught.value.problems == [
        "line 2: balance_cents '43.17' is not a whole number of cents (write 4317 for $43.17)",
        "line 3: due_date '2026-02-30' is not a date (YYYY-MM-DD)",
        "line 5: status 'paused' is not one of active, inactive, closed",
        "line 8: account 100200633 is already on line 7",
        "line 9: 4 values, but the header names 6 columns",
    ]
    after = accounts.snapshot(hub.ctx.db)
    assert after.version == before.version
    assert [a.balance_cents for a in after.accounts] == [4317, 12950, 2875]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("", "line 1: the file is empty"),
        ("account_number,name", "line 1: missing column(s): service_address"),
        (HEADER + ",colour", "line 1: unknown column(s): colour"),
        (HEADER + ",usage,usage_1", "line 1: use either the usage column or usage_1..usage_12"),
    ],
)
def test_a_bad_header_is_reported(hub: HubHarness, header: str, problem: str) -> None:
    with pytest.raises(AccountImportError) as caught:
        _import(hub, header + "\n")
    assert caught.value.problems[0].startswith(problem)


def test_the_import_command(
    hub: HubHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "accounts.csv"
    good.write_text("\ufeff" + demo.demo_csv(), encoding="utf-8")  # a BOM, as Excel writes
    assert main(["--db", hub.db_url, "import-accounts", str(good)]) == 0
    assert "3 added" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n100200302,Maria,1 Oak St,lots,,active\n", encoding="utf-8")
    assert main(["--db", hub.db_url, "import-accounts", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing was imported" in err and "line 2: balance_cents 'lots'" in err
    assert main(["--db", hub.db_url, "import-accounts", str(tmp_path / "missing.csv")]) == 1


BILLED = HEADER + ",last_payment_cents,last_payment_date,charge_water,charge_storm_water"


def test_the_last_payment_and_the_bill_by_service_come_with_the_account(hub: HubHarness) -> None:
    _import(
        hub,
        f"{BILLED}\n100200302,Maria,1 Oak St,4317,2026-12-05,active,3890,2026-11-04,3017,1300\n",
    )
    _import(hub, f"{BILLED}\n100200419,James,2 Elm St,100,,active,,,100,\n", partial=True)
    maria = accounts.lookup(hub.ctx.db, "100200302")
    assert maria is not None and maria.last_payment is not None
    assert (maria.last_payment.amount_cents, maria.last_payment.paid_on.isoformat()) == (
        3890,
        "2026-11-04",
    )
    assert [(c.service, c.amount_cents) for c in maria.charges] == [
        ("Water", 3017),
        ("Storm water", 1300),
    ]
    james = accounts.lookup(hub.ctx.db, "100200419")
    assert james is not None and james.last_payment is None  # the billing system said none
    assert [(c.service, c.amount_cents) for c in james.charges] == [("Water", 100)]
    plain = HEADER + "\n100200526,Linh,3 Ash St,100,,active\n"
    _import(hub, plain, partial=True)
    linh = accounts.lookup(hub.ctx.db, "100200526")
    assert linh is not None and linh.last_payment is None and linh.charges == []


def test_a_bad_bill_imports_nothing_and_says_where(hub: HubHarness) -> None:
    text = "\n".join(
        [
            BILLED,
            "100200302,Maria,1 Oak St,4317,,active,3890,,10,",
            "100200419,James,2 Elm St,100,,active,12.50,2026-11-04,,",
            "100200526,Linh,3 Ash St,100,,active,100,2026-13-01,,",
            "100200633,Ana,4 Fir St,100,,active,,,ten,",
        ]
    )
    with pytest.raises(AccountImportError) as caught:
        _import(hub, text)
    assert caught.value.problems == [
        "line 2: last_payment_cents and last_payment_date go together",
        "line 3: last_payment_cents '12.50' is not a whole number of cents",
        "line 4: last_payment_date '2026-13-01' is not a date (YYYY-MM-DD)",
        "line 5: charge_water 'ten' is not a whole number of cents",
    ]
    nine = ",".join(f"charge_s{n}" for n in range(9))
    with pytest.raises(AccountImportError) as caught:
        _import(hub, f"{HEADER},{nine}\n")
    assert caught.value.problems == ["line 1: at most 8 charge_<service> columns"]
