"""The kiosk's identity at the hub: its id, its signing secret and the hub's URL.

Written once by ``kiosk provision`` (and again when a technician re-enrolls), read by the
sync worker at start. The secret is what proves every request came from this kiosk, so the
file is created 0600 (:func:`sync.files.write_private`) and never logged or printed.
"""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract.signing import secret_key
from sync.files import write_private

CREDENTIALS_FILE = "hub-credentials.json"


class CredentialsError(Exception):
    """The credentials file is missing, unreadable or damaged; the message says what to do."""


class Credentials(BaseModel):
    """What enrollment gave this kiosk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kiosk_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    secret: Annotated[str, Field(min_length=16, max_length=128, repr=False)]
    hub_url: Annotated[str, Field(pattern=r"^https?://")]
    location: str = ""
    enrolled_at: datetime | None = None


def credentials_path(data_dir: Path) -> Path:
    return data_dir / CREDENTIALS_FILE


def save(data_dir: Path, credentials: Credentials) -> Path:
    """Store ``credentials`` (0600, atomically); returns the file's path."""
    path = credentials_path(data_dir)
    write_private(path, credentials.model_dump_json(indent=2) + "\n")
    return path


def load(data_dir: Path) -> Credentials:
    """The stored credentials, checked (including that the secret decodes)."""
    path = credentials_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CredentialsError(
            f"this kiosk is not enrolled ({path} does not exist): run "
            "`kiosk provision --hub URL --code CODE`"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"can not read {path}: {exc}") from exc
    try:
        credentials = Credentials.model_validate(json.loads(text))
        secret_key(credentials.secret)
    except (ValueError, ValidationError) as exc:
        raise CredentialsError(
            f"{path} is damaged ({_first_line(exc)}): enroll again with a new code "
            "(`kiosk-hub set-kiosk NAME --new-code`, then `kiosk provision --force`)"
        ) from exc
    return credentials


def load_optional(data_dir: Path) -> Credentials | None:
    """The credentials, or None when the kiosk was never enrolled (damage still raises)."""
    if not credentials_path(data_dir).exists():
        return None
    return load(data_dir)


def too_open(data_dir: Path) -> bool:
    """True when someone other than the owner may read the secret (``kiosk sync status``)."""
    try:
        mode = credentials_path(data_dir).stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        return f"{where}: {first['msg']}"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
