"""Payment import files in the layout a billing system publishes, described, not coded.

A billing system's vendor publishes the file it imports third-party payments from: fixed
width or delimited, which field sits in which columns, how amounts and dates are written,
and the header, batch and trailer records around the payments with their counts and control
totals. A city writes that down in a TOML or JSON file (:class:`Layout`, validated by
pydantic, every error naming the field's path) and the hub writes exactly that.

Rendering is a pure function of a transmission (its id, when it was made, its payments in
order) and the layout, so a file can be written again byte for byte from what the hub
recorded. A value that does not fit its field is an error for the whole file
(:class:`LayoutOverflow`): an account number or an amount cut short would post money to the
wrong place, which is worse than a file that waits for someone to fix the layout.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub import csv_cells

#: values of one payment (a detail record); ``item`` is its number within its batch and
#: ``sequence`` within the file, from 1
PaymentSource = Literal[
    "payment_id",
    "account",
    "amount",
    "fee",
    "cash",
    "method",
    "paid_at",
    "effective_date",
    "confirmation",
    "kiosk",
    "batch",
    "journal_seq",
    "card_brand",
    "card_last4",
    "card_auth_code",
    "review",
    "item",
    "sequence",
]
#: values of one batch (its header and trailer, and detail records too)
BatchSource = Literal["batch_number", "batch_count", "batch_total", "batch_date", "batch_kiosk"]
#: values of the whole file (anywhere)
FileSource = Literal[
    "transmission_id", "created_at", "record_count", "detail_count", "batch_total_count", "total"
]
Source = Literal[PaymentSource, BatchSource, FileSource]
PAYMENT_SOURCES = frozenset(get_args(PaymentSource))
BATCH_SOURCES = frozenset(get_args(BatchSource))
MONEY = frozenset({"amount", "fee", "cash", "batch_total", "total"})
DATES = frozenset({"paid_at", "effective_date", "batch_date", "created_at"})
NUMBERS = frozenset(
    {
        "journal_seq",
        "item",
        "sequence",
        "batch_number",
        "batch_count",
        "record_count",
        "detail_count",
        "batch_total_count",
        "transmission_id",
    }
)


class LayoutError(ValueError):
    """The layout file can not be used; the message names the file and the field's path."""


class LayoutOverflow(Exception):
    """A value does not fit its field: the file is not written."""


class FieldSpec(BaseModel):
    """One field of a record: where its value comes from and how it is written.

    ``source`` is a value of the payment, its batch or the file; ``value`` a constant (a
    record type, a filler). ``width`` is required in a fixed-width file; in a delimited one
    it is a maximum. Amounts are ``implied`` cents (``4317``) or ``decimal`` dollars
    (``43.17``); dates follow ``date_format`` (strftime, in the hub's time zone).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    source: Source | None = None
    value: str | None = None
    start: Annotated[int | None, Field(ge=1)] = None
    width: Annotated[int | None, Field(ge=1, le=1000)] = None
    align: Literal["left", "right"] | None = None
    pad: Annotated[str | None, Field(min_length=1, max_length=1)] = None
    amount: Literal["implied", "decimal"] = "implied"
    date_format: str = "%Y-%m-%d"
    upper: bool = False

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        if (self.source is None) == (self.value is None):
            raise ValueError("give exactly one of source (a value of the payment) or value")
        return self

    @property
    def numeric(self) -> bool:
        return self.source in MONEY or self.source in NUMBERS


class Record(BaseModel):
    """One line of the file: its fields in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: Annotated[list[FieldSpec], Field(min_length=1)]


class Layout(BaseModel):
    """A whole import file. Records: ``header`` lines at the top, then per batch a
    ``batch_header``, one ``detail`` per payment and a ``batch_trailer``, then ``trailer``
    lines. Payments are put in batches by ``batch_by`` (one batch when ``none``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str = "1"
    format: Literal["fixed", "delimited"]
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    column_names: bool = False
    record_length: Annotated[int | None, Field(ge=1, le=10_000)] = None
    line_ending: Literal["crlf", "lf"] = "crlf"
    file_name: str = "{layout}-{transmission_id:06d}-{created_at:%Y%m%d}.txt"
    batch_by: Literal["none", "effective_date", "kiosk"] = "none"
    #: at most this many payments in one file (the rest go into the next): what the
    #: widths of the counts allow, or what the billing system takes at once
    max_payments: Annotated[int | None, Field(ge=1)] = None
    header: list[Record] = []
    batch_header: Record | None = None
    detail: Record
    batch_trailer: Record | None = None
    trailer: list[Record] = []

    @model_validator(mode="after")
    def _fits(self) -> Layout:
        for where, record in self.records():
            position = 1
            for index, spec in enumerate(record.fields):
                path = f"{where}.fields.{index}"
                if self.format == "fixed" and spec.width is None:
                    raise ValueError(f"{path}.width: a fixed-width field needs a width")
                if spec.value is not None and len(spec.value) > (spec.width or len(spec.value)):
                    raise ValueError(
                        f"{path}.value: {spec.value!r} is longer than its width {spec.width}"
                    )
                if spec.start is not None and spec.start != position:
                    raise ValueError(
                        f"{path}.start: the field starts at column {position} after the "
                        f"fields before it, not {spec.start}"
                    )
                if spec.source is not None:
                    scope = _scope(spec.source)
                    if scope == "payment" and where != "detail":
                        raise ValueError(f"{path}.source: {spec.source} is only in detail records")
                    if scope == "batch" and where.startswith(("header.", "trailer.")):
                        raise ValueError(f"{path}.source: {spec.source} is only within a batch")
                if spec.source in DATES:
                    try:
                        datetime(2000, 1, 2, 3, 4, 5).strftime(spec.date_format)
                    except ValueError as exc:
                        raise ValueError(f"{path}.date_format: {exc}") from exc
                position += spec.width or 0
            too_long = self.record_length is not None and position - 1 > self.record_length
            if self.format == "fixed" and too_long:
                raise ValueError(
                    f"{where}: the fields take {position - 1} columns, more than "
                    f"record_length {self.record_length}"
                )
        try:
            sample = self.file_name.format(
                layout=self.name, transmission_id=1, created_at=datetime(2000, 1, 1)
            )
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(
                f"file_name: {exc!r} (fields: layout, transmission_id, created_at)"
            ) from exc
        if "/" in sample or "\\" in sample or sample.startswith("."):
            raise ValueError(f"file_name: {sample!r} is not a plain file name")
        return self

    def records(self) -> list[tuple[str, Record]]:
        found = [(f"header.{i}", r) for i, r in enumerate(self.header)]
        if self.batch_header is not None:
            found.append(("batch_header", self.batch_header))
        found.append(("detail", self.detail))
        if self.batch_trailer is not None:
            found.append(("batch_trailer", self.batch_trailer))
        return found + [(f"trailer.{i}", r) for i, r in enumerate(self.trailer)]

    def canonical(self) -> str:
        """The layout as the hub keeps it beside each file it wrote with it."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


def _scope(source: str) -> str:
    if source in PAYMENT_SOURCES:
        return "payment"
    if source in BATCH_SOURCES:
        return "batch"
    return "file"


# ---------------------------------------------------------------------------- loading

BUILT_IN = ("csv", "lockbox")


def load(name_or_path: str | Path) -> Layout:
    """A built-in layout by name, or a layout file (``.toml`` or ``.json``)."""
    if str(name_or_path) in BUILT_IN:
        text = resources.files("hub.posting").joinpath(f"layouts/{name_or_path}.toml").read_text()
        return parse(text, f"built-in layout {name_or_path}", "toml")
    path = Path(name_or_path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("toml", "json"):
        raise LayoutError(
            f"layout {str(path)!r}: give a .toml or .json file, or one of {', '.join(BUILT_IN)}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LayoutError(f"layout {path}: {exc.strerror or exc}") from exc
    return parse(text, str(path), kind)


def parse(text: str, where: str, kind: str) -> Layout:
    try:
        data: Any = tomllib.loads(text) if kind == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise LayoutError(f"{where}: not valid {kind.upper()}: {exc}") from exc
    try:
        return Layout.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{path}: {message}" if path else message)
        raise LayoutError(f"{where}: " + "; ".join(problems)) from exc


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Item:
    """One payment as it goes into a file."""

    payment_id: str
    account: str
    amount_cents: int
    fee_cents: int
    cash_cents: int
    method: str
    paid_at: datetime
    effective_date: date
    confirmation: str
    kiosk: str
    batch: str
    journal_seq: int
    card_brand: str | None
    card_last4: str | None
    card_auth_code: str | None
    review: bool


@dataclass(frozen=True)
class Rendered:
    content: bytes
    record_count: int
    detail_count: int
    total_cents: int


def render(
    layout: Layout, transmission_id: int, created_at: datetime, items: Sequence[Item]
) -> Rendered:
    """The file's bytes. ``created_at`` and the items' ``paid_at`` are already in the hub's
    time zone; the items are in the order they go into the file."""
    groups = _batches(layout, items)
    per_batch = (layout.batch_header is not None) + (layout.batch_trailer is not None)
    record_count = (
        len(layout.header)
        + len(layout.trailer)
        + len(groups) * per_batch
        + len(items)
        + (1 if layout.column_names else 0)
    )
    total = sum(item.amount_cents for item in items)
    file_values: dict[str, object] = {
        "transmission_id": transmission_id,
        "created_at": created_at,
        "record_count": record_count,
        "detail_count": len(items),
        "batch_total_count": len(groups),
        "total": total,
    }
    lines: list[str] = []
    if layout.column_names:
        lines.append(_join(layout, [spec.name for spec in layout.detail.fields]))
    for index, record in enumerate(layout.header):
        lines.append(_line(layout, record, file_values, f"header.{index}"))
    sequence = 0
    for number, (_key, members) in enumerate(groups, start=1):
        batch = file_values | {
            "batch_number": number,
            "batch_count": len(members),
            "batch_total": sum(m.amount_cents for m in members),
            "batch_date": members[0].effective_date,
            "batch_kiosk": members[0].kiosk,
        }
        if layout.batch_header is not None:
            lines.append(_line(layout, layout.batch_header, batch, "batch_header"))
        for item_number, item in enumerate(members, start=1):
            sequence += 1
            values = batch | _payment_values(item) | {"item": item_number, "sequence": sequence}
            where = f"detail (payment {item.payment_id})"
            lines.append(_line(layout, layout.detail, values, where))
        if layout.batch_trailer is not None:
            lines.append(_line(layout, layout.batch_trailer, batch, "batch_trailer"))
    for index, record in enumerate(layout.trailer):
        lines.append(_line(layout, record, file_values, f"trailer.{index}"))
    ending = "\r\n" if layout.line_ending == "crlf" else "\n"
    content = "".join(line + ending for line in lines).encode("utf-8")
    return Rendered(content, record_count, len(items), total)


def _batches(layout: Layout, items: Sequence[Item]) -> list[tuple[object, list[Item]]]:
    if not items:
        return []
    key: Callable[[Item], object]
    if layout.batch_by == "effective_date":
        key = lambda item: item.effective_date  # noqa: E731
    elif layout.batch_by == "kiosk":
        key = lambda item: item.kiosk  # noqa: E731
    else:
        return [(None, list(items))]
    ordered = sorted(items, key=lambda item: str(key(item)))  # stable: keeps file order
    return [(k, list(group)) for k, group in groupby(ordered, key=key)]


def _payment_values(item: Item) -> dict[str, object]:
    return {
        "payment_id": item.payment_id,
        "account": item.account,
        "amount": item.amount_cents,
        "fee": item.fee_cents,
        "cash": item.cash_cents,
        "method": item.method,
        "paid_at": item.paid_at,
        "effective_date": item.effective_date,
        "confirmation": item.confirmation,
        "kiosk": item.kiosk,
        "batch": item.batch,
        "journal_seq": item.journal_seq,
        "card_brand": item.card_brand or "",
        "card_last4": item.card_last4 or "",
        "card_auth_code": item.card_auth_code or "",
        "review": "1" if item.review else "0",
    }


def _text(spec: FieldSpec, values: dict[str, object], where: str) -> str:
    if spec.value is not None:
        return spec.value
    assert spec.source is not None
    value = values[spec.source]
    if spec.source in MONEY:
        cents = int(value)  # type: ignore[call-overload]
        if cents < 0:
            raise LayoutOverflow(f"{where}: {spec.name or spec.source} is negative ({cents})")
        if spec.amount == "decimal":
            return str(Decimal(cents).scaleb(-2))
        return str(cents)
    if isinstance(value, date):  # a datetime too
        return value.strftime(spec.date_format)
    text = str(value)
    return text.upper() if spec.upper else text


def _cell(layout: Layout, spec: FieldSpec, values: dict[str, object], where: str) -> str:
    text = _text(spec, values, where)
    if spec.width is not None and len(text) > spec.width:
        label = spec.name or spec.source or "value"
        raise LayoutOverflow(
            f"{where}: {label} {text!r} is {len(text)} characters, its field is {spec.width}"
        )
    if layout.format == "delimited":
        return text
    assert spec.width is not None
    align = spec.align or ("right" if spec.numeric else "left")
    pad = spec.pad or ("0" if spec.numeric else " ")
    return text.rjust(spec.width, pad) if align == "right" else text.ljust(spec.width, pad)


def _line(layout: Layout, record: Record, values: dict[str, object], where: str) -> str:
    cells = [_cell(layout, spec, values, where) for spec in record.fields]
    if layout.format == "delimited":
        texts = [
            cell if spec.numeric or spec.value is not None else csv_cells.cell(cell)
            for spec, cell in zip(record.fields, cells, strict=True)
        ]
        return _join(layout, texts)
    line = "".join(cells)
    if layout.record_length is not None:
        line = line.ljust(layout.record_length)
    if "\r" in line or "\n" in line:
        raise LayoutOverflow(f"{where}: a value holds a line break")
    return line


def _join(layout: Layout, cells: Sequence[str]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=layout.delimiter, lineterminator="").writerow(cells)
    return out.getvalue()
