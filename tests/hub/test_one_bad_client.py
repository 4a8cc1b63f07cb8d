"""One kiosk or client sending what no honest kiosk would must not hurt the others: values
beyond the models' bounds are refused where they arrive, a payment over its kiosk's limits
is kept but held for a clerk (the kiosk's chain goes on past it), and a value that still
can not be shown costs that one account, never every kiosk's lookups."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contract import signing
from contract.entries import PAYMENT_COMPLETED
from hub import accounts, demo, suspense
from hub.accounts import AccountImportError
from hub.kiosk_config import SettingsChange, update_settings
from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import completed, session

HEADER = "account_number,name,service_address,balance_cents,due_date,status"


def _seed(hub: HubHarness) -> None:
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())


def _pay(kiosk: KioskSide, sid: str, account: str, cents: int) -> int:
    """Journal a cash payment; the seq of its ``payment.completed``."""
    kiosk.write(session(sid, account, cents, "cash", 0))
    done = kiosk.write(completed(sid, f"P-{sid}", account, "cash", cents, cash_cents=cents))
    return next(entry.seq for entry in done if entry.type == PAYMENT_COMPLETED)


def _lookups_work(hub: HubHarness, creds: Creds, number: str) -> None:
    assert hub.signed("GET", f"/v1/accounts/{number}", creds).status_code == 200
    assert hub.signed("GET", "/v1/accounts/snapshot", creds).status_code == 200
    assert hub.signed("GET", "/v1/accounts/delta?since=0", creds).status_code == 200


def _postings(hub: HubHarness) -> dict[str, str]:
    return {p["payment_id"]: p["status"] for p in hub.admin("/v1/postings")}


def test_a_payment_over_limits_lowered_since_is_stored_counted_and_held(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    _seed(hub)
    paid = _pay(kiosk, "s1", "100200302", 150_000)  # $1,500: within the kiosk's limits then
    _pay(kiosk, "s2", "100200419", 2500)
    after = kiosk.wire()[-1].seq
    lowered = {"max_payment_cents": 100_000, "min_payment_cents": 100}  # before it pushed
    update_settings(hub.ctx.db, "k1", SettingsChange(limits=lowered))
    response = hub.push(creds, kiosk.wire())
    assert response.status_code == 200, response.text
    assert response.json()["acked_seq"] == after
    assert [seq for seq, _ in hub.stored()] == list(range(1, after + 1)), "the chain is whole"

    payments = {p["payment_id"]: p for p in hub.admin("/v1/payments")}
    assert payments["P-s1"]["amount_cents"] == 150_000
    (batch,) = hub.admin("/v1/batches")
    assert (batch["payment_count"], batch["payment_cents"]) == (2, 152_500)
    assert _postings(hub) == {"P-s1": "suspense", "P-s2": "posted"}
    (held,) = suspense.listing(hub.ctx.db)
    assert held.payment_id == "P-s1"
    assert "over the kiosk's limit of $1,100.00 at the time it arrived" in held.reason
    (alert,) = [a for a in hub.admin("/v1/alerts") if a["kind"] == "over_limit"]
    assert alert["seq"] == paid and alert["kiosk_id"] == "k1"
    assert f"entry {paid}" in alert["reason"] and "$1,500.00" in alert["reason"]
    assert "$1,100.00" in alert["reason"]

    held_postings = {p["payment_id"]: p["held"] for p in hub.admin("/v1/postings")}
    assert held_postings == {"P-s1": True, "P-s2": False}

    hub.ctx.poster.run(include_waiting=True)  # `kiosk-hub post` does not release it
    assert _postings(hub)["P-s1"] == "suspense"
    assert accounts.lookup(hub.ctx.db, "100200302").balance_cents == 4317, "not posted"
    assert accounts.lookup(hub.ctx.db, "100200419").balance_cents == 12950 - 2500
    _lookups_work(hub, creds, "100200302")

    _pay(kiosk, "s3", "100200526", 1000)
    later = kiosk.wire()[-1].seq
    assert hub.push(creds, kiosk.wire(after=after)).json()["acked_seq"] == later
    assert _postings(hub)["P-s3"] == "posted"


def test_payments_held_at_the_models_bound_cost_no_account_view(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    _seed(hub)
    _pay(kiosk, "s1", "100200302", 100_000_000)  # the most a payload may hold
    _pay(kiosk, "s2", "100200302", 100_000_000)
    assert hub.push(creds, kiosk.wire()).status_code == 200
    assert _postings(hub) == {"P-s1": "suspense", "P-s2": "suspense"}
    _lookups_work(hub, creds, "100200302")
    for payment_id in ("P-s1", "P-s2"):
        suspense.resolve(hub.ctx.db, payment_id, "100200302", "clerk-ana", hub.clock())
    assert hub.ctx.poster.post_one("P-s1") == ("posted", "")
    outcome, error = hub.ctx.poster.post_one("P-s2")
    assert outcome == "failed" and "bounds" in error
    _lookups_work(hub, creds, "100200302")
    assert accounts.lookup(hub.ctx.db, "100200302").balance_cents == 4317 - 100_000_000


def test_a_payment_beyond_the_models_bound_is_refused(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    paid = _pay(kiosk, "s1", "100200302", 2500)
    document = {"entries": [e.model_dump() for e in kiosk.wire()]}
    document["entries"][paid - 1]["payload"]["amount_cents"] = 100_000_001
    response = hub.push_raw(creds, document)
    assert response.status_code == 422, response.text
    assert hub.stored() == []
    assert [a for a in hub.admin("/v1/alerts") if a["kind"] == "over_limit"] == []


def test_a_payment_within_raised_limits_is_accepted(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    _seed(hub)
    limits = {"max_payment_cents": 2_000_000, "max_cash_cents": 2_000_000}
    update_settings(hub.ctx.db, "k1", SettingsChange(limits=limits))
    _pay(kiosk, "s1", "100200302", 1_500_000)
    assert hub.push(creds, kiosk.wire()).status_code == 200
    assert _postings(hub) == {"P-s1": "posted"}
    assert suspense.listing(hub.ctx.db) == []


def test_a_posting_that_would_take_a_balance_out_of_bounds_fails_and_lookups_go_on(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    _seed(hub)
    big = {"max_payment_cents": 100_000_000, "max_cash_cents": 100_000_000}
    update_settings(hub.ctx.db, "k1", SettingsChange(limits=big))
    _pay(kiosk, "s1", "100200302", 100_000_000)
    _pay(kiosk, "s2", "100200302", 100_000_000)
    assert hub.push(creds, kiosk.wire()).status_code == 200
    hub.ctx.poster.run(include_waiting=True)
    postings = {p["payment_id"]: p for p in hub.admin("/v1/postings")}
    assert postings["P-s1"]["status"] == "posted"
    assert postings["P-s2"]["status"] == "failed" and "bounds" in postings["P-s2"]["last_error"]
    _lookups_work(hub, creds, "100200302")
    assert accounts.lookup(hub.ctx.db, "100200302").balance_cents == 4317 - 100_000_000


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("1,A,1 St,5,,active,200000000", "usage '200000000' is more than 100000000 gallons"),
        ("1,A,1 St,100000001,,active,", "balance_cents 100000001 is out of bounds"),
        ("1,A,1 St,-100000001,,active,", "balance_cents -100000001 is out of bounds"),
    ],
)
def test_an_import_beyond_the_models_bounds_is_refused(
    hub: HubHarness, creds: Creds, row: str, problem: str
) -> None:
    with pytest.raises(AccountImportError) as caught:
        accounts.import_accounts(
            hub.ctx.db, f"{HEADER},usage\n{row}\n", hub.clock(), hub.clock().date()
        )
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    _seed(hub)
    _lookups_work(hub, creds, "100200302")


def test_an_account_stored_out_of_bounds_costs_only_itself(hub: HubHarness, creds: Creds) -> None:
    from sqlalchemy import update

    from hub.models import AccountRow

    _seed(hub)
    with hub.ctx.db.write() as conn:
        conn.execute(
            update(AccountRow)
            .where(AccountRow.number == "100200302")
            .values(balance_cents=-300_000_000)
        )
    response = hub.signed("GET", "/v1/accounts/100200302", creds)
    assert response.status_code == 503 and response.json()["error"] == "account_unavailable"
    _lookups_work(hub, creds, "100200419")
    shown = hub.signed("GET", "/v1/accounts/snapshot", creds).json()["accounts"]
    assert [a["number"] for a in shown] == ["100200419", "100200526"]


@pytest.mark.parametrize("number", ["1002 00302", "=HYPERLINK(1)", "100200302\n", "ü1"])
def test_a_payment_to_something_that_is_not_an_account_number_is_refused(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, number: str
) -> None:
    _pay(kiosk, "s1", number, 2500)
    response = hub.push(creds, kiosk.wire())
    assert response.status_code == 422, response.text
    assert "not an account number" in response.json()["message"]
    assert hub.stored() == []


def _same_payment_id_from_two_kiosks(
    hub: HubHarness, creds: Creds, tmp_path: Path, second_cents: int
) -> None:
    """k1 and then k2 each journal a payment P-s1 ($25.00 at k1), each pushed twice."""
    _seed(hub)
    other = hub.enroll("k2")
    first, second = KioskSide(tmp_path / "a.sqlite"), KioskSide(tmp_path / "b.sqlite")
    try:
        for side, who, cents in ((first, creds, 2500), (second, other, second_cents)):
            _pay(side, "s1", "100200302", cents)
            assert hub.push(who, side.wire()).status_code == 200
            assert hub.push(who, side.wire()).status_code == 200  # pushed again: kept once
    finally:
        first.close()
        second.close()


def test_a_payment_id_another_kiosk_already_used_is_kept_flagged_and_held(
    hub: HubHarness, creds: Creds, tmp_path: Path
) -> None:
    _same_payment_id_from_two_kiosks(hub, creds, tmp_path, 2500)
    payments = {p["payment_id"]: p for p in hub.admin("/v1/payments")}
    assert len(payments) == 2 and payments["P-s1"]["kiosk_id"] == "k1"
    (dup,) = [p for p in payments.values() if p["kiosk_id"] == "k2"]
    assert dup["payment_id"].startswith("dup-") and dup["amount_cents"] == 2500
    batches = {b["kiosk_id"]: b for b in hub.admin("/v1/batches")}
    assert batches["k2"]["payment_count"] == 1 and batches["k2"]["payment_cents"] == 2500
    postings = {p["payment_id"]: p["status"] for p in hub.admin("/v1/postings")}
    assert postings == {"P-s1": "posted", dup["payment_id"]: "suspense"}
    (alert,) = [a for a in hub.admin("/v1/alerts") if a["kind"] == "duplicate_payment"]
    assert alert["kiosk_id"] == "k2" and "P-s1" in alert["reason"] and "k1" in alert["reason"]
    assert alert["count"] == 1
    hub.ctx.poster.run(include_waiting=True)  # `kiosk-hub post`: not the held duplicate
    postings = {p["payment_id"]: p["status"] for p in hub.admin("/v1/postings")}
    assert postings[dup["payment_id"]] == "suspense"
    assert accounts.lookup(hub.ctx.db, "100200302").balance_cents == 4317 - 2500
    suspense.resolve(hub.ctx.db, dup["payment_id"], "100200302", "clerk-ana", hub.clock())
    assert hub.ctx.poster.post_one(dup["payment_id"]) == ("posted", "")
    assert hub.ctx.poster.run(include_waiting=True).posted == []
    assert accounts.lookup(hub.ctx.db, "100200302").balance_cents == 4317 - 5000


def test_a_duplicate_payment_id_over_the_limit_says_both(
    hub: HubHarness, creds: Creds, tmp_path: Path
) -> None:
    _same_payment_id_from_two_kiosks(hub, creds, tmp_path, 300_000)  # over k2's $2,100
    (held,) = suspense.listing(hub.ctx.db)
    assert held.kiosk_id == "k2" and held.payment_id.startswith("dup-")
    assert "already kiosk k1's payment" in held.reason
    assert "over the kiosk's limit of $2,100.00" in held.reason
    kinds = sorted(a["kind"] for a in hub.admin("/v1/alerts") if a["kiosk_id"] == "k2")
    assert kinds == ["duplicate_payment", "over_limit"]


def test_a_lone_surrogate_is_422(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    _pay(kiosk, "s1", "100200302", 2500)
    document = {"entries": [e.model_dump() for e in kiosk.wire()]}
    document["entries"][0]["payload"]["language"] = "\ud800"
    response = hub.push_raw(creds, document)
    assert response.status_code == 422, response.text
    assert "surrogate" in response.json()["message"]
    document["entries"][0]["payload"] = {"\udfff": 1}
    assert hub.push_raw(creds, document).status_code == 422
    body = b'{"code": "\\ud800", "hardware": {"hostname": "x"}}'
    json_type = {"content-type": "application/json"}
    enroll = hub.client.post("/v1/enroll", content=body, headers=json_type)
    assert enroll.status_code == 422 and "surrogate" in enroll.json()["message"]
    assert hub.stored() == []


def _chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("path", ["/v1/enroll", "/v1/kiosks/k1/journal"])
def test_a_chunked_body_over_the_limit_is_413(hub: HubHarness, creds: Creds, path: str) -> None:
    data = b'{"code": "' + b"x" * (4 * 1024 * 1024 + 10) + b'"}'
    headers = signing.sign("POST", path, data, "k1", creds.secret, now=hub.clock().timestamp())
    response = hub.client.post(path, content=_chunks(data), headers=headers)
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "too_large"


@pytest.mark.parametrize("path", ["/v1/enroll", "/v1/kiosks/k1/journal"])
def test_json_nested_too_deep_is_422(hub: HubHarness, creds: Creds, path: str) -> None:
    data = b"[" * 500_000 + b"]" * 500_000
    headers = signing.sign("POST", path, data, "k1", creds.secret, now=hub.clock().timestamp())
    headers["Content-Type"] = "application/json"
    response = hub.client.post(path, content=data, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["type"] == "json_invalid"
    assert "deep" in response.json()["message"]
