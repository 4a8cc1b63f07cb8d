"""Small files the sync side keeps in the data directory, written atomically.

Credentials, the last settings and the sync status are each rewritten whole: a temporary
file beside the target, created with ``O_CREAT | O_EXCL`` and mode 0600 (so a secret is
never readable by anyone else, not even for an instant, and a stale temporary file is never
reused), fsynced, then renamed over the target. A power cut leaves the old file or the new
one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically, readable by the owner only.

    ``durable=False`` skips the fsyncs, for files that only inform (the sync status): the
    rename is still atomic, but a power cut may bring back the previous version.
    """
    write_atomic(path, text, mode=PRIVATE_MODE, durable=durable)


def write_atomic(path: Path, text: str, *, mode: int, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically, with exactly ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if durable:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (the directory entry), where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
