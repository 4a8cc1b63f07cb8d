"""Tampering: an entry edited on the kiosk after the hub stored it comes back as a 409;
the worker stops pushing and says why; the hub keeps its copy."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from composition.cli import main as kiosk_main
from contract import entries as e
from contract.chain import canonical_json, entry_hash
from tests.sync.conftest import Kiosk
from tests.sync.hubproc import EXTRA_ACCOUNTS, RunningHub
from tests.sync.payments import write_payment


def _completed_seq(kiosk: Kiosk) -> int:
    return next(x.seq for x in kiosk.journal.entries() if x.type == e.PAYMENT_COMPLETED)


@pytest.mark.parametrize("rehash", [False, True], ids=["edited", "edited-and-rehashed"])
def test_an_edited_entry_is_a_conflict_and_the_hub_keeps_its_copy(
    rehash: bool, kiosk: Kiosk, hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        write_payment(kiosk.journal, n, EXTRA_ACCOUNTS[n])
    worker = kiosk.worker(kiosk.client(hub.url))
    assert worker.push_now().caught_up
    seq = _completed_seq(kiosk)
    before = hub.stored_entry(kiosk.name, seq)

    # someone lowers the amount in the kiosk's database, behind the journal's back
    row = kiosk.journal.get(seq)
    assert row is not None
    payload = dict(row.payload) | {"amount_cents": 1}
    with kiosk.journal.engine.begin() as conn:
        conn.execute(
            text("UPDATE journal SET payload = :p WHERE seq = :s"),
            {"p": canonical_json(payload), "s": seq},
        )
        if rehash:  # covering the tracks: recompute this entry's hash too
            at = conn.execute(text("SELECT at FROM journal WHERE seq = :s"), {"s": seq}).scalar()
            digest = entry_hash(row.prev_hash, seq, row.id, str(at), row.type, payload)
            conn.execute(
                text("UPDATE journal SET hash = :h WHERE seq = :s"), {"h": digest, "s": seq}
            )

    report = worker.resend_from(1)
    assert report.halted and f"seq {seq}" in report.halted
    conflict = worker.status.current.conflict
    assert conflict is not None and conflict.seq == seq
    assert conflict.kind in {"bad_hash", "hash_mismatch"}
    assert conflict.kind == ("hash_mismatch" if rehash else "bad_hash")
    assert hub.stored_entry(kiosk.name, seq) == before  # nothing overwritten
    assert json.loads(before[0])["amount_cents"] != 1

    # it stays stopped: more payments are not pushed past the conflict
    write_payment(kiosk.journal, 9, EXTRA_ACCOUNTS[0])
    again = worker.push_now()
    assert again.halted and again.pushed == 0
    assert len(hub.replica(kiosk.name)) < kiosk.journal.last_seq()

    # and the technician sees it
    code = kiosk_main(["sync", "status", "--data-dir", str(kiosk.data_dir)])
    shown = capsys.readouterr().out
    assert code == 1
    assert "CONFLICT" in shown and conflict.kind in shown


def test_the_hub_records_an_alert_for_the_conflict(kiosk: Kiosk, hub: RunningHub) -> None:
    write_payment(kiosk.journal, 0, EXTRA_ACCOUNTS[0])
    worker = kiosk.worker(kiosk.client(hub.url))
    assert worker.push_now().caught_up
    # the account's balance edited behind the journal's back: still a payload its model takes,
    # so the hub gets as far as the hash (one it refuses as a payload is a 422, not a conflict)
    row = kiosk.journal.get(2)
    assert row is not None and row.type == e.ACCOUNT_SELECTED
    edited = canonical_json(dict(row.payload) | {"balance_cents": 1})
    with kiosk.journal.engine.begin() as conn:
        conn.execute(text("UPDATE journal SET payload = :p WHERE seq = 2"), {"p": edited})
    assert worker.resend_from(2).halted
    from hub import queries

    alerts = [a for a in queries.alerts(hub.ctx.db, kiosk.name) if a.seq == 2]
    assert alerts and alerts[0].kind in {"bad_hash", "hash_mismatch"}
