"""``kiosk service pin-hash``: a PIN hash a technician pastes into ``[service] technicians``."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from composition.cli import main
from kiosk.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_the_printed_hash_verifies_and_the_config_file_takes_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "composition.cli", "service", "pin-hash", "--pin-stdin"],
        input="2580\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("$argon2id$")
    assert "2580" not in done.stdout + done.stderr
    assert PasswordHasher().verify(lines[0], "2580")
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(
        f'[service]\ntechnicians = [{{ name = "Dana Lopez", pin_hash = "{lines[0]}" }}]\n',
        encoding="utf-8",
    )
    (technician,) = load_config(config_file).service.technicians
    assert technician.name == "Dana Lopez" and technician.pin_hash == lines[0]


@pytest.mark.parametrize(
    ("stdin", "why"),
    [("1234\n", "consecutive digits"), ("7777\n", "one digit repeated"), ("12\n", "4 to 8")],
)
def test_a_weak_pin_prints_no_hash(
    stdin: str, why: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(["service", "pin-hash", "--pin-stdin"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "PIN refused" in err and why in err


def test_a_pin_typed_twice_must_match(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = iter(["2580", "2850"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(typed))
    assert main(["service", "pin-hash"]) == 1
    assert "differ" in capsys.readouterr().err
