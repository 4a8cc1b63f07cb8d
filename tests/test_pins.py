"""Service-mode PIN rules and hashes (``contract.pins``), shared by the hub and the kiosk."""

from __future__ import annotations

import io

import pytest
from argon2 import PasswordHasher

from contract.pins import (
    PinRejected,
    check_pin,
    hash_pin,
    looks_like_argon2,
    read_new_pin,
    verify_pin,
)


@pytest.mark.parametrize("pin", ["1357", "2580", "90210", "13572468", "1212", "0012"])
def test_usable_pins_pass(pin: str) -> None:
    assert check_pin(pin) == pin


@pytest.mark.parametrize(
    ("pin", "why"),
    [
        ("135", "4 to 8 digits; this one has 3"),
        ("135792468", "4 to 8 digits; this one has 9"),
        ("", "digits only"),
        ("12a4", "digits only"),
        ("\uff11\uff13\uff15\uff17", "digits only"),  # full-width: digits to str.isdigit
        (" 1357", "digits only"),
        ("0000", "one digit repeated"),
        ("99999999", "one digit repeated"),
        ("1234", "consecutive digits"),
        ("4321", "consecutive digits"),
        ("7890", "consecutive digits"),
        ("210987", "consecutive digits"),
        ("56789012", "consecutive digits"),
    ],
)
def test_weak_or_malformed_pins_are_refused_with_the_reason(pin: str, why: str) -> None:
    with pytest.raises(PinRejected, match=why):
        check_pin(pin)


def test_a_hash_is_argon2id_and_verifies_only_against_its_pin() -> None:
    pin_hash = hash_pin("2468")
    assert pin_hash.startswith("$argon2id$") and looks_like_argon2(pin_hash)
    assert PasswordHasher().verify(pin_hash, "2468")
    assert verify_pin(pin_hash, "2468") and not verify_pin(pin_hash, "2469")
    assert hash_pin("2468") != pin_hash  # salted
    assert not verify_pin("$argon2id$garbage", "2468")
    assert not looks_like_argon2("2468") and not looks_like_argon2("$argon2id$v=19$x")
    with pytest.raises(PinRejected):
        hash_pin("1111")


def test_a_new_pin_is_typed_twice_or_read_from_stdin() -> None:
    typed = iter(["2580", "2580"])
    assert read_new_pin(False, io.StringIO(), lambda _prompt: next(typed)) == "2580"
    typed = iter(["2580", "2850"])
    with pytest.raises(PinRejected, match="differ"):
        read_new_pin(False, io.StringIO(), lambda _prompt: next(typed))
    assert read_new_pin(True, io.StringIO("90210\nignored\n"), input) == "90210"
    with pytest.raises(PinRejected, match="digits only"):
        read_new_pin(True, io.StringIO(""), input)
