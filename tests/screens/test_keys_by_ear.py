"""A blind resident pays alone: a bill in cash and one by card, from the attract screen to
the receipt, by the tactile keypad only, with every word the kiosk says written to WAV files.

One window run (``kiosk demo --script keys_cash --script keys_card --speech-dir DIR``): the
real app on the real engine and the devices' emulators; the keys go in through the window's
``on_key_down``, as a USB keypad's do; no touch. The cash run has headphones in (English,
account details said); the card run is started by a key without headphones (Spanish,
chosen by keys; account details not said). Then the journal, the spoken texts and every WAV
file (sox: its length, not silent) are checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.kiosk.test_speech import length_fits, needs, sox_stat
from tests.screens.test_ui import payments

# one window run of two payments: about 35 s on a loaded 2-core machine
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


OVERTAKEN = (
    "Looking up your account",
    "Buscando su cuenta",
    "Pay by card.",
    "Pago con tarjeta.",
    "Insert, tap or swipe",
    "Inserte, acerque o deslice",
    "Please remove your card",
    "Retire su tarjeta",
)
"""What is said while the engine moves on by itself, so the next screen may cut it short."""


def covered_by_the_notice(path: Path) -> bool:
    """Black but for a line of white words (the privacy notice): no screen under it shows."""
    with Image.open(path) as image:
        grey = image.convert("L")
        brightest = grey.getextrema()[1]
        pixels = list(grey.resize((160, 100)).get_flattened_data())
    black = sum(1 for p in pixels if p < 40)
    return black > 0.9 * len(pixels) and brightest > 200


def test_a_bill_paid_in_cash_and_one_by_card_by_keys_and_speech_alone(tmp_path: Path) -> None:
    needs("espeak-ng")
    needs("sox")
    speech = tmp_path / "speech"
    argv = [sys.executable, "-m", "composition.cli", "demo", "--data-dir", str(tmp_path / "data")]
    argv += ["--script", "keys_cash", "--script", "keys_card", "--speech-dir", str(speech)]
    argv += ["--screenshots", str(tmp_path / "shots")]
    proc = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "KIVY_NO_ARGS": "1"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "journal: OK" in out
    got = [(p["method"], p["amount_cents"], p["fee_cents"]) for p in payments(tmp_path)]
    assert got == [("cash", 4500, 0), ("card", 2875, 100)]
    # every resident's input was a key: no touch at all
    assert "; 0 touches, 24 keys" in out and "; 0 touches, 21 keys" in out, out

    # what was said, in order: (language, text)
    spoken = [
        tuple(line.split("\t", 1))
        for line in (speech / "spoken.txt").read_text(encoding="utf-8").splitlines()
    ]
    texts = [text for _language, text in spoken]
    starts = [i for i, t in enumerate(texts) if t.startswith("Audio mode is on.")]
    assert starts[0] == 0 and len(starts) == 2  # headphones in; later, a key
    cash_run, card_run = texts[: starts[1]], texts[starts[1] :]
    # headphones in: the account is said; each bill and the running total as it goes in
    account = "Account ending in 0 3 0 2. Maria G. 12 Oak St. Balance: $43.17."
    assert any(account in t for t in cash_run)
    # help; a digit typed too many deleted; the focus moved and said; back from cash-or-card
    assert any(t.startswith("Keypad help. Use 2 and 8") for t in cash_run)
    assert "Deleted. Now 1 0 0 2 0 0 3 0 2." in cash_run
    focus = "Pay the amount due: $43.17. Button, 1 of 8."
    assert cash_run.count("$20.00. Button, 2 of 8.") == 1 and cash_run.count(focus) == 2
    assert sum(t.startswith("How much do you want to pay?") for t in cash_run) == 2
    assert "$20.00 bill accepted. Inserted: $20.00. Still to pay: $23.17." in cash_run
    assert "$20.00 bill accepted. Inserted: $40.00. Still to pay: $3.17." in cash_run
    assert any(t.startswith("Thank you! Your payment is received.") for t in cash_run)
    # no headphones: nothing of the account is said, in Spanish, and the card's approval is
    assert [lang for lang, _t in spoken[len(cash_run) :]][-1] == "es"
    confirm = next(t for t in card_run if t.startswith("¿Es esta su cuenta?"))
    assert "Conecte unos audífonos para escuchar los datos de su cuenta." in confirm
    assert not any("Linh" in t or "Elm" in t or "0 5 2 6" in t for t in card_run)
    assert any("Su tarjeta fue aprobada." in t for t in card_run)
    assert "Tarjeta. Cargo por servicio $1.00. Total $29.75. Botón, 2 de 5." in card_run
    # Enter on the empty field moved on, 8 came back to it (a keypad has no arrows)
    field = "Número de cuenta. Campo, ahora vacío. Escriba los dígitos y pulse Enter. 1 de 4."
    assert card_run[card_run.index("Buscar mi cuenta. Botón, 2 de 4.") + 1] == field
    # the glass showed nothing of the payment while the audio mode was on: the notice only
    covered = [p for p in sorted((tmp_path / "shots").glob("*.png")) if "idle" not in p.name]
    assert len(covered) >= 12, covered
    for shot in covered:
        assert covered_by_the_notice(shot), shot.name

    # every utterance went to a WAV file of its length, not silent; only what the kiosk said
    # while the engine moved on by itself (a lookup, the card reader) may have been cut short
    # by the next screen
    rows = [
        line.split("\t", 3)
        for line in (speech / "wavs.tsv").read_text(encoding="utf-8").splitlines()
    ]
    assert [text for *_rest, text in rows] == texts
    overtaken = [text for _name, said, _rate, text in rows if said == "0"]
    assert all(t.startswith(OVERTAKEN) for t in overtaken), overtaken
    lengths: dict[str, float] = {}
    for name, said, rate, text in rows:
        if said == "0":
            continue
        length, rms = sox_stat(speech / name)
        assert length_fits(text, int(rate), length), (name, length, text)
        assert rms > 0.01, f"{name} is silent: {text}"
        lengths[name] = length
    # the receipt said again slowly (the slash key) takes longer a word than at first
    receipt = [r for r in rows if r[3].startswith("Thank you!")]
    normal, slow = receipt[0], receipt[1]
    assert (normal[2], slow[2]) == ("160", "110")
    assert rows[len(cash_run) - 1][2] == "160"  # the idle screen after: the usual rate again
    per_word = [lengths[r[0]] / len(r[3].split()) for r in (normal, slow)]
    assert per_word[1] > 1.25 * per_word[0]
    total = sum(lengths.values())
    print(f"{len(rows)} utterances, {total:.1f} s of speech")
