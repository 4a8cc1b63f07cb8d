"""The console in a real browser: a ``kiosk-hub serve`` process on a day written by
:mod:`tests.hub.console_day`, driven in headless chromium. Sign-in codes are computed with
pyotp from each account's secret at the real time, as an authenticator app would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from hub.staff.roles import PAGES, ROLES
from tests.browser import VIEWPORT
from tests.hub.console_client import PASSWORD, add_user
from tests.hub.console_day import FAILED, MEANT, reconciliation_day
from tests.hub.harness import HubHarness, KioskSide
from tests.store.builders import cash_payment
from tests.sync.hubproc import start_hub_process, stop_hub_processes

FAILED_CONFIRMATION = f"C-{FAILED}"
ROOT = Path(__file__).resolve().parents[2]
#: where the screenshots go when asked for (``make screenshots`` style runs), else tmp
SHOTS = os.environ.get("KIOSK_CONSOLE_SHOTS")


@dataclass(frozen=True)
class Served:
    url: str
    batch_id: str
    secrets: dict[str, str]  # user name -> TOTP secret


@contextmanager
def served_day(folder: Path, names: dict[str, str]) -> Iterator[Served]:
    """The reconciliation day in a hub database, then served by a real hub process."""
    harness = HubHarness(str(folder / "hub.sqlite"), folder)
    try:
        batch_id = reconciliation_day(harness, folder)
        secrets = {name: add_user(harness, name, role) for name, role in names.items()}
    finally:
        harness.close()
    with served(folder, ["--post-interval", "0"]) as url:
        yield Served(url, batch_id, secrets)


@contextmanager
def served(folder: Path, options: list[str]) -> Iterator[str]:
    """``folder``'s hub.sqlite served by a real hub process, once it answers: its URL."""
    hub = start_hub_process(str(folder / "hub.sqlite"), folder / "hub.log", options)
    try:
        yield hub.url
    finally:
        stop_hub_processes([hub.process])


def sign_in(page: Page, hub: Served, name: str) -> None:
    page.goto(f"{hub.url}/console/sign-in")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.fill("#code", pyotp.TOTP(hub.secrets[name]).now())
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(name)


def post_with_token(page: Page, path: str, fields: dict[str, str]) -> tuple[int, str]:
    """A form this person's page does not offer, sent with their session and CSRF token,
    as a person editing the page could."""
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    answer = page.request.post(
        page.url.split("/console")[0] + path, form=fields | {"csrf_token": token}
    )
    return answer.status, answer.text()


#: the people of the module's hub beside one account per role: each test signs in as its own
#: people, since a TOTP code once used is refused again within its 30 seconds
PEOPLE = {
    "ana": "clerk",
    "bo": "supervisor",
    "cy": "supervisor",
    "cleo": "clerk",
    "finn": "clerk",
    "ida": "auditor",
}


@pytest.fixture(scope="module")
def every_role(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One hub for the module: one account per role and the people above. Tests change
    different records of its day (the batch, the suspended payment, the failed posting)."""
    folder = tmp_path_factory.mktemp("console-roles")
    with served_day(folder, {f"{role}-1": role for role in ROLES} | PEOPLE) as hub:
        yield hub


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_refused_to_a_role_that_may_not_see_it(
    page: Page, every_role: Served, role: str
) -> None:
    sign_in(page, every_role, f"{role}-1")
    for name, roles in PAGES.items():
        answer = page.goto(f"{every_role.url}/console/{name}")
        assert answer is not None
        if role in roles:
            assert answer.status == 200, (role, name)
            expect(page.locator(f'nav a[href="/console/{name}"]')).to_have_attribute(
                "aria-current", "page"
            )
        else:
            assert answer.status == 403, (role, name)
            expect(page.get_by_role("alert")).to_contain_text(
                f"Your role ({role}) may not open the {name} page."
            )
            expect(page.locator(f'nav a[href="/console/{name}"]')).to_have_count(0)


def test_tables_sort_by_a_column_and_filter_by_text(page: Page, every_role: Served) -> None:
    sign_in(page, every_role, "ida")
    page.goto(f"{every_role.url}/console/payments")
    table = page.locator("table[data-table=payments]")
    amounts = table.locator("tbody tr td:nth-child(6)")
    expect(amounts).to_have_count(5)
    heading = table.locator("thead th", has_text="Amount")
    heading.get_by_role("button").click()
    expect(heading).to_have_attribute("aria-sort", "ascending")
    expect(amounts).to_have_text(["$1.00", "$10.00", "$25.00", "$40.00", "$50.00"])
    heading.get_by_role("button").click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    expect(amounts.first).to_have_text("$50.00")

    # an account no other test here changes (resolving suspense adds MEANT to a row)
    page.fill("#filter-payments", "100200419")
    expect(table.locator("tbody tr:visible")).to_have_count(2)
    expect(page.locator(".table-filter [role=status]")).to_have_text("2 of 5 rows shown")
    expect(amounts.locator("visible=true")).to_have_text(["$50.00", "$40.00"])  # still sorted
    page.fill("#filter-payments", "")
    expect(table.locator("tbody tr:visible")).to_have_count(5)


def test_a_blind_count_with_a_variance_approved_by_a_supervisor_not_the_counter(
    page: Page, browser: Browser, every_role: Served
) -> None:
    hub = every_role
    sign_in(page, hub, "ana")
    page.click('nav a[href="/console/batches"]')
    page.click(f'a[href="/console/batches/k1/{hub.batch_id}"]')
    expect(page.locator("#settlement")).to_contain_text("NOT AGREED")
    main = page.locator("main")
    expect(main).not_to_contain_text("Expected")
    expect(main).not_to_contain_text("$75.00")  # what the kiosk took: not before counting
    page.fill("#notes-500", "1")
    page.fill("#notes-1000", "1")
    page.fill("#notes-2000", "2")  # one $20 note short
    page.click("#count-form button[type=submit]")

    count = page.locator("#count")
    expect(count).to_contain_text("Expected")
    expect(count.locator("tr.differs")).to_contain_text("$20.00")
    expect(page.locator("#variance")).to_have_text("short -$20.00")
    expect(page.locator("form.decide")).to_have_count(0)  # the counter can not sign it off
    status, text = post_with_token(
        page,
        f"/console/batches/k1/{hub.batch_id}/approve",
        {"version": "1", "reason": "counted it myself, fine"},
    )
    assert status == 403 and "may not approve a variance" in text

    # two supervisors open the batch; cy approves first, so bo's page is out of date
    page.context.clear_cookies()
    sign_in(page, hub, "bo")
    page.goto(f"{hub.url}/console/batches/k1/{hub.batch_id}")
    other = browser.new_context(viewport=VIEWPORT)
    try:
        cy = other.new_page()
        sign_in(cy, hub, "cy")
        cy.goto(f"{hub.url}/console/batches/k1/{hub.batch_id}")
        cy.fill("#reason", "one $20 note found jammed in the acceptor")
        cy.click("form.decide button[type=submit]")
        expect(cy.locator("h1 .status.approved")).to_have_text("approved")
    finally:
        other.close()
    page.fill("#reason", "a note is missing, accepted after a recount")
    page.click("form.decide button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text(
        "changed since the page was loaded: it is now approved (by cy)"
    )
    expect(page.locator("h1 .status.approved")).to_have_text("approved")
    expect(main).to_contain_text("Approved by cy")
    expect(main).to_contain_text("one $20 note found jammed in the acceptor")  # not overwritten
    expect(page.locator("form.decide")).to_have_count(0)
    page.goto(f"{hub.url}/console/over-short")
    expect(page.locator("tbody tr").first).to_contain_text("$20.00")


def test_a_failed_posting_is_retried(page: Page, every_role: Served) -> None:
    sign_in(page, every_role, "finn")
    page.goto(f"{every_role.url}/console/payments?status=failed")
    row = page.locator("tbody tr", has_text=FAILED_CONFIRMATION)
    expect(row).to_contain_text("HTTP 503 from the billing system")
    row.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Payment {FAILED} is posted.")
    row = page.locator("tbody tr", has_text=FAILED_CONFIRMATION)
    expect(row.locator(".status")).to_have_text("posted")
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)


def test_a_clerk_resolves_a_payment_in_suspense(page: Page, every_role: Served) -> None:
    hub = every_role
    sign_in(page, hub, "cleo")
    page.click('nav a[href="/console/suspense"]')
    row = page.locator("tbody tr", has_text="100200399")
    row.locator("input[name=account]").fill(MEANT)
    row.locator("button").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"assigned to account {MEANT} and posted"
    )
    expect(page.locator("main")).to_contain_text("Nothing in suspense.")
    page.goto(f"{hub.url}/console/payments?account={MEANT}&status=posted")
    expect(page.locator("tbody")).to_contain_text(f"100200399 → {MEANT}")


SCREENS = [
    ("fleet", "/console/fleet"),
    ("batches", "/console/batches"),
    ("payments", "/console/payments"),
    ("suspense", "/console/suspense"),
    ("over-short", "/console/over-short"),
    ("audit", "/console/audit"),
]


def _shot(page: Page, path: Path, full_page: bool = False) -> None:
    """A screenshot once the page has loaded (its deferred script has made the tables
    sortable and filterable)."""
    page.wait_for_load_state("load")
    page.screenshot(path=path, full_page=full_page)


@pytest.mark.slow
def test_screenshots_of_every_page(page: Page, tmp_path: Path) -> None:
    """docs/console/*.png: ``KIOSK_CONSOLE_SHOTS=docs/console pytest -m slow -k screenshots``."""
    out = Path(SHOTS) if SHOTS else tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    people = {"ana": "clerk", "bo": "supervisor", "al": "admin", "tom": "technician"}
    (tmp_path / "twice").mkdir()
    with served_day(tmp_path, people) as hub:
        batch = f"/console/batches/k1/{hub.batch_id}"
        page.goto(f"{hub.url}/console/sign-in")
        _shot(page, out / "sign-in.png")
        sign_in(page, hub, "ana")
        page.goto(hub.url + batch)
        page.fill("#notes-500", "1")
        page.fill("#notes-1000", "1")
        page.fill("#notes-2000", "2")
        _shot(page, out / "batch-blind-count.png", full_page=False)
        page.click("#count-form button[type=submit]")
        _shot(page, out / "batch-counted.png")
        page.goto(f"{hub.url}/console/payments?status=failed")
        _shot(page, out / "payments-failed.png")
        page.click("text=Retry")
        _shot(page, out / "payments-retried.png")
        page.goto(f"{hub.url}/console/suspense")
        page.locator("tbody input[name=account]").fill(MEANT)
        _shot(page, out / "suspense-clerk.png")
        page.context.clear_cookies()
        sign_in(page, hub, "bo")
        page.goto(hub.url + batch)
        page.fill("#reason", "one $20 note found jammed in the acceptor")
        _shot(page, out / "batch-approve.png")
        page.click("form.decide button[type=submit]")
        _shot(page, out / "batch-approved.png")
        for name, path in SCREENS:
            page.goto(hub.url + path)
            _shot(page, out / f"{name}.png")
        page.goto(f"{hub.url}/console/payments")
        page.locator("thead th", has_text="Amount").get_by_role("button").click()
        page.fill("#filter-payments", "cash")
        _shot(page, out / "payments-sorted.png")
        page.context.clear_cookies()
        sign_in(page, hub, "al")
        page.goto(f"{hub.url}/console/users")
        _shot(page, out / "users.png", full_page=True)
        page.context.clear_cookies()
        sign_in(page, hub, "tom")
        page.get_by_role("button", name="New enrollment code").click()
        _shot(page, out / "fleet-technician.png")
        page.click('a[href="/console/fleet/k1"]')
        _shot(page, out / "kiosk-settings.png", full_page=True)
    page.context.clear_cookies()
    people = {"al": "admin", "ana": "clerk", "cleo": "clerk"}
    with served_day(tmp_path / "twice", people) as hub:
        sign_in(page, hub, "al")
        page.goto(f"{hub.url}/console/settings")
        page.click("text=Turn the second count on")
        _shot(page, out / "settings.png")
        for clerk, twenties, shot in (("ana", "2", "batch-counted-once"), ("cleo", "3", "")):
            page.context.clear_cookies()
            sign_in(page, hub, clerk)
            page.goto(f"{hub.url}/console/batches/k1/{hub.batch_id}")
            page.fill("#notes-500", "1")
            page.fill("#notes-1000", "1")
            page.fill("#notes-2000", twenties)
            page.click("#count-form button[type=submit]")
            if shot:
                _shot(page, out / f"{shot}.png")
        expect(page.locator("#counts-differ")).to_contain_text("THE TWO COUNTS DIFFER")
        _shot(page, out / "batch-two-counts.png", full_page=True)
    assert {p.name for p in out.glob("*.png")} >= {f"{name}.png" for name, _ in SCREENS}


@pytest.mark.slow
def test_screenshots_of_the_posting_files(page: Page, tmp_path: Path) -> None:
    """docs/console/posting-files.png: two days of lockbox files, one waiting to be written;
    a file taken again from the page is the one in the billing system's directory."""
    out = Path(SHOTS) if SHOTS else tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    files = tmp_path / "cis"
    harness = HubHarness(
        str(tmp_path / "hub.sqlite"), tmp_path, adapter="file", file_dir=files, layout="lockbox"
    )
    try:
        for day, (name, payments) in enumerate((("k1", 3), ("k2", 2), ("k3", 1))):
            kiosk = KioskSide(tmp_path / f"{name}.sqlite")
            for n in range(payments):
                kiosk.write(cash_payment(f"{name}-{n}", MEANT, [2000, 500 * (n + 1)]))
            harness.push(harness.enroll(name), kiosk.wire())
            kiosk.close()
            if day == 2:
                files.rename(tmp_path / "cis-away")  # the billing system's share goes away
                files.write_text("not a directory")
            harness.ctx.poster.run()
            harness.clock.advance(days=1)
        secrets = {"ana": add_user(harness, "ana", "clerk")}
    finally:
        harness.close()
    with served(tmp_path, ["--post-interval", "0"]) as url:
        hub = Served(url, "", secrets)
        sign_in(page, hub, "ana")
        page.goto(f"{url}/console/posting-files")
        expect(page.locator("tbody tr")).to_have_count(3)
        expect(page.locator("tbody")).to_contain_text("not yet")
        _shot(page, out / "posting-files.png")
        first = sorted((tmp_path / "cis-away").iterdir())[0]
        with page.expect_download() as taken:
            page.click(f"text={first.name}")
        assert Path(taken.value.path()).read_bytes() == first.read_bytes()
