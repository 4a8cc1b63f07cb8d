"""Slow device calls run off the engine thread; each answer comes back as an event.

Some port methods block while the device answers: the bill acceptor's cash box count, a card
terminal's status query or reversal (up to 20 s on a ZVT link). The engine thread must never
wait on them (DESIGN.md, "Devices": a slow call is a command whose answer comes back as an
event), or touches go unanswered and time-outs do not run. So the engine journals what it
must first (journal before act), hands the call to :class:`DeviceCalls`, and carries on; a
worker runs it and puts a :class:`CallDone` on the engine's one queue, where the engine
handles it like any other event. The worker never touches the journal or the session: the
engine stays the one writer.

Calls to one device run one at a time, in the order they were asked (a driver is not asked
two things at once, and an abort reaches the terminal before the status query that follows
it); calls to different devices do not wait for each other.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

Deliver = Callable[[object], None]


@dataclass(frozen=True, slots=True)
class DeviceCall:
    """One blocking port call, and what the engine needs to handle its answer."""

    device: str  # the lane: "bill_acceptor", "card_terminal"
    name: str  # what is asked, for the log: "cashbox_count", "status", "reverse", "abort"
    run: Callable[[], object]
    purpose: object  # opaque to the runner; the engine dispatches the answer on it


@dataclass(frozen=True, slots=True)
class CallDone:
    """The answer to a :class:`DeviceCall`: its value, or the exception it raised."""

    call: DeviceCall
    value: object = None
    error: Exception | None = None


def answer(call: DeviceCall) -> CallDone:
    """Run ``call`` on this thread; a device error is an answer too, never a crash."""
    try:
        return CallDone(call, value=call.run())
    except Exception as exc:  # the engine decides what an unanswered call means
        log.warning("%s %s failed: %s", call.device, call.name, exc)
        return CallDone(call, error=exc)


class CallRunner(Protocol):
    """What the engine needs of a runner (tests substitute one they control)."""

    def start(self, call: DeviceCall) -> None:
        """Run ``call`` later; its :class:`CallDone` is delivered to the engine's queue."""

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every call started has delivered its answer; False on time-out."""

    def close(self) -> None: ...


class _Lane:
    """One worker thread for one device: its calls run in order."""

    def __init__(self, device: str, deliver: Deliver, finished: Callable[[], None]) -> None:
        self._calls: queue.Queue[DeviceCall | None] = queue.Queue()
        self._deliver = deliver
        self._finished = finished
        self._thread = threading.Thread(target=self._run, name=f"calls-{device}", daemon=True)
        self._thread.start()

    def put(self, call: DeviceCall | None) -> None:
        self._calls.put(call)

    def _run(self) -> None:
        while (call := self._calls.get()) is not None:
            try:
                self._deliver(answer(call))
            finally:
                self._finished()


class DeviceCalls:
    """The runner the kiosk uses: a worker thread per device, made on first use."""

    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._lanes: dict[str, _Lane] = {}
        self._in_flight = 0
        self._idle = threading.Condition()

    def start(self, call: DeviceCall) -> None:
        with self._idle:
            self._in_flight += 1
            lane = self._lanes.get(call.device)
            if lane is None:
                lane = self._lanes[call.device] = _Lane(call.device, self._deliver, self._done)
        lane.put(call)

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self) -> None:
        """Let the workers end once the calls they hold are answered."""
        with self._idle:
            lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.put(None)

    def _done(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()


class InlineCalls:
    """Runs each call at once on the caller's thread, the answer still through the queue.

    For scripted and test runs that pump the engine on one thread: every answer is a later
    event, as in the kiosk, but the order of everything is fixed by the order of the inputs.
    """

    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def start(self, call: DeviceCall) -> None:
        self._deliver(answer(call))

    def wait_idle(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        return None
