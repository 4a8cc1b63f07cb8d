"""HMAC-SHA256 request signing, shared by the kiosk (signs) and the hub (verifies).

Every request a kiosk makes after enrolling carries four headers::

    X-Kiosk-Id:  the kiosk's id
    X-Timestamp: unix seconds when it was signed
    X-Nonce:     a random value never used before by this kiosk
    X-Signature: hex HMAC-SHA256(key, METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE
                                      \\n sha256_hex(BODY))

The key is the kiosk's secret: 32 random bytes, written as unpadded URL-safe base64; the
HMAC uses the decoded bytes. Covering the method and path stops a signed request from being
replayed against another endpoint; the body hash covers the content; the timestamp bounds
how long a captured request is any use (``max_skew``, 300 s by default) and the nonce, which
the hub remembers for that long, makes it useless even within that window. TLS in front of
the hub keeps the requests confidential; the signature is what proves who sent them.

The hub has to compute the same HMAC, so it stores the secret itself (not a hash of it):
keep it encrypted at rest in production and out of every log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final, Protocol

HEADER_KIOSK_ID: Final = "X-Kiosk-Id"
HEADER_TIMESTAMP: Final = "X-Timestamp"
HEADER_NONCE: Final = "X-Nonce"
HEADER_SIGNATURE: Final = "X-Signature"
SIGNED_HEADERS: Final = (HEADER_KIOSK_ID, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
DEFAULT_MAX_SKEW_S: Final = 300
SECRET_BYTES: Final = 32

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_KIOSK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class SignatureError(Exception):
    """A request that must be refused; ``reason`` is short and safe to send back (401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NonceStore(Protocol):
    """Remembers nonces until they can no longer pass the timestamp check on any server
    that shares the store (``expires_at``, see :func:`verify`)."""

    def seen(self, kiosk_id: str, nonce: str, expires_at: float) -> bool:
        """Record ``nonce``; True when it was already recorded (a replay)."""


def new_secret() -> str:
    """A fresh kiosk secret: 32 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a secret; a malformed secret is a ``ValueError`` naming the problem."""
    try:
        key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the kiosk secret is not URL-safe base64") from exc
    if len(key) != SECRET_BYTES:
        raise ValueError(f"the kiosk secret holds {len(key)} bytes, not {SECRET_BYTES}")
    return key


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What the HMAC covers; ``path`` includes the query string exactly as sent."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, nonce, body_hash)).encode("utf-8")


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(
        secret_key(secret), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def sign(
    method: str,
    path: str,
    body: bytes,
    kiosk_id: str,
    secret: str,
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that sign one request. ``path`` is the path plus ``?query`` if any."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or new_nonce()
    return {
        HEADER_KIOSK_ID: kiosk_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, method, path, timestamp, nonce, body),
    }


def check_headers(
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    max_skew: int = DEFAULT_MAX_SKEW_S,
) -> dict[str, str]:
    """The signed headers of a request, if each is present, well formed and the timestamp
    within ``max_skew`` of ``now``; :class:`SignatureError` otherwise.

    Needs no body and no secret, so a server runs it before reading a body at all: a client
    that can not sign never gets to make the server hold what it sends.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    values: dict[str, str] = {}
    for name in SIGNED_HEADERS:
        value = lowered.get(name.lower())
        if not value:
            raise SignatureError(f"missing header {name}")
        values[name] = value
    timestamp = values[HEADER_TIMESTAMP]
    nonce = values[HEADER_NONCE]
    if not _TIMESTAMP.match(timestamp):
        raise SignatureError(f"{HEADER_TIMESTAMP} must be unix seconds")
    current = time.time() if now is None else now
    skew = int(timestamp) - current
    if abs(skew) > max_skew:
        raise SignatureError(
            f"clock skew of {abs(int(skew))} s is more than {max_skew} s: check the kiosk's clock"
        )
    if not _NONCE.match(nonce):
        raise SignatureError(f"{HEADER_NONCE} must be 16-64 URL-safe characters")
    if not _SIGNATURE.match(values[HEADER_SIGNATURE]):
        raise SignatureError(f"{HEADER_SIGNATURE} must be 64 lowercase hex digits")
    if not _KIOSK_ID.match(values[HEADER_KIOSK_ID]):
        raise SignatureError("unknown kiosk")
    return values


def verify(
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secret_for: Callable[[str], str | None],
    nonces: NonceStore,
    now: float | None = None,
    max_skew: int = DEFAULT_MAX_SKEW_S,
    clock_margin: int = 1,
) -> str:
    """Check a signed request and return the kiosk id that signed it.

    Checks run cheapest first, and the nonce is recorded only once the signature is good,
    so nobody without the secret can use up a kiosk's nonces. Raises
    :class:`SignatureError` with a short reason.

    The nonce is remembered until the request's own timestamp plus ``max_skew`` plus
    ``clock_margin``: servers that share one nonce store but not one clock each drop
    expired nonces by their own clock, so one running ``clock_margin`` seconds ahead of
    another must not forget a nonce the other would still accept the timestamp of.
    """
    values = check_headers(headers, now=now, max_skew=max_skew)
    kiosk_id = values[HEADER_KIOSK_ID]
    timestamp = values[HEADER_TIMESTAMP]
    nonce = values[HEADER_NONCE]
    secret = secret_for(kiosk_id)
    if secret is None:
        raise SignatureError("unknown kiosk")
    try:
        expected = signature(secret, method, path, timestamp, nonce, body)
    except ValueError as exc:  # a damaged secret on the hub: the kiosk must enroll again
        raise SignatureError("this kiosk's secret is unusable: enroll it again") from exc
    if not hmac.compare_digest(expected, values[HEADER_SIGNATURE]):
        raise SignatureError("bad signature")
    if nonces.seen(kiosk_id, nonce, int(timestamp) + max_skew + clock_margin):
        raise SignatureError("replayed request (nonce already used)")
    return kiosk_id


class MemoryNonceStore:
    """Nonces in memory, for one process (tests, a single-process hub); thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def seen(self, kiosk_id: str, nonce: str, expires_at: float) -> bool:
        now = self._clock()
        with self._lock:
            for key in [k for k, until in self._seen.items() if until < now]:
                del self._seen[key]
            if (kiosk_id, nonce) in self._seen:
                return True
            self._seen[(kiosk_id, nonce)] = expires_at
            return False
