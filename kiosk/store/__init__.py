"""The kiosk's durable store: the hash-chained journal and the projections built from it."""

from kiosk.store.db import open_database, upgrade_to_head
from kiosk.store.journal import (
    GENESIS,
    Journal,
    JournalEntry,
    JournalError,
    VerifyReport,
    canonical_json,
    entry_hash,
)

__all__ = [
    "GENESIS",
    "Journal",
    "JournalEntry",
    "JournalError",
    "VerifyReport",
    "canonical_json",
    "entry_hash",
    "open_database",
    "upgrade_to_head",
]
