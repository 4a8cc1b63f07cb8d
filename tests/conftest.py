"""Fixtures every test package may use: the browser (tests/browser.py), and argon2 at small
costs in the test processes."""

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

import contract.pins
import hub.staff.passwords

pytest_plugins = ["tests.browser"]

#: argon2id as the hub and the kiosk use it, with small costs: the library's defaults (64 MiB,
#: three passes) take a few hundred milliseconds a hash on a busy 2-core machine, and the
#: console's tests create and sign in staff hundreds of times. The costs travel inside each
#: hash, so what is stored and verified is the same code path; child processes (a served
#: hub, a demo) keep the defaults.
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def cheap_argon2() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hub.staff.passwords, "_hasher", CHEAP_ARGON2)
        patch.setattr(hub.staff.passwords, "_DUMMY_HASH", CHEAP_ARGON2.hash("not-a-password-0"))
        patch.setattr(contract.pins, "_hasher", CHEAP_ARGON2)
        yield
