"""Journal replication: round trip, idempotence, resume, and every conflict."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import card_payment, cash_payment


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskSide]:
    side = KioskSide(tmp_path / "kiosk.sqlite")
    side.write(
        cash_payment("s1", "100200302", [2000, 2000, 500])
        + card_payment("s2", "100200419", 12950, 324)
    )
    yield side
    side.close()


def test_round_trip(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    entries = kiosk.wire()
    response = hub.push(creds, entries)
    assert response.status_code == 200, response.text
    assert response.json() == {"acked_seq": len(entries), "acked_hash": entries[-1].hash}
    assert hub.stored() == [(e.seq, e.hash) for e in entries]
    ack = hub.signed("GET", "/v1/kiosks/k1/journal/ack", creds)
    assert ack.json() == response.json()
    kiosk.journal.set_acked_seq(ack.json()["acked_seq"])
    assert kiosk.journal.verify().ok


def test_stored_entries_are_verbatim(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    from sqlalchemy import select

    from hub.models import JournalEntry

    hub.push(creds, kiosk.wire())
    with hub.ctx.db.read() as conn:
        rows = conn.execute(select(JournalEntry).order_by(JournalEntry.seq)).all()
    for row, entry in zip(rows, kiosk.wire(), strict=True):
        assert (row.id, row.at, row.type, row.prev_hash) == (
            entry.id,
            entry.at,
            entry.type,
            entry.prev_hash,
        )
        assert row.payload == entry.payload_text()


def test_pushing_the_same_entries_again_changes_nothing(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    entries = kiosk.wire()
    first = hub.push(creds, entries)
    again = hub.push(creds, entries)
    assert again.status_code == 200 and again.json() == first.json()
    assert len(hub.stored()) == len(entries)
    assert len(hub.admin("/v1/payments")) == 2


def test_resume_after_a_lost_answer(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    """The hub stored 1..10 but the kiosk never heard; it sends 1..N again."""
    entries = kiosk.wire()
    assert hub.push(creds, entries[:10]).json()["acked_seq"] == 10
    kiosk.write(cash_payment("s3", "100200526", [1000]))
    everything = kiosk.wire()
    response = hub.push(creds, everything)
    assert response.status_code == 200
    assert response.json()["acked_seq"] == len(everything)
    assert hub.stored() == [(e.seq, e.hash) for e in everything]


def test_a_backlog_drains_in_batches(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    for n in range(40):
        kiosk.write(cash_payment(f"b{n}", "100200302", [100]))
    acked = 0
    pushes = 0
    while batch := kiosk.wire(after=acked, limit=200):
        response = hub.push(creds, batch)
        assert response.status_code == 200
        acked = response.json()["acked_seq"]
        pushes += 1
    assert acked == kiosk.journal.last_seq() and pushes == 3
    assert len(hub.admin("/v1/payments?limit=5000")) == 42


def test_a_gap_is_409_with_the_expected_seq(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    entries = kiosk.wire()
    hub.push(creds, entries[:5])
    response = hub.push(creds, entries[7:])
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict" and body["kind"] == "gap"
    assert body["expected_seq"] == 6 and body["acked_seq"] == 5 and body["seq"] == 8
    assert "entries 6-7 are missing" in body["reason"]
    assert len(hub.stored()) == 5
    assert [a["kind"] for a in hub.admin("/v1/alerts")] == ["gap"]


def test_a_tampered_entry_is_refused(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    """A payload edited after the fact, its hash left as it was."""
    entries = kiosk.wire()
    victim = next(e for e in entries if e.type == "payment.completed")
    edited = victim.model_copy(update={"payload": victim.payload | {"amount_cents": 1}})
    tampered = [edited if e.seq == victim.seq else e for e in entries]
    response = hub.push(creds, tampered)
    assert response.status_code == 409
    body = response.json()
    assert body["kind"] == "bad_hash" and body["seq"] == victim.seq
    assert body["expected_seq"] == victim.seq  # the sound entries before it are kept
    assert [seq for seq, _ in hub.stored()] == list(range(1, victim.seq))
    assert hub.admin("/v1/payments") == []


def test_an_entry_off_the_chain_is_refused(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    """An entry rewritten with its own hash recomputed no longer follows the next one."""
    from contract.wire import entry_hash

    entries = kiosk.wire()
    hub.push(creds, entries[:3])
    fake = entries[3].model_copy(update={"prev_hash": "f" * 64})
    fake = fake.model_copy(update={"hash": fake.computed_hash()})
    assert fake.hash == entry_hash(
        fake.prev_hash, fake.seq, fake.id, fake.at, fake.type, fake.payload
    )
    response = hub.push(creds, [fake, *entries[4:]])
    assert response.status_code == 409 and response.json()["kind"] == "chain_break"
    assert response.json()["expected_seq"] == 4


def test_a_different_hash_for_a_stored_seq_is_409_and_never_overwrites(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, tmp_path: Path
) -> None:
    """A kiosk restored from an old image (a fork) writes different entries 1..N."""
    hub.push(creds, kiosk.wire())
    before = hub.stored()
    fork = KioskSide(tmp_path / "fork.sqlite")
    fork.write(cash_payment("other", "100200302", [500]))
    forked = fork.wire()
    response = hub.push(creds, forked)
    assert response.status_code == 409
    body = response.json()
    assert body["kind"] == "hash_mismatch" and body["seq"] == 1
    assert body["expected_seq"] == len(before) + 1
    assert hub.stored() == before
    again = hub.push(creds, forked)
    assert again.status_code == 409
    (alert,) = hub.admin("/v1/alerts")
    assert alert["kind"] == "hash_mismatch" and alert["seq"] == 1 and alert["count"] == 2
    assert alert["stored_hash"] == before[0][1] and alert["received_hash"] == forked[0].hash
    assert [p["payment_id"] for p in hub.admin("/v1/payments")] == ["P-s1", "P-s2"]
    fork.close()


def test_a_kiosk_can_not_write_another_kiosks_journal(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    hub.enroll("k2")
    response = hub.push(creds, kiosk.wire(), kiosk_id="k2")
    assert response.status_code == 403 and response.json()["error"] == "not_your_kiosk"
    assert hub.stored("k2") == []
    other_ack = hub.signed("GET", "/v1/kiosks/k2/journal/ack", creds)
    assert other_ack.status_code == 403


def _push_body(kiosk: KioskSide) -> bytes:
    from contract.wire import PushRequest

    return PushRequest(entries=kiosk.wire()).model_dump_json().encode()


def test_a_bad_signature_is_401(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    from contract.signing import new_secret

    response = hub.signed(
        "POST", "/v1/kiosks/k1/journal", creds, _push_body(kiosk), secret=new_secret()
    )
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": "bad signature", "details": []}
    assert hub.stored() == []


def test_clock_skew_is_401(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    late = hub.clock().timestamp() - 301
    response = hub.signed("POST", "/v1/kiosks/k1/journal", creds, _push_body(kiosk), now=late)
    assert response.status_code == 401 and "clock skew" in response.json()["message"]


def test_a_replayed_request_is_401(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    body = _push_body(kiosk)
    first = hub.signed("POST", "/v1/kiosks/k1/journal", creds, body, nonce="same-nonce-123456")
    assert first.status_code == 200
    replay = hub.signed("POST", "/v1/kiosks/k1/journal", creds, body, nonce="same-nonce-123456")
    assert replay.status_code == 401 and "replayed" in replay.json()["message"]


def test_an_unknown_or_unenrolled_kiosk_is_401(hub: HubHarness, kiosk: KioskSide) -> None:
    hub.create_kiosk("k9")  # exists, never enrolled: has no secret
    for name in ("k9", "nobody"):
        response = hub.signed(
            "POST", f"/v1/kiosks/{name}/journal", Creds(name, "x" * 43), _push_body(kiosk)
        )
        assert response.status_code == 401 and response.json()["message"] == "unknown kiosk"


def test_an_unsigned_request_is_401(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    response = hub.client.post("/v1/kiosks/k1/journal", content=_push_body(kiosk))
    assert response.status_code == 401 and response.json()["message"] == "missing header X-Kiosk-Id"


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"entries": []}, ["body", "entries"]),
        ({"entries": "all of them"}, ["body", "entries"]),
        ({}, ["body", "entries"]),
        ({"entries": [{"seq": 1}]}, ["body", "entries", 0, "id"]),
    ],
)
def test_schema_errors_are_422_with_details(
    hub: HubHarness, creds: Creds, document: object, where: list[object]
) -> None:
    response = hub.push_raw(creds, document)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert where in [detail["loc"] for detail in body["details"]]


def test_a_float_amount_is_422(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    entry = kiosk.wire()[0].model_dump()
    entry["payload"] = {"amount_cents": 12.5}
    response = hub.push_raw(creds, {"entries": [entry]})
    assert response.status_code == 422 and "float" in response.json()["message"]


def test_malformed_json_is_422(hub: HubHarness, creds: Creds) -> None:
    response = hub.signed("POST", "/v1/kiosks/k1/journal", creds, b'{"entries": [')
    assert response.status_code == 422 and response.json()["details"][0]["type"] == "json_invalid"


def test_a_huge_body_is_413(hub: HubHarness, creds: Creds) -> None:
    body = b'{"entries": "' + b"x" * (hub.settings.max_body_bytes + 1) + b'"}'
    response = hub.signed("POST", "/v1/kiosks/k1/journal", creds, body)
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_a_path_that_is_not_a_kiosk_id_is_422(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    response = hub.signed("POST", "/v1/kiosks/NOT%20A%20KIOSK/journal", creds, _push_body(kiosk))
    assert response.status_code in (401, 422)
    assert response.status_code != 500


def test_the_backlog_a_kiosk_reports_is_what_the_hub_still_lacks(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    entries = kiosk.wire()
    head = entries[-1].seq
    assert hub.push(creds, entries[:3], head_seq=head).status_code == 200
    (view,) = hub.admin("/v1/kiosks")
    assert view["entries_waiting"] == head - 3
    assert hub.push(creds, entries[3:], head_seq=head).status_code == 200
    (view,) = hub.admin("/v1/kiosks")
    assert view["entries_waiting"] == 0


def test_a_head_before_the_entries_sent_is_refused(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    entries = kiosk.wire()
    response = hub.push_raw(
        creds,
        {"entries": [e.model_dump(mode="json") for e in entries[:3]], "head_seq": 2},
    )
    assert response.status_code == 422, response.text
    assert "head_seq 2 is before the last entry sent (3)" in response.text
    assert hub.stored() == []
