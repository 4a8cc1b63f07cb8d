"""Request signing: what the hub accepts and every way it refuses."""

from __future__ import annotations

import pytest

from contract import signing
from contract.signing import MemoryNonceStore, SignatureError, new_secret, secret_key, sign, verify

NOW = 1_740_000_000.0
SECRET = new_secret()


def _verify(
    headers: dict[str, str],
    *,
    body: bytes = b"{}",
    path: str = "/v1/x?a=1",
    method: str = "POST",
    now: float = NOW,
    nonces: MemoryNonceStore | None = None,
    secrets: dict[str, str] | None = None,
) -> str:
    known = {"k1": SECRET} if secrets is None else secrets
    return verify(
        method,
        path,
        body,
        headers,
        secret_for=known.get,
        nonces=nonces or MemoryNonceStore(lambda: now),
        now=now,
    )


def test_a_signed_request_verifies() -> None:
    headers = sign("POST", "/v1/x?a=1", b"{}", "k1", SECRET, now=NOW)
    assert set(headers) == set(signing.SIGNED_HEADERS)
    assert _verify(headers) == "k1"
    lowered = {name.lower(): value for name, value in headers.items()}
    assert _verify(lowered, nonces=MemoryNonceStore(lambda: NOW)) == "k1"


def test_secrets_are_32_random_bytes_in_urlsafe_base64() -> None:
    assert len(secret_key(SECRET)) == 32
    assert new_secret() != new_secret()
    assert set(SECRET) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    with pytest.raises(ValueError, match="bytes"):
        secret_key("c2hvcnQ")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"method": "PUT"}, "bad signature"),
        ({"path": "/v1/x?a=2"}, "bad signature"),
        ({"path": "/v1/y?a=1"}, "bad signature"),
        ({"body": b'{"a":1}'}, "bad signature"),
        ({"now": NOW + 301}, "clock skew of 301 s"),
        ({"now": NOW - 301}, "clock skew of 301 s"),
        ({"secrets": {}}, "unknown kiosk"),
        ({"secrets": {"k1": new_secret()}}, "bad signature"),
    ],
)
def test_anything_changed_is_refused(change: dict[str, object], reason: str) -> None:
    headers = sign("POST", "/v1/x?a=1", b"{}", "k1", SECRET, now=NOW)
    with pytest.raises(SignatureError, match=reason):
        _verify(headers, **change)  # type: ignore[arg-type]


def test_skew_within_the_window_is_accepted() -> None:
    headers = sign("POST", "/v1/x?a=1", b"{}", "k1", SECRET, now=NOW)
    assert _verify(headers, now=NOW + 299) == "k1"


def test_a_replayed_nonce_is_refused() -> None:
    nonces = MemoryNonceStore(lambda: NOW)
    headers = sign("POST", "/v1/x?a=1", b"{}", "k1", SECRET, now=NOW)
    assert _verify(headers, nonces=nonces) == "k1"
    with pytest.raises(SignatureError, match="replayed"):
        _verify(headers, nonces=nonces)


def test_a_bad_signature_does_not_use_up_the_nonce() -> None:
    nonces = MemoryNonceStore(lambda: NOW)
    good = sign("POST", "/v1/x?a=1", b"{}", "k1", SECRET, now=NOW, nonce="n" * 20)
    forged = good | {signing.HEADER_SIGNATURE: "0" * 64}
    with pytest.raises(SignatureError, match="bad signature"):
        _verify(forged, nonces=nonces)
    assert _verify(good, nonces=nonces) == "k1"


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        (signing.HEADER_KIOSK_ID, "", "missing header X-Kiosk-Id"),
        (signing.HEADER_TIMESTAMP, "soon", "unix seconds"),
        (signing.HEADER_NONCE, "short", "16-64"),
        (signing.HEADER_SIGNATURE, "XYZ", "64 lowercase hex"),
        (signing.HEADER_KIOSK_ID, "Not A Kiosk", "unknown kiosk"),
    ],
)
def test_malformed_headers_are_refused(header: str, value: str, reason: str) -> None:
    headers = sign("POST", "/v1/x?a=1", b"{}", "k1", SECRET, now=NOW) | {header: value}
    with pytest.raises(SignatureError, match=reason):
        _verify(headers)


def test_a_damaged_secret_on_the_hub_is_a_refusal_not_a_crash() -> None:
    headers = sign("POST", "/v1/x?a=1", b"{}", "k1", SECRET, now=NOW)
    with pytest.raises(SignatureError, match="enroll it again"):
        _verify(headers, secrets={"k1": "!!"})


def test_nonces_are_forgotten_once_they_can_no_longer_pass_the_skew_check() -> None:
    clock = [NOW]
    nonces = MemoryNonceStore(lambda: clock[0])
    assert not nonces.seen("k1", "n" * 20, NOW + 301)
    clock[0] = NOW + 400
    assert not nonces.seen("k1", "m" * 20, NOW + 701)
    assert len(nonces._seen) == 1
