"""The device-call worker: answers come back as events, in order per device, errors too."""

from __future__ import annotations

import queue
import threading

from kiosk.device_calls import CallDone, DeviceCall, DeviceCalls, InlineCalls

WAIT = 5.0


def _answers(q: queue.Queue[object], n: int) -> list[CallDone]:
    got = [q.get(timeout=WAIT) for _ in range(n)]
    assert all(isinstance(a, CallDone) for a in got)
    return [a for a in got if isinstance(a, CallDone)]


def test_calls_to_one_device_run_in_order_and_others_do_not_wait() -> None:
    answers: queue.Queue[object] = queue.Queue()
    calls = DeviceCalls(answers.put)
    release = threading.Event()
    calls.start(DeviceCall("terminal", "status", lambda: release.wait(WAIT), "slow"))
    calls.start(DeviceCall("terminal", "reverse", lambda: "second", "after"))
    calls.start(DeviceCall("acceptor", "cashbox_count", lambda: 7, "count"))
    [count] = _answers(answers, 1)  # the acceptor answers while the terminal is busy
    assert (count.call.purpose, count.value) == ("count", 7)
    assert not calls.wait_idle(0.01)
    release.set()
    slow, after = _answers(answers, 2)
    assert (slow.call.purpose, after.call.purpose) == ("slow", "after")
    assert calls.wait_idle(WAIT)
    calls.close()


def test_an_exception_is_an_answer() -> None:
    answers: queue.Queue[object] = queue.Queue()
    calls = DeviceCalls(answers.put)

    def broken() -> object:
        raise OSError("link down")

    calls.start(DeviceCall("terminal", "status", broken, None))
    [done] = _answers(answers, 1)
    assert isinstance(done.error, OSError) and done.value is None
    calls.close()


def test_inline_calls_answer_through_the_queue_at_once() -> None:
    answers: list[object] = []
    InlineCalls(answers.append).start(DeviceCall("acceptor", "cashbox_count", lambda: 3, "p"))
    [done] = answers
    assert isinstance(done, CallDone) and done.value == 3
