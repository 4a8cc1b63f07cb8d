"""File names for the exports, so the console's downloads and the CLI's files agree."""

from __future__ import annotations

from datetime import date

KINDS = ("payments", "batches", "over-short", "batch-report", "deposit-slip", "audit")


def file_name(
    kind: str,
    *,
    day: date | None = None,
    kiosk_id: str | None = None,
    batch_id: str | None = None,
) -> str:
    """``payments-2025-03-01-k1.csv``, ``batch-report-k1-B12.pdf``, ``over-short.csv``…"""
    if kind not in KINDS:
        raise ValueError(f"no export {kind!r}: one of {', '.join(KINDS)}")
    parts = [kind]
    if day is not None:
        parts.append(day.isoformat())
    if kiosk_id is not None:
        parts.append(kiosk_id)
    if batch_id is not None:
        parts.append(batch_id)
    suffix = ".pdf" if kind in ("batch-report", "deposit-slip") else ".csv"
    return "-".join(parts) + suffix
