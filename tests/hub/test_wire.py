"""The wire schemas: entries travel exactly as hashed, no floats, the kiosk's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from contract import chain, wire
from contract.wire import GENESIS, PushRequest, WireCardFee, WireEntry, WireLimits
from kiosk.config import CardFee, Limits
from kiosk.store.journal import format_at
from tests.hub.harness import KioskSide
from tests.store.builders import card_payment, cash_payment


@pytest.fixture
def kiosk(tmp_path: Path) -> KioskSide:
    side = KioskSide(tmp_path / "kiosk.sqlite")
    side.write(
        cash_payment("s1", "100200302", [2000, 500]) + card_payment("s2", "100200419", 5000, 125)
    )
    return side


def test_the_chain_is_the_kiosks_own() -> None:
    assert wire.GENESIS is chain.GENESIS
    assert wire.entry_hash is chain.entry_hash
    assert wire.canonical_json is chain.canonical_json


def test_an_entry_on_the_wire_hashes_to_the_kiosks_hash(kiosk: KioskSide) -> None:
    for entry in kiosk.journal.entries():
        sent = WireEntry.of(entry)
        assert sent.at == format_at(entry.at)
        received = WireEntry.model_validate_json(sent.model_dump_json())
        assert received.computed_hash() == entry.hash == received.hash
    assert WireEntry.of(next(kiosk.journal.entries())).prev_hash == GENESIS


def test_floats_anywhere_in_a_payload_are_refused(kiosk: KioskSide) -> None:
    good = WireEntry.of(next(kiosk.journal.entries())).model_dump()
    bad = good | {"payload": {"card": {"fee": 0.5}}}
    with pytest.raises(ValidationError, match=r"payload\['card'\]\['fee'\] is a float"):
        WireEntry.model_validate(bad)


def test_absurdly_nested_payloads_are_refused_without_recursion(kiosk: KioskSide) -> None:
    nested: object = 1
    for _ in range(10_000):
        nested = [nested]
    good = WireEntry.of(next(kiosk.journal.entries())).model_dump()
    with pytest.raises(ValidationError, match="nested more than"):
        WireEntry.model_validate(good | {"payload": {"x": nested}})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("at", "2025-03-01T14:05:09Z"),  # not the kiosk's fixed-width text
        ("hash", "A" * 64),
        ("prev_hash", "0" * 63),
        ("seq", 0),
        ("seq", 1.0),
        ("seq", "1"),
        ("type", ""),
    ],
)
def test_entry_fields_are_checked(kiosk: KioskSide, field: str, value: object) -> None:
    good = WireEntry.of(next(kiosk.journal.entries())).model_dump()
    with pytest.raises(ValidationError):
        WireEntry.model_validate(good | {field: value})


def test_a_push_is_a_run_of_consecutive_entries(kiosk: KioskSide) -> None:
    entries = kiosk.wire()
    assert PushRequest(entries=entries[:5]).entries[0].seq == 1
    with pytest.raises(ValidationError, match="consecutive"):
        PushRequest(entries=[entries[0], entries[2]])
    with pytest.raises(ValidationError):
        PushRequest(entries=[])
    with pytest.raises(ValidationError):
        PushRequest(entries=[entries[0]] * (wire.MAX_PUSH_ENTRIES + 1))


def test_requests_refuse_unknown_fields_and_responses_ignore_them() -> None:
    with pytest.raises(ValidationError, match="extra"):
        wire.EnrollRequest.model_validate(
            {"code": "X", "hardware": {"hostname": "h"}, "pin": "1234"}
        )
    ack = wire.PushResponse.model_validate({"acked_seq": 3, "new_field": True})
    assert ack.acked_seq == 3 and ack.acked_hash == GENESIS


def test_amounts_are_strict_integer_cents() -> None:
    for bad in (100.0, "100", True):
        with pytest.raises(ValidationError):
            WireLimits.model_validate({"min_payment_cents": bad})
    with pytest.raises(ValidationError, match="greater than"):
        WireLimits(min_payment_cents=500, max_payment_cents=100)


def test_settings_models_match_the_kiosks_config() -> None:
    """A kiosk builds its Limits and CardFee from what the hub sends, field for field."""
    assert set(WireLimits.model_fields) == set(Limits.model_fields)
    assert set(WireCardFee.model_fields) == set(CardFee.model_fields)
    assert WireLimits().model_dump() == Limits().model_dump()
    assert WireCardFee().model_dump() == CardFee().model_dump()
    sent = WireLimits(min_payment_cents=500, accepted_bills_cents=[2000, 100, 100])
    assert Limits.model_validate(sent.model_dump()).min_payment_cents == 500


def test_no_schema_has_a_float() -> None:
    models = [
        getattr(wire, name)
        for name in wire.__all__
        if isinstance(getattr(wire, name), type)
        and hasattr(getattr(wire, name), "model_json_schema")
    ]
    assert len(models) > 10

    def types(node: object) -> set[str]:
        if isinstance(node, dict):
            found = {node["type"]} if isinstance(node.get("type"), str) else set()
            return found.union(*(types(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(types(item) for item in node))
        return set()

    for model in models:
        assert "number" not in types(model.model_json_schema()), model
