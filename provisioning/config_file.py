"""``kiosk provision`` writes the hub into the kiosk's config file, and only that.

Enrollment is the moment the kiosk learns its hub, so the ``[hub]`` section's ``url`` and
``enabled = true`` are written then, instead of a technician editing TOML on a kiosk's
console. Everything else in the file stays as it was, comments and order included
(tomlkit edits the document rather than re-serialising values), and the result is checked
against the kiosk's own rules before it replaces the file, atomically and with the file's
mode kept: a power cut leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomlkit
from pydantic import ValidationError
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from kiosk.config import KioskConfig
from sync.files import write_atomic


class ConfigWriteError(Exception):
    """The config file was left unchanged; the message says why, for a technician."""


def with_hub(text: str, url: str) -> str:
    """``text`` with ``[hub] url = url`` and ``enabled = true``, the rest untouched."""
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigWriteError(f"it is not valid TOML ({exc}): `kiosk config check` it") from exc
    hub = document.get("hub")
    if hub is None:
        hub = tomlkit.table()
        hub.add(tomlkit.comment("written by `kiosk provision`"))
        document.add("hub", hub)
    if not isinstance(hub, Table):
        raise ConfigWriteError("its `hub` is not a [hub] section")
    hub["url"] = url
    hub["enabled"] = True
    new = tomlkit.dumps(document)
    try:
        KioskConfig.model_validate(tomllib.loads(new))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigWriteError(f"with the hub in it, it would not be valid: {exc}") from exc
    return new


def write_hub(path: Path, url: str) -> None:
    """Put the hub into the config file at ``path`` (see :func:`with_hub`)."""
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode & 0o7777
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigWriteError(f"can not read {path}: {exc}") from exc
    try:
        new = with_hub(text, url)
    except ConfigWriteError as exc:
        raise ConfigWriteError(f"{path} was not changed: {exc}") from exc
    try:
        write_atomic(path, new, mode=mode)
    except OSError as exc:
        raise ConfigWriteError(f"can not write {path} ({exc}); it was not changed") from exc
