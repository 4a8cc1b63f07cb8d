"""Every resident's screen drawn from made-up snapshots, in each language and text size, with
and without a message; what it found is printed as JSON (``python -m screens.gallery``).

The scripted demo photographs the screens a payment passes; this draws the ones it does not
reach (an error banner on the keypad screens, a past-due bill, a card fee on the thank-you
screen) in English and Spanish, in standard text and in large text switched on by a touch,
as a resident does, after the screens were first drawn. For each it reports:

- what the layout check (:mod:`screens.layout`) finds: words over words, off the window,
  broken between two letters;
- every text's colour and the colour under it, for the contrast test;
- where the keypad's keys are, with and without a banner (they must not move);
- the demo panel's font size and height in both text sizes (it must not grow).

The UI tests run it in a child process (Kivy owns one window per process); ``--shots DIR``
also saves each picture as the kiosk's screen (without the demo panel), as
``DIR/{size}-{language}-{name}.png``; ``--only NAME`` keeps to some screens (docs/screens/
keeps those the scripts do not reach).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from kiosk.engine.snapshot import AccountView, ContactView, Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import Charge, LastPaid, UsageMonth

FRAMES = 3
"""Frames a screen is given to lay itself out before it is measured."""

CONTACT = ContactView(
    phone="(555) 010-0199", address="City Hall, 100 Main St", web="springfield.example.gov"
)


def _account(**changes: Any) -> AccountView:
    months = tuple(UsageMonth(f"2026-{m:02d}", 4000 + 150 * m) for m in range(1, 13))
    base = AccountView(
        number_masked="•••••0302",
        name_masked="Maria G.",
        address_masked="12•• Oak St",
        balance=Money(4317),
        due_date=date(2026, 12, 5),
        usage=months,
        source="live",
        review=False,
        last_payment=LastPaid(Money(3890), date(2026, 11, 4)),
        charges=(
            Charge("Water", Money(2910)),
            Charge("Sewer", Money(1107)),
            Charge("Trash", Money(300)),
        ),
    )
    return replace(base, **changes)


def samples() -> list[tuple[str, Snapshot]]:
    """(name, snapshot) for each screen a resident can see, in English: the gallery draws
    each one in every language and text size."""
    base = Snapshot(
        state=State.IDLE,
        language="en",
        min_amount=Money(100),
        max_amount=Money(200_000),
        max_cash=Money(100_000),
        accepted_bills=(Money(100), Money(500), Money(1000), Money(2000), Money(5000)),
        contact=CONTACT,
    )
    session = replace(base, session_id="s-1", account=_account(past_due=True))
    amount = replace(session, amount=Money(2875), card_fee=Money(100), method="card")
    return [
        ("idle", base),
        ("find_account", replace(base, state=State.FIND_ACCOUNT, session_id="s-1")),
        (
            "find_account-message",
            replace(base, state=State.FIND_ACCOUNT, session_id="s-1", message="account_unknown"),
        ),
        ("confirm_account", replace(session, state=State.CONFIRM_ACCOUNT)),
        ("amount", replace(session, state=State.AMOUNT)),
        ("amount-message", replace(session, state=State.AMOUNT, message="amount_too_low")),
        ("method", replace(session, state=State.METHOD, amount=Money(2875), card_fee=Money(100))),
        ("cash", replace(amount, state=State.CASH, method="cash", inserted=Money(2000))),
        ("card", replace(amount, state=State.CARD, card_prompt="insert_card")),
        (
            "card_declined",
            replace(amount, state=State.CARD_DECLINED, card_decline_reason="insufficient_funds"),
        ),
        (
            "receipt",
            replace(
                amount,
                state=State.RECEIPT,
                confirmation="7K3M-Q9XD-R",
                confirmation_link="https://pay.example.gov/lookup?c=7K3M-Q9XD-R",
                receipt="printed",
            ),
        ),
        (
            "receipt-offline",
            replace(
                amount,
                state=State.RECEIPT,
                method="cash",
                card_fee=Money(0),
                amount=Money(4500),
                confirmation="7K3M-Q9XD-R",
                receipt="failed",
                offline=True,
            ),
        ),
        ("still_there", replace(session, state=State.STILL_THERE, seconds_left=20)),
        ("out_of_service", replace(base, state=State.OUT_OF_SERVICE, out_of_service_reason="x")),
    ]


@dataclass
class Found:
    problems: list[str]
    colours: list[dict[str, Any]]
    keypads: dict[str, list[list[float]]]
    panel: dict[str, list[float]]
    checks: dict[str, Any]


def run(shots: Path | None = None, only: frozenset[str] = frozenset()) -> Found:
    with tempfile.TemporaryDirectory(prefix="kiosk-gallery-") as home:  # Kivy's own files
        return _run(Path(home), shots, only)


def _run(home: Path, shots: Path | None, only: frozenset[str]) -> Found:
    from screens import runtime

    runtime.prepare(home, demo_panel=True)
    from kivy.clock import Clock

    from screens import colours, layout
    from screens.app import KioskApp
    from screens.bridge import SnapshotBridge
    from screens.demo_panel import DemoAction, DemoPanel
    from screens.player import save_screenshot

    found = Found([], [], {}, {}, {})
    network = [True]
    app = KioskApp(
        SnapshotBridge(_StaticLink()),
        online=lambda: network[0],
        demo_panel=lambda: DemoPanel(
            [DemoAction("Insert a bill", f"${d}", lambda: None) for d in (1, 5, 10, 20)]
            + [DemoAction("Card terminal", "Tap an approving card", lambda: None)]
        ),
    )

    def save(path: Path) -> Path:
        """The window's picture, cut to the kiosk's own screen."""
        from PIL import Image

        save_screenshot(path)
        with Image.open(path) as image:
            kiosk = image.crop((0, 0, *app.root.ids["kiosk_area"].size))
            kiosk.load()
        kiosk.save(path)
        return path

    steps = list(_steps(app, found, network, shots, only, layout, colours, save))

    def tick(_dt: float, left: list[int] = [FRAMES]) -> None:  # noqa: B006 - the counter
        if left[0] > 0:
            left[0] -= 1
            return
        if not steps:
            app.stop()
            return
        steps.pop(0)()
        left[0] = FRAMES

    Clock.schedule_interval(tick, 0)
    app.run()
    return found


def _steps(
    app: Any,
    found: Found,
    network: list[bool],
    shots: Path | None,
    only: frozenset[str],
    layout: Any,
    colours: Any,
    save: Callable[[Path], Path],
) -> Iterator[Callable[[], None]]:
    """One callable per frame group: show something, then (next group) measure it."""

    def panel_now(size: str) -> None:
        panel = next(w for w in app.root.children if type(w).__name__ == "DemoPanel")
        buttons = [w for w in panel.walk() if type(w).__name__ == "DemoButton"]
        found.panel[size] = [buttons[0].font_size, panel.ids["buttons"].height]

    for large in (False, True):
        size = "large" if large else "standard"
        if large:
            yield app.toggle_large_text  # the resident's touch, after the screens were drawn
        yield partial(panel_now, size)
        for language in ("en", "es"):
            for name, sample in samples():
                snapshot = replace(sample, language=language)

                def show(s: Snapshot = snapshot) -> None:
                    network[0] = not s.offline
                    app.show(s)

                yield show

                def measure(name: str = name, language: str = language, size: str = size) -> None:
                    screen = app.current_screen()
                    mark = app.root.ids["status_mark"]
                    label = f"{size}/{language}/{name}"
                    found.problems += [
                        f"{label}: {p}"
                        for p in layout.problems([screen, mark], app.root.ids["kiosk_area"].size)
                    ]
                    found.colours += [
                        {"where": label, **pair} for pair in colours.text_pairs([screen, mark])
                    ]
                    if "keypad" in screen.ids:
                        keys = screen.ids["keypad"].ids
                        found.keypads[label] = [
                            list(keys[k].to_window(*keys[k].pos)) for k in ("k1", "kclear")
                        ]
                    if shots is not None and (not only or name in only):
                        save(shots / f"{size}-{language}-{name}.png")

                yield measure
    # the resident's Clear takes the error away with the digits
    error = replace(dict(samples())["find_account-message"], language="en")
    yield lambda: app.show(error)

    def clear() -> None:
        screen = app.current_screen()
        screen.ids["keypad"].press("clear")
        found.checks["banner_after_clear"] = screen.message
        app.show(replace(error, version=error.version + 1, lookup_pending=False))
        found.checks["banner_after_next_snapshot"] = screen.message
        app.show(replace(error, version=error.version + 2, message="account_invalid"))
        found.checks["banner_after_new_error"] = screen.message

    yield clear
    # large text left on: reset when a session ends, and at an idle screen left alone
    idle, find = dict(samples())["idle"], dict(samples())["find_account"]

    def large_text() -> None:
        app.show(find)
        app.set_large_text(True)
        app.show(idle)
        found.checks["large_after_session"] = app.large_text
        app.set_large_text(True)
        app.reset_large_text_if_idle(app._touched_at + 1)
        found.checks["large_at_idle_soon"] = app.large_text
        app.reset_large_text_if_idle(app._touched_at + app.large_text_reset_s)
        found.checks["large_at_idle_later"] = app.large_text

    yield large_text

    # the corner mark follows the network as it is now, not the last snapshot
    def mark() -> None:
        network[0] = False
        app.show(replace(idle, offline=True, version=99))
        found.checks["mark_offline"] = app.status_text
        network[0] = True
        app._refresh_status()
        found.checks["mark_back"] = app.status_text

    yield mark

    # the thank-you screen's code opens the payment's page; the number is beside it
    def thank_you() -> None:
        app.show(dict(samples())["receipt"])
        screen = app.screens["receipt"]
        found.checks["receipt"] = [screen.qr_data, screen.confirmation, screen.charged]

    yield thank_you


class _StaticLink:
    """An engine that never publishes: the gallery shows its own snapshots."""

    def subscribe(self, observer: Callable[[Snapshot], None]) -> None:
        pass

    def submit(self, event: object) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shots", type=Path, default=None, help="save each picture in DIR")
    parser.add_argument("--only", action="append", default=[], help="save only this screen")
    args = parser.parse_args(argv)
    found = run(args.shots, frozenset(args.only))
    print(json.dumps(found.__dict__))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
