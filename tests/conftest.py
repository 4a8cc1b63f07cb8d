"""Fixtures every test package may use: the browser (tests/browser.py)."""

pytest_plugins = ["tests.browser"]
