"""Named points where the crash test kills the process.

``KIOSK_CRASH_AT=name[:n]`` makes the process SIGKILL itself the n-th time (default first) it
passes ``name``. Unset, :func:`hit` costs one dictionary lookup. This is how the crash test
proves that a power cut at any step loses nothing and doubles nothing.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get("KIOSK_CRASH_AT")
    if not spec:
        return None
    name, _, nth = spec.partition(":")
    return name, int(nth or "1")


def hit(name: str) -> None:
    target = _target()
    if target is None or target[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
