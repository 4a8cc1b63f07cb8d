"""Replies from a polled device: bytes from the reader thread, frames to the poll thread.

A polled serial device (EBDS, ID-003) speaks only to answer, one answer per host message, so
every such driver does the same plumbing: the serial link's reader thread feeds bytes to a
frame assembler, whole frames go on a queue, and the poll thread, having sent a message,
waits for the frame that answers it. When the wait runs out the line has gone quiet, so an
incomplete frame will not complete: the assembler gives up on it and what was whole inside
it is judged too. Before the host speaks again, whatever is still unread is stale (the line
is half duplex) and is dropped. The protocol itself (which frame answers which message) is
the driver's: it judges each frame.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from devices.serial_link import SerialLink

F = TypeVar("F")
V = TypeVar("V")


class Assembler(Protocol[F]):
    def feed(self, data: bytes) -> list[F]: ...
    def flush(self) -> list[F]: ...
    def reset(self) -> None: ...


class Replies(Generic[F]):
    """The assembler, its lock and the queue between the reader and the poll thread."""

    def __init__(self, assembler: Assembler[F]) -> None:
        self.assembler = assembler
        self.lock = threading.Lock()
        """Held around the assembler (its stats too, for a driver's counters)."""
        self._frames: queue.Queue[F] = queue.Queue()

    # ------------------------------------------------------------------ the reader thread
    def connected(self, link: SerialLink) -> None:
        """The port (re)opened: what it held before is not an answer to anything."""
        link.reset_input()
        with self.lock:
            self.assembler.reset()

    def received(self, data: bytes) -> None:
        with self.lock:
            frames = self.assembler.feed(data)
        for frame in frames:
            self._frames.put(frame)

    def lost(self) -> None:
        with self.lock:
            self.assembler.reset()

    # ------------------------------------------------------------------ the poll thread
    def clear(self) -> None:
        """Drop what is unread: the host is about to speak again."""
        with self.lock:
            self.assembler.flush()
        while True:
            try:
                self._frames.get_nowait()
            except queue.Empty:
                return

    def wait(self, timeout: float, judge: Callable[[F], V]) -> V | None:
        """The first verdict ``judge`` gives a frame within ``timeout`` seconds, or None.

        ``judge`` returns None for a frame that does not answer, and the wait goes on; at
        the deadline the frames hiding in an incomplete one are judged too.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with self.lock:
                    late = self.assembler.flush()  # the line is quiet: take what is whole
                for frame in late:
                    verdict = judge(frame)
                    if verdict is not None:
                        return verdict
                return None
            try:
                frame = self._frames.get(timeout=remaining)
            except queue.Empty:
                continue
            verdict = judge(frame)
            if verdict is not None:
                return verdict
