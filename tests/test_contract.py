"""The journal contract: every entry type has a model, money is bounded integer cents,
nothing is rewritten, and a bad payload is refused where it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from annotated_types import Ge, Gt, Le
from pydantic.fields import FieldInfo

from contract import entries as E
from contract import payloads
from kiosk.store.journal import Journal, JournalError

ENTRY_TYPES = sorted(
    value for name, value in vars(E).items() if name.isupper() and isinstance(value, str)
)


def test_every_entry_type_has_exactly_one_model() -> None:
    assert sorted(payloads.MODELS) == ENTRY_TYPES
    assert len({id(m) for m in payloads.MODELS.values()}) == len(ENTRY_TYPES)


def _money_fields() -> list[tuple[str, str, FieldInfo]]:
    found = []
    for type_, model in payloads.MODELS.items():
        for name, info in model.model_fields.items():
            if name.endswith("_cents"):
                found.append((type_, name, info))
    return found


@pytest.mark.parametrize(("type_", "name", "info"), _money_fields(), ids=lambda v: str(v)[:40])
def test_money_is_integer_cents_with_bounds(type_: str, name: str, info: FieldInfo) -> None:
    annotation = info.annotation
    metadata = list(info.metadata)
    kinds = {annotation}
    for arg in get_args(annotation):  # ``Cents | None``: the bounds sit on the inner Annotated
        if get_origin(arg) is Annotated:
            inner, *extra = get_args(arg)
            kinds.add(inner)
            for item in extra:
                metadata += item.metadata if isinstance(item, FieldInfo) else [item]
        else:
            kinds.add(arg)
    assert int in kinds and str not in kinds, f"{type_}.{name} is not int cents"
    lower = [m for m in metadata if isinstance(m, Ge | Gt)]
    upper = [m for m in metadata if isinstance(m, Le)]
    assert lower and upper, f"{type_}.{name} has no explicit bounds"


@pytest.mark.parametrize("bad", [1.0, "100", True, -1, 100_000_001])
def test_a_bad_amount_is_refused(bad: Any) -> None:
    with pytest.raises(payloads.PayloadError, match="amount_cents"):
        payloads.parse(E.AMOUNT_CHOSEN, {"session_id": "s", "amount_cents": bad})


def test_unknown_fields_and_unknown_types_are_refused() -> None:
    with pytest.raises(payloads.PayloadError, match="colour"):
        payloads.parse(E.AMOUNT_CHOSEN, {"session_id": "s", "amount_cents": 1, "colour": "red"})
    with pytest.raises(payloads.PayloadError, match="no entry type"):
        payloads.parse("bill.eaten", {})


def test_card_data_can_not_be_kept() -> None:
    card = {
        "reference": "R-1",
        "total_cents": 4425,
        "auth_code": "A1B2C3",
        "brand": "VISA",
        "last4": "4111111111111111",
        "terminal_ref": "T1",
    }
    with pytest.raises(payloads.PayloadError, match="last4"):
        payloads.parse(
            E.CARD_SALE_APPROVED,
            card | {"session_id": "s", "intent_seq": 3, "receipt_lines": []},
        )


def test_a_model_dumps_only_what_was_set() -> None:
    """Validation never rewrites: an entry written without an optional field keeps its
    hash, because the field is not added back when the payload is read and dumped."""
    written = {"session_id": "s", "denomination_cents": 2000, "intent_seq": 4, "bill_id": "b"}
    assert payloads.parse(E.BILL_STACKED, written).dump() == written
    with_flag = written | {"recovered": True}
    assert payloads.parse(E.BILL_STACKED, with_flag).dump() == with_flag


def test_the_journal_refuses_a_payload_off_its_model_and_writes_nothing(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    try:
        journal.record(payloads.KioskStarted(version="1.0", kiosk_id="k1"))
        with pytest.raises(JournalError, match=r"nothing was written.*amount_cents"):
            journal.append(E.AMOUNT_CHOSEN, {"session_id": "s", "amount_cents": "12"})
        assert journal.last_seq() == 1
        assert journal.verify().ok
    finally:
        journal.close()
