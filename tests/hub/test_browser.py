"""The hub's pages in a real browser: a ``kiosk-hub serve`` process and headless chromium."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page

from tests.sync.hubproc import running_hub


def test_a_served_hub_shows_its_health_in_chromium(page: Page, tmp_path: Path) -> None:
    with running_hub(tmp_path) as hub:
        answer = page.goto(f"{hub.url}/v1/health")
        assert answer is not None and answer.status == 200
        shown = json.loads(page.locator("pre").first.inner_text())
        shot = tmp_path / "health.png"
        page.screenshot(path=shot)
    assert shown["status"] == "ok" and shown["database"] == "ok"
    with Image.open(shot) as image:
        assert image.size == (1280, 800)
        # the text was drawn: a blank page has a single colour
        assert len(image.convert("L").getcolors(maxcolors=256) or []) > 2


def test_requests_off_the_machine_are_refused(page: Page) -> None:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.set_content('<img src="https://example.com/logo.png">')
    assert failed == ["https://example.com/logo.png"]
