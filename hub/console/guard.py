"""Who is asking, and may they: the console's dependencies.

- :func:`signed_in`: the session behind the cookie, or :class:`NotSignedIn` (the console
  answers with a redirect to the sign-in page; the JSON API is not touched and keeps its 401).
- :func:`allowed`: a dependency per page that refuses a role not in
  :data:`hub.staff.roles.PAGES` with :class:`NotAllowed` (a 403 page), audited;
  :func:`permitted` does the same for an action of :data:`hub.staff.roles.ACTIONS`.
- :func:`checked_form`: a POST's form fields, after its CSRF token matched the session's.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request

from hub.api.deps import Hub
from hub.errors import HubError
from hub.staff import audit, sessions
from hub.staff.roles import Action, Page, may_do, may_see
from hub.staff.sessions import SignedIn

SESSION_COOKIE = "kiosk_console"
SIGNIN_COOKIE = "kiosk_console_signin"
CSRF_FIELD = "csrf_token"


class NotSignedIn(Exception):
    """No live session: to the sign-in page."""


class NotAllowed(Exception):
    """The person's role may not see or do this."""

    def __init__(self, person: SignedIn, what: str, message: str = "") -> None:
        super().__init__(what)
        self.person = person
        self.what = what
        self.message = message or f"Your role ({person.role}) may not open the {what} page."


class StaleForm(Exception):
    """A form without the right CSRF token: refused, nothing changed."""

    def __init__(self, person: SignedIn | None) -> None:
        super().__init__("stale form")
        self.person = person


def signed_in(request: Request, hub: Hub) -> SignedIn:
    person = sessions.current(hub.db, request.cookies.get(SESSION_COOKIE), hub.clock())
    if person is None:
        raise NotSignedIn
    return person


Person = Annotated[SignedIn, Depends(signed_in)]


def allowed(page: Page) -> Callable[[Person, Hub], SignedIn]:
    """A dependency: the person, if their role may see ``page``."""

    def check(person: Person, hub: Hub) -> SignedIn:
        if not may_see(person.role, page):
            now = hub.clock()
            with hub.db.write() as conn:
                audit.record(
                    conn, now, person.name, "page.refused", page, detail=f"role {person.role}"
                )
            raise NotAllowed(person, page)
        return person

    return check


ACTION_NAMES: dict[Action, str] = {
    "count": "count a batch",
    "approve": "approve a variance",
    "reconcile": "mark a batch reconciled",
    "retry": "retry a posting",
    "resolve": "resolve a payment in suspense",
    "export": "download exports",
    "users": "change staff accounts",
    "settings": "change the console's settings",
    "service": "take a kiosk out of service or back",
    "enroll": "issue enrollment codes",
    "configure": "change a kiosk's settings",
}


def permitted(action: Action) -> Callable[[Person, Hub], SignedIn]:
    """A dependency: the person, if their role may do ``action``; else refused before the
    form is even read, audited, and nothing changed."""

    def check(person: Person, hub: Hub) -> SignedIn:
        if not may_do(person.role, action):
            with hub.db.write() as conn:
                audit.record(
                    conn,
                    hub.clock(),
                    person.name,
                    "action.refused",
                    action,
                    detail=f"role {person.role}",
                )
            message = f"Your role ({person.role}) may not {ACTION_NAMES[action]}."
            raise NotAllowed(person, action, message)
        return person

    return check


def refused(hub: Hub, person: SignedIn, action: str, target: str, exc: HubError) -> str:
    """Audit an action refused for what it asked (bad input, a stale page, a rule), in a
    transaction of its own since the refused change wrote nothing; returns what to tell the
    person."""
    with hub.db.write() as conn:
        audit.record(
            conn, hub.clock(), person.name, f"{action}.refused", target, detail=exc.message
        )
    return f"Nothing was changed: {exc.message}"


async def form_fields(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, first value of each field."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def checked_form(request: Request, person: Person) -> dict[str, str]:
    """The form of a POST by a signed-in person, once its CSRF token matched."""
    fields = await form_fields(request)
    if not same_token(fields.get(CSRF_FIELD), person.csrf_token):
        raise StaleForm(person)
    return fields


Form = Annotated[dict[str, str], Depends(checked_form)]
