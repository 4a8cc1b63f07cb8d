"""``GET /metrics``: Prometheus' text format (hub.metrics), for the metrics or admin token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.api.deps import Hub
from hub.metrics import CONTENT_TYPE, HubMetrics
from hub.security import check_metrics

router = APIRouter(tags=["operations"])
_metrics_scheme = HTTPBearer(
    scheme_name="metricsToken",
    description="KIOSK_HUB_METRICS_TOKEN (read-only), or the admin token.",
    auto_error=False,
)


@router.get("/metrics", response_class=Response)
async def metrics(
    request: Request,
    hub: Hub,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_metrics_scheme)] = None,
) -> Response:
    """This process's requests and latencies, and the fleet's and postings' state."""
    check_metrics(
        (hub.settings.metrics_token, hub.settings.admin_token),
        credentials.credentials if credentials else None,
    )
    registry: HubMetrics = request.app.state.metrics
    body = await run_in_threadpool(registry.render)  # the database figures are queries
    return Response(body, media_type=CONTENT_TYPE)
