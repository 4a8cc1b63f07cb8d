"""Two hub processes on one database whose clocks differ by a few seconds.

Each process forgets the nonces it finds expired by its own clock. A process running ahead
must not forget a nonce while one running behind would still accept the timestamp of the
request that used it, or a captured request could be replayed to the slower one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.models import Base
from tests.hub.harness import Creds, HubHarness

OFFSET_S = 5  # the second hub's clock runs this far ahead of the first's
NONCE = "captured-request-nonce-0001"
_NONCES = Base.metadata.tables["nonces"]


@pytest.fixture
def hubs(db_url: str, tmp_path: Path) -> Iterator[tuple[HubHarness, HubHarness]]:
    behind = HubHarness(db_url, tmp_path / "a")
    ahead = HubHarness(db_url, tmp_path / "b")
    ahead.clock.advance(seconds=OFFSET_S)  # both start at the same moment
    try:
        yield behind, ahead
    finally:
        ahead.close()
        behind.close()


def _remembered(hub: HubHarness, nonce: str) -> bool:
    with hub.ctx.db.read() as conn:
        count = conn.execute(
            select(func.count()).select_from(_NONCES).where(_NONCES.c.nonce == nonce)
        ).scalar_one()
    return bool(count)


def _tick(hubs: tuple[HubHarness, HubHarness], seconds: float) -> None:
    for hub in hubs:
        hub.clock.advance(seconds=seconds)


def test_a_hub_ahead_does_not_forget_a_nonce_the_hub_behind_would_still_accept(
    hubs: tuple[HubHarness, HubHarness],
) -> None:
    behind, ahead = hubs
    creds: Creds = behind.enroll("k1")
    path = "/v1/kiosks/k1/settings"
    skew = behind.settings.max_skew_s
    assert behind.settings.clock_margin_s > OFFSET_S  # the setting covers these two clocks
    signed_at = behind.clock().timestamp()

    first = behind.signed("GET", path, creds, now=signed_at, nonce=NONCE)
    assert first.status_code == 200, first.text

    # near the end of the window by the slower clock, already past it by the faster one;
    # the faster hub serves the kiosk (and clears out its expired nonces as it does)
    _tick(hubs, skew - 2)
    assert ahead.clock().timestamp() > signed_at + skew
    assert ahead.signed("GET", path, creds).status_code == 200
    assert _remembered(ahead, NONCE)

    replay = behind.signed("GET", path, creds, now=signed_at, nonce=NONCE)
    assert replay.status_code == 401, replay.text
    assert "replayed" in replay.json()["message"]


def test_a_nonce_is_forgotten_once_no_hub_can_accept_its_timestamp(
    hubs: tuple[HubHarness, HubHarness],
) -> None:
    behind, ahead = hubs
    creds = behind.enroll("k1")
    path = "/v1/kiosks/k1/settings"
    signed_at = behind.clock().timestamp()
    assert behind.signed("GET", path, creds, now=signed_at, nonce=NONCE).status_code == 200

    kept = behind.settings.max_skew_s + behind.settings.clock_margin_s
    _tick(hubs, kept - OFFSET_S - 1)  # the faster clock one second short of the expiry
    assert ahead.signed("GET", path, creds).status_code == 200
    assert _remembered(ahead, NONCE)

    _tick(hubs, 2)
    assert ahead.signed("GET", path, creds).status_code == 200
    assert not _remembered(ahead, NONCE)
