"""Payment limits at, just below and just above each boundary; the card fee's rounding."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract import entries as E
from kiosk.config import CardFee, KioskConfig, Limits
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.fees import card_fee
from kiosk.money import Money
from tests.engine.conftest import Harness, MakeHarness
from tests.fakes import demo_account


def _to_amount(h: Harness, balance: str) -> None:
    number = f"7{balance.replace('.', '').replace('-', '9'):0>8}"
    h.directory.accounts[number] = demo_account(number, balance)
    h.to_find_account()
    h.send(ui.EnterAccount(number), ui.ConfirmAccount())
    assert h.state is State.AMOUNT


def _choose(h: Harness, amount: str) -> tuple[State, str]:
    snap = h.send(ui.ChooseAmount(Money.parse(amount)))
    return h.state, snap.message


# ----------------------------------------------------------------------------- amount limits


@pytest.mark.parametrize(
    ("balance", "amount", "accepted", "message"),
    [
        # minimum payment 1.00
        ("43.17", "0.99", False, "amount_too_low"),
        ("43.17", "1.00", True, ""),
        ("43.17", "1.01", True, ""),
        ("43.17", "0.00", False, "amount_too_low"),
        # balance + max overpayment (100.00) = 143.17
        ("43.17", "143.16", True, ""),
        ("43.17", "143.17", True, ""),
        ("43.17", "143.18", False, "amount_too_high"),
        # max payment 2000.00 is lower than 1950.00 + 100.00
        ("1950.00", "1999.99", True, ""),
        ("1950.00", "2000.00", True, ""),
        ("1950.00", "2000.01", False, "amount_too_high"),
        # a balance below the minimum can be paid off exactly
        ("0.50", "0.50", True, ""),
        ("0.50", "0.49", False, "amount_too_low"),
        ("0.50", "100.50", True, ""),
        ("0.50", "100.51", False, "amount_too_high"),
        # nothing owed (or a credit): the minimum applies, up to the overpayment allowance
        ("0.00", "0.99", False, "amount_too_low"),
        ("0.00", "1.00", True, ""),
        ("0.00", "100.00", True, ""),
        ("0.00", "100.01", False, "amount_too_high"),
        ("-25.00", "100.00", True, ""),
        ("-25.00", "100.01", False, "amount_too_high"),
    ],
)
def test_amount_limits(
    harness: Harness, balance: str, amount: str, accepted: bool, message: str
) -> None:
    _to_amount(harness, balance)
    state, shown = _choose(harness, amount)
    assert state is (State.METHOD if accepted else State.AMOUNT)
    assert shown == message
    chosen = harness.of_type(E.AMOUNT_CHOSEN)
    assert [c["amount_cents"] for c in chosen] == ([Money.parse(amount).cents] if accepted else [])


@pytest.mark.parametrize(
    ("balance", "low", "high"),
    [("43.17", "1.00", "143.17"), ("1950.00", "1.00", "2000.00"), ("0.50", "0.50", "100.50")],
)
def test_snapshot_shows_the_bounds(harness: Harness, balance: str, low: str, high: str) -> None:
    _to_amount(harness, balance)
    snap = harness.engine.snapshot
    assert (snap.min_amount, snap.max_amount) == (Money.parse(low), Money.parse(high))


def test_refused_amount_can_be_corrected(harness: Harness) -> None:
    _to_amount(harness, "43.17")
    assert _choose(harness, "500.00") == (State.AMOUNT, "amount_too_high")
    assert _choose(harness, "43.17") == (State.METHOD, "")


def test_custom_limits_apply(make_harness: MakeHarness) -> None:
    h = make_harness(KioskConfig(limits=Limits(min_payment_cents=500, max_overpayment_cents=0)))
    _to_amount(h, "43.17")
    assert _choose(h, "4.99") == (State.AMOUNT, "amount_too_low")
    assert _choose(h, "43.18") == (State.AMOUNT, "amount_too_high")
    assert _choose(h, "43.17") == (State.METHOD, "")


# ----------------------------------------------------------------------------- cash limits


def test_the_snapshot_names_the_bills_the_kiosk_takes(make_harness: MakeHarness) -> None:
    """The cash screen lists these: a kiosk set to refuse $50 and $100 must not invite them."""
    h = make_harness(KioskConfig(limits=Limits(accepted_bills_cents=[2000, 100, 500])))
    assert h.engine.snapshot.accepted_bills == (Money(100), Money(500), Money(2000))


@pytest.mark.parametrize(("max_cash_cents", "offered"), [(4999, False), (5000, True), (5001, True)])
def test_max_cash_for_the_amount(
    make_harness: MakeHarness, max_cash_cents: int, offered: bool
) -> None:
    h = make_harness(KioskConfig(limits=Limits(max_cash_cents=max_cash_cents)))
    h.to_method("50.00")
    assert h.engine.snapshot.cash_available is offered
    assert h.engine.snapshot.max_cash == Money(max_cash_cents)
    snap = h.send(ui.ChooseMethod("cash"))
    if offered:
        assert h.state is State.CASH
    else:
        assert h.state is State.METHOD
        assert snap.message == "cash_over_limit"
        assert not h.acceptor.enabled
        h.send(ui.ChooseMethod("card"))  # card is still there for a large amount
        assert h.state is State.RECEIPT


def _insert(h: Harness, *dollars: int) -> None:
    for bill in dollars:
        h.acceptor.insert(bill)
        h.pump()


@pytest.mark.parametrize(
    ("max_overpayment_cents", "stacked"), [(999, False), (1000, True), (1001, True)]
)
def test_cash_ceiling_from_the_overpayment_allowance(
    make_harness: MakeHarness, max_overpayment_cents: int, stacked: bool
) -> None:
    """Balance 40.00, 30.00 in; a $20 bill lands exactly on 40.00 + 10.00."""
    h = make_harness(KioskConfig(limits=Limits(max_overpayment_cents=max_overpayment_cents)))
    _to_amount(h, "40.00")
    h.send(ui.ChooseAmount(Money(4000)), ui.ChooseMethod("cash"))
    _insert(h, 20, 10)
    assert h.state is State.CASH
    _insert(h, 20)
    if stacked:
        assert h.state is State.RECEIPT
        assert h.payments()[0]["amount_cents"] == 5000
        assert h.payments()[0]["balance_after_cents"] == -1000
        assert h.acceptor.returned == []
    else:
        assert h.state is State.CASH
        assert h.engine.snapshot.message == "bill_over_limit"
        assert h.acceptor.returned == [Money(2000)]
        assert h.engine.snapshot.inserted == Money(3000)
        _insert(h, 10)  # a smaller bill still fits
        assert h.payments()[0]["amount_cents"] == 4000
    assert h.credited_cents() == sum(b.cents for b in h.acceptor.cashbox)


@pytest.mark.parametrize(("max_cash_cents", "stacked"), [(4999, False), (5000, True), (5001, True)])
def test_cash_ceiling_from_max_cash(
    make_harness: MakeHarness, max_cash_cents: int, stacked: bool
) -> None:
    """43.17 due, 40.00 in; a $10 bill lands exactly on a 50.00 cash maximum."""
    h = make_harness(KioskConfig(limits=Limits(max_cash_cents=max_cash_cents)))
    h.to_cash("43.17")
    _insert(h, 20, 20)
    _insert(h, 10)
    if stacked:
        assert h.state is State.RECEIPT
        assert h.payments()[0]["amount_cents"] == 5000
    else:
        assert h.state is State.CASH
        assert h.acceptor.returned == [Money(1000)]
        _insert(h, 5)
        assert h.payments()[0]["amount_cents"] == 4500
    assert h.credited_cents() == sum(b.cents for b in h.acceptor.cashbox)


def test_no_bill_taken_once_the_amount_is_covered(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    harness.pump()
    harness.acceptor.finish_stack()
    harness.pump()
    assert harness.state is State.RECEIPT
    harness.acceptor.insert_anyway(20)
    harness.pump()
    harness.acceptor.finish_return()
    harness.pump()
    assert harness.acceptor.returned == [Money(2000)]
    assert harness.payments()[0]["amount_cents"] == 2000
    assert harness.journal.open_intents() == []


def test_acceptor_is_enabled_for_the_configured_bills(make_harness: MakeHarness) -> None:
    h = make_harness(KioskConfig(limits=Limits(accepted_bills_cents=[500, 2000, 100])))
    h.to_cash()
    assert h.acceptor.denominations == [Money(100), Money(500), Money(2000)]
    h.acceptor.insert(10)
    assert h.pump().message == "bill_rejected"


# ----------------------------------------------------------------------------- fee rounding

PERCENT_ONLY = CardFee(percent_bp=250, minimum_cents=0)


@pytest.mark.parametrize(
    ("cents", "fee"),
    [
        (20, 1),  # 0.5 cent exactly: half up
        (60, 2),  # 1.5 cents: half up (not to even)
        (100, 3),  # 2.5 cents
        (19, 0),  # 0.475: just below half
        (59, 1),  # 1.475
        (61, 2),  # 1.525
        (4317, 108),  # 107.925
        (1, 0),
        (0, 0),
    ],
)
def test_percent_part_rounds_half_up(cents: int, fee: int) -> None:
    assert card_fee(Money(cents), PERCENT_ONLY) == Money(fee)


def test_default_rule_minimum_applies() -> None:
    rule = CardFee()  # 2.5 %, at least 1.00
    assert card_fee(Money(1000), rule) == Money(100)  # 0.25 -> minimum
    assert card_fee(Money(3999), rule) == Money(100)  # 99.975 -> 100
    assert card_fee(Money(4000), rule) == Money(100)
    assert card_fee(Money(4020), rule) == Money(101)  # 100.5 -> 101


def test_maximum_applies() -> None:
    rule = CardFee(percent_bp=1000, minimum_cents=0, maximum_cents=500)
    assert card_fee(Money(4999), rule) == Money(500)  # 499.9 -> 500
    assert card_fee(Money(5000), rule) == Money(500)
    assert card_fee(Money(100_000), rule) == Money(500)
    assert card_fee(Money(4994), rule) == Money(499)  # 499.4


def test_flat_plus_percent() -> None:
    rule = CardFee(flat_cents=30, percent_bp=290, minimum_cents=0)
    assert card_fee(Money(4317), rule) == Money(30 + 125)  # 125.193
    assert card_fee(Money(100), rule) == Money(33)  # 2.9 -> 3


def test_flat_plus_percent_then_minimum_then_maximum() -> None:
    rule = CardFee(flat_cents=30, percent_bp=290, minimum_cents=50, maximum_cents=200)
    assert card_fee(Money(100), rule) == Money(50)
    assert card_fee(Money(10_000), rule) == Money(200)  # 30 + 290


@pytest.mark.parametrize("cents", [0, -1, -5000])
def test_no_fee_on_nothing(cents: int) -> None:
    assert card_fee(Money(cents), CardFee(flat_cents=50, minimum_cents=100)) == Money(0)


def test_zero_percent_rule() -> None:
    assert card_fee(Money(4317), CardFee(percent_bp=0, minimum_cents=0)) == Money(0)


_rules = st.builds(
    lambda flat, bp, minimum, extra: CardFee(
        flat_cents=flat,
        percent_bp=bp,
        minimum_cents=minimum,
        maximum_cents=None if extra is None else minimum + extra,
    ),
    st.integers(0, 500),
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.one_of(st.none(), st.integers(0, 5000)),
)


@given(rule=_rules, a=st.integers(1, 10_000_000), b=st.integers(1, 10_000_000))
def test_fee_is_monotone_and_bounded(rule: CardFee, a: int, b: int) -> None:
    low, high = sorted((a, b))
    fee_low, fee_high = card_fee(Money(low), rule), card_fee(Money(high), rule)
    assert fee_low <= fee_high
    for fee in (fee_low, fee_high):
        assert fee.cents >= rule.minimum_cents
        if rule.maximum_cents is not None:
            assert fee.cents <= rule.maximum_cents


@given(cents=st.integers(1, 10_000_000), bp=st.integers(0, 1000))
def test_percent_part_is_exact_half_up(cents: int, bp: int) -> None:
    exact = Fraction(cents * bp, 10_000)
    expected = int(exact + Fraction(1, 2))  # floor(x + 1/2): half up for positive x
    assert card_fee(Money(cents), CardFee(percent_bp=bp, minimum_cents=0)) == Money(expected)


# ----------------------------------------------------------------------------- fee in the engine


def test_engine_charges_the_configured_fee(make_harness: MakeHarness) -> None:
    rule = CardFee(flat_cents=25, percent_bp=300, minimum_cents=0)
    h = make_harness(KioskConfig(card_fee=rule))
    h.to_method("20.00")
    assert h.engine.snapshot.card_fee == Money(85)  # 25 + 60
    h.send(ui.ChooseMethod("card"))
    assert h.terminal.sales[-1][1] == Money(2085)
    [payment] = h.payments()
    assert (payment["amount_cents"], payment["fee_cents"]) == (2000, 85)


def test_cash_pays_no_fee(harness: Harness) -> None:
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.payments()[0]["fee_cents"] == 0
    assert harness.of_type(E.METHOD_CHOSEN)[0]["fee_cents"] == 0
