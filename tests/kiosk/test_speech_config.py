"""The ``[accessibility]`` settings: the speech's voices, rates and program."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiosk.config import Accessibility, KioskConfig


def test_the_defaults_speak_english_and_spanish_at_a_calm_rate() -> None:
    settings = KioskConfig().accessibility
    assert settings.enabled
    assert settings.voices == {"en": "en-us", "es": "es-419"}
    assert settings.slow_rate < settings.rate


@pytest.mark.parametrize(
    "bad",
    [
        {"rate": 20},
        {"rate": 160.0},
        {"slow_rate": 1000},
        {"voices": {"fr": "fr"}},
        {"voices": {"en": "en-us; rm -rf /"}},
        {"enabled": "yes"},
        {"command": ""},
        {"volume": 3},
    ],
)
def test_a_setting_the_kiosk_can_not_use_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Accessibility.model_validate(bad)


def test_a_voice_variant_is_taken() -> None:
    assert Accessibility.model_validate({"voices": {"en": "en-us+f3"}}).voices == {"en": "en-us+f3"}
