"""The console's pages and actions, under ``/console``.

| path | who | what |
| --- | --- | --- |
| ``GET/POST /console/sign-in`` | anyone | name, password, 6-digit code |
| ``POST /console/sign-out`` | signed in | ends the session (CSRF-checked) |
| ``GET /console/fleet`` | every role | kiosks, last contact, alerts, in/out of service |
| ``GET /console/batches`` | clerk, supervisor, auditor | batches, open or collected |
| ``GET /console/batches/{kiosk}/{batch}`` | the same | collection, settlement, count |
| ``GET /console/payments``, ``/suspense``, ``/over-short`` | the same | (:mod:`.money`) |
| ``GET /console/posting-files`` | the same | import files written (:mod:`.posting_files`) |
| ``GET /console/audit`` | supervisor, admin, auditor | the audit log |
| ``GET /console/users`` | admin, auditor | staff accounts (:mod:`.admin`) |
| ``GET /console/settings`` | supervisor, admin, auditor | the second count (:mod:`.admin`) |

Actions (``hub.staff.roles.ACTIONS``): a batch's ``…/count`` (clerk), ``…/approve`` and
``…/reconcile`` (supervisor) in :mod:`.counting`; ``/console/payments/{id}/retry`` (clerk,
supervisor) and ``/console/suspense/{id}`` (clerk) in :mod:`.money`; users and settings
(admin) in :mod:`.admin`; a kiosk's service state and enrollment code (technician, admin)
from the fleet page, in :mod:`.service`; a kiosk's settings (technician, admin) on its
own page, ``/console/fleet/{kiosk}``, in :mod:`.kiosk_settings`.

The sign-in form has a CSRF token too, bound to a short-lived cookie of its own (there is no
session yet), so another site can not sign a browser in as someone else.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from hub import counts
from hub.api.deps import Hub
from hub.console import (
    admin,
    batches,
    counting,
    downloads,
    kiosk_settings,
    money,
    posting_files,
    render,
    service,
)
from hub.console.guard import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Form,
    NotAllowed,
    NotSignedIn,
    StaleForm,
    allowed,
    form_fields,
    same_token,
)
from hub.console.templating import STATIC, templates
from hub.context import HubContext
from hub.staff import audit, sessions
from hub.staff.roles import SEES_EXPECTED_CASH, pages_for
from hub.staff.sessions import SignedIn
from hub.staff.signin import SignInRefused, sign_in

PREFIX = "/console"
SIGN_IN = f"{PREFIX}/sign-in"
SIGNIN_COOKIE_AGE_S = 30 * 60

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _secure(request: Request, hub: Hub) -> bool:
    """Mark cookies Secure when the browser reached us over TLS, directly or via a proxy the
    settings vouch for."""
    return request.url.scheme == "https" or hub.settings.behind_tls


_page = render.page


def _home(person: SignedIn) -> str:
    pages = pages_for(person.role)
    return f"{PREFIX}/{pages[0]}" if pages else SIGN_IN


# ----------------------------------------------------------------------------- sign in


def _sign_in_page(
    request: Request, hub: Hub, message: str = "", status: int = 200, name: str = ""
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = _page(
        request, "sign_in.html", None, status, form_token=token, message=message, name=name
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        max_age=SIGNIN_COOKIE_AGE_S,
        path=SIGN_IN,
        httponly=True,
        samesite="strict",
        secure=_secure(request, hub),
    )
    return response


@router.get("")
@router.get("/")
def home(request: Request, hub: Hub) -> Response:
    person = sessions.current(hub.db, request.cookies.get(SESSION_COOKIE), hub.clock())
    return RedirectResponse(_home(person) if person else SIGN_IN, status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, hub: Hub) -> Response:
    person = sessions.current(hub.db, request.cookies.get(SESSION_COOKIE), hub.clock())
    if person is not None:
        return RedirectResponse(_home(person), status_code=303)
    return _sign_in_page(request, hub)


@router.post("/sign-in")
async def sign_in_submit(request: Request, hub: Hub) -> Response:
    fields = await form_fields(request)
    name = fields.get("name", "").strip()
    if not same_token(fields.get(CSRF_FIELD), request.cookies.get(SIGNIN_COOKIE) or "\0"):
        message = "The sign-in form had expired. Please sign in again."
        return _sign_in_page(request, hub, message, 403, name)
    try:
        new = await run_in_threadpool(
            sign_in,
            hub.db,
            name,
            fields.get("password", ""),
            fields.get("code", ""),
            hub.clock(),
        )
    except SignInRefused as exc:
        return _sign_in_page(request, hub, exc.message, 401, name)
    person = SignedIn(0, new.name, new.role, new.csrf_token)
    response = RedirectResponse(_home(person), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request, hub),
    )
    response.delete_cookie(SIGNIN_COOKIE, path=SIGN_IN)
    return response


@router.post("/sign-out")
def sign_out(request: Request, hub: Hub, _form: Form) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sessions.end(hub.db, token, hub.clock())
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# ------------------------------------------------------------------------------ pages


@router.get("/batches")
def batch_list(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("batches"))]
) -> HTMLResponse:
    return _page(
        request,
        "batches.html",
        person,
        current="batches",
        rows=batches.rows(hub.db),
        count_status=counts.statuses(hub.db),
        sees_cash=person.role in SEES_EXPECTED_CASH,
    )


@router.get("/audit")
def audit_log(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("audit"))]
) -> HTMLResponse:
    return _page(request, "audit.html", person, current="audit", entries=audit.listing(hub.db))


# ---------------------------------------------------------------------------- install


def install(app: FastAPI) -> None:
    """Add the console to the hub's app: its routes, its stylesheet, and the answers to a
    request without a session (a redirect), a role refused (403) and a stale form (403)."""
    hub: HubContext = app.state.hub
    app.state.console_templates = templates(hub.settings.zone)
    app.include_router(router)
    app.include_router(counting.router)
    app.include_router(money.router)
    app.include_router(downloads.router)
    app.include_router(posting_files.router)
    app.include_router(admin.router)
    app.include_router(service.router)
    app.include_router(kiosk_settings.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        response = RedirectResponse(SIGN_IN, status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        return _page(request, "refused.html", exc.person, 403, message=exc.message)

    @app.exception_handler(StaleForm)
    async def _stale(request: Request, exc: StaleForm) -> Response:
        message = (
            "This form was out of date or did not come from this console, so nothing was "
            "changed. Reload the page and try again."
        )
        return _page(request, "refused.html", exc.person, 403, message=message)
