"""Every key the engine and the devices report has words for the resident, in Spanish too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from devices.zvt import codes
from kiosk import i18n
from screens import messages
from screens.texts import Texts

ROOT = Path(__file__).resolve().parents[2]
SCREEN_MODULES = sorted((ROOT / "screens").glob("*.py"))


def _engine_message_keys() -> set[str]:
    """Every literal the engine (any of its parts) assigns to a session's ``message``."""
    nodes = [
        node
        for path in sorted((ROOT / "kiosk" / "engine").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    ]
    keys: set[str] = set()
    for node in nodes:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs: list[tuple[ast.expr, ast.expr]] = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=True))
            for name, value in pairs:
                if isinstance(name, ast.Attribute) and name.attr == "message":
                    for const in ast.walk(value):  # both arms of a conditional
                        if isinstance(const, ast.Constant) and isinstance(const.value, str):
                            keys.add(const.value)
    keys.discard("")
    return keys


def _not_found_reasons() -> set[str]:
    found = set()
    for path in [ROOT / "sync" / "directory.py", ROOT / "devices" / "simulated.py"]:
        found |= set(re.findall(r'AccountNotFound\(\w+, "(\w+)"\)', path.read_text("utf-8")))
    return found


def test_the_engine_keys_are_found() -> None:
    keys = _engine_message_keys()
    assert {"bill_rejected", "amount_too_low", "card_declined"} <= keys
    assert {"unknown", "invalid", "closed"} <= _not_found_reasons()


# f"{method}_unavailable" and f"account_{reason}" are built: their pieces are no keys
BUILT = {"_unavailable", "account_"}
BUILT_KEYS = {"cash_unavailable", "card_unavailable"}


@pytest.mark.parametrize("key", sorted((_engine_message_keys() - BUILT) | BUILT_KEYS))
def test_every_engine_message_has_its_own_sentence(key: str) -> None:
    assert key in messages.MESSAGES, f"the engine says {key!r}: give it words in messages.py"


@pytest.mark.parametrize("reason", sorted(_not_found_reasons()))
def test_every_lookup_failure_has_its_own_sentence(reason: str) -> None:
    assert f"account_{reason}" in messages.MESSAGES


@pytest.mark.parametrize("prompt", sorted(set(codes._PROGRESS.values())))
def test_every_terminal_prompt_has_words(prompt: str) -> None:
    assert prompt in messages.CARD_PROMPTS


def test_an_unknown_key_gets_the_general_sentence_never_the_key() -> None:
    es = Texts("es")
    assert messages.message(es, "a_new_device_key") == es._(messages.GENERAL_MESSAGE)
    assert messages.decline_reason(es, "result_0x42") == es._(messages.DECLINE_GENERAL)
    assert messages.card_prompt(es, "") == es._(messages.CARD_PROMPT_FIRST)
    assert messages.message(es, "") == ""


def _screen_msgids() -> list[str]:
    found = set()
    for path in SCREEN_MODULES:
        for _line, message, _comments, _context in extract_from_file("python", str(path)):
            found.add(message if isinstance(message, str) else message[0])
    return sorted(found)


def test_the_screens_have_messages() -> None:
    assert len(_screen_msgids()) > 80


@pytest.mark.parametrize("msgid", _screen_msgids())
def test_every_screen_message_is_in_spanish(msgid: str) -> None:
    with i18n.catalog_path("es").open("rb") as handle:
        catalog = read_po(handle)
    message = catalog.get(msgid)
    assert message is not None, f"{msgid!r} is not in the Spanish catalog: run pybabel update"
    assert message.string and not message.fuzzy, f"{msgid!r} has no Spanish translation"
    assert message.string != msgid or msgid.startswith("Total")
    placeholders = sorted(re.findall(r"\{\w+\}", msgid))
    assert sorted(re.findall(r"\{\w+\}", message.string)) == placeholders
