"""The admin token reaches a served hub from the environment or an owner-only file, and
never appears on its command line, where ``ps`` shows it to every user of the machine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.cli import main
from tests.sync.hubproc import RunningHub

TOKEN = "a-staff-token-nobody-should-see-0123"
#: ``serve`` on a descriptor that is not open: if a refusal ever let it through, it fails
#: at once instead of serving on port 8700 until the test times out
SERVE = ["serve", "--fd", "987"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[RunningHub]:
    hub = RunningHub(tmp_path)
    try:
        yield hub
    finally:
        hub.stop()


def _command_line(hub: RunningHub) -> bytes:
    assert hub.process is not None
    return Path(f"/proc/{hub.process.pid}/cmdline").read_bytes()


def _staff_answers(hub: RunningHub, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{hub.url}/v1/alerts", headers=headers, timeout=5).status_code


def test_the_token_from_the_environment_stays_off_the_command_line(served: RunningHub) -> None:
    served.start(env={"KIOSK_HUB_ADMIN_TOKEN": TOKEN})
    assert _staff_answers(served, TOKEN) == 200
    assert _staff_answers(served, "not-the-token-0123456789") == 401
    command_line = _command_line(served)
    assert b"serve" in command_line and TOKEN.encode() not in command_line


def test_the_token_from_an_owner_only_file_stays_off_the_command_line(
    served: RunningHub, tmp_path: Path
) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    served.start("--admin-token-file", str(token_file), env={"KIOSK_HUB_ADMIN_TOKEN": ""})
    assert _staff_answers(served, TOKEN) == 200
    command_line = _command_line(served)
    assert str(token_file).encode() in command_line and TOKEN.encode() not in command_line


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_token_file_others_may_open_is_refused(
    mode: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN)
    token_file.chmod(mode)
    db = str(tmp_path / "hub.sqlite")
    assert main(["--db", db, *SERVE, "--admin-token-file", str(token_file)]) == 2
    error = capsys.readouterr().err
    assert f"mode {mode:04o}" in error and f"chmod 600 {token_file}" in error
    assert TOKEN not in error


@pytest.mark.parametrize(
    ("content", "said"),
    [("", "is empty"), ("\n  \n", "is empty"), (f"{TOKEN}\nsecond", "one line")],
)
def test_a_token_file_must_hold_the_token_alone(
    content: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(content)
    token_file.chmod(0o600)
    db = str(tmp_path / "hub.sqlite")
    assert main(["--db", db, *SERVE, "--admin-token-file", str(token_file)]) == 2
    assert said in capsys.readouterr().err


def test_a_missing_token_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert (
        main(["--db", str(tmp_path / "h.sqlite"), *SERVE, "--admin-token-file", str(missing)]) == 2
    )
    assert f"can not read the admin token file {missing}" in capsys.readouterr().err


@pytest.mark.parametrize("given", [["--admin-token", TOKEN], [f"--admin-token={TOKEN}"]])
def test_the_token_itself_on_the_command_line_is_refused(
    given: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--db", str(tmp_path / "hub.sqlite"), *SERVE, *given])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "KIOSK_HUB_ADMIN_TOKEN" in error and "--admin-token-file" in error
    assert TOKEN not in error
