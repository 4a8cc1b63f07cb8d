"""Confirmation numbers a resident can read over the phone.

Eight characters from Crockford's base-32 alphabet (no I, L, O, U: nothing to confuse with
1 or 0) plus one check character computed with Luhn mod 32, so a clerk typing it back catches
every single wrong character and most swapped neighbours. Shown as ``XXXX-XXXX-C``.
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_N = len(ALPHABET)
_DATA_LENGTH = 8
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def _check_char(data: str) -> str:
    total = 0
    factor = 2
    for char in reversed(data):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return ALPHABET[(_N - total % _N) % _N]


def confirmation_for(payment_id: str) -> str:
    """Derive the number from the payment's uuid, so a replayed journal gives the same one."""
    digest = int.from_bytes(hashlib.sha256(payment_id.encode()).digest()[:5], "big")
    chars = []
    for _ in range(_DATA_LENGTH):
        digest, index = divmod(digest, _N)
        chars.append(ALPHABET[index])
    data = "".join(reversed(chars))
    return f"{data[:4]}-{data[4:]}-{_check_char(data)}"


def normalise(text: str) -> str:
    """Uppercase, drop separators and map look-alikes (O->0, I/L->1) as Crockford does."""
    return "".join(c for c in text.upper() if c not in "- ").translate(_ALIASES)


def is_valid(text: str) -> bool:
    code = normalise(text)
    if len(code) != _DATA_LENGTH + 1 or any(c not in ALPHABET for c in code):
        return False
    return _check_char(code[:-1]) == code[-1]
