"""Rendering a console page: the menu of the person's pages around a template, never cached
(a shared computer's back button must not show another person's figures)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub.staff.roles import may_do, pages_for
from hub.staff.sessions import SignedIn


def _templates(request: Request) -> Jinja2Templates:
    found: Jinja2Templates = request.app.state.console_templates
    return found


def page(
    request: Request, template: str, person: SignedIn | None, status: int = 200, **context: Any
) -> HTMLResponse:
    base = {
        "person": person,
        "pages": pages_for(person.role) if person else [],
        "current": "",
        "may_export": person is not None and may_do(person.role, "export"),
    }
    response: HTMLResponse = _templates(request).TemplateResponse(
        request, template, base | context, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response
