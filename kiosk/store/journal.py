"""The kiosk's journal: an append-only, hash-chained record of every fact about money.

Each :meth:`Journal.append` is one ``BEGIN IMMEDIATE`` transaction that numbers the entry
(``seq``, gap-free from 1), chains it to the one before (``prev_hash``/``hash``), stores it
and applies it to the projections, then commits with an fsync (``synchronous=FULL``). When
``append`` returns the fact survives a power cut; when it raises :class:`JournalError`
nothing at all was written. See ``docs/journal.md`` for the format and the checks.

One thread (the engine) writes; any thread may read. Each call takes its own connection
from the engine's pool, so readers never share a transaction with the writer.
"""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from alembic.util import CommandError
from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from contract import entries as e
from contract.chain import GENESIS, canonical_json, entry_hash
from contract.payloads import Payload, PayloadError, parse
from kiosk import crashpoints
from kiosk.store import archive, projections
from kiosk.store.db import open_database, upgrade_to_head, writer
from kiosk.store.models import (
    Base,
    Batch,
    JournalArchive,
    JournalCheckpoint,
    JournalRow,
    OpenIntent,
    OpenSessionEntry,
    SyncCursor,
)

log = logging.getLogger(__name__)

AppendListener = Callable[["JournalEntry"], None]

_CHUNK = 500
_ROW = (
    JournalRow.seq,
    JournalRow.id,
    JournalRow.at,
    JournalRow.type,
    JournalRow.payload,
    JournalRow.prev_hash,
    JournalRow.hash,
)
_INSERT_ROW = insert(Base.metadata.tables["journal"])
_LAST_LINK = select(JournalRow.seq, JournalRow.hash).order_by(JournalRow.seq.desc()).limit(1)
#: a stored journal row as selected by ``_ROW``
StoredRow = Row[int, str, str, str, str, str, str]


class JournalError(Exception):
    """The journal can not be read or written; the message says why, for a technician."""


@dataclass(frozen=True)
class JournalEntry:
    """One entry as stored. ``payload`` is parsed from the stored canonical JSON, so an
    entry returned by :meth:`Journal.append` equals the same entry read back later."""

    seq: int
    id: str
    at: datetime
    type: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :meth:`Journal.verify`.

    ``checked`` counts the entries found sound before the first problem; ``first_bad_seq``
    is the lowest seq that is wrong or missing.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str
    last_seq: int = 0
    last_hash: str = GENESIS
    from_seq: int = 1
    """the first seq checked: 1 for a full verification (archives included), else the
    checkpoint's seq (that entry is checked again) or the first entry after the archives"""


@dataclass(frozen=True)
class ArchiveRecord:
    """One archive file as the database records it (see :mod:`kiosk.store.archive`)."""

    first_seq: int
    last_seq: int
    prev_hash: str
    last_hash: str
    file: str
    sha256: str
    created_at: str


@dataclass(frozen=True)
class Checkpoint:
    """The newest entry a verification walked the chain to."""

    seq: int
    hash: str
    verified_at: str


def utc_now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ format and hashing


def format_at(moment: datetime) -> str:
    """``2025-03-01T14:05:09.123456Z``: fixed width, so text order is time order."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise JournalError("the clock gave a time without a time zone; the journal stores UTC")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``payload`` made of dict, list, str, int, bool and None only.

    Floats are refused rather than stored: an amount is integer cents (DESIGN.md rule 1),
    and a float's text is not guaranteed to hash the same on the hub. Non-text keys are
    refused too, because JSON would silently turn ``{2000: 1}`` into ``{"2000": 1}``.
    """
    if not isinstance(payload, Mapping):
        raise JournalError(
            f"a payload is a mapping of names to values, got {type(payload).__name__}"
        )
    plain: dict[str, Any] = _plain(payload, "payload")
    return plain


def _plain(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JournalError(f"{path} is text that is not valid Unicode") from exc
        return str.__str__(value)
    if isinstance(value, float):
        raise JournalError(
            f"{path} is a float ({value!r}); the journal refuses floats: use integer cents"
        )
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise JournalError(f"{path} has the key {key!r}; JSON object keys must be text")
            out[str.__str__(key)] = _plain(item, f"{path}[{key!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise JournalError(f"{path} is a {type(value).__name__}, which JSON can not hold")


def _entry(row: archive.RowLike) -> JournalEntry:
    try:
        payload = json.loads(row.payload)
        at = datetime.fromisoformat(row.at)
    except ValueError as exc:
        raise JournalError(
            f"entry {row.seq} is unreadable ({exc}); run `kiosk journal verify`"
        ) from exc
    return JournalEntry(row.seq, row.id, at, row.type, payload, row.prev_hash, row.hash)


def _reason(exc: SQLAlchemyError) -> str:
    return str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)


# ---------------------------------------------------------------------------- the chain


class _Chain:
    """Checks rows one by one, in seq order, and names the first one that is wrong."""

    def __init__(self) -> None:
        self.checked = 0
        self.last_seq = 0
        self.last_hash = GENESIS

    def problem(self, row: archive.RowLike) -> tuple[int, str] | None:
        seq: int = row.seq
        expected = self.last_seq + 1
        if seq != expected:
            missing = (
                f"entry {expected} is"
                if seq == expected + 1
                else f"entries {expected}-{seq - 1} are"
            )
            if self.last_seq == 0:
                return expected, f"entries start at seq {seq} ({missing} missing)"
            return expected, f"{missing} missing (seq jumps from {self.last_seq} to {seq})"
        if row.prev_hash != self.last_hash:
            if seq == 1:
                return (
                    seq,
                    "entry 1 does not start the chain (its prev_hash is not the genesis hash)",
                )
            return seq, (
                f"entry {seq} does not follow entry {seq - 1} (prev_hash mismatch: an entry was "
                f"removed or reordered, or entry {seq - 1} was rewritten)"
            )
        try:
            payload = json.loads(row.payload)
            recomputed = entry_hash(row.prev_hash, seq, row.id, row.at, row.type, payload)
            canonical = canonical_json(payload)
        except ValueError:
            return seq, f"entry {seq} was edited (its payload is not valid canonical JSON)"
        if recomputed != row.hash:
            return seq, f"entry {seq} was edited (hash does not match its content)"
        if canonical != row.payload:
            return (
                seq,
                f"entry {seq} was edited (payload text is not the canonical JSON that was hashed)",
            )
        self.checked += 1
        self.last_seq, self.last_hash = seq, row.hash
        return None


# --------------------------------------------------------------------------- the journal


class Journal:
    """The journal of one kiosk, over an engine from :func:`kiosk.store.db.open_database`."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._now = now
        self._listeners: list[AppendListener] = []

    @classmethod
    def open(
        cls, path: Path, now: Callable[[], datetime] = utc_now, *, catch_up: bool = True
    ) -> Journal:
        """Open (or create) the journal at ``path`` and migrate it to the current schema.

        With ``catch_up`` (the running kiosk) projections left behind by a migration are
        replayed; ``kiosk journal verify`` opens without, so it can report on a journal
        that no longer replays.
        """
        try:
            journal = cls(open_database(path), now)
        except OSError as exc:
            raise JournalError(f"can not open the journal at {path}: {exc}") from exc
        try:
            upgrade_to_head(journal.engine)
            if catch_up and journal.projected_seq() != journal.last_seq():
                journal.rebuild_projections()
        except SQLAlchemyError as exc:
            journal.close()
            raise JournalError(f"can not open the journal at {path}: {_reason(exc)}") from exc
        except CommandError as exc:  # e.g. a revision from a newer release
            journal.close()
            raise JournalError(f"can not migrate the journal at {path}: {exc}") from exc
        except JournalError:
            journal.close()
            raise
        return journal

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise JournalError(f"can not read the journal: {_reason(exc)}") from exc

    # ------------------------------------------------------------------------ writing

    def record(self, payload: Payload) -> JournalEntry:
        """Journal one fact built with its entry type's model (``contract.payloads``)."""
        return self.append(payload.TYPE, payload.dump())

    def append(self, type: str, payload: Mapping[str, Any]) -> JournalEntry:
        """Journal one fact durably; raises :class:`JournalError` having written nothing.

        The payload must match its type's model in ``contract.payloads``; it is stored as
        given (validated, never rewritten), so the hash covers exactly what the caller wrote.
        """
        if not isinstance(type, str) or not type:
            raise JournalError(f"an entry needs a type, got {type!r}")
        plain = plain_payload(payload)
        try:
            model = parse(type, plain)
        except PayloadError as exc:
            raise JournalError(f"{type} entry refused, nothing was written: {exc}") from exc
        at_text = format_at(self._now())
        entry_id = str(uuid.uuid4())
        try:
            with self._writer.begin() as conn:
                last = conn.execute(_LAST_LINK).first()
                last_seq, prev_hash = (0, GENESIS) if last is None else (last.seq, last.hash)
                seq = last_seq + 1
                if type == e.BATCH_CLOSED:
                    self._check_batch_id(conn, seq, plain)
                digest = entry_hash(prev_hash, seq, entry_id, at_text, type, plain)
                conn.execute(
                    _INSERT_ROW,
                    {
                        "seq": seq,
                        "id": entry_id,
                        "at": at_text,
                        "type": type,
                        "payload": canonical_json(plain),
                        "prev_hash": prev_hash,
                        "hash": digest,
                    },
                )
                if projections.applied_seq(conn) == last_seq:  # else Journal.open catches up
                    projections.apply_entry(conn, seq, at_text, model)
                    projections.set_applied_seq(conn, seq)
                crashpoints.hit("journal.before_commit")
        except projections.ProjectionError as exc:
            raise JournalError(f"{type} entry refused, nothing was written: {exc}") from exc
        except SQLAlchemyError as exc:
            raise JournalError(
                f"could not append {type} to the journal, nothing was written: {_reason(exc)}"
            ) from exc
        crashpoints.hit("journal.after_commit")
        entry = JournalEntry(
            seq, entry_id, datetime.fromisoformat(at_text), type, plain, prev_hash, digest
        )
        for listener in list(self._listeners):
            try:
                listener(entry)
            except Exception:  # the entry is committed: a listener can not undo that
                log.exception("journal append listener failed")
        return entry

    def on_append(self, listener: AppendListener) -> None:
        """Call ``listener`` with every entry once it is committed, on the appending thread.

        For whoever must act on every new fact (the sync worker pushes it): keep it cheap,
        it runs on the writer's thread.
        """
        self._listeners.append(listener)

    @staticmethod
    def _check_batch_id(conn: Connection, seq: int, payload: Mapping[str, Any]) -> None:
        expected = projections.next_batch_id(conn, seq)
        if payload.get("batch_id") != expected:
            raise projections.ProjectionError(
                f"batch.closed names batch {payload.get('batch_id')!r} but the open batch is "
                f"{expected!r} (read it from Journal.open_batch_id())"
            )

    def rebuild_projections(self) -> int:
        """Delete every projection row and replay the whole journal, in one transaction."""
        applied = last_seq = 0
        try:
            with self._writer.begin() as conn:
                projections.clear(conn)
                for chunk in self._all_rows(conn):
                    for row in chunk:
                        entry = _entry(row)
                        try:
                            model = parse(entry.type, entry.payload)
                            projections.apply_entry(conn, entry.seq, row.at, model)
                        except (PayloadError, projections.ProjectionError) as exc:
                            raise JournalError(
                                f"entry {entry.seq} ({entry.type}) can not be replayed: {exc}"
                            ) from exc
                        applied += 1
                        last_seq = entry.seq
                projections.set_applied_seq(conn, last_seq)
        except SQLAlchemyError as exc:
            raise JournalError(f"could not rebuild the projections: {_reason(exc)}") from exc
        return applied

    def _all_rows(self, conn: Connection) -> Iterator[Sequence[archive.RowLike]]:
        """Every entry from seq 1: the archive files' (in chunks), then the database's."""
        after = 0
        for record in _archives(conn):
            path = self.archive_dir() / record.file
            try:
                rows = archive.read_archive(path)
                while chunk := list(itertools.islice(rows, _CHUNK)):
                    yield chunk
            except archive.ArchiveFileError as exc:
                raise JournalError(f"the archive {record.file} can not be read: {exc}") from exc
            after = record.last_seq
        yield from _chunks(conn, after, None)

    def set_acked_seq(self, seq: int) -> None:
        """Record the hub's acknowledged seq; the hub can not acknowledge what we never wrote."""
        try:
            with self._writer.begin() as conn:
                last = int(
                    conn.execute(select(func.coalesce(func.max(JournalRow.seq), 0))).scalar_one()
                )
                if not 0 <= seq <= last:
                    raise JournalError(
                        f"the hub acknowledged seq {seq}, but the journal ends at {last}"
                    )
                values = {"acked_seq": seq, "updated_at": format_at(self._now())}
                done = conn.execute(
                    update(SyncCursor).where(SyncCursor.id == 1).values(values)
                ).rowcount
                if not done:
                    conn.execute(insert(SyncCursor).values(id=1, **values))
        except SQLAlchemyError as exc:
            raise JournalError(
                f"could not record the hub's acknowledgement: {_reason(exc)}"
            ) from exc

    # ------------------------------------------------------------------------ reading

    def entries(self, after_seq: int = 0, limit: int | None = None) -> Iterator[JournalEntry]:
        """Entries after ``after_seq`` in seq order, read in chunks (no connection is held
        between them, so an abandoned iterator holds no lock)."""
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        remaining = limit
        cursor = after_seq
        while remaining is None or remaining > 0:
            size = _CHUNK if remaining is None else min(_CHUNK, remaining)
            with self._reading() as conn:
                rows = list(next(_chunks(conn, cursor, size), []))
            yield from (_entry(row) for row in rows)
            if len(rows) < size:
                return
            cursor = rows[-1].seq
            if remaining is not None:
                remaining -= len(rows)

    def of_types(self, *types: str) -> list[JournalEntry]:
        """Every entry of these types, in seq order, by the index on type (for the few
        that are rare: collections, batch closes)."""
        query = select(*_ROW).where(JournalRow.type.in_(types)).order_by(JournalRow.seq)
        with self._reading() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def last(self, type_: str | None = None) -> JournalEntry | None:
        """The newest entry (of ``type_``, by the index on type: no scan of the journal)."""
        query = select(*_ROW).order_by(JournalRow.seq.desc()).limit(1)
        if type_ is not None:
            query = query.where(JournalRow.type == type_)
        with self._reading() as conn:
            row = conn.execute(query).first()
        return None if row is None else _entry(row)

    def last_seq(self) -> int:
        with self._reading() as conn:
            return int(
                conn.execute(select(func.coalesce(func.max(JournalRow.seq), 0))).scalar_one()
            )

    def get(self, seq: int) -> JournalEntry | None:
        with self._reading() as conn:
            row = conn.execute(select(*_ROW).where(JournalRow.seq == seq)).first()
        return None if row is None else _entry(row)

    def open_intents(self) -> list[JournalEntry]:
        """Intents (see :data:`contract.entries.INTENT_OUTCOMES`) that no later entry settled.

        An entry settles an intent when its payload's ``intent_seq`` is the intent's seq and
        its type is one of the intent's outcomes, or ``recovery.resolved``. Read from the
        index the appends keep (``open_intents``): the cost is what is open, not the
        journal's age.
        """
        return self._entries_listed_in(OpenIntent.seq)

    def open_session_entries(self) -> list[JournalEntry]:
        """Every entry of the sessions that started and never ended, in seq order: what
        :func:`kiosk.engine.session.replay_sessions` needs, without the rest of the journal."""
        return self._entries_listed_in(OpenSessionEntry.seq)

    def _entries_listed_in(self, seqs: Any) -> list[JournalEntry]:
        """The entries whose seq an index table lists, in seq order."""
        listed = select(seqs).scalar_subquery()
        query = select(*_ROW).where(JournalRow.seq.in_(listed)).order_by(JournalRow.seq)
        with self._reading() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def verify(self, full: bool = True, remember: bool = False) -> VerifyReport:
        """Walk the chain and report the first entry that is wrong or missing.

        ``full`` walks from seq 1, through the archive files (each file's sha256 checked
        against the one recorded when it was written) and across each cut into the
        database. Otherwise the walk starts at the checkpoint (the entry there must still
        have the hash it had when it was verified) or, without one, after the archives.
        ``remember`` records the last entry as the checkpoint when everything checked is
        sound: only a verification ever writes one.

        The chain can not show that the newest entries were deleted, so the hub's
        acknowledged seq is the last check: the journal must reach at least that far.
        """
        chain = _Chain()
        with self._reading() as conn:
            archives = _archives(conn)
            if full:
                for record in archives:
                    found = self._check_archive(record, chain)
                    if found is not None:
                        return _bad(chain, found, 1)
                after, from_seq = chain.last_seq, 1
            else:
                start = self._start_from_checkpoint(conn, archives, chain)
                if isinstance(start, tuple):
                    return _bad(chain, start, start[0])
                after = start
                from_seq = after + 1
            for chunk in _chunks(conn, after, None):
                for row in chunk:
                    found = chain.problem(row)
                    if found is not None:
                        return _bad(chain, found, from_seq)
            acked = self._acked(conn)
        if acked > chain.last_seq:
            problem = (
                f"entries after {chain.last_seq} are missing: the hub acknowledged {acked}"
                if chain.last_seq
                else f"the journal is empty, but the hub acknowledged {acked}"
            )
            return _bad(chain, (chain.last_seq + 1, problem), from_seq)
        if remember and chain.last_seq:
            self._set_checkpoint(chain.last_seq, chain.last_hash)
        return VerifyReport(
            True, chain.checked, None, "", chain.last_seq, chain.last_hash, from_seq
        )

    def checkpoint(self) -> Checkpoint | None:
        with self._reading() as conn:
            row = conn.execute(
                select(JournalCheckpoint.seq, JournalCheckpoint.hash, JournalCheckpoint.verified_at)
            ).first()
        return None if row is None else Checkpoint(row.seq, row.hash, row.verified_at)

    def _start_from_checkpoint(
        self, conn: Connection, archives: list[ArchiveRecord], chain: _Chain
    ) -> int | tuple[int, str]:
        """Set ``chain`` where a verification from the checkpoint starts; the seq to read
        after, or the problem that stops it at once."""
        mark = conn.execute(select(JournalCheckpoint.seq, JournalCheckpoint.hash)).first()
        cut = archives[-1] if archives else None
        if mark is not None and (cut is None or mark.seq > cut.last_seq):
            row = conn.execute(select(*_ROW).where(JournalRow.seq == mark.seq)).first()
            if row is None:
                return mark.seq, f"entry {mark.seq}, verified before, is missing"
            if row.hash != mark.hash:
                return mark.seq, (
                    f"entry {mark.seq} is not the entry verified before (its hash changed)"
                )
            chain.last_seq, chain.last_hash = mark.seq - 1, row.prev_hash
            return int(mark.seq) - 1
        if cut is not None:
            chain.last_seq, chain.last_hash = cut.last_seq, cut.last_hash
            return cut.last_seq
        return 0

    def _check_archive(self, record: ArchiveRecord, chain: _Chain) -> tuple[int, str] | None:
        path = self.archive_dir() / record.file
        name = f"archive {record.file} (entries {record.first_seq}-{record.last_seq})"
        if not path.is_file():
            return record.first_seq, f"{name} is missing"
        if archive.file_sha256(path) != record.sha256:
            return record.first_seq, (
                f"{name} was changed (its sha256 is not the one recorded when it was written)"
            )
        try:
            for row in archive.read_archive(path):
                found = chain.problem(row)
                if found is not None:
                    return found
        except archive.ArchiveFileError as exc:
            return chain.last_seq + 1, f"{name} is unreadable: {exc}"
        if (chain.last_seq, chain.last_hash) != (record.last_seq, record.last_hash):
            return chain.last_seq + 1, f"{name} does not end at the entry recorded for it"
        return None

    def _set_checkpoint(self, seq: int, hash_: str) -> None:
        values = {"seq": seq, "hash": hash_, "verified_at": format_at(self._now())}
        upsert = (
            sqlite_insert(JournalCheckpoint)
            .values(id=1, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        try:
            with self._writer.begin() as conn:
                conn.execute(upsert)
        except SQLAlchemyError as exc:
            raise JournalError(f"could not record the checkpoint: {_reason(exc)}") from exc

    # ------------------------------------------------------------------------ archives

    def archive_dir(self) -> Path:
        """``archive/`` beside the database file."""
        return Path(str(self._engine.url.database)).parent / archive.ARCHIVE_DIR

    def archives(self) -> list[ArchiveRecord]:
        with self._reading() as conn:
            return _archives(conn)

    def archivable_seq(self, older_than: datetime) -> int:
        """The newest seq that may move to an archive (0: none).

        Only entries written before ``older_than`` and before the hub's acknowledged seq
        (that entry stays: sync compares it with the hub's), and never one that recovery,
        the open batch or the next collection slip still reads: open intents and the
        entries of open sessions, the open batch and the one closed before it, the two
        latest collections (a slip names the collection before it).
        """
        before = format_at(older_than)
        with self._reading() as conn:
            return _archivable(conn, before)

    def archive(self, older_than: datetime) -> ArchiveRecord | None:
        """Move the entries :meth:`archivable_seq` allows into one archive file.

        The chain is verified first (from the checkpoint), so no entry is archived that was
        not verified; the file is written and fsync'd before the entries leave the database,
        in one transaction with the record of the file. ``None`` when nothing may go.
        """
        report = self.verify(full=False, remember=True)
        if not report.ok:
            raise JournalError(f"the journal does not verify, nothing archived: {report.problem}")
        cut = self.archivable_seq(older_than)
        with self._reading() as conn:
            first = int(
                conn.execute(select(func.coalesce(func.min(JournalRow.seq), 0))).scalar_one()
            )
            prev_hash = conn.execute(
                select(JournalRow.prev_hash).where(JournalRow.seq == first)
            ).scalar()
            last_hash = conn.execute(select(JournalRow.hash).where(JournalRow.seq == cut)).scalar()
        if not first or cut < first or prev_hash is None or last_hash is None:
            return None
        name = archive.file_name(first, cut)
        path = self.archive_dir() / name
        try:
            digest = archive.write_archive(path, self._checked_rows(first, prev_hash, cut))
            record = ArchiveRecord(
                first, cut, prev_hash, last_hash, name, digest, format_at(self._now())
            )
            with self._writer.begin() as conn:
                now_first = conn.execute(select(func.min(JournalRow.seq))).scalar()
                if now_first != first:
                    raise JournalError("the journal was archived meanwhile; nothing archived")
                kept = conn.execute(
                    select(JournalRow.prev_hash).where(JournalRow.seq == cut + 1)
                ).scalar()
                if kept != last_hash:
                    raise JournalError(f"entry {cut + 1} does not follow entry {cut}")
                conn.execute(insert(JournalArchive).values(**vars(record)))
                conn.execute(delete(JournalRow).where(JournalRow.seq <= cut))
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise JournalError(f"could not write the archive {name}: {exc}") from exc
        except SQLAlchemyError as exc:
            path.unlink(missing_ok=True)
            raise JournalError(f"could not archive: {_reason(exc)}") from exc
        except JournalError:
            path.unlink(missing_ok=True)
            raise
        return record

    def _checked_rows(self, first: int, prev_hash: str, last: int) -> Iterator[StoredRow]:
        """The rows ``first``-``last`` for an archive, each checked against the chain as it
        is read (the ones before the checkpoint were verified earlier: again, here)."""
        chain = _Chain()
        chain.last_seq, chain.last_hash = first - 1, prev_hash
        for row in self._rows(first, last):
            found = chain.problem(row)
            if found is not None:
                raise JournalError(f"the journal does not verify, nothing archived: {found[1]}")
            yield row
        if chain.last_seq != last:
            raise JournalError(f"entries up to {last} changed while they were archived")

    def _rows(self, first: int, last: int) -> Iterator[StoredRow]:
        cursor = first - 1
        while cursor < last:
            with self._reading() as conn:
                rows = conn.execute(
                    select(*_ROW)
                    .where(JournalRow.seq > cursor, JournalRow.seq <= last)
                    .order_by(JournalRow.seq)
                    .limit(_CHUNK * 10)
                ).all()
            if not rows:
                return
            yield from rows
            cursor = rows[-1].seq

    def acked_seq(self) -> int:
        """The hub's last acknowledged seq; every entry after it is unsent."""
        with self._reading() as conn:
            return self._acked(conn)

    @staticmethod
    def _acked(conn: Connection) -> int:
        return int(
            conn.execute(select(SyncCursor.acked_seq).where(SyncCursor.id == 1)).scalar() or 0
        )

    def projected_seq(self) -> int:
        with self._reading() as conn:
            return projections.applied_seq(conn)

    def open_batch_id(self) -> str:
        """The batch the next entry belongs to: what a ``batch.closed`` must name."""
        with self._reading() as conn:
            last = int(
                conn.execute(select(func.coalesce(func.max(JournalRow.seq), 0))).scalar_one()
            )
            return projections.next_batch_id(conn, last + 1)

    # -------------------------------------------------------------------- projections

    def payments(self) -> list[projections.PaymentRecord]:
        with self._reading() as conn:
            return projections.payments(conn)

    def bills(self) -> list[projections.BillRecord]:
        with self._reading() as conn:
            return projections.bills(conn)

    def card_authorisations(self) -> list[projections.CardAuthorisationRecord]:
        with self._reading() as conn:
            return projections.card_authorisations(conn)

    def batches(self) -> list[projections.BatchRecord]:
        with self._reading() as conn:
            return projections.batches(conn)


def _bad(chain: _Chain, found: tuple[int, str], from_seq: int) -> VerifyReport:
    return VerifyReport(
        False, chain.checked, found[0], found[1], chain.last_seq, chain.last_hash, from_seq
    )


def _archives(conn: Connection) -> list[ArchiveRecord]:
    rows = conn.execute(select(JournalArchive.__table__).order_by(JournalArchive.first_seq))
    return [ArchiveRecord(**row._mapping) for row in rows]


def _archivable(conn: Connection, before: str) -> int:
    """See :meth:`Journal.archivable_seq`; every bound is one indexed look-up."""
    acked = Journal._acked(conn)
    bounds = [acked - 1]
    for first_needed in (
        select(func.min(OpenIntent.seq)),
        select(func.min(OpenSessionEntry.seq)),
        # the open batch and the one before it: the newest two batches
        select(Batch.opened_seq).order_by(Batch.opened_seq.desc()).limit(1).offset(1),
        select(func.max(Batch.opened_seq)),
        select(JournalRow.seq)
        .where(JournalRow.type == e.COLLECTION_STARTED)
        .order_by(JournalRow.seq.desc())
        .limit(1)
        .offset(1),
    ):
        seq = conn.execute(first_needed).scalar()
        if seq is not None:
            bounds.append(int(seq) - 1)
    bound = min(bounds)
    if bound < 1:
        return 0
    # newest first from the bound: only entries younger than ``before`` are read
    old = conn.execute(
        select(JournalRow.seq)
        .where(JournalRow.seq <= bound, JournalRow.at < before)
        .order_by(JournalRow.seq.desc())
        .limit(1)
    ).scalar()
    return int(old or 0)


def _chunks(conn: Connection, after_seq: int, size: int | None) -> Iterator[Sequence[StoredRow]]:
    """Rows after ``after_seq`` in chunks of ``size`` (or all of them, chunk by chunk)."""
    cursor = after_seq
    step = size or _CHUNK
    while True:
        rows = conn.execute(
            select(*_ROW).where(JournalRow.seq > cursor).order_by(JournalRow.seq).limit(step)
        ).all()
        if not rows:
            return
        yield rows
        if size is not None or len(rows) < step:
            return
        cursor = rows[-1].seq
