"""Every error answered as JSON a program can branch on (:class:`contract.wire.ErrorBody`).

Schema problems are 422 with each problem's location and message (never the offending
input: it may hold an enrollment code or a secret); a refused signature is 401 with a short
reason; a journal conflict is 409 with :class:`contract.wire.Conflict`; anything unforeseen is a
500 whose details go to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contract.wire import LONE_SURROGATE, ErrorBody, ErrorDetail
from hub.errors import HubError, JournalConflict

log = logging.getLogger("hub.api")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def _body(error: str, message: str, details: list[ErrorDetail] | None = None) -> dict[str, object]:
    return ErrorBody(error=error, message=message, details=details or []).model_dump(mode="json")


def _text(value: object) -> str:
    """``value`` as text JSON can carry: a lone surrogate (from a ``\\ud800`` escape in the
    request) would make the answer itself fail to encode, turning a 422 into a 500."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "string_unicode":
        return f"a lone surrogate, {LONE_SURROGATE}"
    return _text(error.get("msg", ""))


def install(app: FastAPI) -> None:
    @app.exception_handler(JournalConflict)
    async def _conflict(_request: Request, exc: JournalConflict) -> JSONResponse:
        return JSONResponse(status_code=409, content=exc.conflict.model_dump(mode="json"))

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content=_body(exc.code, exc.message))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            ErrorDetail(
                loc=[
                    part if isinstance(part, int) else _text(part) for part in error.get("loc", ())
                ],
                message=_message(error),
                type=str(error.get("type", "")),
            )
            for error in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in d.loc)}: {d.message}" for d in details[:5])
        return JSONResponse(
            status_code=422,
            content=_body("invalid_request", f"the request is not valid: {summary}", details),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI reports a body that is not UTF-8 as a bare 400; it is malformed JSON
            detail = ErrorDetail(loc=["body"], message=str(exc.__cause__), type="json_invalid")
            return JSONResponse(
                status_code=422,
                content=_body("invalid_request", "the body is not UTF-8 JSON", [detail]),
            )
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            # FastAPI reports JSON too deeply nested for its parser as a bare 400
            message = "the body's JSON is nested too deeply to read"
            detail = ErrorDetail(loc=["body"], message=message, type="json_invalid")
            return JSONResponse(
                status_code=422, content=_body("invalid_request", message, [detail])
            )
        code = _CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(
            status_code=exc.status_code,
            content=_body(code, message),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=500,
            content=_body("internal", "the hub failed to answer; its log has the details"),
        )
