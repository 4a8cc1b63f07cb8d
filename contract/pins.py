"""Service-mode PINs: what counts as a usable PIN, and its argon2id hash.

One place for both sides: the hub hashes the PINs of the technicians it sends to kiosks
(``kiosk-hub technicians``), and a kiosk that was never enrolled takes hashes made by
``kiosk service pin-hash`` from its config file. Both must refuse the same PINs, so the rules
live here, in the contract the hub may import.

Only hashes ever leave the place a PIN was typed: the hub stores and sends argon2id hashes,
the kiosk's config holds them, and neither logs nor prints a PIN.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import IO, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "ARGON2_HASH",
    "MAX_PIN_DIGITS",
    "MIN_PIN_DIGITS",
    "PinRejected",
    "check_pin",
    "hash_pin",
    "looks_like_argon2",
    "read_new_pin",
    "verify_pin",
]

MIN_PIN_DIGITS: Final = 4
MAX_PIN_DIGITS: Final = 8
#: an encoded argon2 hash as argon2-cffi writes it (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``)
ARGON2_HASH: Final = (
    r"^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}$"
)
_ARGON2 = re.compile(ARGON2_HASH)
_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters


class PinRejected(ValueError):
    """A PIN that must not be used; the message says why, for the person choosing it."""


def _is_run(digits: str) -> bool:
    """Each digit one more (or one less) than the one before, wrapping 9→0: 1234, 4321,
    7890, 2109. The first PINs anyone tries, after the repeated digits."""
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
    return steps in ({1}, {9})


def check_pin(pin: str) -> str:
    """``pin`` if it is 4-8 digits and not trivially guessable; else :class:`PinRejected`."""
    if not (pin.isascii() and pin.isdigit()):
        raise PinRejected("a PIN is digits only (0-9)")
    if not MIN_PIN_DIGITS <= len(pin) <= MAX_PIN_DIGITS:
        raise PinRejected(
            f"a PIN has {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits; this one has {len(pin)}"
        )
    if len(set(pin)) == 1:
        raise PinRejected("a PIN of one digit repeated (like 0000) is the first one tried")
    if _is_run(pin):
        raise PinRejected("a PIN of consecutive digits (like 1234 or 4321) is too easy to guess")
    return pin


def hash_pin(pin: str) -> str:
    """The argon2id hash of a PIN that passes :func:`check_pin` (else :class:`PinRejected`)."""
    return _hasher.hash(check_pin(pin))


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` is the PIN ``pin_hash`` was made from; a malformed hash matches nothing."""
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def looks_like_argon2(text: str) -> bool:
    """Whether ``text`` is an encoded argon2 hash (not whether any PIN matches it)."""
    return _ARGON2.match(text) is not None


def read_new_pin(pin_stdin: bool, stdin: IO[str], ask: Callable[[str], str]) -> str:
    """A new PIN, checked: from the first line of ``stdin`` (scripts), or typed twice at
    ``ask`` (``getpass.getpass``: nothing echoed) so a typo does not become the PIN.
    Raises :class:`PinRejected` with the reason."""
    if pin_stdin:
        return check_pin(stdin.readline().strip())
    pin = check_pin(ask("new PIN (4-8 digits): ").strip())
    if ask("the same PIN again: ").strip() != pin:
        raise PinRejected("the two PINs typed differ; nothing was changed")
    return pin
