"""Check a kiosk's TOML file and report every problem in it, each with its key and line.

:func:`kiosk.config.load_config` stops at the first TOML error and raises pydantic errors
whose locations mean nothing to a technician with a text editor at a kiosk. This module turns
both into ``FILE:LINE: key: message`` lines, all at once, so one round of edits fixes the file.
A file passes here exactly when ``load_config`` accepts it.

tomllib reports no positions for values, so :func:`locate` re-reads the (already valid) TOML
text just far enough to know on which line each key and table starts.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import difflib
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kiosk.config import KioskConfig

KeyPath = tuple[str | int, ...]
"""A key as pydantic and :func:`locate` spell it: table and key names, array indices."""


@dataclass(frozen=True)
class Problem:
    """One thing to fix. ``line`` is 1-based; ``None`` (and an empty ``key``) for the file."""

    key: str
    line: int | None
    message: str

    def format(self, filename: str) -> str:
        where = filename if self.line is None else f"{filename}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True)
class CheckResult:
    """The validated configuration, or the problems that stand in its way (never both)."""

    config: KioskConfig | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self, filename: str) -> list[str]:
        """Problems as ``FILE:LINE: key: message`` lines, in file order."""
        ordered = sorted(self.problems, key=lambda p: (p.line or 0, p.key, p.message))
        return [problem.format(filename) for problem in ordered]


def check_file(path: Path) -> CheckResult:
    """Read and check ``path``; every failure, down to a missing file, is a :class:`Problem`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _file_problem("no such file (see docs/kiosk.example.toml for a starting point)")
    except IsADirectoryError:
        return _file_problem("is a directory; give the path of the kiosk's TOML file")
    except PermissionError:
        return _file_problem("permission denied; check the file's owner and mode")
    except OSError as exc:
        return _file_problem(f"cannot read the file: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        return _file_problem(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start - line_start + 1}); "
            "save the file as UTF-8",
            line=raw.count(b"\n", 0, exc.start) + 1,
        )
    return check_text(text)


def check_text(text: str) -> CheckResult:
    """Check TOML text, e.g. a configuration pulled from the hub before it replaces the file."""
    if text.startswith("\ufeff"):
        return _file_problem("starts with a byte order mark; save the file as UTF-8 without BOM", 1)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return CheckResult(None, (_syntax_problem(text, exc),))
    try:
        return CheckResult(KioskConfig.model_validate(data))
    except ValidationError as exc:
        errors = _all_errors(data, exc)
    locations = locate(text)
    return CheckResult(None, tuple(_validation_problem(e, locations) for e in errors))


def load_config_or_problems(path: Path | None) -> CheckResult:
    """Like :func:`kiosk.config.load_config`, for callers that must not show a traceback."""
    return CheckResult(KioskConfig()) if path is None else check_file(path)


def _file_problem(message: str, line: int | None = None) -> CheckResult:
    return CheckResult(None, (Problem("", line, message),))


# --- TOML syntax errors ------------------------------------------------------------------

_POSITION = re.compile(r" \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$")


def _syntax_problem(text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    """Turn tomllib's message into a line, the key on that line when there is one, and advice.

    Python 3.11's TOMLDecodeError carries its position only in its message. "At end of
    document" means something opened earlier was never closed, so the last key is blamed.
    """
    message = str(exc)
    match = _POSITION.search(message)
    reason = message[: match.start()] if match else message
    if match and match["line"]:
        line, column = int(match["line"]), int(match["column"])
        found = locate("\n".join(text.split("\n")[:line]))
        path = next((p for at, p in reversed(found.statements) if at == line), ())
    else:
        column = 0
        found = locate(text)
        line, path = found.statements[-1] if found.statements else (text.count("\n") + 1, ())
    key = format_key(path)
    earlier = min((at for at, p in found.statements if p[: len(path)] == path), default=line)
    first = f" (first on line {earlier})" if path and earlier < line else ""
    if reason == "Cannot overwrite a value":
        return Problem(key, line, f"is already defined{first}; a key may be set only once")
    if reason.startswith("Cannot declare"):
        return Problem(key, line, f"table [{key}] is declared twice{first}; merge the two")
    if reason.startswith("Cannot mutate immutable namespace"):
        return Problem(
            key,
            line,
            "adds to a table that was written inline ({ ... }) or as an array; "
            "write all of its keys in one place",
        )
    if not column:
        return Problem(key, line, f"TOML syntax error: {reason}; is a value started here closed?")
    hint = ' (text must be in quotes, e.g. name = "Lobby")' if reason == "Invalid value" else ""
    return Problem(key, line, f"TOML syntax error at column {column}: {reason}{hint}")


# --- pydantic errors ---------------------------------------------------------------------


def _all_errors(data: dict[str, Any], exc: ValidationError) -> list[ErrorDetails]:
    """Errors of the file, including cross-field checks that unknown keys would hide.

    pydantic runs a table's model validator only when all its fields passed, so a misspelt key
    would hide "min is greater than max" until the next round of edits. Validating again
    without the unknown keys shows both. Invalid values are not dropped: their defaults could
    make a cross-field check fail that the intended value would pass.
    """
    errors = exc.errors(include_url=False)
    unknown = [e["loc"] for e in errors if e["type"] == "extra_forbidden"]
    if not unknown:
        return errors
    pruned = copy.deepcopy(data)
    for loc in unknown:
        parent: Any = pruned
        for part in loc[:-1]:
            parent = parent[part]
        del parent[loc[-1]]
    try:
        KioskConfig.model_validate(pruned)
    except ValidationError as again:
        seen = {(e["loc"], e["type"]) for e in errors}
        errors += [e for e in again.errors(include_url=False) if (e["loc"], e["type"]) not in seen]
    return errors


def _validation_problem(error: ErrorDetails, locations: Locations) -> Problem:
    loc = tuple(error["loc"])
    return Problem(format_key(loc), locations.line_of(loc), _message(error, loc))


def _message(error: ErrorDetails, loc: KeyPath) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    got = f"got {_describe(error['input'])}"
    if kind == "extra_forbidden":
        return _unknown_key(loc, error["input"])
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number{_unit(loc)}, {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number{_unit(loc)}, {got}"
    if kind == "finite_number":
        return f"expected a finite number{_unit(loc)}, {got}"
    if kind == "bool_type":
        return f"expected true or false (without quotes), {got}"
    if kind == "string_type":
        return f'expected text in quotes, e.g. "abc", {got}'
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a table ([{format_key(loc)}]), {got}"
    if kind == "list_type":
        return f"expected an array, e.g. [1, 2], {got}"
    if kind == "path_type":
        return f'expected a path in quotes, e.g. "/var/lib/kiosk", {got}'
    if kind == "literal_error":
        return f"expected {str(ctx.get('expected', '')).replace(chr(39), chr(34))}, {got}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"must be {words} {_number(ctx[name])}{_unit(loc)}, {got}"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item(s)"
    if kind == "too_long":
        return f"allows at most {ctx['max_length']} item(s), has {ctx.get('actual_length', '?')}"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else error["msg"]
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters, has {len(error['input'])}"
    return str(error["msg"])


def _unknown_key(loc: KeyPath, value: object) -> str:
    """Suggest the key the technician probably meant, or the table the key belongs in."""
    what = "table" if isinstance(value, dict) else "key"
    name = loc[-1]
    model = _model_at(loc[:-1])
    if model is None or not isinstance(name, str):
        return f"unknown {what}"
    current = loc[0] if len(loc) > 1 else None
    homes = [
        section
        for section, info in KioskConfig.model_fields.items()
        if section != current
        and isinstance(info.annotation, type)
        and issubclass(info.annotation, BaseModel)
        and name in info.annotation.model_fields
    ]
    if homes:
        return f"unknown {what} here; {name} belongs in [{homes[0]}]"
    fields = list(model.model_fields)
    close = difflib.get_close_matches(name.lower(), fields, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} (did you mean {close[0]}?)"
    return f"unknown {what}; expected one of: {', '.join(fields)}"


def _model_at(loc: KeyPath) -> type[BaseModel] | None:
    model: type[BaseModel] = KioskConfig
    for part in loc:
        info = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = info.annotation if info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _unit(loc: KeyPath) -> str:
    name = str(loc[-1]) if loc else ""
    if name.endswith("_cents") or (len(loc) > 1 and str(loc[-2]).endswith("_cents")):
        return " (cents)"
    if name.endswith("_bp"):
        return " (basis points, 100 = 1 %)"
    if loc and loc[0] == "timeouts":
        return " (seconds)"
    return ""


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe(value: object) -> str:
    """Name a value as TOML would write it, so the message matches what is in the file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.date | dt.time):
        return f"the date/time {value.isoformat()}"
    return repr(value)


def format_key(path: Iterable[str | int]) -> str:
    """``("locale", "languages", 1)`` -> ``locale.languages[1]``; odd names are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if _BARE.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            text += f".{name}" if text else name
    return text


# --- locating keys in TOML text ------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class Locations:
    """Where each table and key of a TOML text starts."""

    first_line: dict[KeyPath, int] = field(default_factory=dict)
    statements: list[tuple[int, KeyPath]] = field(default_factory=list)
    _explicit: set[KeyPath] = field(default_factory=set)

    def add(self, line: int, path: KeyPath) -> None:
        self.statements.append((line, path))
        for end in range(1, len(path)):
            self.first_line.setdefault(path[:end], line)
        # `[a.b]` then `[a]`: a's own header is the better answer than its first mention
        if path not in self._explicit:
            self._explicit.add(path)
            self.first_line[path] = line

    def line_of(self, path: KeyPath) -> int | None:
        """Line of ``path``, else of the nearest enclosing table or key that is in the text."""
        for end in range(len(path), 0, -1):
            line = self.first_line.get(path[:end])
            if line is not None:
                return line
        return None


class _Unreadable(Exception):
    pass


def locate(text: str) -> Locations:
    """Find the line of every ``[table]``, ``[[array]]`` element and ``key =`` in ``text``.

    Meant for text tomllib has accepted; on anything else it returns what it found before the
    first thing it could not read, which is what a syntax error's report needs.
    """
    found = Locations()
    scan = _Scanner(text)
    table: KeyPath = ()
    arrays: dict[KeyPath, int] = {}
    try:
        while scan.skip_blank():
            line = scan.line()
            if scan.take("[["):
                table = _array_element(scan.key(), arrays)
                scan.expect("]]")
                found.add(line, table)
            elif scan.take("["):
                table = _resolve(scan.key(), arrays)
                scan.expect("]")
                found.add(line, table)
            else:
                path = table + scan.key()
                scan.expect("=")
                found.add(line, path)
                scan.skip_value()
    except _Unreadable:
        pass
    return found


def _resolve(parts: tuple[str, ...], arrays: dict[KeyPath, int]) -> KeyPath:
    """``[a.b]`` after ``[[a]]`` means b of a's latest element: insert the element's index."""
    path: KeyPath = ()
    for part in parts:
        path += (part,)
        if path in arrays:
            path += (arrays[path],)
    return path


def _array_element(parts: tuple[str, ...], arrays: dict[KeyPath, int]) -> KeyPath:
    array = (*_resolve(parts[:-1], arrays), parts[-1])
    arrays[array] = arrays.get(array, -1) + 1
    return (*array, arrays[array])


class _Scanner:
    """Just enough of TOML's grammar to step over values without misreading their insides."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._newlines = [i for i, char in enumerate(text) if char == "\n"]

    def line(self) -> int:
        return bisect.bisect_left(self._newlines, self.pos) + 1

    def take(self, token: str) -> bool:
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        self._skip_spaces()
        if not self.take(token):
            raise _Unreadable

    def skip_blank(self) -> bool:
        """Skip blank lines and comments; False at the end of the text."""
        text = self.text
        while self.pos < len(text):
            if text[self.pos] in " \t\r\n":
                self.pos += 1
            elif text[self.pos] == "#":
                self._skip_comment()
            else:
                return True
        return False

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self._skip_spaces()
            start = self.pos
            if self.take('"'):
                self.pos = self._basic_string_end(start)
                try:
                    parts.append(str(tomllib.loads("k = " + self.text[start : self.pos])["k"]))
                except tomllib.TOMLDecodeError as exc:
                    raise _Unreadable from exc
            elif self.take("'"):
                self.pos = self._find("'", self.pos) + 1
                parts.append(self.text[start + 1 : self.pos - 1])
            else:
                match = _BARE.match(self.text, self.pos)
                if match is None:
                    raise _Unreadable
                parts.append(match.group())
                self.pos = match.end()
            self._skip_spaces()
            if not self.take("."):
                return tuple(parts)

    def skip_value(self) -> None:
        """Move past the value and the end of its line, however many lines the value spans."""
        text, depth = self.text, 0
        while self.pos < len(text):
            char = text[self.pos]
            if text.startswith('"""', self.pos) or text.startswith("'''", self.pos):
                self.pos = self._multiline_string_end(text[self.pos : self.pos + 3])
            elif char == '"':
                self.pos = self._basic_string_end(self.pos)
            elif char == "'":
                self.pos = self._find("'", self.pos + 1) + 1
            elif char == "#":
                self._skip_comment()
            else:
                self.pos += 1
                depth += (char in "[{") - (char in "]}")
                if char == "\n" and depth <= 0:
                    return

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def _skip_comment(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def _find(self, token: str, start: int) -> int:
        index = self.text.find(token, start)
        if index < 0:
            raise _Unreadable
        return index

    def _basic_string_end(self, start: int) -> int:
        """Index just past the ``"`` that closes the one-line string opened at ``start``."""
        index = start + 1
        while index < len(self.text):
            char = self.text[index]
            if char == "\\":
                index += 2
            elif char == '"':
                return index + 1
            elif char == "\n":
                break
            else:
                index += 1
        raise _Unreadable

    def _multiline_string_end(self, quotes: str) -> int:
        index = self.pos + 3
        while index < len(self.text):
            if quotes == '"""' and self.text[index] == "\\":
                index += 2
            elif self.text.startswith(quotes, index):
                end = index + 3
                # up to two more quotes right before the closing three belong to the string
                while end < len(self.text) and end - index < 5 and self.text[end] == quotes[0]:
                    end += 1
                return end
            else:
                index += 1
        raise _Unreadable
