"""What the hub does with a request before any route sees it: refuse what it can from the
headers alone, then read the body whole, within a size, a time and a count of bodies being
read at once.

A client that can not sign must not make the hub hold anything. So a POST with a body to
a signed path (``/v1/kiosks/…``, ``/v1/accounts/…``) has its signature headers checked first
(present, well formed, timestamp within the skew window, a kiosk the hub has enrolled): a
refusal is a 401 sent before a byte of the body is read, on a connection then closed. Only
the signature itself needs the body; it is checked by the route as before.

Every body is then read here, not by the route:

- over ``max_body_bytes`` (by ``Content-Length`` at once, or counted as a chunked body
  arrives): 413;
- not whole within ``body_timeout_s``: 408, so a client trickling a body can not keep the
  hub's memory and a connection for as long as it likes;
- more than ``max_bodies`` already being read in this process: 503 with ``Retry-After``.
  The memory bodies can take is bounded by ``max_bodies * max_body_bytes``, whatever the
  number of connections; a kiosk backs off and pushes again.

The route then reads the body from memory, as if it had arrived at once.
"""

from __future__ import annotations

import time

import anyio
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.signing import SignatureError, check_headers
from contract.wire import ErrorBody
from hub.context import HubContext
from hub.models import Kiosk

#: paths every request to which is signed by a kiosk
SIGNED_PREFIXES = ("/v1/kiosks/", "/v1/accounts/")


class _Refusal(Exception):
    def __init__(self, status: int, error: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.retry_after = retry_after


class RequestGuard:
    """The ASGI middleware described above, over one hub's settings and database."""

    def __init__(self, app: ASGIApp, hub: HubContext) -> None:
        self.app = app
        self.hub = hub
        self.reading = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        try:
            if (
                scope.get("method") == "POST"  # other methods: routing answers 405 as before
                and _has_body(headers)
                and str(scope.get("path", "")).startswith(SIGNED_PREFIXES)
            ):
                await self._check_signer(headers)
            body = await self._read_body(headers, receive)
        except _Refusal as refusal:
            await _refuse(send, refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _check_signer(self, headers: dict[str, str]) -> None:
        try:
            values = check_headers(
                headers, now=self.hub.clock().timestamp(), max_skew=self.hub.settings.max_skew_s
            )
        except SignatureError as exc:
            raise _Refusal(401, "unauthorized", exc.reason) from None
        if not await run_in_threadpool(self._enrolled, values["X-Kiosk-Id"]):
            raise _Refusal(401, "unauthorized", "unknown kiosk")

    def _enrolled(self, kiosk_id: str) -> bool:
        with self.hub.db.read() as conn:
            secret = conn.execute(select(Kiosk.secret).where(Kiosk.id == kiosk_id)).scalar()
        return secret is not None

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.hub.settings.max_body_bytes
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise _Refusal(413, "too_large", f"the request body is over {limit} bytes")
        if not _has_body(headers):
            return b""
        if self.reading >= self.hub.settings.max_bodies:
            raise _Refusal(503, "busy", "the hub is reading too many requests; try again", 1)
        self.reading += 1
        try:
            return await self._receive_all(receive, limit)
        finally:
            self.reading -= 1

    async def _receive_all(self, receive: Receive, limit: int) -> bytes:
        timeout = self.hub.settings.body_timeout_s
        chunks: list[bytes] = []
        size = 0
        started = time.monotonic()
        with anyio.move_on_after(timeout) as scope:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Refusal(400, "bad_request", "the client went away")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise _Refusal(413, "too_large", f"the request body is over {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
        assert scope.cancelled_caught
        waited = time.monotonic() - started
        raise _Refusal(
            408,
            "request_timeout",
            f"the request body did not arrive whole within {timeout:g} s ({waited:.0f} s)",
        )


def _has_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length", "")
    return length not in ("", "0") or "chunked" in headers.get("transfer-encoding", "")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then what the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, refusal: _Refusal) -> None:
    data = ErrorBody(error=refusal.error, message=refusal.message).model_dump_json().encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"connection", b"close"),  # what is left of the body is never read
    ]
    if refusal.retry_after:
        headers.append((b"retry-after", str(refusal.retry_after).encode()))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
