"""The admin's pages: staff accounts (``/console/users``) and the console's options
(``/console/settings``).

Each action calls the same functions as ``kiosk-hub user …`` (:mod:`hub.staff.users`) and
:mod:`hub.options`, which write the change and its audit entry (before and after) in one
transaction, with the signed-in admin as the actor. A new or reset TOTP secret is shown once,
on the answer to the form, as the command line prints it once. A refusal (a short password,
a name taken, the admin's own account) is audited, re-shows the page with why, and changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hub import options
from hub.api.deps import Hub
from hub.console import render
from hub.console.guard import Form, allowed, permitted, refused
from hub.errors import HubError, Invalid
from hub.staff import users
from hub.staff.roles import ROLES, may_do
from hub.staff.sessions import SignedIn

router = APIRouter(prefix="/console", include_in_schema=False)
Admin = Annotated[SignedIn, Depends(permitted("users"))]
SettingsAdmin = Annotated[SignedIn, Depends(permitted("settings"))]


def _users_page(
    request: Request,
    hub: Hub,
    person: SignedIn,
    message: str = "",
    status: int = 200,
    enrolled: users.Enrolled | None = None,
) -> HTMLResponse:
    now = hub.clock()
    accounts = [(account, account.state(now)) for account in users.listing(hub.db)]
    return render.page(
        request,
        "users.html",
        person,
        status,
        current="users",
        accounts=accounts,
        roles=ROLES,
        may_change=may_do(person.role, "users"),
        message=message,
        enrolled=enrolled,
    )


def _attempt(
    hub: Hub, person: SignedIn, action: str, target: str, change: Callable[[], str]
) -> tuple[str, int]:
    """Run ``change``; its message and 200, or why it was refused (audited) and the status."""
    try:
        return change(), 200
    except HubError as exc:
        return refused(hub, person, action, target, exc), exc.status


@router.get("/users")
def user_list(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("users"))]
) -> HTMLResponse:
    return _users_page(request, hub, person)


@router.post("/users")
def add_user(request: Request, hub: Hub, person: Admin, form: Form) -> HTMLResponse:
    """A new account; its TOTP secret is shown on the answer, once."""
    name, role = form.get("name", "").strip(), form.get("role", "")
    added: list[users.Enrolled] = []

    def add() -> str:
        password = _new_password(form)
        added.append(users.add(hub.db, name, role, password, hub.clock(), person.name))
        return f"User {name} added as {role}."

    message, status = _attempt(hub, person, "user.add", name, add)
    return _users_page(request, hub, person, message, status, added[0] if added else None)


@router.post("/users/{name}/disable")
def disable_user(request: Request, hub: Hub, person: Admin, form: Form, name: str) -> HTMLResponse:
    def disable() -> str:
        if name == person.name:
            raise Invalid("you can not disable your own account; another admin can")
        users.disable(hub.db, name, hub.clock(), person.name)
        return f"User {name} is disabled; their sessions have ended."

    message, status = _attempt(hub, person, "user.disable", name, disable)
    return _users_page(request, hub, person, message, status)


@router.post("/users/{name}/password")
def reset_password(
    request: Request, hub: Hub, person: Admin, form: Form, name: str
) -> HTMLResponse:
    def reset() -> str:
        users.reset_password(hub.db, name, _new_password(form), hub.clock(), person.name)
        return f"User {name} has a new password; any lock is lifted and their sessions ended."

    message, status = _attempt(hub, person, "user.reset_password", name, reset)
    return _users_page(request, hub, person, message, status)


@router.post("/users/{name}/totp")
def reset_totp(request: Request, hub: Hub, person: Admin, form: Form, name: str) -> HTMLResponse:
    issued: list[users.Enrolled] = []

    def reset() -> str:
        issued.append(users.reset_totp(hub.db, name, hub.clock(), person.name))
        return f"User {name} has a new TOTP secret; the old codes no longer work."

    message, status = _attempt(hub, person, "user.reset_totp", name, reset)
    return _users_page(request, hub, person, message, status, issued[0] if issued else None)


def _new_password(form: dict[str, str]) -> str:
    """The password typed twice, as the command line asks for it."""
    password = form.get("password", "")
    if password != form.get("password_again", ""):
        raise Invalid("the two passwords differ")
    return password


# ---------------------------------------------------------------------------- settings


def _settings_page(
    request: Request, hub: Hub, person: SignedIn, message: str = "", status: int = 200
) -> HTMLResponse:
    return render.page(
        request,
        "settings.html",
        person,
        status,
        current="settings",
        options=options.current(hub.db),
        may_change=may_do(person.role, "settings"),
        message=message,
    )


@router.get("/settings")
def settings(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("settings"))]
) -> HTMLResponse:
    return _settings_page(request, hub, person)


@router.post("/settings/second-count")
def second_count(request: Request, hub: Hub, person: SettingsAdmin, form: Form) -> HTMLResponse:
    def change() -> str:
        wanted = form.get("second_count", "")
        if wanted not in ("on", "off"):
            raise Invalid("choose on or off for the second count")
        options.set_second_count(hub.db, wanted == "on", person.name, hub.clock())
        return f"The second count is now {wanted}."

    message, status = _attempt(hub, person, "option", options.SECOND_COUNT, change)
    return _settings_page(request, hub, person, message, status)
