"""Reading bill-stub barcodes: account and amount, or a reason, never a guess."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.bill_stub import (
    DEFAULT_STUB_PATTERN,
    NotRecognised,
    Reason,
    StubCode,
    StubParser,
    compile_pattern,
    luhn_check_digit,
    luhn_valid,
    make_stub_code,
)
from kiosk.config import KioskConfig, Scanner
from kiosk.config_check import check_text
from kiosk.money import Money

GOOD = "100200526"  # passes the Luhn check
BAD_CHECK = "100200527"


@pytest.fixture
def parser() -> StubParser:
    return StubParser()


def test_a_full_stub_gives_account_and_amount(parser: StubParser) -> None:
    code = make_stub_code(GOOD, Money(2875))
    assert code == "10020052600002875"
    assert parser.parse(code) == StubCode(GOOD, Money(2875))


def test_the_amount_is_read_as_cents(parser: StubParser) -> None:
    assert parser.parse(make_stub_code(GOOD, Money(12345678))) == StubCode(GOOD, Money(12345678))
    assert parser.parse(GOOD + "00000001") == StubCode(GOOD, Money(1))
    assert parser.parse(GOOD + "00000000") == StubCode(GOOD, Money(0))


def test_an_account_number_alone(parser: StubParser) -> None:
    assert make_stub_code(GOOD) == GOOD
    assert parser.parse(GOOD) == StubCode(GOOD, None)
    assert parser.parse(f"  {GOOD}\r\n") == StubCode(GOOD, None)


def test_a_bad_check_digit_is_refused(parser: StubParser) -> None:
    for code in (BAD_CHECK, make_stub_code(BAD_CHECK, Money(100))):
        result = parser.parse(code)
        assert isinstance(result, NotRecognised)
        assert result.reason is Reason.CHECK_DIGIT


def test_the_check_can_be_turned_off() -> None:
    assert StubParser(account_check="none").parse(BAD_CHECK) == StubCode(BAD_CHECK)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345678",  # too short
        "1002005261",  # 10 digits: neither an account nor a stub
        GOOD + "0000287",  # amount one digit short
        GOOD + "000028750",  # one digit too many
        "10020052A",
        "A100200526",
        "".join(chr(0xFF10 + int(d)) for d in GOOD),  # full-width digits are not digits
        "1" * 300,
    ],
)
def test_codes_that_do_not_match_are_not_guessed_at(parser: StubParser, code: str) -> None:
    result = parser.parse(code)
    assert isinstance(result, NotRecognised)
    assert result.reason is Reason.NO_MATCH
    assert result.message


def test_a_custom_pattern() -> None:
    # e.g. a biller's stub "ACCT-0012345678 AMT 000043.17" in a Code 128 barcode
    parser = StubParser(r"A(?P<account>\d{10})D(?P<amount>\d{6})", account_check="none")
    assert parser.parse("A0012345678D004317") == StubCode("0012345678", Money(4317))
    assert isinstance(parser.parse("0012345678"), NotRecognised)


def test_an_amount_group_that_is_not_digits_is_refused() -> None:
    parser = StubParser(r"(?P<account>\d{9})-(?P<amount>[0-9.]+)")
    result = parser.parse(f"{GOOD}-43.17")
    assert isinstance(result, NotRecognised)
    assert result.reason is Reason.BAD_AMOUNT


def test_from_config() -> None:
    scanner = Scanner(stub_pattern=r"X(?P<account>\d+)", account_check="none")
    assert StubParser.from_config(scanner).parse("X42") == StubCode("42")
    assert StubParser.from_config(KioskConfig().scanner).parse(GOOD) == StubCode(GOOD)


def test_luhn() -> None:
    assert luhn_valid("79927398713")  # the textbook example
    assert not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"
    assert not luhn_valid("")
    assert not luhn_valid("7")
    assert not luhn_valid("12a4")
    with pytest.raises(ValueError):
        luhn_check_digit("12a")


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_exactly_one_check_digit_completes_any_number(body: str) -> None:
    passing = [d for d in "0123456789" if luhn_valid(body + d)]
    assert passing == [luhn_check_digit(body)]


def test_demo_account_numbers() -> None:
    """What the demo's accounts need to be to pass the default check (see the report)."""
    assert luhn_valid("100200526")
    assert not luhn_valid("100200300") and luhn_valid("100200302")
    assert not luhn_valid("100200418") and luhn_valid("100200419")


def test_make_stub_code_refuses_what_it_can_not_write() -> None:
    with pytest.raises(ValueError, match="9 digits"):
        make_stub_code("12345")
    with pytest.raises(ValueError, match="amount"):
        make_stub_code(GOOD, Money(100_000_000))
    with pytest.raises(ValueError, match="amount"):
        make_stub_code(GOOD, Money(-1))


# --- the pattern in the configuration ---------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?P<account>\\d{9}", "not a valid regular expression"),
        ("\\d{9}", "needs a named group for the account number"),
        ("(?P<acount>\\d{9})", "needs a named group for the account number"),
        ("(?P<account>\\d{9})(?P<amout>\\d{8})", "unknown named group(s) amout"),
    ],
)
def test_compile_pattern_says_what_is_wrong(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_pattern(pattern)
    with pytest.raises(ValueError, match="account"):
        StubParser("\\d+")


def test_the_default_pattern_is_the_config_default() -> None:
    assert KioskConfig().scanner.stub_pattern == DEFAULT_STUB_PATTERN
    assert KioskConfig().scanner.account_check == "luhn"


def test_a_bad_pattern_is_a_config_error_with_key_and_line() -> None:
    text = "[identity]\nname = 'x'\n\n[scanner]\nstub_pattern = '(?P<acct>\\d{9})'\n"
    result = check_text(text)
    assert result.config is None
    [problem] = result.problems
    assert (problem.key, problem.line) == ("scanner.stub_pattern", 5)
    assert "named group for the account number" in problem.message


def test_a_pattern_that_does_not_compile_is_a_config_error() -> None:
    [problem] = check_text("[scanner]\nstub_pattern = '(?P<account>[0-9'\n").problems
    assert (problem.key, problem.line) == ("scanner.stub_pattern", 2)
    assert problem.message.startswith("not a valid regular expression")


def test_an_unknown_account_check_is_a_config_error() -> None:
    [problem] = check_text('[scanner]\naccount_check = "mod11"\n').problems
    assert (problem.key, problem.line) == ("scanner.account_check", 2)
    assert '"luhn"' in problem.message and '"none"' in problem.message


def test_a_good_scanner_section() -> None:
    result = check_text(
        "[scanner]\nstub_pattern = 'A(?P<account>\\d{10})'\naccount_check = \"none\"\n"
    )
    assert result.config is not None
    assert result.config.scanner == Scanner(
        stub_pattern=r"A(?P<account>\d{10})", account_check="none"
    )
