"""Who may see what: every page and action of the console names the roles allowed on it,
here, in one table a person can read and a test can walk.

- technician: the fleet (kiosks, alerts, service state).
- clerk: counts cash, works suspense and exports; sees batches, but never the cash the
  kiosk expects before counting it (the count is blind).
- supervisor: approves variances, marks batches reconciled; sees every figure.
- admin: users and kiosks; approves no money, so sees no batch.
- auditor: reads everything, changes nothing.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from hub.models import STAFF_ROLES

Role = Literal["technician", "clerk", "supervisor", "admin", "auditor"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
assert ROLES == STAFF_ROLES, "hub.models.STAFF_ROLES and Role must list the same roles"

Page = Literal["fleet", "batches", "audit"]

#: the roles allowed on each page
PAGES: Final[dict[Page, frozenset[Role]]] = {
    "fleet": frozenset(ROLES),
    "batches": frozenset({"clerk", "supervisor", "auditor"}),
    "audit": frozenset({"supervisor", "admin", "auditor"}),
}

#: the roles shown the cash a kiosk says it took before anyone counted it
SEES_EXPECTED_CASH: Final[frozenset[Role]] = frozenset({"supervisor", "auditor"})


def may_see(role: str, page: Page) -> bool:
    return role in PAGES[page]


def pages_for(role: str) -> list[Page]:
    """The pages a role may open, in menu order."""
    return [page for page in PAGES if role in PAGES[page]]
