"""The kiosk's TOML configuration: defaults, the example file, the checker and its command.

A technician fixes a kiosk's file from what ``kiosk config check`` prints, so these tests pin
the key *and* the line of every kind of problem, not just that the file was rejected.
"""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from composition.commands import config_cmd
from kiosk.config import KioskConfig, load_config
from kiosk.config_check import (
    CheckResult,
    Problem,
    check_file,
    check_text,
    format_key,
    load_config_or_problems,
    locate,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "kiosk.example.toml"


def write(tmp_path: Path, text: str, name: str = "kiosk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_problem(text: str) -> Problem:
    result = check_text(text)
    assert result.config is None
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def sections() -> dict[str, type[BaseModel]]:
    out: dict[str, type[BaseModel]] = {}
    for name, info in KioskConfig.model_fields.items():
        assert isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
        out[name] = info.annotation
    return out


# --- defaults and the example file ---------------------------------------------------------


def test_no_file_gives_the_defaults() -> None:
    assert load_config(None) == KioskConfig()
    result = load_config_or_problems(None)
    assert result.ok and result.config == KioskConfig()


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "[limits]\n"])
def test_a_file_without_settings_gives_the_defaults(tmp_path: Path, text: str) -> None:
    result = check_file(write(tmp_path, text))
    assert result.ok
    assert result.config == KioskConfig()


def test_example_file_is_valid_and_holds_the_defaults() -> None:
    result = check_file(EXAMPLE)
    assert result.problems == ()
    assert result.config == KioskConfig()
    assert load_config(EXAMPLE) == KioskConfig()


def test_example_file_shows_every_setting() -> None:
    """Every key is written out, or commented out where TOML can not write the default (None)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section, model in sections().items():
        assert section in data, section
        for name, info in model.model_fields.items():
            if info.get_default(call_default_factory=True) is None:
                assert re.search(rf"^# {name} = ", text, re.MULTILINE), f"{section}.{name}"
            else:
                assert name in data[section], f"{section}.{name}"


def test_configuration_doc_mentions_every_section_and_key() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert "kiosk config check" in text
    for section, model in sections().items():
        assert f"## `[{section}]`" in text
        for name in model.model_fields:
            assert f"`{name}`" in text, f"{section}.{name}"


# --- each kind of problem, with its key and line ---------------------------------------------

PROBLEMS = [
    pytest.param(
        '[limits]\nmin_payment_cents = "100"\n',
        "limits.min_payment_cents",
        2,
        'expected a whole number (cents), got the string "100"',
        id="wrong-type-string-for-cents",
    ),
    pytest.param(
        "[limits]\n\nmax_cash_cents = 1.5\n",
        "limits.max_cash_cents",
        3,
        "expected a whole number (cents), got the number 1.5",
        id="float-for-cents",
    ),
    pytest.param(
        "[limits]\nmax_cash_cents = 100.0\n",
        "limits.max_cash_cents",
        2,
        "expected a whole number",
        id="whole-float-for-cents",
    ),
    pytest.param(
        "[limits]\nmin_payment_cents = true\n",
        "limits.min_payment_cents",
        2,
        "got true",
        id="bool-for-cents",
    ),
    pytest.param(
        '[timeouts]\nidle_screen = "60"\n',
        "timeouts.idle_screen",
        2,
        'expected a number (seconds), got the string "60"',
        id="string-for-seconds",
    ),
    pytest.param(
        '[hub]\nenabled = "yes"\n',
        "hub.enabled",
        2,
        "expected true or false",
        id="string-for-bool",
    ),
    pytest.param(
        "[identity]\nkiosk_id = 42\n",
        "identity.kiosk_id",
        2,
        "expected text in quotes",
        id="integer-for-text",
    ),
    pytest.param(
        '[identity]\nkiosk_id = ""\n',
        "identity.kiosk_id",
        2,
        "must not be empty",
        id="empty-text",
    ),
    pytest.param(
        f'[identity]\nkiosk_id = "{"k" * 65}"\n',
        "identity.kiosk_id",
        2,
        "must be at most 64 characters, has 65",
        id="text-too-long",
    ),
    pytest.param(
        "[limits]\nmax_payment_cents = -5\n",
        "limits.max_payment_cents",
        2,
        "must be at least 0 (cents), got the integer -5",
        id="below-range",
    ),
    pytest.param(
        "[limits]\nmax_payment_cents = 100_000_001\n",
        "limits.max_payment_cents",
        2,
        "must be at most 100000000 (cents)",
        id="above-range",
    ),
    pytest.param(
        "[card_fee]\npercent_bp = 1001\n",
        "card_fee.percent_bp",
        2,
        "must be at most 1000 (basis points",
        id="percent-above-range",
    ),
    pytest.param(
        "[timeouts]\ncard_sale = 0\n",
        "timeouts.card_sale",
        2,
        "must be more than 0 (seconds)",
        id="zero-seconds",
    ),
    pytest.param(
        "[timeouts]\ncard_sale = nan\n",
        "timeouts.card_sale",
        2,
        "expected a finite number",
        id="nan-seconds",
    ),
    pytest.param(
        "[limits]\nmax_paymnet_cents = 5\n",
        "limits.max_paymnet_cents",
        2,
        "unknown key (did you mean max_payment_cents?)",
        id="unknown-key-with-suggestion",
    ),
    pytest.param(
        "[limtis]\nmin_payment_cents = 5\n",
        "limtis",
        1,
        "unknown table (did you mean limits?)",
        id="unknown-table-with-suggestion",
    ),
    pytest.param(
        "[limits]\ncolour = 5\n",
        "limits.colour",
        2,
        "unknown key; expected one of: min_payment_cents, max_payment_cents",
        id="unknown-key-lists-the-keys",
    ),
    pytest.param(
        "min_payment_cents = 100\n",
        "min_payment_cents",
        1,
        "min_payment_cents belongs in [limits]",
        id="key-outside-its-table",
    ),
    pytest.param(
        '[limits]\ntime_zone = "UTC"\n',
        "limits.time_zone",
        2,
        "time_zone belongs in [locale]",
        id="key-in-the-wrong-table",
    ),
    pytest.param(
        '[locale]\ntime_zone = "America/Chicgo"\n',
        "locale.time_zone",
        2,
        'unknown time zone "America/Chicgo" (use an IANA name',
        id="bad-time-zone",
    ),
    pytest.param(
        "[limits]\nmin_payment_cents = 5000\nmax_payment_cents = 100\n",
        "limits",
        1,
        "min_payment_cents (5000) is greater than max_payment_cents (100)",
        id="min-above-max",
    ),
    pytest.param(
        "[limits]\nmax_payment_cents = 500\nmax_cash_cents = 1000\n",
        "limits",
        1,
        "max_cash_cents (1000) is greater than max_payment_cents (500)",
        id="cash-above-max",
    ),
    pytest.param(
        "# fee\n[card_fee]\nminimum_cents = 500\nmaximum_cents = 100\n",
        "card_fee",
        2,
        "maximum_cents (100) is below minimum_cents (500)",
        id="fee-max-below-min",
    ),
    pytest.param(
        "[timeouts]\ncard_sale = 200\ncard_sale_total = 100\n",
        "timeouts",
        1,
        "card_sale_total (100) is shorter than card_sale (200)",
        id="card-sale-total-below-one-wait",
    ),
    pytest.param(
        '[locale]\nlanguages = ["es"]\n',
        "locale",
        1,
        'default_language "en" is not one of the languages offered ["es"]',
        id="default-language-not-offered",
    ),
    pytest.param(
        '[locale]\nlanguages = [\n  "en",\n  "fr",\n]\n',
        "locale.languages[1]",
        2,
        'expected "en" or "es", got the string "fr"',
        id="language-not-supported",
    ),
    pytest.param(
        "[locale]\nlanguages = []\n",
        "locale.languages",
        2,
        "needs at least 1 item",
        id="no-languages",
    ),
    pytest.param(
        "[limits]\naccepted_bills_cents = [100, 300, 500]\n",
        "limits.accepted_bills_cents",
        2,
        "not a US bill denomination (cents): [300]",
        id="bill-not-real",
    ),
    pytest.param(
        "[limits]\naccepted_bills_cents = [100, 500.0]\n",
        "limits.accepted_bills_cents[1]",
        2,
        "expected a whole number",
        id="bill-as-float",
    ),
    pytest.param(
        'identity = "kiosk 7"\n',
        "identity",
        1,
        'expected a table ([identity]), got the string "kiosk 7"',
        id="scalar-for-table",
    ),
    pytest.param(
        "[storage]\ndata_dir = 5\n",
        "storage.data_dir",
        2,
        "expected a path in quotes",
        id="integer-for-path",
    ),
    pytest.param(
        "[limits]\naccepted_bills_cents = 100\n",
        "limits.accepted_bills_cents",
        2,
        "expected an array",
        id="scalar-for-array",
    ),
]


@pytest.mark.parametrize(("text", "key", "line", "message"), PROBLEMS)
def test_each_problem_is_reported_with_key_and_line(
    text: str, key: str, line: int, message: str
) -> None:
    problem = only_problem(text)
    assert (problem.key, problem.line) == (key, line)
    assert message in problem.message


@pytest.mark.parametrize(("text", "key", "line", "message"), PROBLEMS)
def test_what_the_check_rejects_load_config_rejects_too(
    tmp_path: Path, text: str, key: str, line: int, message: str
) -> None:
    with pytest.raises(ValidationError):
        load_config(write(tmp_path, text))


def test_model_level_problem_points_at_the_table_wherever_it_is() -> None:
    text = '[identity]\nname = "x"\n\n[limits]\nmin_payment_cents = 9\nmax_payment_cents = 1\n'
    assert only_problem(text).line == 4
    assert only_problem('locale.languages = ["es"]\n').line == 1
    assert only_problem('[hub]\n\nlocale = { languages = ["es"] }\n').key == "hub.locale"
    assert only_problem('\nlocale = { languages = ["es"] }\n').line == 2


def test_several_problems_are_all_reported_in_file_order() -> None:
    text = """\
# a kiosk with five mistakes
[identity]
kiosk_id = ""

[locale]
time_zone = "Mars/Olympus"

[limits]
max_paymnet_cents = 5
accepted_bills_cents = [100, 300]

[timeouts]
still_there = -1
"""
    result = check_text(text)
    assert result.config is None
    got = [(p.line, p.key) for p in result.problems]
    assert sorted(got) == [
        (3, "identity.kiosk_id"),
        (6, "locale.time_zone"),
        (9, "limits.max_paymnet_cents"),
        (10, "limits.accepted_bills_cents"),
        (13, "timeouts.still_there"),
    ]
    report = result.report("k.toml")
    assert [line.split(":")[1] for line in report] == ["3", "6", "9", "10", "13"]


def test_an_unknown_key_does_not_hide_a_cross_field_problem_in_its_table() -> None:
    text = "[limits]\nmin_payment_cents = 500\nmax_payment_cents = 100\nbogus = 1\n"
    messages = {p.key: p.message for p in check_text(text).problems}
    assert set(messages) == {"limits", "limits.bogus"}
    assert "greater than max_payment_cents" in messages["limits"]


def test_a_bad_value_does_not_invent_a_cross_field_problem() -> None:
    """With min unreadable, comparing its default (100) to max (50) would be a false alarm."""
    text = '[limits]\nmin_payment_cents = "x"\nmax_payment_cents = 50\n'
    assert [p.key for p in check_text(text).problems] == ["limits.min_payment_cents"]


# --- TOML syntax errors ----------------------------------------------------------------------


def test_syntax_error_reports_line_and_column() -> None:
    problem = only_problem('[identity]\nname = "Lobby"\nlocation = Main St\n')
    assert (problem.key, problem.line) == ("identity.location", 3)
    assert "TOML syntax error at column 12: Invalid value" in problem.message
    assert "in quotes" in problem.message


def test_syntax_error_in_a_header_has_its_line() -> None:
    problem = only_problem("a = 1\n[limits\nmin_payment_cents = 1\n")
    assert problem.line == 2
    assert "Expected ']'" in problem.message


def test_unclosed_value_is_blamed_on_the_key_that_opened_it() -> None:
    text = "[limits]\naccepted_bills_cents = [100,\n  500,\n"
    problem = only_problem(text)
    assert (problem.key, problem.line) == ("limits.accepted_bills_cents", 2)
    assert "closed" in problem.message


def test_duplicate_key_names_the_first_definition() -> None:
    text = "[limits]\nmin_payment_cents = 100\nmax_payment_cents = 900\nmin_payment_cents = 200\n"
    problem = only_problem(text)
    assert (problem.key, problem.line) == ("limits.min_payment_cents", 4)
    assert "already defined (first on line 2)" in problem.message


def test_duplicate_quoted_key() -> None:
    problem = only_problem('[hub]\n"url" = "a"\n\'url\' = "b"\n')
    assert (problem.key, problem.line) == ("hub.url", 3)


def test_duplicate_table() -> None:
    problem = only_problem("[limits]\n\n[hub]\n\n[limits]\n")
    assert (problem.key, problem.line) == ("limits", 5)
    assert "declared twice (first on line 1)" in problem.message


def test_adding_to_an_inline_table() -> None:
    problem = only_problem('hub = { enabled = true }\nhub.url = "x"\n')
    assert (problem.key, problem.line) == ("hub.url", 2)
    assert "inline" in problem.message


def test_syntax_errors_are_what_load_config_rejects(tmp_path: Path) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        load_config(write(tmp_path, "a = 1\na = 2\n"))


# --- files that can not be read ------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    result = check_file(tmp_path / "nope.toml")
    assert result.config is None
    [problem] = result.problems
    assert (problem.key, problem.line) == ("", None)
    assert "no such file" in problem.message
    assert result.report("nope.toml") == [f"nope.toml: {problem.message}"]


def test_directory(tmp_path: Path) -> None:
    [problem] = check_file(tmp_path).problems
    assert "is a directory" in problem.message


def test_path_through_a_file(tmp_path: Path) -> None:
    [problem] = check_file(write(tmp_path, "") / "kiosk.toml").problems
    assert problem.message.startswith("cannot read the file: ")


def test_file_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[identity]\ncity = "Ciudad de Peñasco"\n'.encode("latin-1"))
    [problem] = check_file(path).problems
    assert problem.line == 2
    assert "not UTF-8" in problem.message and "0xf1" in problem.message
    assert "column 21" in problem.message
    with pytest.raises(UnicodeDecodeError):
        load_config(path)


def test_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[hub]\n")
    [problem] = check_file(path).problems
    assert "byte order mark" in problem.message
    with pytest.raises(tomllib.TOMLDecodeError):
        load_config(path)


def test_valid_file_matches_load_config(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[limits]\nmin_payment_cents = 500\n[locale]\ntime_zone = "UTC"\nlanguages = ["es"]\n'
        'default_language = "es"\n[timeouts]\nidle_screen = 2.5\n[storage]\ndata_dir = "~/k"\n',
    )
    result = check_file(path)
    assert result.ok
    assert result.config == load_config(path)
    assert result.config is not None
    assert result.config.limits.min_payment_cents == 500
    assert result.config.timeouts.idle_screen == 2.5
    assert result.config.storage.resolved_data_dir() == Path.home() / "k"


# --- the locator -----------------------------------------------------------------------------


def test_locate_tables_keys_and_dotted_keys() -> None:
    text = """\
top = 1
[a]
x = 1
  "quoted key" = 2
b.c = 3
[a.sub]  # a comment [not.a.table]
'lit.eral' . y = 4
"""
    lines = locate(text).first_line
    assert lines[("top",)] == 1
    assert lines[("a",)] == 2
    assert lines[("a", "x")] == 3
    assert lines[("a", "quoted key")] == 4
    assert lines[("a", "b")] == 5
    assert lines[("a", "b", "c")] == 5
    assert lines[("a", "sub")] == 6
    assert lines[("a", "sub", "lit.eral", "y")] == 7
    assert ("not",) not in lines


def test_locate_arrays_of_tables() -> None:
    text = "[[port]]\nname = 1\n[port.opts]\nx = 1\n[[port]]\nname = 2\n[[port.pin]]\nn = 1\n"
    lines = locate(text).first_line
    assert lines[("port", 0)] == 1
    assert lines[("port", 0, "name")] == 2
    assert lines[("port", 0, "opts", "x")] == 4
    assert lines[("port", 1)] == 5
    assert lines[("port", 1, "name")] == 6
    assert lines[("port", 1, "pin", 0, "n")] == 8


def test_locate_does_not_read_keys_inside_values() -> None:
    text = '''\
a = """
[fake]
b = 1 \\"""
"""
c = [
  "[fake2]",  # ] [
  { d = 1 },
]
e = \'\'\'
f = 2\'\'\'\'\'
g = "# not a comment = x"
h = 'C:\\path\\'
i = { j = [1, 2], k = "}" }
'''
    assert tomllib.loads(text)  # the sample is valid TOML
    found = locate(text)
    assert [(line, path) for line, path in found.statements] == [
        (1, ("a",)),
        (5, ("c",)),
        (9, ("e",)),
        (11, ("g",)),
        (12, ("h",)),
        (13, ("i",)),
    ]


def test_locate_with_windows_line_endings() -> None:
    text = "[limits]\r\nmin_payment_cents = 1\r\n\r\nmax_payment_cents = 2\r\n"
    lines = locate(text).first_line
    assert lines[("limits", "max_payment_cents")] == 4


def test_line_of_falls_back_to_the_enclosing_table() -> None:
    found = locate("[locale]\nlanguages = [\n  'en',\n  'fr',\n]\n")
    assert found.line_of(("locale", "languages", 1)) == 2
    assert found.line_of(("locale", "time_zone")) == 1
    assert found.line_of(("hub",)) is None


def test_format_key() -> None:
    assert format_key(("locale", "languages", 1)) == "locale.languages[1]"
    assert format_key(("a", "with space")) == 'a."with space"'
    assert format_key(()) == ""


# --- the command -----------------------------------------------------------------------------


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kiosk")
    config_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_check_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[hub]\nenabled = true\n")
    assert run(["config", "check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: OK\n"


def test_check_example_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["config", "check", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.endswith(": OK\n")


def test_check_prints_every_problem_sorted_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        '[timeouts]\nidle_screen = 0\n[hub]\nenabld = true\n[locale]\ntime_zone = "Nowhere"\n',
    )
    assert run(["config", "check", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{path}:2: timeouts.idle_screen: must be more than 0 (seconds), got the integer 0",
        f"{path}:4: hub.enabld: unknown key (did you mean enabled?)",
        f'{path}:6: locale.time_zone: unknown time zone "Nowhere" '
        "(use an IANA name such as America/Chicago)",
    ]


def test_check_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[hub]\nurl = \n")
    assert run(["config", "check", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}:2: hub.url: TOML syntax error at column 7")


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "missing.toml"
    assert run(["config", "check", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}: no such file")


def test_show_prints_defaults_as_toml_that_checks_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "[limits]\nmin_payment_cents = 100\n" in out
    assert "# maximum_cents is not set" in out
    assert check_text(out).config == KioskConfig()


def test_show_a_file_with_data_dir_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[identity]\nname = "Lobby \\"A\\""\n[card_fee]\nmaximum_cents = 900\n')
    assert run(["config", "show", "--config", str(path), "--data-dir", str(tmp_path)]) == 0
    shown = check_text(capsys.readouterr().out)
    assert shown.config is not None
    assert shown.config.identity.name == 'Lobby "A"'
    assert shown.config.card_fee.maximum_cents == 900
    assert shown.config.storage.data_dir == tmp_path


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["config", "show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["limits"]["accepted_bills_cents"] == [100, 500, 1000, 2000, 5000, 10000]
    assert KioskConfig.model_validate(data) == KioskConfig()


def test_show_a_bad_file_prints_problems_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[hub]\nenabled = 1\n")
    assert run(["config", "show", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{path}:2: hub.enabled: expected true or false")


def test_kiosk_main_runs_config_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the real entry point; needs every command module composition.cli imports."""
    from composition import cli

    good = write(tmp_path, "[hub]\nenabled = false\n")
    bad = write(tmp_path, "[hub]\nenabled = 0\n", name="bad.toml")
    assert cli.main(["config", "check", str(good)]) == 0
    assert cli.main(["config", "check", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{good}: OK"
    assert out[1].startswith(f"{bad}:2: hub.enabled: ")


def test_check_result_report_orders_file_problems_first() -> None:
    result = CheckResult(None, (Problem("b", 3, "y"), Problem("", None, "x"), Problem("a", 1, "z")))
    assert result.report("f") == ["f: x", "f:1: a: z", "f:3: b: y"]
    assert not result.ok
