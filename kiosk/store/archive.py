"""Archive files: journal entries the hub holds, moved out of the kiosk's database.

One file per archiving run, ``archive/journal-<first>-<last>.jsonl.gz`` beside the
database: gzip'd JSON lines, one per entry, each with the entry exactly as stored (the
payload as its canonical text, so every hash can be recomputed). The database keeps a row
per file (:class:`~kiosk.store.models.JournalArchive`) with its range, the hashes at both
ends and the file's sha256. See ``docs/journal.md``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ARCHIVE_DIR = "archive"
_FIELDS = ("seq", "id", "at", "type", "payload", "prev_hash", "hash")


class RowLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def at(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True)
class ArchivedRow:
    """One entry read back from an archive file, shaped as a stored journal row."""

    seq: int
    id: str
    at: str
    type: str
    payload: str
    prev_hash: str
    hash: str


class ArchiveFileError(Exception):
    """An archive file can not be read (missing, truncated, not gzip, not JSON lines)."""


def file_name(first_seq: int, last_seq: int) -> str:
    return f"journal-{first_seq:010d}-{last_seq:010d}.jsonl.gz"


def write_archive(path: Path, rows: Iterable[RowLike]) -> str:
    """Write ``rows`` to ``path`` durably (a temporary file, fsync'd, then renamed) and
    return the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as raw:
            with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as zipped:
                for row in rows:
                    line = {name: getattr(row, name) for name in _FIELDS}
                    zipped.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return file_sha256(path)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_archive(path: Path) -> Iterator[ArchivedRow]:
    """The entries of an archive file in the order written; raises
    :class:`ArchiveFileError` for a file that can not be read."""
    try:
        with gzip.open(path, "rb") as zipped:
            for number, line in enumerate(zipped, start=1):
                try:
                    fields = json.loads(line)
                    yield ArchivedRow(*(fields[name] for name in _FIELDS))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ArchiveFileError(f"{path.name} line {number} is unreadable") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveFileError(f"{path.name} can not be read: {exc}") from exc
