"""Every text colour on its background meets WCAG AA; touch targets fit a gloved finger."""

from __future__ import annotations

import pytest

from screens import theme
from screens.theme import PALETTE, TEXT_PAIRS, contrast_ratio, hex_colour


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    black, white = hex_colour("#000000"), hex_colour("#FFFFFF")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # WCAG's own example: #777777 on white is just under 4.5:1 (4.48)
    assert contrast_ratio(hex_colour("#777777"), white) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("pair", sorted(TEXT_PAIRS))
def test_every_text_pair_meets_aa(pair: str) -> None:
    text, background = TEXT_PAIRS[pair]
    assert contrast_ratio(text, background) >= theme.AA_BODY, pair


def test_the_status_of_a_button_is_not_colour_alone() -> None:
    """Pressed and normal differ enough to see in sun; disabled buttons also say so in
    words (checked on the screens), so the colours only have to be distinct."""
    for normal, down in [
        (PALETTE.primary, PALETTE.primary_down),
        (PALETTE.secondary, PALETTE.secondary_down),
        (PALETTE.danger, PALETTE.danger_down),
    ]:
        assert contrast_ratio(normal, down) >= 1.4


def test_touch_targets_fit_a_gloved_finger() -> None:
    assert theme.TOUCH_MIN >= 88 and theme.KEY_SIZE >= 88
    assert theme.LARGE_TEXT_SCALE >= 1.25
