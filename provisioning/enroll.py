"""Enrolling a kiosk with the hub: trade a one-time code for the kiosk's id and secret.

A technician creates the kiosk at the hub (``kiosk-hub create-kiosk NAME``), which prints a
short code valid once for 24 hours, and types it on the kiosk (``kiosk provision``). The
answer's secret is shown this once, so it is stored straight away, 0600 and atomically
(:mod:`sync.credentials`). The answer also carries the hub's clock: signatures are refused
beyond 300 s of skew, so a kiosk whose clock is off is told now, not by a silent queue.

Every failure is a :class:`EnrollError` whose message says what to do next.
"""

from __future__ import annotations

import contextlib
import platform
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contract.wire import EnrollRequest, KioskHardware
from kiosk import __version__
from sync import credentials as creds
from sync.client import HubClient, HubRefused, HubUnavailable, Timeout

#: beyond this the kiosk is warned; the hub refuses signatures beyond 300 s
SKEW_WARNING_S = 60.0
SERIAL_FILE = Path("/sys/class/dmi/id/product_serial")

_REFUSALS = {
    "invalid_code": "this code does not work: check it for typos (codes look like "
    "K7M2Q-9XRTH; case, spaces and dashes do not matter); a code works once, for 24 hours, "
    "and a newer one replaces it: ask for a new one (`kiosk-hub set-kiosk NAME --new-code`)",
    "too_many_attempts": "too many codes that did not work were tried: wait 15 minutes, "
    "then try again",
    "code_used": "this code was already used: ask for a new one "
    "(`kiosk-hub set-kiosk NAME --new-code`)",
    "code_expired": "this code has expired (codes last 24 hours): ask for a new one "
    "(`kiosk-hub set-kiosk NAME --new-code`)",
    "code_replaced": "a newer code was issued for this kiosk: use that one",
}


class EnrollError(Exception):
    """Enrollment did not happen; nothing was stored. The message is for the technician."""


@dataclass(frozen=True)
class EnrollResult:
    credentials: creds.Credentials
    path: Path
    skew_s: float  # the hub's clock minus ours: positive when ours is behind
    replaced: str  # the kiosk id enrolled before (with --force), or ""

    @property
    def skew_warning(self) -> str:
        if abs(self.skew_s) <= SKEW_WARNING_S:
            return ""
        direction = "behind" if self.skew_s > 0 else "ahead of"
        return (
            f"this kiosk's clock is {abs(self.skew_s):.0f} s {direction} the hub's: fix the "
            "time (NTP) — the hub refuses requests more than 300 s off"
        )


def hardware(software_version: str = __version__) -> KioskHardware:
    """What the kiosk says about itself; for technicians at the hub, never trusted."""
    serial = ""
    with contextlib.suppress(OSError):  # root-only on most systems, absent in containers
        serial = SERIAL_FILE.read_text(encoding="ascii", errors="replace").strip()[:128]
    return KioskHardware(
        hostname=(socket.gethostname() or "kiosk")[:255],
        machine=platform.machine()[:64],
        system=platform.platform()[:255],
        software_version=software_version[:64],
        serial_number=serial,
    )


def enroll(
    hub_url: str,
    code: str,
    data_dir: Path,
    *,
    force: bool = False,
    timeout: Timeout = (5.0, 15.0),
    clock: Callable[[], float] = time.time,
) -> EnrollResult:
    """Enroll with the hub at ``hub_url`` and store the credentials in ``data_dir``."""
    if not code.strip():
        raise EnrollError("the enrollment code is empty")
    replaced = _existing(data_dir, force)
    try:
        client = HubClient(hub_url, timeout=timeout)
    except ValueError as exc:
        raise EnrollError(str(exc)) from exc
    try:
        request = EnrollRequest(code=code.strip()[:64], hardware=hardware())
        before = clock()
        answer = client.enroll(request)
        after = clock()
    except HubUnavailable as exc:
        raise EnrollError(
            f"{exc}. Check the hub URL, this kiosk's network, and that the hub is running "
            "(`curl URL/v1/health`); nothing was stored"
        ) from exc
    except HubRefused as exc:
        advice = _REFUSALS.get(exc.code, exc.message)
        raise EnrollError(f"enrollment refused: {advice}") from exc
    finally:
        client.close()
    credentials = creds.Credentials(
        kiosk_id=answer.kiosk_id,
        secret=answer.secret,
        hub_url=client.base_url,
        location=answer.location,
        enrolled_at=answer.hub_time,
    )
    try:
        path = creds.save(data_dir, credentials)
    except OSError as exc:
        raise EnrollError(
            f"the hub enrolled this kiosk but its credentials could not be stored in {data_dir} "
            f"({exc}); fix the disk, then enroll again with a new code"
        ) from exc
    skew = answer.hub_time.timestamp() - (before + after) / 2
    return EnrollResult(credentials, path, skew, replaced)


def _existing(data_dir: Path, force: bool) -> str:
    try:
        current = creds.load_optional(data_dir)
    except creds.CredentialsError:
        if force:
            return "(damaged credentials)"
        raise EnrollError(
            f"{creds.credentials_path(data_dir)} exists but is damaged; use --force to replace it"
        ) from None
    if current is None:
        return ""
    if not force:
        raise EnrollError(
            f"this kiosk is already enrolled as {current.kiosk_id} at {current.hub_url}; "
            "use --force to enroll again (the hub then rotates the secret, the old one stops "
            "working)"
        )
    return current.kiosk_id
