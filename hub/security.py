"""Who is calling: kiosks by signed request (:mod:`contract.signing`), staff by admin token.

The nonce store lives in the database, because the hub processes behind a load balancer
share nothing else: a request replayed to another process is caught just the same. The
transaction that records a nonce also records the kiosk's last contact and how far its clock
is from the hub's (flagged past a minute, :func:`hub.alerts.kiosk_clock`), so a signed
request costs one small write.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from contract.signing import HEADER_TIMESTAMP, SignatureError, verify
from hub import alerts
from hub.clock import Clock
from hub.db import Database
from hub.errors import Forbidden, Unauthorized
from hub.models import Base, Kiosk

_NONCES = Base.metadata.tables["nonces"]


class DbNonceStore:
    """Nonces in the ``nonces`` table; a duplicate key means a replay."""

    def __init__(self, db: Database, clock: Clock, clock_offset_s: int | None = None) -> None:
        self.db = db
        self.clock = clock
        self.clock_offset_s = clock_offset_s  # the request's timestamp less the hub's clock

    def seen(self, kiosk_id: str, nonce: str, expires_at: float) -> bool:
        now = self.clock()
        with self.db.write() as conn:
            conn.execute(
                delete(_NONCES).where(_NONCES.c.kiosk_id == kiosk_id, _NONCES.c.expires_at < now)
            )
            values = {
                "kiosk_id": kiosk_id,
                "nonce": nonce,
                "expires_at": datetime.fromtimestamp(expires_at, UTC),
            }
            inserted = conn.execute(self.db.insert_ignore(_NONCES, values)).rowcount
            if inserted:
                contact: dict[str, object] = {"last_contact_at": now}
                if self.clock_offset_s is not None:
                    contact["clock_offset_s"] = self.clock_offset_s
                    alerts.kiosk_clock(conn, kiosk_id, self.clock_offset_s, now)
                conn.execute(update(Kiosk).where(Kiosk.id == kiosk_id).values(**contact))
        return not inserted


def authenticate(
    db: Database,
    clock: Clock,
    max_skew: int,
    clock_margin: int,
    method: str,
    target: str,
    body: bytes,
    headers: Mapping[str, str],
) -> str:
    """The id of the enrolled kiosk that signed this request, or :class:`Unauthorized`.

    ``clock_margin`` is how far apart the clocks of the hub processes sharing the database
    may be: every process drops the nonces it finds expired by its own clock, so each is
    kept that much longer than the timestamp check alone would need.
    """

    def secret_for(kiosk_id: str) -> str | None:
        with db.read() as conn:
            secret = conn.execute(select(Kiosk.secret).where(Kiosk.id == kiosk_id)).scalar()
        return None if secret is None else str(secret)

    try:
        return verify(
            method,
            target,
            body,
            headers,
            secret_for=secret_for,
            nonces=DbNonceStore(db, clock, _offset(headers, clock)),
            now=clock().timestamp(),
            max_skew=max_skew,
            clock_margin=clock_margin,
        )
    except SignatureError as exc:
        raise Unauthorized(exc.reason) from exc


def _offset(headers: Mapping[str, str], clock: Clock) -> int | None:
    """How far the request's signed timestamp is from the hub's clock (None: not a number;
    the signature check refuses it)."""
    stamp = next((v for k, v in headers.items() if k.lower() == HEADER_TIMESTAMP.lower()), "")
    return int(stamp) - int(clock().timestamp()) if stamp.isdigit() else None


def check_admin(expected: str | None, presented: str | None) -> None:
    """Staff endpoints need ``Authorization: Bearer <admin token>``."""
    if expected is None:
        raise Forbidden(
            "the admin API is disabled: start the hub with KIOSK_HUB_ADMIN_TOKEN "
            "(or serve --admin-token-file PATH)"
        )
    if presented is None or not hmac.compare_digest(
        presented.encode("utf-8"), expected.encode("utf-8")
    ):
        raise Unauthorized("a valid admin token is required (Authorization: Bearer …)")


def check_metrics(tokens: tuple[str | None, ...], presented: str | None) -> None:
    """``/metrics`` needs ``Authorization: Bearer`` with the metrics token (read-only: a
    Prometheus server holds it) or the admin token."""
    accepted = [token for token in tokens if token]
    if not accepted:
        raise Forbidden("metrics are off: start the hub with KIOSK_HUB_METRICS_TOKEN")
    given = (presented or "").encode("utf-8")
    if not any(hmac.compare_digest(given, token.encode("utf-8")) for token in accepted):
        raise Unauthorized("a valid metrics token is required (Authorization: Bearer …)")


def require_own(path_kiosk_id: str, signed_kiosk_id: str) -> None:
    """A kiosk reads and writes only its own journal and settings."""
    if path_kiosk_id != signed_kiosk_id:
        raise Forbidden(
            f"kiosk {signed_kiosk_id!r} may not act for kiosk {path_kiosk_id!r}",
            code="not_your_kiosk",
        )
