"""``/console/posting-files``: the import files the hub wrote for the billing system.

When the billing system says a file never arrived, or an auditor asks what was sent on a
day, finance finds the file here by its transmission id, date and totals, and takes it again
byte for byte (:func:`hub.posting.files.rewrite`, the same bytes as ``kiosk-hub posting
rewrite``); each download is audited like every other export.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from hub.api.deps import Hub
from hub.console import render
from hub.console.guard import allowed, permitted
from hub.models import Transmission
from hub.posting.files import rewrite
from hub.staff import audit
from hub.staff.sessions import SignedIn

router = APIRouter(prefix="/console/posting-files", include_in_schema=False)
#: what a delimited import file is served as; fixed-width files are plain text too
TEXT = "text/plain; charset=utf-8"


@router.get("")
def listing(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("posting-files"))]
) -> HTMLResponse:
    with hub.db.read() as conn:
        rows = conn.execute(select(Transmission.__table__).order_by(Transmission.id.desc())).all()
    return render.page(
        request,
        "posting_files.html",
        person,
        current="posting-files",
        rows=rows,
        adapter=hub.settings.posting.adapter,
    )


@router.get("/{transmission_id}")
def download(
    hub: Hub, person: Annotated[SignedIn, Depends(permitted("export"))], transmission_id: int
) -> Response:
    """The file again: refused (404) until it was written, or if its records were changed."""
    name, content = rewrite(hub.db, transmission_id)
    with hub.db.write() as conn:
        audit.record(
            conn,
            hub.clock(),
            person.name,
            "export",
            name,
            detail=f"transmission {transmission_id}, {len(content)} bytes",
        )
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=TEXT, headers=headers)
