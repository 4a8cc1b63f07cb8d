"""A real browser for the hub's pages: Debian's chromium, driven by Playwright.

Playwright's own browser download is not used (machines and CI here can not reach it):
it launches the system's ``chromium`` by its path, which ``make setup`` installs with apt.
Headless, at a fixed window size so screenshots compare; the sandbox is off only when
running as root, where chromium refuses to start with it. Requests that leave the machine
are refused, so a page that would quietly depend on the internet fails here instead.
``KIOSK_TEST_CHROMIUM`` names another chromium binary to use.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:  # imported when a test asks for a browser, not by every test process
    from playwright.sync_api import Browser, Page, Route

VIEWPORT = {"width": 1280, "height": 800}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MISSING = (
    "the browser tests need Debian's chromium: `make setup` installs it when run as root, "
    "otherwise `sudo apt-get install chromium`"
)


def chromium_path() -> str:
    """The system's chromium, or a failure that says what to install."""
    path = os.environ.get("KIOSK_TEST_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail(MISSING, pytrace=False)
    return path


def _local_only(route: Route) -> None:
    if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort("blockedbyclient")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless chromium per test process; each test gets its own context (``page``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            chromium_sandbox=os.geteuid() != 0,
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (no cookies, no storage) that may reach only this machine."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(10_000)
    context.route("**/*", _local_only)
    try:
        yield context.new_page()
    finally:
        context.close()
