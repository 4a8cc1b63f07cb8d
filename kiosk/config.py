"""The kiosk's configuration: one TOML file, validated by pydantic.

Every field has a default so that the demo runs with no file at all; a technician's file
only needs what differs. Amounts are written in cents (``min_payment_cents = 100``) so the
file itself can not carry a float.

Numbers, and ``hub.enabled``, are validated strictly: in lax mode pydantic would take
``true`` as 1 cent, ``100.0`` as 100 and ``"60"`` as 60 seconds, and a typo of that kind in a
kiosk's file should be reported by ``kiosk config check``, not silently turned into money.
See docs/configuration.md for every key.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, ClassVar, Final, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kiosk.bill_stub import DEFAULT_STUB_PATTERN, AccountCheck, compile_pattern
from kiosk.money import Money

Cents = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
Seconds = Annotated[float, Field(strict=True, gt=0, le=86_400, allow_inf_nan=False)]
Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identity(_Section):
    kiosk_id: str = Field(default="demo-kiosk-01", min_length=1, max_length=64)
    name: str = "Demo kiosk"
    city: str = "City of Springfield Water"
    location: str = "City Hall, 100 Main St"


class Contact(_Section):
    """How a resident reaches the city's customer service: said on the out-of-service and
    error screens and printed on every receipt. Empty fields are left out (``kiosk demo``
    fills in :data:`DEMO_CONTACT`; a real kiosk says only what its file gives)."""

    phone: str = Field(default="", max_length=40)
    address: str = Field(default="", max_length=80)
    web: str = Field(default="", max_length=80)


DEMO_CONTACT = Contact(
    phone="(555) 010-0100", address="City Hall, 100 Main St", web="springfield.example.gov/pay"
)


CONFIRMATION_FIELD = "{confirmation}"


class Receipt(_Section):
    """``lookup_url``: the link in a receipt's QR code, where ``{confirmation}`` becomes the
    payment's confirmation number, so a phone that reads the code opens the payment's page.
    Empty (the default): the code holds the confirmation number alone."""

    lookup_url: str = Field(default="", max_length=200)

    @field_validator("lookup_url")
    @classmethod
    def _one_placeholder(cls, value: str) -> str:
        if not value:
            return value
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"lookup_url {json.dumps(value)} must start with https://")
        rest = value.replace(CONFIRMATION_FIELD, "")
        if CONFIRMATION_FIELD not in value or "{" in rest or "}" in rest:
            raise ValueError(
                f"lookup_url {json.dumps(value)} must hold {CONFIRMATION_FIELD} once and no other"
                " {...} field"
            )
        if any(c.isspace() for c in value):
            raise ValueError(f"lookup_url {json.dumps(value)} has a space in it")
        return value

    def link(self, confirmation: str) -> str:
        """What the QR code of the payment ``confirmation`` holds."""
        if not self.lookup_url:
            return confirmation
        return self.lookup_url.replace(CONFIRMATION_FIELD, quote(confirmation, safe="-"))


DEMO_RECEIPT = Receipt(lookup_url="https://pay.example.gov/lookup?c={confirmation}")


class Locale(_Section):
    currency: Literal["USD"] = "USD"
    time_zone: str = "America/Chicago"
    languages: list[Language] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    default_language: Language = "en"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {json.dumps(value)} (use an IANA name such as America/Chicago)"
            ) from exc
        return value

    @model_validator(mode="after")
    def _default_is_offered(self) -> Locale:
        if self.default_language not in self.languages:
            raise ValueError(
                f"default_language {json.dumps(self.default_language)} is not one of the languages "
                f"offered {json.dumps(self.languages)}; add it to languages or pick one of them"
            )
        return self

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Limits(_Section):
    """Payment limits, all in cents.

    ``max_overpayment_cents`` bounds how far above the balance a resident may pay (cash gives
    no change, so a bill that would pass it is returned).
    """

    min_payment_cents: Cents = 100
    max_payment_cents: Cents = 200_000
    max_overpayment_cents: Cents = 10_000
    max_cash_cents: Cents = 100_000
    accepted_bills_cents: list[Annotated[int, Field(strict=True)]] = Field(
        default_factory=lambda: [100, 500, 1000, 2000, 5000, 10000]
    )

    @field_validator("accepted_bills_cents")
    @classmethod
    def _real_bills(cls, value: list[int]) -> list[int]:
        allowed = {100, 200, 500, 1000, 2000, 5000, 10000}
        wrong = [v for v in value if v not in allowed]
        if wrong:
            raise ValueError(
                f"not a US bill denomination (cents): {wrong}; "
                f"the bills are {sorted(allowed)} ($1, $2, $5, $10, $20, $50, $100)"
            )
        return sorted(set(value))

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        if self.min_payment_cents > self.max_payment_cents:
            raise ValueError(
                f"min_payment_cents ({self.min_payment_cents}) is greater than "
                f"max_payment_cents ({self.max_payment_cents})"
            )
        if self.max_cash_cents > self.max_payment_cents:
            raise ValueError(
                f"max_cash_cents ({self.max_cash_cents}) is greater than "
                f"max_payment_cents ({self.max_payment_cents})"
            )
        return self

    @property
    def min_payment(self) -> Money:
        return Money(self.min_payment_cents)

    @property
    def max_payment(self) -> Money:
        return Money(self.max_payment_cents)

    @property
    def max_overpayment(self) -> Money:
        return Money(self.max_overpayment_cents)

    @property
    def max_cash(self) -> Money:
        return Money(self.max_cash_cents)


class CardFee(_Section):
    """Card convenience fee: ``flat + percent`` of the amount, never below ``minimum``.

    Rounding rule: the percent part is computed exactly in basis points and rounded half up
    to the cent (0.005 rounds to 0.01); then the flat part is added; then the minimum and the
    maximum apply. ``percent_bp = 250`` is 2.50 %.
    """

    flat_cents: Cents = 0
    percent_bp: Annotated[int, Field(strict=True, ge=0, le=1000)] = 250
    minimum_cents: Cents = 100
    maximum_cents: Cents | None = None

    @model_validator(mode="after")
    def _bounds(self) -> CardFee:
        if self.maximum_cents is not None and self.maximum_cents < self.minimum_cents:
            raise ValueError(
                f"maximum_cents ({self.maximum_cents}) is below "
                f"minimum_cents ({self.minimum_cents})"
            )
        return self


class Timeouts(_Section):
    """Inactivity time-outs in seconds. ``still_there`` is how long the prompt waits.

    ``card_sale`` is the longest the kiosk waits for the card terminal's next word during a
    sale. It must be longer than the terminal protocol's own T4 (ZVT: 180 s, plus 5 s for
    the terminal's answer to the abort) so that the driver, which sends the terminal its
    abort at T4, speaks first and the engine's limit only catches a driver that does not.
    ``card_sale_total`` caps the whole sale from its start, however often the terminal
    speaks (each word restarts ``card_sale``); likewise longer than the driver's own cap
    (ZVT: ``sale_limit`` 420 s, plus 5 s), and never shorter than ``card_sale``.
    """

    idle_screen: Seconds = 60
    cash_inactivity: Seconds = 90
    card_sale: Seconds = 200
    card_sale_total: Seconds = 450
    still_there: Seconds = 20
    receipt_screen: Seconds = 20
    account_lookup: Seconds = 3

    @model_validator(mode="after")
    def _card_sale_total_covers_a_wait(self) -> Timeouts:
        if self.card_sale_total < self.card_sale:
            raise ValueError(
                f"card_sale_total ({self.card_sale_total:g}) is shorter than "
                f"card_sale ({self.card_sale:g})"
            )
        return self


#: a device run as its protocol emulator on a pseudo-terminal, in-process (the demo)
EMULATED: Final = "emulated"
#: a device's file-backed stand-in (the crash tests)
SIMULATED: Final = "simulated"

AcceptorProtocol = Literal["ebds", "id003"]
#: which EBDS acceptor the emulator plays: an MEI (answers the cash box query) or a Pyramid Apex
EmulatedAcceptorModel = Literal["mei", "apex"]


class Devices(_Section):
    """Where each device is.

    A serial port path (a ``/dev/serial/by-id/`` or udev symlink in the field), ``"emulated"``
    for the protocol emulator run in-process on a pseudo-terminal (the demo), or
    ``"simulated"`` for the file-backed stand-ins the crash test uses. A card terminal on the
    LAN is ``"tcp://HOST:PORT"`` (ZVT over TCP, port 20007 by default).

    ``bill_acceptor_protocol`` is how the bill acceptor speaks: ``"ebds"`` (Pyramid, MEI) or
    ``"id003"`` (JCM iVIZION, UBA). It is an option of the acceptor, not a device: it is not
    among :data:`OPTIONS`' device names. ``emulated_acceptor_model`` picks which EBDS acceptor
    an ``"emulated"`` bill acceptor plays: ``"mei"`` (keeps a cash box count) or ``"apex"``
    (Pyramid: no count, the kiosk settles by the acceptor's own reports); a real acceptor is
    recognised when it opens.
    """

    OPTIONS: ClassVar[frozenset[str]] = frozenset(
        {"bill_acceptor_protocol", "emulated_acceptor_model"}
    )
    """Keys of this section that are not devices."""

    bill_acceptor: str = Field(default=EMULATED, min_length=1)
    bill_acceptor_protocol: AcceptorProtocol = "ebds"
    emulated_acceptor_model: EmulatedAcceptorModel = "mei"
    card_terminal: str = Field(default=EMULATED, min_length=1)
    receipt_printer: str = Field(default=EMULATED, min_length=1)
    barcode_scanner: str = Field(default=EMULATED, min_length=1)


class Scanner(_Section):
    """How a scanned bill-stub barcode is read; see :mod:`kiosk.bill_stub`.

    The pattern is compiled here, so a bad one is a configuration error with its key and
    line (``kiosk config check``), not a kiosk that rejects every stub in the field.
    """

    stub_pattern: str = DEFAULT_STUB_PATTERN
    account_check: AccountCheck = "luhn"

    @field_validator("stub_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_pattern(value)
        return value


class Hub(_Section):
    """The hub the kiosk replicates to (see docs/sync.md).

    ``enabled`` needs the kiosk to be enrolled first (``kiosk provision``); the URL stored
    at enrollment is the one used.
    """

    url: str = "http://127.0.0.1:8700"
    enabled: bool = Field(default=False, strict=True)
    push_batch: Annotated[int, Field(ge=1, le=500, strict=True)] = 500
    backoff_cap_s: Seconds = 30
    connect_timeout_s: Seconds = 3
    request_timeout_s: Seconds = 15
    settings_interval_s: Seconds = 60
    accounts_interval_s: Seconds = 300
    online_window_s: Seconds = 120
    account_format: str = r"\d{9}"

    @field_validator("account_format")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class Technician(_Section):
    """Someone who may enter service mode on the touchscreen.

    Only the argon2 hash of the PIN is kept (``kiosk service pin-hash`` makes one); ``badge``
    is the code of the technician's badge barcode, which opens the PIN pad when scanned at the
    idle or out-of-service screen.
    """

    name: str = Field(min_length=1, max_length=64)
    pin_hash: str = Field(pattern=r"^\$argon2(id|i|d)\$")
    badge: str = Field(default="", max_length=64)


class Service(_Section):
    """Service mode: who may enter (a local fallback; an enrolled kiosk takes the hub's list),
    how many wrong PINs lock entry and for how long, and when an idle technician is let go."""

    technicians: list[Technician] = Field(default_factory=list, max_length=200)
    max_pin_attempts: Annotated[int, Field(ge=1, le=20, strict=True)] = 5
    lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60, strict=True)] = 15
    idle_timeout: Seconds = 120
    cashbox_id: str = Field(default="1", min_length=1, max_length=32)


DEFAULT_VOICES: dict[Language, str] = {"en": "en-us", "es": "es-419"}


class Accessibility(_Section):
    """The audio mode (ADA 2010 section 707): speech into headphones, the tactile keypad.
    See docs/accessibility.md."""

    enabled: bool = Field(default=True, strict=True)
    """False: no speech (the keypad still moves the focus and presses, silently)."""
    voices: dict[Language, Annotated[str, Field(pattern=r"^[A-Za-z0-9_+-]{1,40}$")]] = Field(
        default_factory=lambda: dict(DEFAULT_VOICES)
    )
    """espeak-ng's voice for each language (``espeak-ng --voices`` lists them)."""
    rate: Annotated[int, Field(strict=True, ge=80, le=450)] = 160
    """Words per minute."""
    slow_rate: Annotated[int, Field(strict=True, ge=80, le=450)] = 110
    """Words per minute when the resident asks to hear it more slowly."""
    command: str = Field(default="espeak-ng", min_length=1, max_length=200)
    """The espeak-ng program (a name on PATH or a path)."""
    headphone_jack: str = Field(default="", max_length=200)
    """The input device of the sound card's headphone switch (``/dev/input/by-path/...``);
    "" for none (a key of the keypad starts the audio mode)."""


class Storage(_Section):
    data_dir: Path | None = None
    #: below this many MB free on the data directory's disk the kiosk goes out of service
    #: (after the payment under way), and back at 1.5 times it (0: never)
    min_free_mb: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] = 200
    archive_after_days: int = Field(default=90, strict=True, ge=1, le=36_500)
    """``kiosk journal archive`` moves entries the hub acknowledged and older than this
    into compressed files in the data directory's ``archive/``."""

    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir.expanduser()
        return Path(platformdirs.user_data_dir("utility-kiosk", appauthor=False))


LogLevel = Literal["debug", "info", "warning", "error"]


class Logging(_Section):
    """What the kiosk logs and how. ``json``: one JSON object a line (time, level, logger,
    message, kiosk id, the resident's session), for systemd's journal and a log shipper;
    ``text`` for a person at a terminal; ``auto`` is json when stderr is systemd's journal
    (``$JOURNAL_STREAM``). ``level`` is read again on SIGHUP (``systemctl reload kiosk``)."""

    level: LogLevel = "info"
    format: Literal["auto", "json", "text"] = "auto"


class Metrics(_Section):
    """Prometheus figures for node_exporter's textfile collector: off unless ``textfile``
    names the ``.prom`` file (in the collector's directory) to rewrite every ``interval_s``."""

    textfile: Path | None = None
    interval_s: Seconds = 30


class KioskConfig(_Section):
    identity: Identity = Field(default_factory=Identity)
    contact: Contact = Field(default_factory=Contact)
    receipt: Receipt = Field(default_factory=Receipt)
    locale: Locale = Field(default_factory=Locale)
    limits: Limits = Field(default_factory=Limits)
    card_fee: CardFee = Field(default_factory=CardFee)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    devices: Devices = Field(default_factory=Devices)
    scanner: Scanner = Field(default_factory=Scanner)
    hub: Hub = Field(default_factory=Hub)
    service: Service = Field(default_factory=Service)
    accessibility: Accessibility = Field(default_factory=Accessibility)
    storage: Storage = Field(default_factory=Storage)
    metrics: Metrics = Field(default_factory=Metrics)
    logging: Logging = Field(default_factory=Logging)


def load_config(path: Path | None) -> KioskConfig:
    """Load and validate ``path``; ``None`` gives the embedded defaults.

    Raises :class:`OSError`, :class:`UnicodeDecodeError`, :class:`tomllib.TOMLDecodeError` or
    :class:`pydantic.ValidationError`; callers that want every problem with its line, and no
    traceback, use :func:`kiosk.config_check.check_file`.
    """
    if path is None:
        return KioskConfig()
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return KioskConfig.model_validate(data)
