"""A secret read from a file, for options that must never carry the secret itself.

A value on a command line is shown to every user of the machine by ``ps`` and kept in
shell histories; a file that only its owner may read is not. A file that its group or
others may read (or write) is refused, so a secret is not quietly left open: the message
says how to close it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SecretFileError(Exception):
    """The secret can not be taken from this file; the message says why and what to do."""


def read_secret_file(path: Path, what: str) -> str:
    """The one line of ``path``, refused unless only its owner may read or write the file.

    The mode is checked on the file as opened, not on the name before it, so the file can
    not be swapped between the check and the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY)
    except OSError as exc:
        raise SecretFileError(f"can not read the {what} file {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise SecretFileError(f"the {what} file {path} is not a regular file")
        if mode & 0o077:
            raise SecretFileError(
                f"the {what} file {path} may be read by others (mode "
                f"{stat.S_IMODE(mode):04o}); it must be readable by its owner only: "
                f"chmod 600 {path}"
            )
        raw = handle.read(64 * 1024)
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise SecretFileError(f"the {what} file {path} is not UTF-8 text") from exc
    if not text:
        raise SecretFileError(f"the {what} file {path} is empty")
    if "\n" in text:
        raise SecretFileError(f"the {what} file {path} must hold one line, the {what} alone")
    return text
