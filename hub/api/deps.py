"""Dependencies shared by the routers: the hub context, the signed kiosk, the admin check."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from contract.signing import HEADER_SIGNATURE
from hub.context import HubContext
from hub.errors import HubError
from hub.security import authenticate, check_admin

_SIGNATURE_DOC = (
    "HMAC-SHA256 request signature (see docs/hub.md, 'Signing'): the headers X-Kiosk-Id, "
    "X-Timestamp, X-Nonce and X-Signature = hex HMAC(secret, METHOD\\nTARGET\\nTIMESTAMP"
    "\\nNONCE\\nsha256_hex(BODY)), TARGET being the path and query exactly as sent."
)
_signature_scheme = APIKeyHeader(
    name=HEADER_SIGNATURE,
    scheme_name="kioskSignature",
    description=_SIGNATURE_DOC,
    auto_error=False,
)
_admin_scheme = HTTPBearer(
    scheme_name="adminToken",
    description="The hub's admin token (KIOSK_HUB_ADMIN_TOKEN or serve --admin-token-file).",
    auto_error=False,
)


def get_hub(request: Request) -> HubContext:
    hub: HubContext = request.app.state.hub
    return hub


Hub = Annotated[HubContext, Depends(get_hub)]


def request_target(request: Request) -> str:
    """The path and query exactly as the kiosk sent (and signed) them, still %-encoded."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


_SIGNED_KIOSK = "signed_kiosk"  # where the route leaves the kiosk it authenticated


async def _authenticate(request: Request) -> str:
    """The kiosk that signed this request, from the raw bytes; 401 with a short reason
    otherwise. Its nonce is used up, so this runs once per request."""
    hub = get_hub(request)
    body = await request.body()
    if len(body) > hub.settings.max_body_bytes:
        raise HubError("the request body is too large", code="too_large", status=413)
    return await run_in_threadpool(
        authenticate,
        hub.db,
        hub.clock,
        hub.settings.max_skew_s,
        hub.settings.clock_margin_s,
        request.method,
        request_target(request),
        body,
        dict(request.headers),
    )


async def signed_kiosk(
    request: Request,
    _signature: Annotated[str | None, Security(_signature_scheme)] = None,
) -> str:
    """The kiosk that signed this request (checked by :class:`SignedFirstRoute` before the
    body was parsed, or here on a route of another class)."""
    kiosk: str | None = getattr(request.state, _SIGNED_KIOSK, None)
    if kiosk is None:
        kiosk = await _authenticate(request)
        setattr(request.state, _SIGNED_KIOSK, kiosk)
    return kiosk


SignedKiosk = Annotated[str, Depends(signed_kiosk)]


class SignedFirstRoute(APIRoute):
    """A route that checks the signature before FastAPI reads the body as JSON.

    FastAPI decodes a JSON body before it runs any dependency, so without this a request
    with no signature and a malformed body would be told about its JSON (422) instead of
    being refused (401): an unauthenticated caller learns how the hub parses, and the
    refusal depends on what was sent rather than on who sent it.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not _depends_on(self.dependant, signed_kiosk):
            return handler

        async def signed_first(request: Request) -> Response:
            setattr(request.state, _SIGNED_KIOSK, await _authenticate(request))
            return await handler(request)

        return signed_first


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def admin(
    hub: Hub,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_admin_scheme)] = None,
) -> None:
    check_admin(hub.settings.admin_token, credentials.credentials if credentials else None)


Admin = Depends(admin)
