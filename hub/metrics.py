"""Prometheus metrics of a hub process, in the text format, with the official client.

Two kinds, because a hub is N stateless processes on one database:

- what *this process* served: requests by route template, method and status, and their
  latency (a histogram). Prometheus scrapes every process and sums them;
- what *the database* holds, read at each scrape (every process answers the same): entries
  stored and waiting per kiosk, each kiosk's last contact, postings by status (held ones
  apart), the oldest posting still to go, open alerts by kind.

Labels are route templates (``/v1/kiosks/{kiosk_id}/journal``), never raw paths, and kiosk
ids, which the hub itself created: a client can not grow the number of series.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.clock import Clock
from hub.db import Database
from hub.models import Alert, Kiosk, Posting

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: push latencies the fleet's goal is about (<= 0.5 s p99) sit between these bounds
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HubMetrics:
    """One app's registry: its request metrics and the database's figures."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "kiosk_hub_requests",
            "HTTP requests this process answered",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "kiosk_hub_request_seconds",
            "Time this process took to answer a request, by route",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(DatabaseFigures(db, clock))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class DatabaseFigures(Collector):
    """The fleet's and the postings' state, read from the database at each scrape."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        stored = CounterMetricFamily(
            "kiosk_hub_entries_stored", "Journal entries the hub holds, per kiosk", labels=["kiosk"]
        )
        waiting = GaugeMetricFamily(
            "kiosk_hub_entries_waiting",
            "Entries a kiosk said it held beyond the hub's copy at its last push",
            labels=["kiosk"],
        )
        contact = GaugeMetricFamily(
            "kiosk_hub_kiosk_last_contact_timestamp_seconds",
            "When each kiosk last reached the hub (Unix time)",
            labels=["kiosk"],
        )
        clock = GaugeMetricFamily(
            "kiosk_hub_kiosk_clock_offset_seconds",
            "Each kiosk's clock less the hub's at its last signed request",
            labels=["kiosk"],
        )
        postings = GaugeMetricFamily(
            "kiosk_hub_postings",
            "Postings by status; held ones (kept for a clerk) counted apart",
            labels=["status", "held"],
        )
        oldest = GaugeMetricFamily(
            "kiosk_hub_posting_oldest_unposted_age_seconds",
            "Age of the oldest posting not yet posted and not held (0: none)",
        )
        alerts = GaugeMetricFamily(
            "kiosk_hub_alerts_open", "Alerts not yet resolved, by kind", labels=["kind"]
        )
        with self.db.read() as conn:
            kiosks = conn.execute(
                select(
                    Kiosk.id,
                    Kiosk.acked_seq,
                    Kiosk.reported_head_seq,
                    Kiosk.last_contact_at,
                    Kiosk.clock_offset_s,
                )
            ).all()
            by_status = conn.execute(
                select(Posting.status, Posting.held, func.count()).group_by(
                    Posting.status, Posting.held
                )
            ).all()
            first = conn.execute(
                select(func.min(Posting.created_at)).where(
                    Posting.status.in_(("pending", "failed")), Posting.held.is_(False)
                )
            ).scalar()
            open_alerts = conn.execute(
                select(Alert.kind, func.count())
                .where(Alert.resolved_at.is_(None))
                .group_by(Alert.kind)
            ).all()
        for kiosk in kiosks:
            stored.add_metric([kiosk.id], kiosk.acked_seq)
            if kiosk.reported_head_seq is not None:
                waiting.add_metric([kiosk.id], max(0, kiosk.reported_head_seq - kiosk.acked_seq))
            if kiosk.last_contact_at is not None:
                contact.add_metric([kiosk.id], _aware(kiosk.last_contact_at).timestamp())
            if kiosk.clock_offset_s is not None:
                clock.add_metric([kiosk.id], kiosk.clock_offset_s)
        for status, held, count in by_status:
            postings.add_metric([status, "true" if held else "false"], count)
        oldest.add_metric([], 0.0 if first is None else (now - _aware(first)).total_seconds())
        for kind, count in open_alerts:
            alerts.add_metric([kind], count)
        yield from (stored, waiting, contact, clock, postings, oldest, alerts)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class RequestMetrics:
    """ASGI middleware: each HTTP request's route, status and time into ``metrics``."""

    def __init__(self, app: ASGIApp, metrics: HubMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if template.startswith("/console/static"):
                template = "/console/static"
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
