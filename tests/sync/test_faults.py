"""The client and the push worker against a real hub behind the fault proxy, one fault at
a time: every fault is survived, nothing is stored twice, the cursor only records what the
hub acknowledged."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from contract.wire import WireEntry
from sync.backoff import Backoff
from sync.client import HubClient, HubUnavailable
from sync.worker import SyncWorker
from tests.sync.conftest import Kiosk
from tests.sync.hubproc import EXTRA_ACCOUNTS, RunningHub
from tests.sync.payments import write_payment
from tests.sync.proxy import FaultProxy


def _pay(kiosk: Kiosk, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        write_payment(kiosk.journal, n, EXTRA_ACCOUNTS[n % len(EXTRA_ACCOUNTS)])


def _local(kiosk: Kiosk) -> list[tuple[int, str]]:
    return [(e.seq, e.hash) for e in kiosk.journal.entries()]


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize(
    "mode", ["refuse", "drop_before", "drop_after", "delay", "reset", "error500"]
)
def test_every_fault_is_reported_as_unavailable(mode: str, kiosk: Kiosk, proxy: FaultProxy) -> None:
    _pay(kiosk, 2)
    client = kiosk.client(proxy.url)
    proxy.set_mode(mode)
    entries = [WireEntry.of(e) for e in kiosk.journal.entries()]
    with pytest.raises(HubUnavailable):
        client.push(entries)
    assert not client.connectivity.online()
    proxy.set_mode("pass")
    answer = client.push(entries)  # the same push again: idempotent whatever happened
    assert answer.acked_seq == len(entries)
    assert client.connectivity.online()
    assert proxy.applied[mode] == 1


def test_connection_refused_then_the_hub_comes_back(
    kiosk: Kiosk, proxy: FaultProxy, hub: RunningHub
) -> None:
    proxy.pause()  # nothing listens: the OS refuses
    _pay(kiosk, 3)
    worker = kiosk.worker(kiosk.client(proxy.url))
    worker.start()
    try:
        time.sleep(0.5)
        assert kiosk.journal.acked_seq() == 0
        assert "can not reach" in worker.status.current.last_error
        assert "Connection refused" in worker.status.current.last_error
        proxy.resume()
        _wait_for(lambda: kiosk.journal.acked_seq() == kiosk.journal.last_seq())
    finally:
        worker.stop()
    assert hub.replica(kiosk.name) == _local(kiosk)


def test_pushes_resume_when_the_hub_comes_back_not_when_the_backoff_ends(
    kiosk: Kiosk, proxy: FaultProxy, hub: RunningHub
) -> None:
    """A worker whose backoff has grown to a minute watches a hub that refused it, and
    pushes once the hub answers, long before that minute is up."""
    proxy.pause()
    _pay(kiosk, 3)
    worker = SyncWorker(
        kiosk.journal,
        kiosk.client(proxy.url),
        backoff=Backoff(60.0, 60.0, rand=lambda: 1.0),  # every retry waits the whole minute
        poll_s=0.05,
        probe_s=0.2,
    )
    worker.start()
    try:
        _wait_for(lambda: "Connection refused" in worker.status.current.last_error)
        assert kiosk.journal.acked_seq() == 0
        proxy.resume()
        _wait_for(lambda: kiosk.journal.acked_seq() == kiosk.journal.last_seq(), timeout=30)
    finally:
        worker.stop()
    assert hub.replica(kiosk.name) == _local(kiosk)


def test_a_hub_that_answers_badly_is_not_probed_but_backed_off_from(
    kiosk: Kiosk, proxy: FaultProxy
) -> None:
    """A 500 means the hub is there but struggling: no health probes while backing off."""
    _pay(kiosk, 1)
    proxy.set_mode("error500")
    client = kiosk.client(proxy.url)
    worker = SyncWorker(
        kiosk.journal, client, backoff=Backoff(60.0, 60.0, rand=lambda: 1.0), probe_s=0.05
    )
    worker.start()
    try:
        _wait_for(lambda: "500" in worker.status.current.last_error)
        time.sleep(0.5)  # ten probe intervals
    finally:
        worker.stop()
    assert proxy.applied["error500"] == 1, "one push, then the whole backoff without requests"


def test_refused_and_gateway_errors_say_the_hub_was_not_reached(
    kiosk: Kiosk, proxy: FaultProxy
) -> None:
    client = kiosk.client(proxy.url)
    proxy.pause()
    with pytest.raises(HubUnavailable) as refused:
        client.health()
    assert not refused.value.reached
    proxy.resume()
    proxy.set_mode("error500")
    with pytest.raises(HubUnavailable) as answered:
        client.health()
    assert answered.value.reached


def test_committed_but_never_heard_is_sent_again_and_stored_once(
    kiosk: Kiosk, proxy: FaultProxy, hub: RunningHub
) -> None:
    worker = kiosk.worker(kiosk.client(proxy.url))
    assert worker.push_now().caught_up  # resumed: the hub's ack is known
    _pay(kiosk, 5)
    proxy.set_mode("drop_after")
    report = worker.push_now()
    assert report.error and report.pushed == 0
    assert kiosk.journal.acked_seq() == 0  # the kiosk never heard
    assert hub.replica(kiosk.name) == _local(kiosk)  # but the hub committed
    proxy.set_mode("pass")
    report = worker.push_now()
    assert report.caught_up
    assert kiosk.journal.acked_seq() == kiosk.journal.last_seq()
    assert hub.replica(kiosk.name) == _local(kiosk)
    _wait_for(lambda: hub.postings(kiosk.name) == {"posted": 5})


def test_time_outs_back_off_and_resume(kiosk: Kiosk, proxy: FaultProxy, hub: RunningHub) -> None:
    _pay(kiosk, 3)
    proxy.set_mode("delay")  # 1.5 s, the client waits 1 s
    worker = kiosk.worker(kiosk.client(proxy.url, timeout=(1.0, 0.5)))
    worker.start()
    try:
        _wait_for(lambda: proxy.applied["delay"] >= 2)
        assert "in time" in worker.status.current.last_error
        proxy.set_mode("pass")
        _wait_for(lambda: kiosk.journal.acked_seq() == kiosk.journal.last_seq())
    finally:
        worker.stop()
    assert hub.replica(kiosk.name) == _local(kiosk)


def test_500s_and_truncated_answers_are_retried(
    kiosk: Kiosk, proxy: FaultProxy, hub: RunningHub
) -> None:
    _pay(kiosk, 3)
    worker = kiosk.worker(kiosk.client(proxy.url))
    for mode, words in (("error500", "answered 500"), ("reset", "can not reach")):
        proxy.set_mode(mode)
        report = worker.push_now()
        assert words in report.error, report.error
        assert kiosk.journal.acked_seq() < kiosk.journal.last_seq()
    proxy.set_mode("pass")
    assert worker.push_now().caught_up
    assert hub.replica(kiosk.name) == _local(kiosk)


def test_the_worker_takes_the_hubs_acknowledgement_on_start(kiosk: Kiosk, hub: RunningHub) -> None:
    """The hub is the authority: a cursor ahead of it goes back, and entries are re-sent."""
    _pay(kiosk, 2)
    client = kiosk.client(hub.url)
    first = [WireEntry.of(e) for e in kiosk.journal.entries(limit=4)]
    assert client.push(first).acked_seq == 4
    kiosk.journal.set_acked_seq(kiosk.journal.last_seq())  # a cursor the hub never confirmed
    worker = kiosk.worker(client)
    assert worker.push_now().caught_up
    assert hub.replica(kiosk.name) == _local(kiosk)


def test_a_hub_ahead_of_the_journal_stops_pushing(
    kiosk: Kiosk, hub: RunningHub, tmp_path: object
) -> None:
    from tests.sync.conftest import open_journal

    _pay(kiosk, 2)
    client = kiosk.client(hub.url)
    assert kiosk.worker(client).push_now().caught_up
    # the kiosk is "restored from an old image": an empty journal under the same identity
    restored = open_journal(kiosk.data_dir / "restored.sqlite")
    try:
        write_payment(restored, 0, EXTRA_ACCOUNTS[0])
        worker = kiosk.worker(client)
        worker.journal = restored
        report = worker.push_now()
        assert "restored from an old image" in report.halted
        assert restored.acked_seq() == 0  # never skips local entries
        assert worker.status.current.alert
    finally:
        restored.close()
    assert len(hub.replica(kiosk.name)) == kiosk.journal.last_seq()


def test_each_push_says_where_the_kiosks_journal_ends(kiosk: Kiosk, hub: RunningHub) -> None:
    from hub import queries

    _pay(kiosk, 2)
    assert kiosk.worker(kiosk.client(hub.url)).push_now().caught_up
    (view,) = [k for k in queries.kiosks(hub.ctx.db) if k.kiosk_id == kiosk.name]
    assert view.reported_head_seq == kiosk.journal.last_seq()
    assert view.entries_waiting == 0


def test_push_gap_resends_from_expected_seq(kiosk: Kiosk, hub: RunningHub) -> None:
    _pay(kiosk, 3)
    client = kiosk.client(hub.url)
    worker = kiosk.worker(client)
    worker._cursor = 5  # as if the cursor had been wrong: the hub answers 409 gap
    report = worker.push_now()
    assert report.caught_up, report
    assert hub.replica(kiosk.name) == _local(kiosk)


def test_unreachable_hub_message_names_the_url() -> None:
    client = HubClient("http://127.0.0.1:9", "k", "A" * 43)
    with pytest.raises(HubUnavailable, match=r"127\.0\.0\.1:9"):
        client.ack()
