"""The kiosk's durable store: the hash-chained journal and the projections built from it."""

from contract.chain import GENESIS, canonical_json, entry_hash
from kiosk.store.db import open_database, upgrade_to_head
from kiosk.store.journal import Journal, JournalEntry, JournalError, VerifyReport

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
