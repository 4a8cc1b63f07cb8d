"""What the audio mode says: each screen, each choice as it gets the focus, each change.

A pure function of the engine's snapshot and its language (no window, no widget), in the
same gettext catalogs as the screens and mostly in the very sentences they show, so what a
blind resident hears is what a sighted one reads. ``docs/accessibility.md`` is written from
this module (:mod:`screens.spoken_doc`), so the page can not say something else.

Privacy: account details and balances are marked ``private``; the audio mode says them only
into headphones, and says :data:`PRIVATE_HIDDEN` in their place otherwise.

A screen's :attr:`Said.choices` are also the keypad's focus order: each names the widget
(its ``id`` on the screen, ``top.language`` for the top bar's language button) that Enter
presses.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.engine.snapshot import AccountView, Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from screens import messages
from screens.amount import offered
from screens.confirm_account import balance_lines, bill_lines
from screens.out_of_service import contact_lines
from screens.receipt import credit_after, paid_lines
from screens.texts import N_, Texts

PRIVATE_HIDDEN = N_("Plug in headphones to hear your account details.")
HELP = N_(
    "Keypad help. Use 2 and 8, or the arrow keys, to move between choices. Press Enter to"
    " choose. Where a number is asked for, type it with the digit keys and press Enter;"
    " minus deletes the last digit, and Enter with nothing typed moves on to the next"
    " choice. Elsewhere, minus goes back. Press star to hear the screen again, slash to hear"
    " it again more slowly, and plus for this help."
)
AUDIO_ON = N_("Audio mode is on. The screen is hidden for your privacy.")
PRIVACY_NOTICE = N_("Audio mode: the screen is hidden for privacy. Sound is in the headphones.")
MASK = "•"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    private: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    control: str
    """The widget's id on the screen (``top.language``: the top bar's language button)."""
    label: str
    public_label: str = ""
    """What is said without headphones, where ``label`` names a balance ("" : the same)."""
    field: bool = False
    """A number typed with the digit keys; Enter presses ``submit``."""
    submit: str = ""

    def said(self, *, private: bool) -> str:
        return self.label if private or not self.public_label else self.public_label


@dataclass(frozen=True, slots=True)
class Said:
    title: str
    lines: tuple[Line, ...]
    choices: tuple[Choice, ...]

    def text(self, texts: Texts, *, private: bool) -> str:
        """The screen as one utterance: its title, what matters on it, its choices."""
        parts = [self.title] if self.title else []
        hidden = False
        for line in self.lines:
            if line.private and not private:
                if not hidden:
                    parts.append(texts._(PRIVATE_HIDDEN))
                    hidden = True
                continue
            parts.append(line.text)
        if self.choices:
            labels = "; ".join(c.said(private=private).rstrip(".") for c in self.choices)
            parts.append(texts._("Choices: {choices}.").format(choices=labels))
        return " ".join(_sentence(p) for p in parts if p)


def _sentence(text: str) -> str:
    """One line of a screen as a spoken sentence: markup out, a full stop at its end."""
    plain = " ".join(text.replace("\n", " ").split())
    while "[" in plain and "]" in plain:  # Kivy markup ([b], [size=22]) is not said
        start = plain.index("[")
        end = plain.index("]", start)
        plain = plain[:start] + plain[end + 1 :]
    plain = plain.strip()
    return plain if not plain or plain[-1] in ".?!:" else plain + "."


def spelled(code: str) -> str:
    """``"7K3M-Q9XD-R"`` -> ``"7 K 3 M, Q 9 X D, R"``: a code said one sign at a time."""
    return ", ".join(" ".join(group) for group in code.split("-") if group)


def last_digits(account: AccountView) -> str:
    """The digits the screen shows of a masked account number, one at a time."""
    return " ".join(account.number_masked.replace(MASK, "").strip())


def unmasked(text: str) -> str:
    """A masked name or address as it can be said: the hidden letters left out."""
    return " ".join(" ".join(text.split(MASK)).split())


def _common(texts: Texts, snapshot: Snapshot) -> list[Choice]:
    """The choices at the foot of most screens: the top bar's language button."""
    other = "es" if texts.language == "en" else "en"
    return [Choice("top.language", LANGUAGE_NAMES[other])]


def screen(snapshot: Snapshot) -> Said:
    texts = Texts(snapshot.language)
    _ = texts._
    said = _SCREENS.get(snapshot.state)
    if said is None:
        return Said(_("This screen is for technicians."), (), ())
    result = said(snapshot, texts)
    message = messages.message(texts, snapshot.message, snapshot)
    if message and snapshot.state not in (State.CARD_DECLINED, State.OUT_OF_SERVICE):
        lines = (result.lines[0], Line(message), *result.lines[1:]) if result.lines else ()
        result = Said(result.title, lines or (Line(message),), result.choices)
    return result


def _idle(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    printer = s.printer_available
    receipt = _("Take your receipt") if printer else _("Note your confirmation number")
    lines = (
        Line(_("Find your bill")),
        Line(_("Pay with cash or card")),
        Line(receipt),
        Line(_("Cash: available") if s.cash_available else _("Cash: not available now")),
        Line(_("Card: available") if s.card_available else _("Card: not available now")),
    )
    choices = (Choice("start_en", "Start in English"), Choice("start_es", "Empezar en español"))
    return Said(_("Pay your water bill here"), lines, choices)


def _find_account(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    lines = [Line(_("Type your account number, then press Enter."))]
    if s.lookup_pending:
        lines.append(Line(_("Looking up your account...")))
    else:
        lines.append(Line(_("The account number is printed at the top of your bill.")))
    choices = (
        Choice("number", _("Account number"), field=True, submit="find"),
        Choice("find", _("Find my account")),
        Choice("cancel", _("Cancel")),
        *_common(texts, s),
    )
    return Said(_("Find your account"), tuple(lines), choices)


def _confirm_account(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    lines: list[Line] = []
    account = s.account
    if account is not None:
        label, balance, due = balance_lines(account, texts)
        lines += [
            Line(_("Account ending in {digits}").format(digits=last_digits(account)), True),
            Line(unmasked(account.name_masked), True),
            Line(unmasked(account.address_masked), True),
            Line(f"{label}: {balance}", True),
        ]
        if due:
            lines.append(Line(due, True))
        lines += [Line(text, True) for text in bill_lines(account, texts) if text]
        if account.review:
            lines.append(
                Line(_("Entered by hand: the city will confirm this account before posting."))
            )
    choices = (
        Choice("yes", _("Yes, this is my account")),
        Choice("back", _("No, go back")),
        Choice("cancel", _("Cancel")),
        *_common(texts, s),
    )
    return Said(_("Is this your account?"), tuple(lines), choices)


def _amount(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    due = s.bill_amount
    if due is None and s.account is not None:
        due = s.account.balance
    full = due if due is not None else Money(0)
    choices: list[Choice] = []
    if full.cents > 0:
        choices.append(
            Choice(
                "full",
                _("Pay the amount due: {amount}").format(amount=texts.money(full)),
                public_label=_("Pay the amount due"),
            )
        )
    for index, amount in enumerate(offered(full, s.min_amount, s.max_amount)):
        choices.append(Choice(f"common{index}", texts.money(amount)))
    choices += [
        Choice("other", _("Another amount in dollars"), field=True, submit="pay_other"),
        Choice("cancel", _("Cancel")),
        Choice("back", _("Back")),
        *_common(texts, s),
    ]
    limits = _("This kiosk takes payments from {low} to {high}.").format(
        low=texts.money(s.min_amount), high=texts.money(s.max_amount)
    )
    return Said(_("How much do you want to pay?"), (Line(limits),), tuple(choices))


def _method(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    amount = s.amount
    shown = texts.money(amount) if amount is not None else ""
    from screens.method import MethodScreen  # its notices are the screen's own sentences

    lines = tuple(Line(n) for n in MethodScreen._notices(s, texts))
    choices: list[Choice] = []
    if s.cash_available:
        choices.append(
            Choice(
                "cash",
                _("Cash")
                + ". "
                + _("Bills only. No change is given; any extra is credited to your account."),
            )
        )
    if s.card_available and amount is not None:
        fee = _("Convenience fee {fee}. Total {total}.").format(
            fee=texts.money(s.card_fee), total=texts.money(amount + s.card_fee)
        )
        choices.append(Choice("card", _("Card") + ". " + fee))
    choices += [Choice("cancel", _("Cancel")), Choice("back", _("Back")), *_common(texts, s)]
    return Said(_("How do you want to pay {amount}?").format(amount=shown), lines, tuple(choices))


def _cash_lines(s: Snapshot, texts: Texts) -> list[Line]:
    _ = texts._
    amount = s.amount or Money(0)
    left = amount - s.inserted
    lines = [
        Line(_("Amount to pay") + ": " + texts.money(amount)),
        Line(_("Inserted") + ": " + texts.money(s.inserted)),
    ]
    if left.cents > 0:
        lines.append(Line(_("Still to pay: {amount}").format(amount=texts.money(left))))
    elif left.cents < 0:
        lines.append(
            Line(
                _("{amount} extra will be credited to your account.").format(
                    amount=texts.money(Money(-left.cents))
                )
            )
        )
    else:
        lines.append(Line(_("Paid in full.")))
    return lines


def _cash(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    lines = [
        *_cash_lines(s, texts),
        Line(
            _("Accepted: {bills} bills, one at a time.").format(bills=texts.bills(s.accepted_bills))
        ),
        Line(_("No change is given; any extra is credited to your account.")),
    ]
    done = (
        _("Done: pay {amount}").format(amount=texts.money(s.inserted))
        if s.inserted.cents > 0
        else _("Pay another way")
    )
    choices = (Choice("done", done), Choice("cancel", _("Cancel")))
    return Said(_("Insert your bills"), tuple(lines), choices)


def _card(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    amount = s.amount or Money(0)
    lines = (
        Line(messages.card_prompt(texts, s.card_prompt)),
        Line(_("Total {total}").format(total=texts.money(amount + s.card_fee))),
        Line(
            _("Payment {amount} + convenience fee {fee}").format(
                amount=texts.money(amount), fee=texts.money(s.card_fee)
            )
        ),
    )
    return Said(_("Pay by card"), lines, (Choice("cancel", _("Cancel")),))


def _card_declined(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    lines = (
        Line(messages.decline_reason(texts, s.card_decline_reason)),
        Line(_("Your card was not charged.")),
    )
    choices: list[Choice] = []
    if s.card_available:
        choices.append(Choice("retry", _("Try a card again")))
    if s.cash_available:
        choices.append(Choice("cash", _("Pay with cash")))
    choices += [Choice("cancel", _("Cancel")), Choice("back", _("Back"))]
    return Said(_("Card not accepted"), lines, tuple(choices))


def _receipt(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    lines: list[Line] = []
    if s.method == "card":
        lines.append(Line(_("Your card was approved.")))
    paid, charged = paid_lines(s, texts)
    lines += [Line(paid), Line(charged)]
    credit = credit_after(s, s.amount or Money(0))
    if credit is not None:
        lines.append(
            Line(
                _("Your account now has a credit of {amount}.").format(amount=texts.money(credit)),
                True,
            )
        )
    if s.confirmation:
        lines.append(Line(_("Confirmation number") + ": " + spelled(s.confirmation)))
    lines.append(Line(_receipt_note(s, texts)))
    if s.offline:
        lines.append(
            Line(_("The kiosk is offline: your payment will be posted when it reconnects."))
        )
    title = _("Thank you! Your payment is received.")
    return Said(title, tuple(lines), (Choice("done", _("Done")),))


def _receipt_note(s: Snapshot, texts: Texts) -> str:
    _ = texts._
    if s.receipt == "printed":
        return _("Please take your receipt below.")
    if s.receipt == "failed":
        return _("Receipt unavailable. Please write down the confirmation number or scan the code.")
    return _("Printing your receipt...")


def _still_there(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    choices = (Choice("here", _("Yes, I am here")), Choice("cancel", _("Cancel")))
    return Said(_("Are you still there?"), (Line(_("Press any key to keep going.")),), choices)


def _out_of_service(s: Snapshot, texts: Texts) -> Said:
    _ = texts._
    lines = [
        Line(_("Sorry, this kiosk is out of service.")),
        Line(
            _(
                "Please use another kiosk, pay online, or call customer service."
                " We are working on it."
            )
        ),
        *(Line(line) for line in contact_lines(s, texts)),
    ]
    return Said("", tuple(lines), ())


_SCREENS = {
    State.IDLE: _idle,
    State.FIND_ACCOUNT: _find_account,
    State.CONFIRM_ACCOUNT: _confirm_account,
    State.AMOUNT: _amount,
    State.METHOD: _method,
    State.CASH: _cash,
    State.CARD: _card,
    State.CARD_CHECKING: _card,
    State.CARD_DECLINED: _card_declined,
    State.RECEIPT: _receipt,
    State.STILL_THERE: _still_there,
    State.OUT_OF_SERVICE: _out_of_service,
}


def focus(
    choice: Choice, index: int, count: int, language: str, *, private: bool, value: str = ""
) -> str:
    """What is said when ``choice`` (number ``index`` from 0 of ``count``) gets the focus;
    ``value``: what a field holds."""
    texts = Texts(language)
    _ = texts._
    label = _sentence(choice.said(private=private))
    if choice.field:
        typed = value or _("empty")
        return _("{label} Field, now {value}. Type digits, then Enter. {n} of {count}.").format(
            label=label, value=typed, n=index + 1, count=count
        )
    return _("{label} Button, {n} of {count}.").format(label=label, n=index + 1, count=count)


def change(before: Snapshot | None, after: Snapshot) -> str:
    """What changed on the same screen, said as it happens ("" for nothing worth saying):
    a bill taken and the running total, the card reader's prompt, a message, the receipt."""
    if before is None or before.state is not after.state or before.language != after.language:
        return ""
    texts = Texts(after.language)
    _ = texts._
    said: list[str] = []
    if after.message and after.message != before.message:
        said.append(messages.message(texts, after.message, after))
    if after.state is State.CASH and len(after.bills) > len(before.bills):
        bill = after.bills[-1]
        said.append(_("{bill} bill accepted.").format(bill=texts.money(bill)))
        said += [line.text for line in _cash_lines(after, texts)[1:]]
    if after.state in (State.CARD, State.CARD_CHECKING) and after.card_prompt != before.card_prompt:
        said.append(messages.card_prompt(texts, after.card_prompt))
    if after.state is State.RECEIPT and after.receipt != before.receipt:
        said.append(_receipt_note(after, texts))
    if after.lookup_pending and not before.lookup_pending:
        said.append(_("Looking up your account..."))
    return " ".join(_sentence(s) for s in said)
