"""``kiosk-hub``: run the hub and administer it from a shell.

Every command takes ``--db`` (a SQLite file path or a ``postgresql://`` URL; default: the
``KIOSK_HUB_DB`` variable, else a file in the user's data directory) and brings the schema
up to date before it does anything. Exit status: 0 done, 1 the command ran but something
failed (bad rows, failed postings), 2 it could not run (bad option, database unreachable).
See docs/hub.md, "Commands".
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hub import (
    __version__,
    accounts,
    demo,
    enrollment,
    exports_cli,
    kiosk_config,
    options,
    posting_cli,
    queries,
    suspense_cli,
    technicians_cli,
)
from hub.clock import utc_now
from hub.context import HubContext
from hub.db import DatabaseError, database_url
from hub.errors import HubError
from hub.secret_file import SecretFileError, read_secret_file
from hub.settings import HubSettings
from hub.staff import cli as staff_cli

OK, FAILED, UNUSABLE = 0, 1, 2


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _print_code(issued: enrollment.IssuedCode) -> None:
    print(f"enrollment code: {issued.code}")
    print(f"  valid once, until {_when(issued.expires_at)}; enter it in `kiosk provision`")


# ------------------------------------------------------------------------------ commands


def cmd_serve(args: argparse.Namespace, settings: HubSettings) -> int:
    import uvicorn

    from hub.api import create_app
    from hub.logs import log_config, wants_json
    from hub.serving import NotifyingServer
    from hub.systemd import Notifier

    app = create_app(settings)
    shown = make_url(database_url(settings.database)).render_as_string(hide_password=True)
    listener = None if args.fd is None else socket.socket(fileno=args.fd)
    host, port = (args.host, args.port) if listener is None else listener.getsockname()[:2]
    banner = (
        f"kiosk hub {__version__} on http://{host}:{port} "
        f"(database {shown}, posting: {settings.posting.adapter})"
    )
    config = uvicorn.Config(  # sets logging up
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=log_config(args.log_format, args.log_level),
    )
    if wants_json(args.log_format):
        logging.getLogger("hub").info(banner)  # every line of the journal is JSON
    else:
        print(banner, flush=True)
    server = NotifyingServer(config, Notifier())
    server.run(sockets=None if listener is None else [listener])
    return OK


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A socket on a port the system picks, bound and listening, for a ``serve --fd`` child.

    Picking a free port, letting it go and having the child bind it later is a race: on a
    busy machine another process takes the port in between and the hub dies with "address
    already in use". A socket bound here holds its port from the start; connections that
    come before the child serves wait in the socket's backlog.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind((host, 0))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


def spawn_serve(
    db: str,
    options: Sequence[str],
    *,
    log: IO[bytes],
    cwd: Path | None = None,
    preexec_fn: Callable[[], object] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """``kiosk-hub --db DB serve OPTIONS`` as a child process of this one, on a socket bound
    here (:func:`listening_socket`) and handed over: (the process, the hub's URL).

    Its output and errors go to ``log``; ``env`` is added to this process's environment
    (``KIOSK_HUB_ADMIN_TOKEN`` goes there, never into OPTIONS). The URL is right before the
    child has started; wait for ``/v1/health`` to answer to know it serves.
    """
    with listening_socket() as listener:
        host, port = listener.getsockname()[:2]
        command = [sys.executable, "-m", "hub.cli", "--db", db, "serve"]
        command += ["--fd", str(listener.fileno()), *options]
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
            preexec_fn=preexec_fn,
            env=None if env is None else {**os.environ, **env},
        )
    return process, f"http://{host}:{port}"


def cmd_migrate(args: argparse.Namespace, hub: HubContext) -> int:
    print(f"database schema at revision {hub.db.current_revision()}")
    return OK


def cmd_create_kiosk(args: argparse.Namespace, hub: HubContext) -> int:
    ttl = timedelta(hours=args.code_ttl_hours or hub.settings.enrollment_ttl_h)
    issued = enrollment.create_kiosk(hub.db, args.name, args.location, hub.clock(), ttl)
    print(f"kiosk {issued.kiosk_id} created ({args.location})")
    _print_code(issued)
    return OK


def _message(text: str) -> tuple[str, str, str]:
    lang_key, sep, value = text.partition("=")
    lang, colon, key = lang_key.partition(":")
    if not sep or not colon or not lang or not key:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write LANG:KEY=TEXT, e.g. en:banner='Closed Monday'"
        )
    return lang, key, value


def cmd_set_kiosk(args: argparse.Namespace, hub: HubContext) -> int:
    limits = {
        name: getattr(args, name)
        for name in (
            "min_payment_cents",
            "max_payment_cents",
            "max_overpayment_cents",
            "max_cash_cents",
        )
        if getattr(args, name) is not None
    }
    fee_options = {
        "card_fee_flat_cents": "flat_cents",
        "card_fee_percent_bp": "percent_bp",
        "card_fee_minimum_cents": "minimum_cents",
        "card_fee_maximum_cents": "maximum_cents",
    }
    card_fee = {
        field: getattr(args, option)
        for option, field in fee_options.items()
        if getattr(args, option) is not None
    }
    messages: dict[str, dict[str, str]] = {}
    for lang, key, value in args.message or []:
        messages.setdefault(lang, {})[key] = value
    change = kiosk_config.SettingsChange(
        location=args.location,
        out_of_service_reason=args.out_of_service,
        in_service=args.in_service,
        limits=limits,
        card_fee=card_fee,
        messages=messages,
    )
    settings = kiosk_config.update_settings(hub.db, args.name, change)
    state = (
        f"OUT OF SERVICE ({settings.out_of_service_reason})"
        if settings.out_of_service
        else "in service"
    )
    print(f"kiosk {args.name}: settings version {settings.version}, {state}")
    if args.new_code:
        ttl = timedelta(hours=args.code_ttl_hours or hub.settings.enrollment_ttl_h)
        _print_code(enrollment.issue_code(hub.db, args.name, hub.clock(), ttl))
    return OK


def cmd_import_accounts(args: argparse.Namespace, hub: HubContext) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"kiosk-hub: can not read {args.file}: {exc}", file=sys.stderr)
        return FAILED
    now = hub.clock()
    try:
        report = accounts.import_accounts(
            hub.db, text, now, now.astimezone(hub.zone).date(), partial=args.partial
        )
    except accounts.AccountImportError as exc:
        print(f"kiosk-hub: {args.file}: {exc}", file=sys.stderr)
        return FAILED
    print(
        f"imported {args.file}: catalog version {report.version}; {report.added} added, "
        f"{report.changed} changed, {report.unchanged} unchanged, {report.removed} removed"
    )
    return OK


def cmd_seed_demo(args: argparse.Namespace, hub: HubContext) -> int:
    now = hub.clock()
    report, issued = demo.seed(
        hub.db, now, now.astimezone(hub.zone).date(), hub.settings.enrollment_ttl
    )
    print(f"demo accounts: catalog version {report.version} ({len(demo.DEMO_ACCOUNTS)} accounts)")
    if issued is None:
        print(
            f"kiosk {demo.DEMO_KIOSK} already exists "
            f"(`kiosk-hub set-kiosk {demo.DEMO_KIOSK} --new-code` for a new code)"
        )
    else:
        print(f"kiosk {issued.kiosk_id} created ({demo.DEMO_LOCATION})")
        _print_code(issued)
    return OK


def cmd_post(args: argparse.Namespace, hub: HubContext) -> int:
    report = hub.poster.run(include_waiting=True)
    for payment_id, error in report.failed.items():
        print(f"failed {payment_id}: {error}")
    print(
        f"posting via {hub.settings.posting.adapter}: {len(report.posted)} posted, "
        f"{len(report.failed)} failed, {len(report.skipped)} busy elsewhere"
    )
    return FAILED if report.failed else OK


def cmd_kiosks(args: argparse.Namespace, hub: HubContext) -> int:
    for kiosk in queries.kiosks(hub.db):
        contact = _when(kiosk.last_contact_at) if kiosk.last_contact_at else "never"
        flags = []
        if not kiosk.enrolled:
            flags.append("not enrolled")
        if kiosk.out_of_service:
            flags.append(f"held out of service: {kiosk.out_of_service_reason}")
        if kiosk.reported_out_of_service:
            flags.append(f"reports out of service: {kiosk.reported_reason}")
        faults = [
            f"{d.device}: {_said(d.open_fault)}" for d in kiosk.devices if d.open_fault is not None
        ]
        if faults:
            flags.append("devices: " + ", ".join(faults))
        if kiosk.open_alerts:
            flags.append(f"{kiosk.open_alerts} open alert(s)")
        if kiosk.entries_waiting:
            flags.append(f"{kiosk.entries_waiting} entries waiting to send at its last push")
        print(
            f"{kiosk.kiosk_id:<24} seq {kiosk.acked_seq:<8} last contact {contact:<22}"
            f" {kiosk.location}" + (f"  [{'; '.join(flags)}]" if flags else "")
        )
    return OK


def _said(reason: str | None) -> str:
    """A device's reason as a person reads it: ``paper_out`` is "paper out"."""
    return (reason or "").replace("_", " ")


def cmd_log_level(args: argparse.Namespace, hub: HubContext) -> int:
    """Show, or set for every hub process at once, how much the hub logs."""
    if args.level is None:
        with hub.db.read() as conn:
            level = options.log_level(conn)
        print(level or "not set: each process logs at its serve --log-level")
        return OK
    options.set_log_level(hub.db, args.level, f"cli:{getpass.getuser()}", hub.clock())
    seconds = f"{options.LOG_LEVEL_POLL_S:g}"
    print(f"log level {args.level}: every running hub process takes it within {seconds} s")
    return OK


def cmd_alerts(args: argparse.Namespace, hub: HubContext) -> int:
    for alert in queries.alerts(hub.db, args.kiosk):
        if alert.device is not None:
            print(
                f"#{alert.id} {alert.kiosk_id} {alert.kind} {alert.device}: "
                f"{_said(alert.reason)} since {_when(alert.first_seen_at)} (x{alert.count})"
            )
            continue
        print(
            f"#{alert.id} {alert.kiosk_id} {alert.kind} seq {alert.seq} "
            f"(x{alert.count}, last {_when(alert.last_seen_at)}): {alert.reason}"
        )
    return OK


# -------------------------------------------------------------------------------- parser


class _TokenOnCommandLine(argparse.Action):
    """``--admin-token`` is refused by name: without it, argparse would take it as short
    for ``--admin-token-file`` and read the token as a file name."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            "--admin-token is not taken: a token on the command line is shown to every user "
            "of the machine (ps). Put it in KIOSK_HUB_ADMIN_TOKEN, or in a file only its "
            "owner may read and pass --admin-token-file PATH"
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-hub", description="The utility kiosks' hub: serve it and administer it."
    )
    parser.add_argument("--version", action="version", version=f"kiosk-hub {__version__}")
    parser.add_argument("--db", help="SQLite file path or postgresql:// URL (KIOSK_HUB_DB)")
    parser.add_argument("--time-zone", help="IANA zone for effective dates (America/Chicago)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--time-zone", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    posting = argparse.ArgumentParser(add_help=False)
    posting.add_argument(
        "--posting", choices=("ledger", "csv", "file", "http"), help="posting adapter"
    )
    posting.add_argument("--csv-dir", type=Path, help="directory of the CSV payment files")
    posting.add_argument("--file-dir", type=Path, help="directory of the import files (file)")
    posting.add_argument(
        "--layout", help="import file layout: csv, lockbox, or a .toml/.json file (lockbox)"
    )
    posting.add_argument("--http-url", help="CIS endpoint the http adapter posts to")
    posting.add_argument(
        "--http-lookup-url", help="CIS look-up asked after a time-out: a URL with {payment_id}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common, posting], help="run the hub's HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument(
        "--fd",
        type=int,
        help="serve on this listening socket, inherited from the parent (not --host/--port)",
    )
    serve.add_argument(
        "--admin-token-file",
        type=Path,
        metavar="PATH",
        help="file holding the token for the staff endpoints, readable by its owner only "
        "(or KIOSK_HUB_ADMIN_TOKEN; never the token itself on the command line)",
    )
    serve.add_argument(
        "--admin-token", nargs="?", action=_TokenOnCommandLine, help=argparse.SUPPRESS
    )
    serve.add_argument(
        "--post-interval", type=float, help="seconds between posting retries (0: off; 30)"
    )
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning"))
    serve.add_argument(
        "--log-format",
        default=os.environ.get("KIOSK_HUB_LOG_FORMAT", "auto"),
        choices=("auto", "json", "text"),
        help="json: a JSON object a line; auto: json under systemd's journal (auto; "
        "or KIOSK_HUB_LOG_FORMAT)",
    )
    serve.set_defaults(handler=cmd_serve, needs_context=False)

    sub.add_parser("migrate", parents=[common], help="create or upgrade the schema").set_defaults(
        handler=cmd_migrate
    )

    create = sub.add_parser(
        "create-kiosk", parents=[common], help="add a kiosk and print its enrollment code"
    )
    create.add_argument("name", help="the kiosk's id: lowercase letters, digits, dashes")
    create.add_argument("--location", required=True, help="where it stands")
    create.add_argument("--code-ttl-hours", type=float, help="code lifetime (24)")
    create.set_defaults(handler=cmd_create_kiosk)

    set_kiosk = sub.add_parser("set-kiosk", parents=[common], help="change a kiosk's settings")
    set_kiosk.add_argument("name")
    set_kiosk.add_argument("--location")
    service = set_kiosk.add_mutually_exclusive_group()
    service.add_argument("--out-of-service", metavar="REASON", help="hold it out of service")
    service.add_argument("--in-service", action="store_true", help="release it")
    for name in ("min-payment", "max-payment", "max-overpayment", "max-cash"):
        set_kiosk.add_argument(f"--{name}-cents", type=int, metavar="CENTS")
    for name in ("flat", "minimum", "maximum"):
        set_kiosk.add_argument(f"--card-fee-{name}-cents", type=int, metavar="CENTS")
    set_kiosk.add_argument("--card-fee-percent-bp", type=int, metavar="BP", help="250 = 2.50%%")
    set_kiosk.add_argument(
        "--message",
        action="append",
        type=_message,
        metavar="LANG:KEY=TEXT",
        help="a message (keys: banner, out_of_service); empty TEXT removes it",
    )
    set_kiosk.add_argument("--new-code", action="store_true", help="issue a new enrollment code")
    set_kiosk.add_argument("--code-ttl-hours", type=float)
    set_kiosk.set_defaults(handler=cmd_set_kiosk)

    imp = sub.add_parser("import-accounts", parents=[common], help="import the account catalog")
    imp.add_argument("file")
    imp.add_argument(
        "--partial", action="store_true", help="add and update only; keep accounts not in FILE"
    )
    imp.set_defaults(handler=cmd_import_accounts)

    sub.add_parser(
        "seed-demo", parents=[common], help="demo accounts and the demo kiosk"
    ).set_defaults(handler=cmd_seed_demo)
    sub.add_parser(
        "post", parents=[common, posting], help="post pending and failed payments now"
    ).set_defaults(handler=cmd_post)
    sub.add_parser("kiosks", parents=[common], help="list kiosks and their health").set_defaults(
        handler=cmd_kiosks
    )
    alerts = sub.add_parser("alerts", parents=[common], help="list open alerts")
    alerts.add_argument("--kiosk")
    alerts.set_defaults(handler=cmd_alerts)
    level = sub.add_parser(
        "log-level", parents=[common], help="show or set every hub process's log level"
    )
    level.add_argument("level", nargs="?", choices=options.LOG_LEVELS)
    level.set_defaults(handler=cmd_log_level)
    technicians_cli.register(sub, common)
    suspense_cli.register(sub, common, posting)
    posting_cli.register(sub, common)
    staff_cli.register(sub, common)
    exports_cli.register(sub, common)
    return parser


def _settings(args: argparse.Namespace) -> HubSettings:
    token_file: Path | None = getattr(args, "admin_token_file", None)
    return HubSettings.from_env(
        database=args.db,
        time_zone=args.time_zone,
        admin_token=(None if token_file is None else read_secret_file(token_file, "admin token")),
        adapter=getattr(args, "posting", None),
        csv_dir=getattr(args, "csv_dir", None),
        file_dir=getattr(args, "file_dir", None),
        layout=getattr(args, "layout", None),
        http_url=getattr(args, "http_url", None),
        http_lookup_url=getattr(args, "http_lookup_url", None),
        interval_s=getattr(args, "post_interval", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            print(f"kiosk-hub: {where}: {error['msg']}", file=sys.stderr)
        return UNUSABLE
    except SecretFileError as exc:
        print(f"kiosk-hub: {exc}", file=sys.stderr)
        return UNUSABLE
    try:
        if not getattr(args, "needs_context", True):
            serve: Callable[[argparse.Namespace, HubSettings], int] = args.handler
            return serve(args, settings)
        hub = HubContext.open(settings, utc_now)
        try:
            handler: Callable[[argparse.Namespace, HubContext], int] = args.handler
            return handler(args, hub)
        finally:
            hub.close()
    except HubError as exc:
        print(f"kiosk-hub: {exc.message}", file=sys.stderr)
        return FAILED
    except (DatabaseError, SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        print(f"kiosk-hub: the database can not be used: {reason}", file=sys.stderr)
        return UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
