"""Confirmation numbers: readable, deterministic, and a typo is caught."""

from __future__ import annotations

import random
import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from kiosk.confirmation import ALPHABET, confirmation_for, is_valid, normalise

FORMAT = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]$")


def _codes(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [confirmation_for(str(uuid.UUID(int=rng.getrandbits(128), version=4))) for _ in range(n)]


def test_alphabet_is_crockford() -> None:
    assert len(ALPHABET) == 32 == len(set(ALPHABET))
    assert not set("ILOU") & set(ALPHABET)


@given(st.uuids())
def test_format_and_validity(payment_id: uuid.UUID) -> None:
    code = confirmation_for(str(payment_id))
    assert FORMAT.match(code), code
    assert is_valid(code)
    assert not set("ILOU") & set(code)


def test_deterministic_per_payment_id() -> None:
    payment_id = "5b0e4f1c-8a5e-4b9a-9a39-0c3b1c2d7e11"
    assert confirmation_for(payment_id) == confirmation_for(payment_id)
    assert confirmation_for(payment_id) != confirmation_for(payment_id[:-1] + "2")


def test_codes_spread_out() -> None:
    codes = _codes(2000)
    assert len(set(codes)) == len(codes)


def test_every_single_character_substitution_is_caught() -> None:
    for code in _codes(60):
        chars = list(normalise(code))
        for i, original in enumerate(chars):
            for replacement in ALPHABET:
                if replacement == original:
                    continue
                typo = chars.copy()
                typo[i] = replacement
                assert not is_valid("".join(typo)), (code, i, replacement)


def test_adjacent_transpositions_are_mostly_caught() -> None:
    tried = caught = 0
    for code in _codes(1000):
        chars = normalise(code)
        for i in range(len(chars) - 1):
            if chars[i] == chars[i + 1]:
                continue  # swapping equal characters changes nothing
            swapped = chars[:i] + chars[i + 1] + chars[i] + chars[i + 2 :]
            tried += 1
            caught += not is_valid(swapped)
    assert tried > 5000
    assert caught / tried >= 0.90


def test_normalise_maps_look_alikes_and_case() -> None:
    assert normalise("abcd-efgh-j") == "ABCDEFGHJ"
    assert normalise("O0o") == "000"
    assert normalise("IiLl1") == "11111"
    assert normalise(" ab cd - ef ") == "ABCDEF"


def test_a_code_read_back_sloppily_is_still_valid() -> None:
    for code in _codes(200):
        sloppy = code.lower().replace("0", "o").replace("1", "l").replace("-", " ")
        assert is_valid(sloppy), (code, sloppy)


def test_is_valid_rejects_wrong_shapes() -> None:
    code = _codes(1)[0]
    assert not is_valid(code[:-1])
    assert not is_valid(code + "0")
    assert not is_valid("")
    assert not is_valid("ABCD-EFGH-*")
