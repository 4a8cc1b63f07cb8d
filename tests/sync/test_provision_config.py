"""``kiosk provision --config FILE`` writes the hub into the file's ``[hub]`` section itself,
against the real hub, and leaves the rest of the file as the technician wrote it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from composition.cli import main as kiosk_cli
from kiosk.config import load_config
from provisioning.config_file import ConfigWriteError, with_hub
from tests.sync.hubproc import RunningHub

WRITTEN_BY_HAND = """\
# Kiosk 7, the library branch
[identity]
kiosk_id = "kiosk-7"  # as on the hub
location = "Library"

[hub]
# the city's hub, once enrolled
url = "http://old-hub.invalid:8700"
enabled = false
push_batch = 200  # a slow uplink

[devices]
card_terminal = "simulated"
"""


def provision(hub: RunningHub, data: Path, *more: str) -> int:
    code = hub.create_kiosk(f"cfg-{data.name}")
    argv = ["provision", "--hub", hub.url, "--code", code, "--data-dir", str(data), *more]
    return kiosk_cli(argv)


def test_the_hub_is_written_and_the_rest_kept(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(WRITTEN_BY_HAND, encoding="utf-8")
    os.chmod(config, 0o640)
    assert provision(hub, tmp_path / "a", "--config", str(config)) == 0
    assert f"wrote [hub] url = {hub.url}, enabled = true to {config}" in capsys.readouterr().out
    loaded = load_config(config)
    assert loaded.hub.enabled is True and loaded.hub.url == hub.url
    assert loaded.hub.push_batch == 200 and loaded.identity.kiosk_id == "kiosk-7"
    text = config.read_text(encoding="utf-8")
    expected = WRITTEN_BY_HAND.replace('"http://old-hub.invalid:8700"', f'"{hub.url}"')
    assert text == expected.replace("enabled = false", "enabled = true")
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_file_without_a_hub_section_gets_one(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[identity]\nkiosk_id = "kiosk-8"\n', encoding="utf-8")
    assert provision(hub, tmp_path / "b", "--config", str(config)) == 0
    loaded = load_config(config)
    assert loaded.hub.enabled is True and loaded.hub.url == hub.url
    assert config.read_text(encoding="utf-8").startswith('[identity]\nkiosk_id = "kiosk-8"\n')


def test_without_a_config_file_nothing_is_written_and_it_says_so(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert provision(hub, tmp_path / "c") == 0
    out = capsys.readouterr().out
    assert "no --config FILE given, so no configuration was changed" in out
    assert f'[hub] url = "{hub.url}" and enabled = true' in out


def test_a_file_that_would_not_be_valid_is_left_alone() -> None:
    with pytest.raises(ConfigWriteError, match="is not a \\[hub\\] section"):
        with_hub('hub = "http://x"\n', "http://hub:8700")
    with pytest.raises(ConfigWriteError, match="would not be valid"):
        with_hub("[hub]\npush_batch = 9999\n", "http://hub:8700")
