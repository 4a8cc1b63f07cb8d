"""Who may see what: every page and action of the console names the roles allowed on it,
here, in one table a person can read and a test can walk.

- technician: the fleet (kiosks, alerts, service state); takes a kiosk out of service and
  back, and issues enrollment codes.
- clerk: counts cash, works suspense and exports; sees batches, but never the cash the
  kiosk expects before counting it (the count is blind).
- supervisor: approves variances, marks batches reconciled; sees every figure.
- admin: users, kiosks and the console's options; approves no money, so sees no batch.
- auditor: reads everything, changes nothing.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from hub.models import STAFF_ROLES

Role = Literal["technician", "clerk", "supervisor", "admin", "auditor"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
assert ROLES == STAFF_ROLES, "hub.models.STAFF_ROLES and Role must list the same roles"

Page = Literal[
    "fleet",
    "batches",
    "payments",
    "suspense",
    "over-short",
    "posting-files",
    "audit",
    "users",
    "settings",
]
Action = Literal[
    "count",
    "approve",
    "reconcile",
    "retry",
    "resolve",
    "export",
    "users",
    "settings",
    "service",
    "enroll",
    "configure",
]

_MONEY: Final[frozenset[Role]] = frozenset({"clerk", "supervisor", "auditor"})

#: the roles allowed on each page (a batch's own page is part of "batches")
PAGES: Final[dict[Page, frozenset[Role]]] = {
    "fleet": frozenset(ROLES),
    "batches": _MONEY,
    "payments": _MONEY,
    "suspense": _MONEY,
    "over-short": _MONEY,
    "posting-files": _MONEY,
    "audit": frozenset({"supervisor", "admin", "auditor"}),
    "users": frozenset({"admin", "auditor"}),
    "settings": frozenset({"supervisor", "admin", "auditor"}),
}

#: how each page is named in the menu
LABELS: Final[dict[Page, str]] = {
    "fleet": "Fleet",
    "batches": "Batches",
    "payments": "Payments",
    "suspense": "Suspense",
    "over-short": "Over/short",
    "posting-files": "Posting files",
    "audit": "Audit",
    "users": "Users",
    "settings": "Settings",
}

#: the roles allowed to do each thing that changes money's records. A clerk counts and
#: works suspense; a supervisor signs counts off (never one they counted: hub.counts checks
#: the person); either may post a failed payment again; an auditor changes nothing.
ACTIONS: Final[dict[Action, frozenset[Role]]] = {
    "count": frozenset({"clerk"}),
    "approve": frozenset({"supervisor"}),
    "reconcile": frozenset({"supervisor"}),
    "retry": frozenset({"clerk", "supervisor"}),
    "resolve": frozenset({"clerk"}),
    "export": frozenset({"clerk", "supervisor", "auditor"}),
    # staff accounts and the console's options: the admin's, who handles no money
    "users": frozenset({"admin"}),
    "settings": frozenset({"admin"}),
    # a kiosk out of service and back, a new enrollment code: on site or for a new unit
    "service": frozenset({"technician", "admin"}),
    "enroll": frozenset({"technician", "admin"}),
    # a kiosk's location, limits, card fee, accepted notes and messages
    "configure": frozenset({"technician", "admin"}),
}

#: the roles shown the cash a kiosk says it took before anyone counted it
SEES_EXPECTED_CASH: Final[frozenset[Role]] = frozenset({"supervisor", "auditor"})


def may_see(role: str, page: Page) -> bool:
    return role in PAGES[page]


def may_do(role: str, action: Action) -> bool:
    return role in ACTIONS[action]


def pages_for(role: str) -> list[Page]:
    """The pages a role may open, in menu order."""
    return [page for page in PAGES if role in PAGES[page]]
