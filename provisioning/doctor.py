"""``kiosk doctor``: every reason a kiosk may be out of service or silent, found at once.

A technician called to a unit wants one command that says what is wrong and what to do:
the config, the devices, the journal, the disk, the clock, the hub and the queue of entries
waiting for it. Each check is a :class:`Finding`; a problem carries the fix.

Everything here only reads, so it runs beside a running kiosk: it never takes the data
directory's lock (it only asks who holds it), opens the journal as a reader, and probes
only the serial ports nobody holds — a port the running kiosk holds is reported as held by
it, which is how it should be.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kiosk.config import EMULATED, SIMULATED, KioskConfig
from kiosk.device_names import DEVICE_NAMES
from kiosk.store.journal import Journal, JournalError
from kiosk.store.lock import DataDirError, Holder, holder
from provisioning.detect import (
    BUSY,
    PROBE_TIMEOUT,
    check_configured,
    configured_ports,
    scan,
)
from provisioning.enroll import SKEW_WARNING_S
from sync import credentials as creds
from sync.client import HubClient, HubError, HubRefused, Timeout
from sync.status import read_status

JOURNAL_FILE = "journal.sqlite"
MIN_FREE_BYTES = 500 * 1024 * 1024
MIN_FREE_FRACTION = 0.10
UNSENT_AGE_S = 15 * 60.0
"""Entries may wait this long for the hub before the queue counts as a problem."""
HUB_TIMEOUT: Timeout = (3.0, 5.0)


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``fix`` is what to do, for a problem."""

    check: str
    ok: bool
    message: str
    fix: str = ""

    def line(self) -> str:
        head = f"{'ok' if self.ok else 'PROBLEM':<8} {self.check}: {self.message}"
        return head if self.ok else f"{head} -> {self.fix}"


@dataclass(frozen=True)
class Limits:
    """When the disk, the clock and the queue count as a problem."""

    min_free_bytes: int = MIN_FREE_BYTES
    min_free_fraction: float = MIN_FREE_FRACTION
    unsent_age_s: float = UNSENT_AGE_S
    skew_s: float = SKEW_WARNING_S


def summary(findings: list[Finding]) -> str:
    problems = sum(not f.ok for f in findings)
    if not problems:
        return f"doctor: no problems ({len(findings)} checks)"
    return f"doctor: {problems} problem{'s' * (problems != 1)} ({len(findings)} checks)"


# ----------------------------------------------------------------------------- the kiosk


def check_running(data_dir: Path) -> tuple[Holder | None, Finding]:
    """Whether a kiosk runs on this data directory (either way is fine)."""
    try:
        found = holder(data_dir)
    except DataDirError as exc:
        return None, Finding("kiosk", False, str(exc), "check the data directory's permissions")
    if found is None:
        return None, Finding("kiosk", True, f"no kiosk is running on {data_dir}")
    return found, Finding("kiosk", True, f"a kiosk is running on {data_dir}: {found.describe()}")


# ----------------------------------------------------------------------------- devices


def check_devices(
    config: KioskConfig, running: Holder | None, timeout: float = PROBE_TIMEOUT
) -> list[Finding]:
    """Each ``[devices]`` entry: a read-only probe of the ports nobody holds."""
    devices = config.devices
    ports = configured_ports(devices)
    # a port is opened exclusively or not at all: one the kiosk holds is found busy, untouched
    detections = scan(ports, timeout) if ports else []
    checks = {check.key: check for check in check_configured(devices, detections)}
    findings: list[Finding] = []
    for key in DEVICE_NAMES:
        where = str(getattr(devices, key))
        check = checks[key]
        name = f"devices.{key}"
        if where in (EMULATED, SIMULATED):
            findings.append(Finding(name, True, f"{where} (no hardware)"))
        elif BUSY in check.message and running is not None:
            findings.append(
                Finding(name, True, f"{where}: held by the running kiosk (pid {running.pid})")
            )
        elif check.ok is False:
            findings.append(Finding(name, False, check.line(), _device_fix(key, check.message)))
        else:
            findings.append(Finding(name, True, check.message))
    return findings


def _device_fix(key: str, message: str) -> str:
    if BUSY in message:
        return "another program holds the port: find it with `fuser PORT` and stop it"
    return f"check the cable and power, then `kiosk devices scan` and `kiosk devices test {key}`"


# ----------------------------------------------------------------------------- storage


def check_journal(path: Path) -> Finding:
    if not path.is_file():
        return Finding(
            "journal",
            False,
            f"no journal at {path}",
            "check --data-dir or storage.data_dir in the config (a new kiosk has none "
            "until it first runs)",
        )
    try:
        with Journal.open(path, catch_up=False) as journal:
            report = journal.verify()
    except JournalError as exc:
        return Finding("journal", False, str(exc), "see docs/journal.md; do not delete it")
    if not report.ok:
        return Finding(
            "journal",
            False,
            f"DAMAGED: {report.problem}",
            "keep the kiosk out of service, copy the data directory, call support "
            "(docs/journal.md)",
        )
    return Finding("journal", True, f"{report.checked} entries, hash chain sound")


def check_disk(data_dir: Path, limits: Limits) -> Finding:
    place = data_dir
    while not place.exists() and place != place.parent:
        place = place.parent
    usage = shutil.disk_usage(place)
    free, fraction = usage.free, usage.free / usage.total if usage.total else 0.0
    said = f"{_size(free)} free of {_size(usage.total)} ({fraction:.0%}) at {place}"
    if free < limits.min_free_bytes or fraction < limits.min_free_fraction:
        need = f"{_size(limits.min_free_bytes)} and {limits.min_free_fraction:.0%}"
        return Finding(
            "disk",
            False,
            f"{said}, below {need}",
            "free space (old logs, receipts' PNGs in devices/receipts) before the journal "
            "can not be written and the kiosk goes out of service",
        )
    return Finding("disk", True, said)


def _size(count: int) -> str:
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    if count < 1024**3:
        return f"{count / 1024**2:.0f} MB"
    return f"{count / 1024**3:.1f} GB"


# ----------------------------------------------------------------------------- the hub


def check_hub(
    config: KioskConfig,
    data_dir: Path,
    limits: Limits,
    timeout: Timeout = HUB_TIMEOUT,
    clock: Callable[[], float] = time.time,
) -> list[Finding]:
    """Enrollment, reachability, the clock against the hub's, and whether it knows us."""
    enroll_fix = "enroll: `kiosk provision --hub URL --code CODE --config FILE`"
    try:
        enrolled = creds.load_optional(data_dir)
    except creds.CredentialsError as exc:
        return [Finding("enrollment", False, str(exc), enroll_fix + " --force")]
    findings: list[Finding] = []
    if enrolled is None:
        findings.append(Finding("enrollment", False, "this kiosk is not enrolled", enroll_fix))
    elif creds.too_open(data_dir):
        findings.append(
            Finding(
                "enrollment",
                False,
                f"{creds.credentials_path(data_dir)} is readable by others",
                f"chmod 600 {creds.credentials_path(data_dir)}",
            )
        )
    else:
        findings.append(Finding("enrollment", True, f"enrolled as {enrolled.kiosk_id}"))
    if not config.hub.enabled:
        findings.append(
            Finding(
                "hub",
                False,
                "[hub] enabled is false: nothing is synced, accounts come from the cache only",
                "`kiosk provision ... --config FILE` writes it (or set enabled = true)",
            )
        )
    url = enrolled.hub_url if enrolled is not None else config.hub.url
    try:
        client = HubClient(
            url,
            enrolled.kiosk_id if enrolled else None,
            enrolled.secret if enrolled else None,
            timeout=timeout,
        )
    except ValueError as exc:
        return [*findings, Finding("hub", False, str(exc), "fix [hub] url in the config")]
    try:
        findings += _ask_hub(client, enrolled is not None, limits, clock)
    finally:
        client.close()
    return findings


def _ask_hub(
    client: HubClient, enrolled: bool, limits: Limits, clock: Callable[[], float]
) -> list[Finding]:
    url = client.base_url
    try:
        before = clock()
        health = client.health()
        after = clock()
    except HubError as exc:
        return [
            Finding(
                "hub",
                False,
                str(exc),
                "check the network and that the hub runs (`curl URL/v1/health`); payments "
                "go on and are sent when it is back",
            )
        ]
    if health.status == "ok":
        findings = [Finding("hub", True, f"{url} answers (hub {health.version})")]
    else:
        findings = [
            Finding(
                "hub",
                False,
                f"{url} answers, but its database is {health.database}",
                "tell the hub's operators",
            )
        ]
    skew = health.time.timestamp() - (before + after) / 2
    said = f"{abs(skew):.1f} s {'behind' if skew > 0 else 'ahead of'} the hub's"
    if abs(skew) > limits.skew_s:
        findings.append(
            Finding(
                "clock",
                False,
                f"this kiosk's clock is {said}",
                "fix the time (NTP: `timedatectl`); the hub refuses requests more than 300 s off",
            )
        )
    else:
        findings.append(Finding("clock", True, said))
    if enrolled:
        try:
            client.ack()
        except HubRefused as exc:
            findings.append(
                Finding(
                    "enrollment",
                    False,
                    f"the hub refuses this kiosk's credentials ({exc.code})",
                    "enroll again: a new code from the hub, then `kiosk provision --force`",
                )
            )
        except HubError as exc:
            findings.append(Finding("enrollment", False, str(exc), "try again in a minute"))
    return findings


def check_queue(
    journal_path: Path, data_dir: Path, limits: Limits, syncing: bool = True
) -> Finding:
    """Entries the hub has not acknowledged, from the journal's own sync cursor; not a
    problem of its own when nothing is synced (the hub line says so)."""
    if not journal_path.is_file():
        return Finding("sync", True, "no journal yet: nothing to send")
    conflict = read_status(data_dir).conflict
    if conflict is not None:
        return Finding(
            "sync",
            False,
            f"pushing stopped at a conflict ({conflict.kind}: {conflict.reason})",
            "see docs/sync.md, 'Conflicts'",
        )
    try:
        with Journal.open(journal_path, catch_up=False) as journal:
            last, acked = journal.last_seq(), journal.acked_seq()
            oldest = journal.get(acked + 1) if last > acked else None
    except JournalError as exc:
        return Finding("sync", False, str(exc), "see the journal line above")
    if oldest is None:
        return Finding("sync", True, f"nothing waiting: the hub has every entry up to {last}")
    age = (datetime.now(UTC) - oldest.at).total_seconds()
    said = f"{last - acked} entries waiting to be sent, the oldest for {age / 60:.0f} min"
    if not syncing:
        return Finding("sync", True, f"{said} (the hub is disabled)")
    if age > limits.unsent_age_s:
        return Finding(
            "sync",
            False,
            said,
            "check the hub line above; `kiosk sync status` for the last error, "
            "`kiosk sync push` to send now",
        )
    return Finding("sync", True, said)


# ----------------------------------------------------------------------------- all of it


def examine(
    config: KioskConfig, limits: Limits, probe_timeout: float = PROBE_TIMEOUT
) -> list[Finding]:
    """Every check but the config file's own (the caller read it to get ``config``)."""
    data_dir = config.storage.resolved_data_dir()
    journal = data_dir / JOURNAL_FILE
    running, kiosk = check_running(data_dir)
    return [
        kiosk,
        *check_devices(config, running, probe_timeout),
        check_journal(journal),
        check_disk(data_dir, limits),
        *check_hub(config, data_dir, limits),
        check_queue(journal, data_dir, limits, syncing=config.hub.enabled),
    ]
