"""The FastAPI application: ``create_app(settings)``.

The app keeps nothing between requests but a connection pool: every fact is in the
database, so any number of processes can serve behind a load balancer. A running app
retries pending and failed postings every ``posting.interval_s`` seconds (0 turns that
off; ``kiosk-hub post`` does the same by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from hub import __version__, console, options
from hub.api import errors, routes_admin, routes_kiosk, routes_metrics
from hub.api.guard import RequestGuard
from hub.clock import Clock, utc_now
from hub.context import HubContext
from hub.logs import RequestIds
from hub.metrics import HubMetrics, RequestMetrics
from hub.settings import HubSettings

log = logging.getLogger("hub.api")

DESCRIPTION = """\
The hub of the utility payment kiosks: kiosks enroll, replicate their hash-chained journal,
and pull account data and their settings; staff read alerts, postings, payments, batches
and kiosk health. Amounts are integer cents. See docs/hub.md.
"""


async def _post_periodically(hub: HubContext, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            report = await run_in_threadpool(hub.poster.run)
            if report.posted or report.failed:
                log.info("posting: %d posted, %d failed", len(report.posted), len(report.failed))
        except Exception:  # keep the loop alive: the next round may succeed
            log.exception("background posting failed")


def follow_log_level(hub: HubContext) -> str | None:
    """Set this process's log level to the one in the database, if one is set and it
    differs; returns the level now in force by that option (None: not set)."""
    with hub.db.read() as conn:
        wanted = options.log_level(conn)
    if wanted is None:
        return None
    root = logging.getLogger()
    level = logging.getLevelName(wanted.upper())
    if root.level != level:
        root.setLevel(level)
        for name in ("uvicorn", "uvicorn.access"):
            logging.getLogger(name).setLevel(level)
        log.warning("log level now %s (hub option)", wanted)
    return wanted


async def _follow_log_level(hub: HubContext) -> None:
    while True:
        try:
            await run_in_threadpool(follow_log_level, hub)
        except Exception:  # the database away for a while: the level stays as it is
            log.exception("could not read the log level option")
        await asyncio.sleep(options.LOG_LEVEL_POLL_S)


def create_app(settings: HubSettings, *, clock: Clock = utc_now) -> FastAPI:
    """The hub's API over the database the settings name (migrated to the newest schema).

    ``clock`` is the hub's wall clock (tests move it to expire codes and skew signatures).
    """
    hub = HubContext.open(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_follow_log_level(hub))]
        if settings.posting.interval_s > 0:
            tasks.append(asyncio.create_task(_post_periodically(hub, settings.posting.interval_s)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            hub.close()

    app = FastAPI(
        title="Utility kiosk hub",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.metrics = metrics = HubMetrics(hub.db, clock)
    errors.install(app)
    app.include_router(routes_kiosk.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_metrics.router)
    console.install(app)
    app.add_middleware(RequestGuard, hub=hub)
    app.add_middleware(RequestMetrics, metrics=metrics)  # refusals count too
    app.add_middleware(RequestIds)  # outermost: every line logged has its request
    return app
