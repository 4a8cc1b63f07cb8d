"""The kiosk's figures for Prometheus, as a file node_exporter's textfile collector reads.

A kiosk sits behind the city's firewall and often behind NAT: nothing scrapes it directly,
but the node_exporter a city runs on every appliance does, and it picks up ``*.prom`` files
from its textfile directory. The file is rewritten atomically (prometheus_client's
``write_to_textfile``) every ``[metrics] interval_s``: each device's health, the journal's
head and what the hub has not acknowledged, payments by method, whether the kiosk is in
service. Reading them costs an index and a count, never a scan of the journal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from composition.periodic import Periodic
from composition.wiring import Kiosk
from kiosk.engine.states import State
from kiosk.ports import Health
from kiosk.store.models import Payment

HEALTH_VALUES = {Health.OK: 2, Health.DEGRADED: 1, Health.FAULT: 0}


class KioskFigures(Collector):
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk

    def collect(self) -> Iterator[Metric]:
        kiosk = self.kiosk
        health = GaugeMetricFamily(
            "kiosk_device_health",
            "Each device's health: 2 ok, 1 degraded (works, needs a look), 0 fault",
            labels=["device"],
        )
        ports = kiosk.hardware.ports
        for name, port in (
            ("bill_acceptor", ports.acceptor),
            ("card_terminal", ports.terminal),
            ("receipt_printer", ports.printer),
            ("barcode_scanner", ports.scanner),
        ):
            health.add_metric([name], HEALTH_VALUES[port.health().state])
        journal = kiosk.journal
        head = GaugeMetricFamily("kiosk_journal_last_seq", "The journal's last entry")
        head.add_metric([], journal.last_seq())
        yield from (health, head)
        unsent = kiosk.unsent()
        if unsent is not None:
            waiting = GaugeMetricFamily(
                "kiosk_journal_unsent", "Journal entries the hub has not acknowledged yet"
            )
            waiting.add_metric([], unsent)
            yield waiting
        paid = CounterMetricFamily(
            "kiosk_payments", "Payments completed on this kiosk, by method", labels=["method"]
        )
        with journal.engine.connect() as conn:
            counts = conn.execute(
                select(Payment.method, func.count()).group_by(Payment.method)
            ).all()
        for method, count in counts:
            paid.add_metric([method], count)
        in_service = GaugeMetricFamily(
            "kiosk_in_service", "1 while residents can pay here, 0 out of service"
        )
        in_service.add_metric([], 0 if kiosk.engine.snapshot.state is State.OUT_OF_SERVICE else 1)
        yield from (paid, in_service)


class MetricsFile:
    """Writes the figures to ``path`` now and every ``interval`` seconds until stopped (a
    write that fails, a full disk or a gone directory, is logged and tried again)."""

    def __init__(self, kiosk: Kiosk, path: Path, interval: float) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(KioskFigures(kiosk))
        self.path = path
        self._rounds = Periodic("metrics-file", self.write, interval)

    def write(self) -> None:
        write_to_textfile(str(self.path), self.registry)

    def start(self) -> None:
        self._rounds.start()

    def stop(self) -> None:
        self._rounds.stop()
