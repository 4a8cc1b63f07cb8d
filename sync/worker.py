"""The sync worker: replicates the kiosk's journal to the hub, on a thread of its own.

Why it is built this way (DESIGN.md, "Sync and the hub", rule 5 "nothing lost, nothing
twice"):

- **The hub is the authority on what it holds.** On start (and after a halt is cleared) the
  worker asks ``GET …/journal/ack`` and moves the local cursor there, back or forward. If the
  hub claims more than the journal has, or its last entry's hash is not ours, the kiosk was
  restored from an old image or forked: pushing would skip or overwrite history, so the
  worker raises an alert and stops pushing. It never moves the cursor past a local entry the
  hub has not acknowledged.
- **At-least-once delivery, idempotent receipt.** A push whose answer was lost (the hub
  committed, the kiosk never heard) is simply sent again; the hub compares and stores
  nothing twice. The cursor (``Journal.set_acked_seq``) only ever records what the hub said.
- **Transient trouble backs off** (connection refused or dropped, time-outs, 5xx, truncated
  answers): exponential with full jitter up to ``cap_s``, so a fleet does not stampede a
  hub that is struggling. A hub that was simply not there (connection refused, a gateway's
  502 or 504) is watched for meanwhile: every ``probe_s`` (0.5 s, jittered) the worker asks
  ``GET /v1/health``, which costs the hub a ``SELECT 1``, and pushes as soon as it answers,
  so pushes resume within about ``probe_s`` of the hub coming back rather than up to
  ``cap_s`` later. If the hub then answers the push badly or says it is busy, that is the
  ordinary backoff again, without probes.
- **A conflict stops pushing** (``bad_hash``, ``chain_break``, ``hash_mismatch``): that needs
  a person. Payments go on (the engine never waits for the hub); the status file shows the
  conflict to ``kiosk sync status``. A ``gap`` is not a conflict of that kind: the worker
  resends from the hub's ``expected_seq``.
- **It never writes the journal.** It reads entries through its own connections and
  writes only the sync cursor (one small ``BEGIN IMMEDIATE`` transaction per push), so the
  engine stays the journal's one writer and is never blocked for longer than that.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pydantic import ValidationError

from contract.wire import MAX_PUSH_ENTRIES, Conflict, PushResponse, WireEntry
from kiosk.store.journal import JournalEntry, JournalError
from sync.backoff import Backoff
from sync.client import HubClient, HubError, HubRefused, HubUnavailable
from sync.status import ConflictReport, StatusFile

log = logging.getLogger(__name__)

MAX_GAPS_IN_A_ROW = 3


class JournalSource(Protocol):
    """What the worker needs of :class:`kiosk.store.journal.Journal`."""

    def entries(self, after_seq: int = 0, limit: int | None = None) -> Iterator[JournalEntry]: ...
    def last_seq(self) -> int: ...
    def get(self, seq: int) -> JournalEntry | None: ...
    def acked_seq(self) -> int: ...
    def set_acked_seq(self, seq: int) -> None: ...


class Halted(Exception):
    """Pushing stopped until a person looks (a conflict, or a hub ahead of the journal)."""


@dataclass(frozen=True)
class PushReport:
    """What one :meth:`SyncWorker.push_now` achieved."""

    pushed: int
    acked_seq: int
    last_seq: int
    error: str = ""
    halted: str = ""

    @property
    def caught_up(self) -> bool:
        return not self.error and not self.halted and self.acked_seq >= self.last_seq


class SyncWorker:
    """Pushes the journal to the hub from a daemon thread; :meth:`wake` after appends."""

    def __init__(
        self,
        journal: JournalSource,
        client: HubClient,
        status: StatusFile | None = None,
        *,
        batch_size: int = MAX_PUSH_ENTRIES,
        backoff: Backoff | None = None,
        poll_s: float = 1.0,
        probe_s: float = 0.5,
    ) -> None:
        if not 1 <= batch_size <= MAX_PUSH_ENTRIES:
            raise ValueError(f"batch_size must be 1-{MAX_PUSH_ENTRIES}, got {batch_size}")
        self.journal = journal
        self.client = client
        self.status = status or StatusFile(None)
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.poll_s = poll_s
        self.probe_s = probe_s
        self._cursor: int | None = None  # None: ask the hub first
        self._halt_reason = ""
        self._gaps = 0  # gaps in a row: a hub that keeps moving the target is backed off from
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one push at a time (thread and push_now)

    # --------------------------------------------------------------- public surface

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sync-push", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread; a push in flight finishes (bounded by the client's time-outs)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.status.update(state="stopped")

    def wake(self) -> None:
        """New entries were appended: push soon. Cheap and safe from any thread."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def halted(self) -> str:
        """Why pushing stopped, or "" while it goes on."""
        return self._halt_reason

    def clear_halt(self) -> None:
        """A person dealt with the conflict: ask the hub again and carry on."""
        with self._lock:
            self._halt_reason = ""
            self._cursor = None
            self.status.update(conflict=None, alert="", state="running")
        self._wake.set()

    def resend_from(self, seq: int) -> PushReport:
        """Push again from ``seq`` although the hub holds it: the hub compares every entry
        with its copy, so this audits the replica (an edited entry comes back as a
        conflict). For technicians and tests; the cursor is the hub's again afterwards."""
        with self._lock:
            if self._cursor is None:
                try:
                    self._resume()
                except Halted as exc:
                    self._halt_reason = str(exc)
                except (HubError, JournalError) as exc:
                    return PushReport(0, self._safe_acked(), self._safe_last(), str(exc))
            self._cursor = max(0, min(seq - 1, self._cursor or 0))
        return self.push_now()

    def push_now(self) -> PushReport:
        """Push until caught up, on the calling thread, without retrying (``kiosk sync
        push``, tests). Errors are reported, not raised."""
        with self._lock:
            pushed = 0
            try:
                if self._halt_reason:
                    raise Halted(self._halt_reason)
                while True:
                    count = self._step()
                    if count == 0:
                        break
                    pushed += count
                error = ""
            except Halted as exc:
                error = ""
                self._halt_reason = str(exc)
            except (HubError, JournalError) as exc:
                error = str(exc)
                self._record_error(error)
            return PushReport(
                pushed,
                self._cursor if self._cursor is not None else self._safe_acked(),
                self._safe_last(),
                error,
                self._halt_reason,
            )

    # ------------------------------------------------------------------- the thread

    def _run(self) -> None:
        self.status.update(state="running")
        while not self._stop.is_set():
            if self._halt_reason:
                self._wake.wait()  # only clear_halt or stop gets us out
                self._wake.clear()
                continue
            try:
                with self._lock:
                    count = self._step()
            except Halted as exc:
                self._halt_reason = str(exc)
                log.error("sync halted: %s", exc)
                continue
            except (HubError, JournalError) as exc:
                self._record_error(str(exc))
                delay = self._retry_delay(exc)
                self.status.update(state="backing off")
                log.info("sync: %s; next try in %.1f s", exc, delay)
                if isinstance(exc, HubUnavailable) and not exc.reached:
                    self._watch_for_hub(delay)
                else:
                    self._stop.wait(delay)
                continue
            except Exception as exc:  # a bug must not kill replication for good
                log.exception("sync worker failed")
                self._record_error(f"internal error: {exc!r}")
                self._stop.wait(self._retry_delay(exc))
                continue
            if count == 0:  # caught up: wait for new entries (or poll, in case of no wake)
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def _watch_for_hub(self, delay: float) -> None:
        """Wait up to ``delay`` seconds, asking the hub's health every ``probe_s`` or so
        (between half and all of it, at random, so a fleet's probes spread out); return as
        soon as it answers 200."""
        deadline = time.monotonic() + delay
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._stop.wait(min(left, self.probe_s * (0.5 + random.random() / 2))):
                return
            timeout = min(3.0, max(1.0, 2 * self.probe_s))
            try:
                self.client.health(timeout=(timeout, timeout))
            except HubError:
                continue
            log.info("sync: the hub answers again; pushing")
            return

    def _retry_delay(self, exc: Exception) -> float:
        if isinstance(exc, HubRefused):  # will not fix itself soon: retry slowly
            self.backoff.failures += 1
            return self.backoff.cap_s
        return self.backoff.next_delay()

    # ------------------------------------------------------------------ one step

    def _step(self) -> int:
        """Resume if need be, then push one batch; returns how many entries were sent."""
        if self._cursor is None:
            self._resume()
        assert self._cursor is not None
        batch = list(self.journal.entries(after_seq=self._cursor, limit=self.batch_size))
        if not batch:
            return 0
        try:
            wire = [WireEntry.of(entry) for entry in batch]
        except ValidationError as exc:  # an entry the hub's schema refuses: no retry helps
            raise Halted(f"entry after seq {self._cursor} can not be sent: {exc}") from exc
        head = max(self.journal.last_seq(), batch[-1].seq)
        answer = self.client.push(wire, head_seq=head)
        if isinstance(answer, Conflict):
            self._conflict(answer, batch[0].seq)
            return len(batch)
        self._acknowledged(answer, batch)
        return len(batch)

    def _resume(self) -> None:
        """Take the hub's acknowledged seq as the cursor (DESIGN: the hub is the authority)."""
        ack = self.client.ack()
        last = self.journal.last_seq()
        self.status.update(hub_acked_seq=ack.acked_seq, last_contact_at=_now())
        if ack.acked_seq > last:
            self._halt_alert(
                f"the hub holds {ack.acked_seq} entries of this kiosk's journal, but the journal "
                f"ends at {last}: the kiosk was restored from an old image or its journal was "
                "replaced. Pushing stopped; new entries stay on the kiosk."
            )
        if ack.acked_seq > 0:
            ours = self.journal.get(ack.acked_seq)
            if ours is None or ours.hash != ack.acked_hash:
                self._halt_alert(
                    f"entry {ack.acked_seq} on the kiosk is not the one the hub holds (hash "
                    "differs): the journal was restored, forked or edited. Pushing stopped."
                )
        if ack.acked_seq != self.journal.acked_seq():
            log.info("sync: cursor moved to the hub's acknowledged seq %d", ack.acked_seq)
            self.journal.set_acked_seq(ack.acked_seq)
        self._cursor = ack.acked_seq
        self.status.update(acked_seq=ack.acked_seq, alert="")

    def _acknowledged(self, answer: PushResponse, batch: list[JournalEntry]) -> None:
        last = self.journal.last_seq()
        if answer.acked_seq > last:
            self._halt_alert(
                f"the hub acknowledged seq {answer.acked_seq} but the journal ends at {last}"
            )
        if answer.acked_seq < batch[0].seq:
            # the hub stored none of it and did not say why: ask it where it is, later
            self._cursor = None
            raise HubUnavailable(
                f"the hub acknowledged {answer.acked_seq} after a push from {batch[0].seq}"
            )
        self.journal.set_acked_seq(answer.acked_seq)
        self._cursor = answer.acked_seq
        self._gaps = 0
        self.backoff.reset()
        now = _now()
        self.status.update(
            state="running",
            acked_seq=answer.acked_seq,
            hub_acked_seq=answer.acked_seq,
            last_push_at=now,
            last_contact_at=now,
        )

    def _conflict(self, conflict: Conflict, first_sent: int) -> None:
        # entries before the offending one were stored: the cursor may move up to them
        if conflict.acked_seq <= self.journal.last_seq():
            self.journal.set_acked_seq(conflict.acked_seq)
            self._cursor = conflict.acked_seq
        self.status.update(acked_seq=conflict.acked_seq, last_contact_at=_now())
        if conflict.kind == "gap":
            if conflict.expected_seq >= first_sent:  # we sent from the right place: odd hub
                self._cursor = None
                raise HubUnavailable(f"the hub reports a gap it should not: {conflict.reason}")
            self._gaps += 1
            if self._gaps > MAX_GAPS_IN_A_ROW:
                self._gaps, self._cursor = 0, None
                raise HubUnavailable(f"the hub keeps reporting gaps: {conflict.reason}")
            log.info("sync: gap, resending from %d", conflict.expected_seq)
            self._cursor = conflict.expected_seq - 1
            return
        report = ConflictReport(
            kind=conflict.kind,
            reason=conflict.reason,
            seq=conflict.seq,
            expected_seq=conflict.expected_seq,
            acked_seq=conflict.acked_seq,
            at=_now(),
        )
        reason = f"conflict ({conflict.kind}) at seq {conflict.seq}: {conflict.reason}"
        self.status.update(state="halted", conflict=report, last_error=reason, last_error_at=_now())
        raise Halted(reason)

    def _halt_alert(self, reason: str) -> None:
        self.status.update(state="halted", alert=reason, last_error=reason, last_error_at=_now())
        raise Halted(reason)

    def _record_error(self, error: str) -> None:
        self.status.update(last_error=error, last_error_at=_now())

    def _safe_last(self) -> int:
        try:
            return self.journal.last_seq()
        except JournalError:
            return -1

    def _safe_acked(self) -> int:
        try:
            return self.journal.acked_seq()
        except JournalError:
            return -1


def _now() -> datetime:
    return datetime.now(UTC)
