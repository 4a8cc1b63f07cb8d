"""The second factor: TOTP codes (RFC 6238: 30-second steps, 6 digits, SHA-1, the defaults
every authenticator app uses), through pyotp.

A code is accepted one step early or late (a phone's clock drifts) and only once: the
caller stores the step of the code it accepted and passes it back, and a code of that step
or an earlier one is refused.
"""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
from pyotp.exceptions import OTPVerificationError

ISSUER = "Utility kiosk hub"
DRIFT_STEPS = 1
_CODE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    """A random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def uri(secret: str, name: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (typed in, or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to if it is good now and newer than ``last_step``;
    None if it is wrong, outside the window, or already used."""
    code = code.strip().replace(" ", "")
    if not _CODE.match(code):
        return None
    try:
        step = pyotp.TOTP(secret).verify_and_get_timecode(
            code, for_time=now, valid_window=DRIFT_STEPS
        )
    except OTPVerificationError:
        return None
    if last_step is not None and step <= last_step:
        return None
    return step
