"""The hub's settings: where its database is, how it posts payments, how strict it is.

Every hub process behind a load balancer gets the same settings (command-line options, or
``KIOSK_HUB_*`` environment variables in a service file); nothing else is kept in a process,
so any of them can answer any request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

Adapter = Literal["ledger", "csv", "file", "http"]
ENV_PREFIX = "KIOSK_HUB_"


def default_database() -> str:
    """A SQLite file in the user's data directory: one command, no server."""
    data_dir = Path(platformdirs.user_data_dir("utility-kiosk-hub", appauthor=False))
    return str(data_dir / "hub.sqlite")


class PostingSettings(BaseModel):
    """Which adapter delivers payments to the CIS, and how hard it tries.

    ``interval_s`` is how often a running hub retries pending and failed postings (0: only
    right after a push and by ``kiosk-hub post``). ``lease_s`` is how long one process may
    hold a posting before another may assume it died and take it over.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    adapter: Adapter = "ledger"
    csv_dir: Path | None = None
    #: the ``file`` adapter: where its files go, and their layout (a built-in name or a
    #: .toml/.json file, see docs/posting.md)
    file_dir: Path | None = None
    layout: str = "lockbox"
    http_url: str | None = None
    http_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    http_tries: Annotated[int, Field(ge=1, le=20)] = 3
    http_backoff_s: Annotated[float, Field(ge=0, le=60)] = 0.5
    #: the billing system's look-up of a payment (``{payment_id}`` in it), asked after a
    #: time-out before sending again; and where its answers carry its own reference
    http_lookup_url: str | None = None
    http_reference_field: Annotated[str, Field(min_length=1, max_length=64)] = "reference"
    on_ingest: bool = True
    interval_s: Annotated[float, Field(ge=0, le=86_400)] = 30.0
    lease_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0

    @model_validator(mode="before")
    @classmethod
    def _files_on_their_schedule(cls, data: object) -> object:
        """The ``file`` adapter makes a file per run: not one per push (dozens of tiny files
        a minute from a fleet), but one per ``interval_s`` and per ``kiosk-hub post``,
        unless ``on_ingest`` is asked for."""
        if isinstance(data, dict) and data.get("adapter") == "file" and "on_ingest" not in data:
            return data | {"on_ingest": False}
        return data

    @model_validator(mode="after")
    def _adapter_has_its_target(self) -> PostingSettings:
        if self.adapter == "csv" and self.csv_dir is None:
            raise ValueError("the csv adapter needs a directory (--csv-dir or KIOSK_HUB_CSV_DIR)")
        if self.adapter == "file" and self.file_dir is None:
            raise ValueError(
                "the file adapter needs a directory (--file-dir or KIOSK_HUB_FILE_DIR)"
            )
        if self.adapter == "file":
            from hub.posting.layout import LayoutError, load

            try:
                load(self.layout)
            except LayoutError as exc:
                raise ValueError(str(exc)) from exc
        if self.adapter == "http" and not self.http_url:
            raise ValueError("the http adapter needs a URL (--http-url or KIOSK_HUB_HTTP_URL)")
        if self.http_url and not self.http_url.startswith(("http://", "https://")):
            raise ValueError(f"http_url must start with http:// or https://, got {self.http_url!r}")
        lookup = self.http_lookup_url
        if lookup and not (lookup.startswith(("http://", "https://")) and "{payment_id}" in lookup):
            raise ValueError(
                "http_lookup_url must be an http:// or https:// URL with {payment_id} in it, "
                f"got {lookup!r}"
            )
        return self


class HubSettings(BaseModel):
    """Everything a hub process needs to know; see docs/hub.md for each field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str = Field(default_factory=default_database)
    time_zone: str = "America/Chicago"
    max_skew_s: Annotated[int, Field(ge=1, le=3600)] = 300
    #: how far apart the clocks of the hub processes on one database may be: a signed
    #: request's nonce is kept this much past the end of its timestamp's window, because
    #: each process forgets nonces by its own clock
    clock_margin_s: Annotated[int, Field(ge=1, le=3600)] = 30
    enrollment_ttl_h: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    admin_token: str | None = None
    #: read-only: lets a Prometheus server scrape ``/metrics`` (the admin token does too)
    metrics_token: str | None = None
    max_body_bytes: Annotated[int, Field(ge=1024)] = 4 * 1024 * 1024
    #: a request body must arrive whole within this many seconds (408 otherwise)
    body_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    #: bodies one process reads at once; one more is 503 with Retry-After
    max_bodies: Annotated[int, Field(ge=1, le=10_000)] = 64
    #: TLS is terminated in front of the hub: the console's cookie is marked Secure even
    #: though the request reaches the hub over plain http from the proxy
    behind_tls: bool = False
    posting: PostingSettings = Field(default_factory=PostingSettings)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @field_validator("admin_token", "metrics_token")
    @classmethod
    def _long_enough(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and len(value) < 16:
            what = info.field_name.replace("_", " ") if info.field_name else "token"
            raise ValueError(f"the {what} must be at least 16 characters")
        return value or None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def enrollment_ttl(self) -> timedelta:
        return timedelta(hours=self.enrollment_ttl_h)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> HubSettings:
        """Settings from ``KIOSK_HUB_*`` variables, then ``overrides`` (command-line options)."""
        env = os.environ if env is None else env
        top: dict[str, object] = {}
        posting: dict[str, object] = {}
        for key, field in (
            ("DB", "database"),
            ("TIME_ZONE", "time_zone"),
            ("MAX_SKEW_S", "max_skew_s"),
            ("CLOCK_MARGIN_S", "clock_margin_s"),
            ("ADMIN_TOKEN", "admin_token"),
            ("METRICS_TOKEN", "metrics_token"),
            ("BEHIND_TLS", "behind_tls"),
            ("BODY_TIMEOUT_S", "body_timeout_s"),
            ("MAX_BODIES", "max_bodies"),
        ):
            if env.get(ENV_PREFIX + key):
                top[field] = env[ENV_PREFIX + key]
        for key, field in (
            ("POSTING", "adapter"),
            ("CSV_DIR", "csv_dir"),
            ("FILE_DIR", "file_dir"),
            ("LAYOUT", "layout"),
            ("HTTP_URL", "http_url"),
            ("HTTP_LOOKUP_URL", "http_lookup_url"),
            ("POST_INTERVAL_S", "interval_s"),
            ("POST_ON_INGEST", "on_ingest"),
        ):
            if env.get(ENV_PREFIX + key):
                posting[field] = env[ENV_PREFIX + key]
        for name, value in overrides.items():
            if value is None:
                continue
            if name in PostingSettings.model_fields:
                posting[name] = value
            else:
                top[name] = value
        return cls.model_validate(top | {"posting": posting})
