"""What the audio mode says: every screen in both languages, privacy without headphones,
each change, each focus; its choices name widgets the screens have; and
docs/accessibility.md is what the code says."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from screens import spoken
from screens.gallery import samples
from screens.spoken_doc import PAGE, document
from screens.texts import Texts

SCREENS = Path(__file__).resolve().parents[2] / "screens"
SAMPLES = dict(samples())


def said(name: str, language: str = "en", *, private: bool = True) -> str:
    snapshot = replace(SAMPLES[name], language=language)
    return spoken.screen(snapshot).text(Texts(language), private=private)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_screen_is_said_in_both_languages_from_the_catalogs(name: str) -> None:
    english, spanish = said(name, "en"), said(name, "es")
    assert english and spanish and english != spanish
    # no English sentence of the audio mode's own left untranslated in Spanish
    for word in ("Choices:", "Plug in", "Type your", "Another amount", "accepted."):
        assert word not in spanish, (name, spanish)
    assert "[" not in english and "\n" not in english  # no Kivy markup, one utterance


def test_a_screen_says_its_title_what_matters_and_its_choices() -> None:
    text = said("method")
    assert text.startswith("How do you want to pay $28.75?")
    assert "Card. Convenience fee $1.00. Total $29.75" in text
    assert text.endswith("Choices: Cash. Bills only. No change is given; any extra is credited"
                         " to your account; Card. Convenience fee $1.00. Total $29.75; Cancel;"
                         " Back; Español.")  # fmt: skip
    assert said("cash", "es").startswith(
        "Inserte sus billetes. Monto a pagar: $28.75. Insertado: $20.00. Falta pagar: $8.75."
    )


def test_account_details_and_balances_are_said_only_into_headphones() -> None:
    private = said("confirm_account")
    for detail in ("Maria G.", "12 Oak St", "$43.17", "0 3 0 2", "Past due"):
        assert detail in private
    public = said("confirm_account", private=False)
    for detail in ("Maria", "Oak", "$43.17", "0 3 0 2", "Past due"):
        assert detail not in public
    assert public.count(Texts("en")._(spoken.PRIVATE_HIDDEN)) == 1
    assert "Yes, this is my account" in public
    # the amount due is the balance: its choice drops the figure without headphones
    assert "Pay the amount due: $43.17" in said("amount")
    amount = said("amount", private=False)
    assert "Pay the amount due;" in amount and "$43.17" not in amount
    # a credit left on the account is a balance too
    assert "credit of $1.83" in said("receipt-offline")
    assert "$1.83" not in said("receipt-offline", private=False)
    assert "Credited to your account: $45.00" in said("receipt-offline", private=False)


def test_masked_details_are_said_without_their_masks() -> None:
    assert spoken.unmasked("12•• Oak St") == "12 Oak St"
    assert spoken.spelled("7K3M-Q9XD-R") == "7 K 3 M, Q 9 X D, R"
    assert "•" not in said("confirm_account")


def test_only_the_choices_the_resident_has_are_offered() -> None:
    snapshot = SAMPLES["card_declined"]
    controls = [c.control for c in spoken.screen(snapshot).choices]
    assert controls == ["retry", "cash", "cancel", "back"]
    no_cash = replace(snapshot, cash_available=False)
    assert "cash" not in [c.control for c in spoken.screen(no_cash).choices]
    nothing_due = replace(SAMPLES["amount"], account=replace(snapshot.account, balance=Money(0)))  # type: ignore[arg-type]
    assert "full" not in [c.control for c in spoken.screen(nothing_due).choices]


def kv_ids(screen: str) -> set[str]:
    text = (SCREENS / f"{screen}.kv").read_text(encoding="utf-8")
    return set(re.findall(r"^\s*id:\s*(\w+)\s*$", text, re.MULTILINE))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_choice_names_a_widget_its_screen_has(name: str) -> None:
    snapshot = SAMPLES[name]
    screen = snapshot.state.value
    ids = kv_ids(screen)
    for choice in spoken.screen(snapshot).choices:
        if choice.control == "top.language":
            assert "top" in ids and "language" in kv_ids("widgets")
        else:
            assert choice.control in ids, (screen, choice.control)
        if choice.field:
            assert choice.submit in ids and "keypad" in ids


def test_each_change_is_said_as_it_happens() -> None:
    cash = replace(SAMPLES["cash"], inserted=Money(2000), bills=(Money(2000),))
    more = replace(cash, inserted=Money(2500), bills=(Money(2000), Money(500)))
    assert spoken.change(cash, more) == (
        "$5.00 bill accepted. Inserted: $25.00. Still to pay: $3.75."
    )
    spanish = spoken.change(replace(cash, language="es"), replace(more, language="es"))
    assert spanish == "Billete de $5.00 aceptado. Insertado: $25.00. Falta pagar: $3.75."
    card = SAMPLES["card"]
    assert spoken.change(card, replace(card, card_prompt="enter_pin")) == (
        "Enter your PIN on the card reader."
    )
    amount = SAMPLES["amount"]
    refused = replace(amount, message="amount_too_high")
    assert spoken.change(amount, refused) == "The largest payment this kiosk takes is $2,000.00."
    assert spoken.change(refused, refused) == ""  # said once, not at every snapshot
    # another screen is said whole, not as a change
    assert spoken.change(amount, SAMPLES["method"]) == ""
    assert spoken.change(None, amount) == ""


def test_a_choice_with_the_focus_says_what_it_is_and_where() -> None:
    find = spoken.screen(SAMPLES["find_account"]).choices
    assert spoken.focus(find[0], 0, 4, "en", private=True, value="1 0 0") == (
        "Account number. Field, now 1 0 0. Type digits, then Enter. 1 of 4."
    )
    spanish = spoken.screen(replace(SAMPLES["find_account"], language="es")).choices
    assert spoken.focus(spanish[1], 1, 4, "es", private=True) == (
        "Buscar mi cuenta. Botón, 2 de 4."
    )
    full = spoken.screen(SAMPLES["amount"]).choices[0]
    assert spoken.focus(full, 0, 8, "en", private=False) == ("Pay the amount due. Button, 1 of 8.")


def test_a_technicians_screen_is_not_read_out() -> None:
    menu = Snapshot(state=State.SERVICE_MENU, language="en")
    assert spoken.screen(menu).choices == ()


def test_docs_accessibility_md_is_what_the_code_says() -> None:
    assert PAGE.read_text(encoding="utf-8") == document(), (
        "docs/accessibility.md is out of date: run `.venv/bin/python -m screens.spoken_doc`"
    )
