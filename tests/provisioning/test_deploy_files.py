"""The deployment files say what the kiosk app expects of them."""

from __future__ import annotations

import configparser
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "provisioning" / "deploy"


def read(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keys keep their case (ExecStart)
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_the_service_runs_the_kiosk_and_stops_it_with_sigterm() -> None:
    unit = read("kiosk.service")
    service = unit["Service"]
    assert service["ExecStart"].split()[1:3] == ["run", "--config"]
    assert service["ExecStart"].split()[0].endswith("/kiosk")
    # the app handles SIGTERM as a clean stop (tests/screens/test_ui.py checks it does)
    assert service["KillSignal"] == "SIGTERM"
    assert service["Restart"] == "always"
    assert "-dpms" in service["ExecStartPre"]  # the panel never powers down
    assert unit["Install"]["WantedBy"] == "graphical.target"


def test_the_kivy_settings_keep_the_resident_in_the_app() -> None:
    kivy = read("kivy-kiosk.ini")
    assert kivy["kivy"]["exit_on_escape"] == "0"
    assert kivy["graphics"]["show_cursor"] == "0"
    assert kivy["graphics"]["allow_screensaver"] == "0"
    assert kivy["graphics"]["fullscreen"] in {"auto", "1"}
