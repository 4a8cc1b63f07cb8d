"""The demo's own hub: ``kiosk-hub serve`` on SQLite on 127.0.0.1, seeded with the demo
accounts, this kiosk enrolled with it, and between the two a network cable the demo panel
can pull (:class:`devices.emulators.network.NetworkLink`).

The hub is a separate process, as in the field, started with the same Python and stopped
with the demo; on Linux it is also told to stop if the demo dies without a word (a crash
test's ``kill -9``), so no hub is left behind. Its database lives in the demo's data
directory next to the journal, so a demo started again on the same directory carries on
where it stopped: same kiosk, same credentials, the hub's replica matching the journal.
"""

from __future__ import annotations

import ctypes
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from composition.wiring import Kiosk
from devices.emulators.network import NetworkLink
from devices.simulated import DEMO_ACCOUNTS
from hub.cli import spawn_serve
from hub.clock import utc_now
from hub.db import Database
from hub.demo import DEMO_KIOSK, DemoLogin, seed_staff
from kiosk.config import KioskConfig
from provisioning.enroll import EnrollError, enroll
from sync import credentials as creds
from sync.client import HubClient, HubUnavailable

HUB_FOLDER = "hub"
START_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 15.0
#: a demo shows a payment reach the hub within seconds of the cable going back in
DEMO_HUB_OPTIONS = {"backoff_cap_s": 3, "settings_interval_s": 15, "accounts_interval_s": 60}
_CODE = re.compile(r"enrollment code: (\S+)")


class DemoHubError(RuntimeError):
    """The demo hub could not be started; the message says why and what to do."""


@dataclass
class DemoHub:
    folder: Path
    process: subprocess.Popen[bytes]
    hub_url: str
    link: NetworkLink
    logins: list[DemoLogin]

    @property
    def console_url(self) -> str:
        """The finance console, straight on the hub (not through the kiosk's cable)."""
        return f"{self.hub_url}/console"

    @property
    def url(self) -> str:
        """Where the kiosk reaches the hub: through the cable."""
        return self.link.url

    @classmethod
    def start(cls, data_dir: Path) -> DemoHub:
        folder = data_dir / HUB_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        database = folder / "hub.sqlite"
        try:
            enrolled = creds.load_optional(data_dir)
        except creds.CredentialsError as exc:
            raise DemoHubError(f"{exc}; start the demo on a fresh --data-dir") from exc
        if enrolled is not None and not database.exists():
            raise DemoHubError(
                f"this kiosk is enrolled ({enrolled.kiosk_id}) but the demo hub's database "
                f"{database} is gone; start the demo on a fresh --data-dir"
            )
        code = _code_in(_hub_cli(database, "seed-demo"))
        logins = _seed_console_logins(database)
        # the hub serves on a socket bound here and handed over: its port is ours from the
        # start, so no other process can take it while the hub starts up
        with (folder / "hub.log").open("ab") as log:
            process, hub_url = spawn_serve(
                str(database),
                ["--post-interval", "2", "--log-level", "warning"],
                log=log,
                preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
            )
        port = urlsplit(hub_url).port
        assert port is not None
        hub = cls(folder, process, hub_url, NetworkLink(port), logins)
        try:
            hub._wait_until_serving()
            if enrolled is None:
                hub._enroll(database, code, data_dir)
        except BaseException:
            hub.stop()
            raise
        return hub

    def kiosk_config(self, config: KioskConfig) -> KioskConfig:
        """``config`` with the hub switched on, timed for a demo."""
        hub = config.hub.model_copy(update={"enabled": True, "url": self.url, **DEMO_HUB_OPTIONS})
        return config.model_copy(update={"hub": hub})

    def wait_ready(self, kiosk: Kiosk, timeout_s: float = READY_TIMEOUT_S) -> bool:
        """Until the kiosk holds the demo accounts (a bill scanned with the cable out is
        still found) and the hub has every journal entry."""
        sync = kiosk.sync
        if sync is None or sync.cache is None:
            return False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            cached = all(sync.cache.lookup(a.number) is not None for a in DEMO_ACCOUNTS)
            if cached and kiosk.unsent() == 0:
                return True
            time.sleep(0.1)
        return False

    def set_online(self, online: bool) -> None:
        self.link.set_online(online)

    def stop(self) -> None:
        self.link.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    # ---------------------------------------------------------------- start-up

    def _wait_until_serving(self) -> None:
        client = HubClient(self.hub_url, timeout=(1.0, 2.0))
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                if self.process.poll() is not None:
                    raise DemoHubError(f"the demo hub exited: {self._log_tail()}")
                try:
                    client.health()
                    return
                except HubUnavailable:
                    if time.monotonic() > deadline:
                        raise DemoHubError(
                            f"the demo hub did not answer within {START_TIMEOUT_S:.0f} s: "
                            f"{self._log_tail()}"
                        ) from None
                    time.sleep(0.1)
        finally:
            client.close()

    def _enroll(self, database: Path, code: str | None, data_dir: Path) -> None:
        if code is None:  # the demo kiosk is known to the hub but not enrolled here
            code = _code_in(_hub_cli(database, "set-kiosk", DEMO_KIOSK, "--new-code"))
        if code is None:
            raise DemoHubError("the demo hub issued no enrollment code")
        try:
            enroll(self.url, code, data_dir)
        except EnrollError as exc:
            raise DemoHubError(f"enrolling with the demo hub failed: {exc}") from exc

    def _log_tail(self) -> str:
        text = (self.folder / "hub.log").read_text(encoding="utf-8", errors="replace")
        return text.strip().splitlines()[-1] if text.strip() else "(its log is empty)"


def _hub_command(database: Path) -> list[str]:
    return [sys.executable, "-m", "hub.cli", "--db", str(database)]


def _hub_cli(database: Path, *args: str) -> str:
    done = subprocess.run(
        [*_hub_command(database), *args], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise DemoHubError(f"kiosk-hub {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _seed_console_logins(database: Path) -> list[DemoLogin]:
    """One console login per role in the demo hub's database (migrated by ``seed-demo``)."""
    db = Database(str(database))
    try:
        return seed_staff(db, utc_now())
    finally:
        db.dispose()


def _code_in(output: str) -> str | None:
    found = _CODE.search(output)
    return found.group(1) if found else None


PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the hub's process before it runs: SIGTERM when the demo's process ends."""
    libc: Callable[..., int] = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    libc(PR_SET_PDEATHSIG, signal.SIGTERM)
