"""``kiosk provision`` and ``kiosk sync status|push`` against the real hub."""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest

from composition.cli import main as kiosk_cli
from hub import enrollment
from hub.clock import utc_now
from provisioning.enroll import enroll
from sync import credentials as creds
from sync.client import HubClient, HubRefused
from tests.sync.conftest import Kiosk
from tests.sync.hubproc import EXTRA_ACCOUNTS, RunningHub, refused_port
from tests.sync.payments import write_payment


def _provision(data_dir: Path, url: str, code: str, *more: str) -> int:
    return kiosk_cli(
        ["provision", "--hub", url, "--code", code, "--data-dir", str(data_dir), *more]
    )


def test_provision_stores_the_secret_for_the_owner_only(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = hub.create_kiosk("prov-ok")
    assert _provision(tmp_path, hub.url, code.lower().replace("-", " ")) == 0
    out = capsys.readouterr().out
    assert "enrolled as prov-ok" in out and "clock:" in out
    path = tmp_path / creds.CREDENTIALS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["kiosk_id"] == "prov-ok" and stored["hub_url"] == hub.url
    assert stored["secret"] not in out  # never printed
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    loaded = creds.load(tmp_path)
    HubClient(hub.url, loaded.kiosk_id, loaded.secret).ack()  # the secret works

    # the same kiosk again: refused without --force, credentials untouched
    assert _provision(tmp_path, hub.url, code) == 1
    assert "already enrolled as prov-ok" in capsys.readouterr().err


def test_provision_refuses_used_wrong_and_expired_codes(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = hub.create_kiosk("prov-used")
    assert _provision(tmp_path / "a", hub.url, code) == 0
    capsys.readouterr()
    assert _provision(tmp_path / "b", hub.url, code) == 1
    used = capsys.readouterr().err
    assert "does not work" in used and "works once, for 24 hours" in used
    assert _provision(tmp_path / "b", hub.url, "ZZZZZ-ZZZZZ") == 1
    assert capsys.readouterr().err == used  # the hub tells no one which codes exist
    expired = enrollment.create_kiosk(
        hub.ctx.db, "prov-old", "x", utc_now() - timedelta(hours=2), timedelta(hours=1)
    ).code
    assert _provision(tmp_path / "b", hub.url, expired) == 1
    assert capsys.readouterr().err == used
    assert not (tmp_path / "b" / creds.CREDENTIALS_FILE).exists()


def test_provision_says_when_the_hub_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    with refused_port() as nobody:
        assert _provision(tmp_path, f"http://127.0.0.1:{nobody}", "ABCDE-FGHJK") == 1
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert "can not reach" in err and "nothing was stored" in err
    assert _provision(tmp_path, "ftp://hub", "ABCDE-FGHJK") == 1
    assert "http://" in capsys.readouterr().err


def test_force_re_enrolls_and_the_old_secret_stops_working(hub: RunningHub, tmp_path: Path) -> None:
    first = enroll(hub.url, hub.create_kiosk("prov-again"), tmp_path).credentials
    new_code = enrollment.issue_code(hub.ctx.db, "prov-again", utc_now(), timedelta(hours=1))
    result = enroll(hub.url, new_code.code, tmp_path, force=True)
    assert result.replaced == "prov-again" and result.credentials.secret != first.secret
    with pytest.raises(HubRefused) as refused:
        HubClient(hub.url, first.kiosk_id, first.secret).ack()
    assert refused.value.status == 401


def test_a_skewed_clock_is_warned_about(hub: RunningHub, tmp_path: Path) -> None:
    result = enroll(
        hub.url, hub.create_kiosk("prov-skew"), tmp_path, clock=lambda: time.time() - 120
    )
    assert 100 < result.skew_s < 140
    assert "behind the hub" in result.skew_warning


def test_sync_status_and_push_commands(kiosk: Kiosk, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(2):
        write_payment(kiosk.journal, n, EXTRA_ACCOUNTS[n])
    last = kiosk.journal.last_seq()
    data = ["--data-dir", str(kiosk.data_dir)]
    assert kiosk_cli(["sync", "status", *data]) == 0
    out = capsys.readouterr().out
    assert kiosk.name in out and kiosk.credentials.hub_url in out
    assert f"{last} entries unsent" in out and "old" in out

    assert kiosk_cli(["sync", "push", *data]) == 0
    assert f"acknowledged seq {last} of {last}" in capsys.readouterr().out
    assert kiosk.journal.acked_seq() == last

    assert kiosk_cli(["sync", "status", "--json", *data]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["queue_depth"] == 0 and report["kiosk_id"] == kiosk.name
    assert report["worker"]["last_contact_at"] is not None


def test_sync_commands_explain_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kiosk_cli(["sync", "push", "--data-dir", str(tmp_path)]) == 2
    assert "not enrolled" in capsys.readouterr().err
    assert kiosk_cli(["sync", "status", "--data-dir", str(tmp_path)]) == 2
    assert "no journal" in capsys.readouterr().err


def test_credentials_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = creds.save(
            tmp_path, creds.Credentials(kiosk_id="k1", secret="s" * 43, hub_url="http://h")
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("{not json")
    with pytest.raises(creds.CredentialsError, match="damaged"):
        creds.load(tmp_path)
