"""Credentials for fuzzing the hub with schemathesis: kiosk signatures and the admin token.

Both are ``requests`` auth objects because schemathesis sends its cases through
``requests`` (in-process, to the ASGI app). ``requests`` applies an auth object to the
*prepared* request, after the URL has been percent-encoded and the body serialized, so
:class:`KioskSignature` signs exactly the bytes and the target the hub will see, whatever
odd path segment, query or body the fuzzer generated. (Signing the generated ``Case``
instead would mean guessing how it is going to be encoded.)
"""

from __future__ import annotations

import requests
import requests.auth

from contract import signing


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    raise TypeError(f"can not sign a streamed body ({type(body).__name__})")


class KioskSignature(requests.auth.AuthBase):
    """Signs each request as ``kiosk_id`` with ``secret`` (fresh nonce, current time)."""

    def __init__(self, kiosk_id: str, secret: str) -> None:
        self.kiosk_id = kiosk_id
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        method = request.method or "GET"
        # ``path_url`` is the path and ``?query`` exactly as they go on the wire, which is
        # what the hub rebuilds from the ASGI scope's ``raw_path`` and ``query_string``.
        target = request.path_url
        headers = signing.sign(
            method, target, _body_bytes(request.body), self.kiosk_id, self.secret
        )
        request.headers.update(headers)
        return request


class BearerToken(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` (the hub's staff endpoints)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class StripCredentials(requests.auth.AuthBase):
    """Removes any credential the fuzzer generated itself (schemathesis may fill in the
    security schemes' header), so an "unsigned" request really carries none."""

    NAMES = (*signing.SIGNED_HEADERS, "Authorization")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        for name in self.NAMES:
            request.headers.pop(name, None)
        return request
