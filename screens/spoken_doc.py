"""Writes docs/accessibility.md from the code that speaks (:mod:`screens.spoken`) and the
keypad's table (:mod:`screens.keypad`), so the page says what the kiosk says.

``python -m screens.spoken_doc`` rewrites the page; a test checks it is current.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from screens import keypad, spoken
from screens.gallery import samples
from screens.texts import Texts

PAGE = Path(__file__).resolve().parents[1] / "docs" / "accessibility.md"
LANGUAGES = ("en", "es")

INTRO = """\
# Accessibility: the audio mode

<!-- Written by `python -m screens.spoken_doc` from screens/spoken.py and screens/keypad.py;
a test fails when this page and the code disagree. Do not edit by hand. -->

A blind resident can pay a bill at the kiosk alone (ADA 2010 section 707, as for ATMs and
fare machines): the kiosk speaks every screen into headphones, and everything on the screens
is reached from a tactile numeric keypad, from the first screen to the receipt, by cash or
by card. (Contrast, large text and what sighted residents read:
[accessibility-screens.md](accessibility-screens.md).)

- **Starting it.** The audio mode starts when headphones are plugged into the kiosk's jack,
  or when any key of the keypad is pressed. It ends when the headphones come out or, when it
  was started by a key without headphones, when the payment is over.
- **Privacy.** While it is on, the screen is covered by a notice ("{notice}"). Account
  details and balances (the name, the address, the balance, a credit) are spoken only when
  headphones are in; without them the kiosk says "{hidden}" in their place.
- **What is said.** Each screen as it comes up: its title, what matters on it, and its
  choices; then the choice that has the focus. Each choice as the focus moves to it ("Find my
  account. Button, 2 of 4."). Each change as it happens: a bill taken and the running total,
  the card reader's prompts, a message, the receipt printed.
- **Speech.** espeak-ng, in the resident's language (English or Spanish, from the same
  translations as the screens), at the rate and with the voices of the `[accessibility]`
  settings (see [configuration.md](configuration.md)). A new screen, or the answer to a
  key, interrupts what is being said; a change the resident did not ask for (a bill taken,
  the card reader's prompt, the receipt printed) is said after it. The star key says the
  screen again, the slash key again more slowly (until the payment ends).
- **Time.** A resident who is listening is not idle: the inactivity time-outs start when the
  kiosk stops talking. "Are you still there?" is said like any screen, and any key answers
  it.

## The keypad

| key | does |
| --- | --- |
"""


def document() -> str:
    en = Texts("en")
    parts = [INTRO.format(notice=en._(spoken.PRIVACY_NOTICE), hidden=en._(spoken.PRIVATE_HIDDEN))]
    parts += [f"| {key} | {does} |\n" for key, does in keypad.KEY_DOC]
    parts.append("\nHelp (the plus key) says:\n\n")
    for language in LANGUAGES:
        parts.append(f"- {language}: {Texts(language)._(spoken.HELP)}\n")
    parts.append(
        "\n## What each screen says\n\n"
        "Made-up snapshots (those of `screens/gallery.py`), with headphones in. The choices"
        " are also the order in which the keypad's focus moves.\n"
    )
    for name, snapshot in samples():
        parts.append(f"\n### {name}\n\n")
        for language in LANGUAGES:
            shown = replace(snapshot, language=language)
            said = spoken.screen(shown)
            texts = Texts(language)
            parts.append(f"- {language}: {said.text(texts, private=True)}\n")
            if said.choices:
                choices = ", ".join(f"`{c.control}`" for c in said.choices)
                parts.append(f"  - focus order: {choices}\n")
    parts.append("\n## What each change says\n\n")
    for title, before, after in _changes():
        parts.append(f"- {title}\n")
        for language in LANGUAGES:
            text = spoken.change(
                replace(before, language=language), replace(after, language=language)
            )
            parts.append(f"  - {language}: {text}\n")
    return "".join(parts)


def _changes() -> list[tuple[str, Snapshot, Snapshot]]:
    by_name = dict(samples())
    cash = replace(by_name["cash"], inserted=Money(0), bills=())
    card = by_name["card"]
    receipt = replace(by_name["receipt"], receipt="printing")
    amount = by_name["amount"]
    return [
        (
            "a bill taken (cash)",
            cash,
            replace(cash, inserted=Money(2000), bills=(Money(2000),)),
        ),
        ("the card reader's prompt", card, replace(card, card_prompt="remove_card")),
        ("an amount refused", amount, replace(amount, message="amount_too_low")),
        ("the receipt printed", receipt, replace(receipt, receipt="printed")),
        (
            "the account looked up",
            replace(by_name["find_account"], lookup_pending=False),
            replace(by_name["find_account"], state=State.FIND_ACCOUNT, lookup_pending=True),
        ),
    ]


def main() -> int:
    PAGE.write_text(document(), encoding="utf-8")
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
