"""Staff passwords: the rules a new one must meet, and argon2id hashes of them.

PCI DSS 4.0 8.3.6: at least 12 characters, with both letters and digits. The hash is
argon2-cffi's argon2id with its default (RFC 9106 low-memory) parameters; the password
itself is never stored, printed or logged.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing is deliberately slow; a megabyte "password" is an attack

_hasher = PasswordHasher()
#: checked against when the name is unknown, so a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash("not-a-password-0")


def check_new(password: str, name: str) -> None:
    """Refuse a password that breaks the rules, saying which one."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"a password has at most {MAX_LENGTH} characters")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise Invalid("a password needs both letters and digits")
    if name.casefold() in password.casefold():
        raise Invalid("a password must not contain the user's name")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (no such user) costs the same and fails."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
