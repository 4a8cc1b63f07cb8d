"""Per-kiosk settings the hub serves: limits, card fee, messages, out of service, and the
technicians (the same for every kiosk, kept by :mod:`hub.technicians`).

Stored as JSON on the kiosk's row and validated through the wire models on the way in, so
what ``kiosk-hub set-kiosk`` accepts is exactly what a kiosk will accept when it pulls it.
Every change raises ``settings_version``; a kiosk applies settings whose version it has not
seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select, update

from contract.wire import KioskSettings, WireLimits, WireTechnician
from hub import technicians
from hub.db import Database
from hub.errors import Invalid, NotFound
from hub.models import Kiosk


@dataclass(frozen=True)
class SettingsChange:
    """What ``set-kiosk`` asks to change; ``None`` leaves a value as it is.

    ``messages`` maps language -> key -> text; an empty text removes that message.
    """

    location: str | None = None
    out_of_service_reason: str | None = None
    in_service: bool = False
    limits: Mapping[str, Any] = field(default_factory=dict)
    card_fee: Mapping[str, Any] = field(default_factory=dict)
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def _settings(kiosk_id: str, row: Any, staff: list[WireTechnician]) -> KioskSettings:
    stored = json.loads(row.settings or "{}")
    return KioskSettings.model_validate(
        {
            "kiosk_id": kiosk_id,
            "version": row.settings_version,
            "limits": stored.get("limits", {}),
            "card_fee": stored.get("card_fee", {}),
            "messages": stored.get("messages", {}),
            "out_of_service": row.out_of_service,
            "out_of_service_reason": row.out_of_service_reason,
            "technicians": staff,
        }
    )


def stored_limits(settings: str | None) -> WireLimits:
    """The limits in a kiosk row's stored settings, the defaults for any never set: what the
    kiosk is told by its next pull, and what ingest holds its payments to meanwhile."""
    return WireLimits.model_validate(json.loads(settings or "{}").get("limits", {}))


def get_settings(db: Database, kiosk_id: str) -> KioskSettings:
    with db.read() as conn:
        row = conn.execute(
            select(
                Kiosk.settings,
                Kiosk.settings_version,
                Kiosk.out_of_service,
                Kiosk.out_of_service_reason,
            ).where(Kiosk.id == kiosk_id)
        ).first()
        staff = technicians.for_kiosks(conn)
    if row is None:
        raise NotFound(f"no kiosk named {kiosk_id!r}")
    return _settings(kiosk_id, row, staff)


#: called in the transaction that changed a kiosk's settings, with them before and after
OnChange = Callable[[Connection, KioskSettings, KioskSettings], None]


def update_settings(
    db: Database,
    kiosk_id: str,
    change: SettingsChange,
    on_change: OnChange | None = None,
    expected_version: int | None = None,
) -> KioskSettings:
    """Apply ``change`` and raise the version; an invalid result changes nothing.

    ``expected_version`` is the version a form was filled in from: if someone changed the
    settings since, the change is refused rather than quietly undoing theirs."""
    if change.in_service and change.out_of_service_reason is not None:
        raise Invalid("a kiosk can not be put in and out of service at once")
    with db.write() as conn:
        row = conn.execute(
            select(
                Kiosk.settings,
                Kiosk.settings_version,
                Kiosk.out_of_service,
                Kiosk.out_of_service_reason,
                Kiosk.location,
            )
            .where(Kiosk.id == kiosk_id)
            .with_for_update(key_share=True)
        ).first()
        if row is None:
            raise NotFound(f"no kiosk named {kiosk_id!r}")
        current = _settings(kiosk_id, row, technicians.for_kiosks(conn))
        if expected_version is not None and expected_version != current.version:
            raise Invalid(
                f"kiosk {kiosk_id}'s settings changed since the page was loaded (version "
                f"{expected_version}, now {current.version}); reload it and make the change again",
                code="stale",
                status=409,
            )
        messages: dict[str, dict[str, str]] = {
            str(lang): dict(texts) for lang, texts in current.messages.items()
        }
        for lang, texts in change.messages.items():
            for key, text in texts.items():
                if text:
                    messages.setdefault(lang, {})[key] = text
                else:
                    messages.get(lang, {}).pop(key, None)
        out_of_service, reason = current.out_of_service, current.out_of_service_reason
        if change.out_of_service_reason is not None:
            out_of_service, reason = True, change.out_of_service_reason
        elif change.in_service:
            out_of_service, reason = False, ""
        try:
            new = KioskSettings.model_validate(
                {
                    "kiosk_id": kiosk_id,
                    "version": current.version + 1,
                    "limits": current.limits.model_dump() | dict(change.limits),
                    "card_fee": current.card_fee.model_dump() | dict(change.card_fee),
                    "messages": {lang: texts for lang, texts in messages.items() if texts},
                    "out_of_service": out_of_service,
                    "out_of_service_reason": reason,
                    "technicians": current.technicians,
                }
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            raise Invalid(f"settings not changed: {problems}") from exc
        location = row.location if change.location is None else change.location
        if len(location) > 255:
            raise Invalid("the location is longer than 255 characters")
        stored = new.model_dump(mode="json", include={"limits", "card_fee", "messages"})
        conn.execute(
            update(Kiosk)
            .where(Kiosk.id == kiosk_id)
            .values(
                settings=json.dumps(stored, sort_keys=True),
                settings_version=new.version,
                out_of_service=new.out_of_service,
                out_of_service_reason=new.out_of_service_reason,
                location=location,
            )
        )
        if on_change is not None:
            on_change(conn, current, new)
    return new
