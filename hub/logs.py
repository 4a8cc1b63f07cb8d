"""The hub's log lines: JSON objects for systemd's journal (or text at a terminal), each with
the request it belongs to and the kiosk that sent it.

Every request gets an id: the one the balancer or the kiosk sent in ``X-Request-Id`` when it
is a short token, else a new one; it is in the answer's ``X-Request-Id`` and on every line
logged while the request was served, with the ``X-Kiosk-Id`` a kiosk signs with (checked
against the pattern of a kiosk id, never echoed otherwise). So a push that failed can be
followed from the balancer's log to the hub's lines of it. Bodies, secrets and signatures are
never logged.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.signing import HEADER_KIOSK_ID

LogFormat = Literal["auto", "json", "text"]
REQUEST_ID_HEADER = "x-request-id"
_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_KIOSK = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
kiosk: contextvars.ContextVar[str] = contextvars.ContextVar("kiosk", default="-")

JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id", "kiosk"]
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(kiosk)s]: %(message)s"


class Correlation(logging.Filter):
    """The request and kiosk being served, on every record logged while serving it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.kiosk = kiosk.get()
        record.__dict__.pop("color_message", None)  # uvicorn's terminal colours, not data
        return True


class RequestIds:
    """ASGI middleware: each request's id and kiosk into the context, the id into the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        given = headers.get(REQUEST_ID_HEADER, b"").decode("latin-1")
        rid = given if _TOKEN.match(given) else uuid.uuid4().hex
        sender = headers.get(HEADER_KIOSK_ID.lower(), b"").decode("latin-1")
        rid_token = request_id.set(rid)
        kiosk_token = kiosk.set(sender if _KIOSK.match(sender) else "-")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", ()), (b"x-request-id", rid.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            request_id.reset(rid_token)
            kiosk.reset(kiosk_token)


def wants_json(fmt: LogFormat, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("JOURNAL_STREAM")) if fmt == "auto" else fmt == "json"


def log_config(fmt: LogFormat, level: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: its loggers and the hub's through one handler to stderr."""
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": RENAMED,
        }
        if wants_json(fmt)
        else {"format": TEXT}
    )
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"correlation": {"()": Correlation}},
        "formatters": {"hub": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "hub",
                "filters": ["correlation"],
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.access": {"handlers": ["stderr"], "level": upper, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": upper},
    }
