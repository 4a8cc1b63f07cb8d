"""``kiosk-hub technicians``: who may enter service mode, sent to kiosks with their settings."""

from __future__ import annotations

import io

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from contract.wire import KioskSettings
from hub.cli import main
from tests.hub.harness import Creds, HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite


@pytest.fixture
def creds(hub: HubHarness) -> Creds:
    return hub.enroll("k1")


def _cli(hub: HubHarness, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--db", hub.db_url, "technicians", *args])


def _settings(hub: HubHarness, creds: Creds) -> KioskSettings:
    response = hub.signed("GET", f"/v1/kiosks/{creds.kiosk_id}/settings", creds)
    assert response.status_code == 200, response.text
    return KioskSettings.model_validate(response.json())


def test_add_list_pin_remove_reach_every_kiosks_settings(
    hub: HubHarness,
    creds: Creds,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = hub.enroll("k2")
    before = _settings(hub, creds)
    assert before.technicians == []

    add = ("add", "Dana Lopez", "--badge", "TECH-0042", "--pin-stdin")
    assert _cli(hub, monkeypatch, *add, stdin="2580\n") == 0
    assert "technician Dana Lopez added with badge TECH-0042" in capsys.readouterr().out
    assert _cli(hub, monkeypatch, "add", "Sam Ortiz", "--pin-stdin", stdin="90210\n") == 0
    settings = _settings(hub, creds)
    assert settings.version == before.version + 2
    assert [(t.name, t.badge) for t in settings.technicians] == [
        ("Dana Lopez", "TECH-0042"),
        ("Sam Ortiz", ""),
    ]
    dana = settings.technicians[0]
    assert dana.pin_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(dana.pin_hash, "2580")
    assert _settings(hub, other).technicians == settings.technicians  # every kiosk

    capsys.readouterr()
    assert _cli(hub, monkeypatch, "list") == 0
    listing = capsys.readouterr().out
    assert "Dana Lopez" in listing and "TECH-0042" in listing and "active" in listing
    assert "argon2" not in listing and "$" not in listing

    assert _cli(hub, monkeypatch, "pin", "Dana Lopez", "--pin-stdin", stdin="1357\n") == 0
    changed = _settings(hub, creds)
    assert changed.version == settings.version + 1
    new_hash = changed.technicians[0].pin_hash
    assert PasswordHasher().verify(new_hash, "1357") and new_hash != dana.pin_hash

    assert _cli(hub, monkeypatch, "remove", "Dana Lopez") == 0
    removed = _settings(hub, creds)
    assert removed.version == changed.version + 1
    assert [t.name for t in removed.technicians] == ["Sam Ortiz"]
    capsys.readouterr()
    assert _cli(hub, monkeypatch, "list") == 0
    assert "removed" in capsys.readouterr().out

    # the badge is free again; the name comes back with a new PIN
    lee = ("add", "Lee Park", "--badge", "TECH-0042", "--pin-stdin")
    assert _cli(hub, monkeypatch, *lee, stdin="4680\n") == 0
    assert _cli(hub, monkeypatch, "add", "Dana Lopez", "--pin-stdin", stdin="8642\n") == 0
    back = _settings(hub, creds)
    assert [(t.name, t.badge) for t in back.technicians] == [
        ("Dana Lopez", ""),
        ("Lee Park", "TECH-0042"),
        ("Sam Ortiz", ""),
    ]
    assert PasswordHasher().verify(back.technicians[0].pin_hash, "8642")


def test_weak_pins_and_clashes_are_refused_and_change_nothing(
    hub: HubHarness,
    creds: Creds,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _cli(hub, monkeypatch, "add", "Dana", "--badge", "B1", "--pin-stdin", stdin="2580") == 0
    version = _settings(hub, creds).version
    capsys.readouterr()
    refusals = [
        (("add", "Sam", "--pin-stdin"), "1234\n", "consecutive digits"),
        (("add", "Sam", "--pin-stdin"), "0000\n", "one digit repeated"),
        (("add", "Sam", "--pin-stdin"), "12\n", "4 to 8 digits"),
        (("add", "Sam", "--pin-stdin"), "", "digits only"),
        (("add", "Dana", "--pin-stdin"), "1357\n", "already exists"),
        (("add", "Sam", "--badge", "B1", "--pin-stdin"), "1357\n", "already belongs to Dana"),
        (("add", "Sam", "--badge", "has space", "--pin-stdin"), "1357\n", "badge code"),
        (("add", " Sam", "--pin-stdin"), "1357\n", "can not name a technician"),
        (("pin", "Nobody", "--pin-stdin"), "1357\n", "no technician named 'Nobody'"),
        (("pin", "Dana", "--pin-stdin"), "4321\n", "consecutive digits"),
        (("remove", "Nobody"), "", "no technician named"),
    ]
    for args, stdin, message in refusals:
        assert _cli(hub, monkeypatch, *args, stdin=stdin) == 1, args
        assert message in capsys.readouterr().err, args
    assert _cli(hub, monkeypatch, "remove", "Dana") == 0
    assert _cli(hub, monkeypatch, "remove", "Dana") == 1
    assert "no active technician named 'Dana'" in capsys.readouterr().err
    after = _settings(hub, creds)
    assert after.version == version + 1 and after.technicians == []


def test_a_pin_typed_twice_must_match(
    hub: HubHarness,
    creds: Creds,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    typed = iter(["2580", "2508"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(typed))
    assert _cli(hub, monkeypatch, "add", "Dana") == 1
    assert "the two PINs typed differ" in capsys.readouterr().err
    typed = iter(["2580", "2580"])
    assert _cli(hub, monkeypatch, "add", "Dana") == 0
    assert PasswordHasher().verify(_settings(hub, creds).technicians[0].pin_hash, "2580")


def test_the_wire_takes_argon2_hashes_only_and_old_hubs_send_none() -> None:
    old = KioskSettings.model_validate({"kiosk_id": "k1", "version": 3})
    assert old.technicians == []
    good = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"
    person = {"name": "Dana", "pin_hash": good, "badge": "B1", "since": "newer hubs"}
    settings = KioskSettings.model_validate(
        {"kiosk_id": "k1", "version": 3, "technicians": [person]}
    )
    assert settings.technicians[0].pin_hash == good and settings.technicians[0].badge == "B1"
    for wrong in (
        {"name": "Dana", "pin_hash": "2580"},
        {"name": "Dana", "pin_hash": "$2b$12$abcdefghijklmnopqrstuv"},  # bcrypt
        {"name": "", "pin_hash": good},
        {"name": "D" * 65, "pin_hash": good},
        {"name": "Dana", "pin_hash": good, "badge": "B" * 65},
    ):
        with pytest.raises(ValidationError):
            KioskSettings.model_validate({"kiosk_id": "k1", "version": 3, "technicians": [wrong]})
    with pytest.raises(ValidationError, match="at most 200"):
        KioskSettings.model_validate(
            {"kiosk_id": "k1", "version": 3, "technicians": [person] * 201}
        )
