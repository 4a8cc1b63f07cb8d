"""Posting payments to the city's billing system (CIS), each exactly once.

:class:`~hub.posting.poster.Poster` owns the bookkeeping (claim, deliver, mark posted or
failed, retry later); an adapter only knows how to deliver: ``ledger`` (the hub's own
accounts table, the default), ``csv`` (an import file per day), ``file`` (a file per run
in a configured layout, :mod:`hub.posting.layout`) or ``http`` (a POST per payment). See
docs/hub.md, "Posting", and docs/posting.md.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hub.posting.base import PaymentToPost, PostingAdapter, PostingError, UnknownAccount
from hub.posting.csv_file import CsvAdapter
from hub.posting.files import FileAdapter
from hub.posting.http import HttpAdapter
from hub.posting.layout import load as load_layout
from hub.posting.ledger import LedgerAdapter
from hub.posting.poster import Poster, PostReport
from hub.settings import PostingSettings

__all__ = [
    "CsvAdapter",
    "FileAdapter",
    "HttpAdapter",
    "LedgerAdapter",
    "PaymentToPost",
    "PostReport",
    "Poster",
    "PostingAdapter",
    "PostingError",
    "UnknownAccount",
    "make_adapter",
]


def make_adapter(settings: PostingSettings, zone: ZoneInfo) -> PostingAdapter:
    """The adapter the settings choose (they were validated: each has its target)."""
    if settings.adapter == "csv":
        assert settings.csv_dir is not None
        return CsvAdapter(settings.csv_dir, zone)
    if settings.adapter == "file":
        assert settings.file_dir is not None
        return FileAdapter(settings.file_dir, load_layout(settings.layout), zone)
    if settings.adapter == "http":
        assert settings.http_url is not None
        return HttpAdapter(
            settings.http_url,
            timeout_s=settings.http_timeout_s,
            tries=settings.http_tries,
            backoff_s=settings.http_backoff_s,
            lookup_url=settings.http_lookup_url,
            reference_field=settings.http_reference_field,
        )
    return LedgerAdapter()
