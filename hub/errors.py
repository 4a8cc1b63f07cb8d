"""Errors the hub's domain raises, each with the HTTP status and stable code it maps to.

The domain modules (enrollment, ingest, accounts…) know nothing of HTTP; they raise these,
and :mod:`hub.api.errors` turns them into :class:`contract.wire.ErrorBody` answers. The CLI
prints ``message``. Messages are written for the person who has to act on them.
"""

from __future__ import annotations

from contract.wire import Conflict


class HubError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(HubError):
    status = 404
    code = "not_found"


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"


class Forbidden(HubError):
    status = 403
    code = "forbidden"


class Gone(HubError):
    status = 410
    code = "gone"


class Invalid(HubError):
    """Input that is well-formed but not acceptable (an unknown kiosk name, bad limits)."""

    status = 422
    code = "invalid_request"


class AlreadyExists(HubError):
    status = 409
    code = "already_exists"


class JournalConflict(HubError):
    """A push the hub will not store (see :class:`contract.wire.Conflict`); the 409 body."""

    status = 409
    code = "conflict"

    def __init__(self, conflict: Conflict) -> None:
        super().__init__(conflict.reason)
        self.conflict = conflict
