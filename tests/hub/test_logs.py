"""The hub's log: with ``--log-format json`` every line of a served hub is one JSON object,
and the lines logged while serving a request carry its id (the caller's ``X-Request-Id`` if
it is a plain token, else a new one, returned in the answer) and the kiosk's id."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.hub.harness import HubHarness
from tests.sync.hubproc import start_hub_process, stop_hub_processes


def test_each_answer_names_its_request(hub: HubHarness) -> None:
    given = hub.client.get("/v1/health", headers={"X-Request-Id": "lb-7f3a9c21"})
    assert given.headers["x-request-id"] == "lb-7f3a9c21"
    made = hub.client.get("/v1/health", headers={"X-Request-Id": 'bad"; injected'})
    assert made.headers["x-request-id"] != 'bad"; injected'
    assert len(made.headers["x-request-id"]) == 32
    other = hub.client.get("/v1/health")
    assert other.headers["x-request-id"] not in (made.headers["x-request-id"], "lb-7f3a9c21")


def test_a_served_hub_logs_json_lines_with_the_request_and_the_kiosk(tmp_path: Path) -> None:
    log_path = tmp_path / "hub.log"
    options = ["--post-interval", "0", "--log-format", "json", "--log-level", "info"]
    hub = start_hub_process(str(tmp_path / "hub.sqlite"), log_path, options)
    try:
        headers = {"X-Request-Id": "trace-0001-abcd", "X-Kiosk-Id": "k-12"}
        assert httpx.get(f"{hub.url}/v1/health", headers=headers, timeout=5).status_code == 200
        shady = {"X-Kiosk-Id": "Robert'); DROP TABLE"}
        assert httpx.get(f"{hub.url}/v1/health", headers=shady, timeout=5).status_code == 200
        deadline = time.monotonic() + 30
        while log_path.read_text().count("/v1/health") < 3:  # the readiness check's too
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
    finally:
        stop_hub_processes([hub.process])
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if "/v1/health" in line["message"]]
    ours = [line for line in access if line["request_id"] == "trace-0001-abcd"]
    assert ours and all(line["kiosk"] == "k-12" for line in ours)
    assert access[-1]["kiosk"] == "-" and "DROP" not in json.dumps(lines)
