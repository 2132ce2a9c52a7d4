"""`mockgateway …`: serve the gateway, manage the test PKI, check fixtures, drive the card reader."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mockgateway.cli_control import EXIT_USAGE, CliError
from mockgateway.config import DEFAULT_FIXTURES, Config


def serve_config(args: argparse.Namespace) -> Config:
    """The Config that `serve` runs with (refusing bad --bulk-… values as a usage error)."""
    from mockgateway.services.bulk.settings import BulkSettings, SettingsError

    config = Config(
        root=Path(args.root),
        db=Path(args.db) if args.db else None,
        fixtures=[Path(p) for p in args.fixtures] if args.fixtures else [DEFAULT_FIXTURES],
        host=args.host,
        http_port=args.http_port,
        tls_port=args.tls_port or None,
        search_port=args.search_port or None,
        webapi_plain=args.webapi_plain,
        pki_dir=Path(args.pki_dir) if args.pki_dir else None,
        output_encoding=args.encoding,
        strict_insurer_padding=not args.lenient_padding,
        kakunin_classification=args.kakunin_classification,
        webapi_zero_padded_insurer=not args.webapi_strict_insurer,
        webapi_require_institution=args.webapi_require_institution,
        link_system_code=args.link_system_code,
        diseases_layout_xml=args.diseases_layout_xml,
        diseases_layout_json=args.diseases_layout_json,
        indent_files=not args.compact,
        answer_memo=args.answer_memo,
        gc_full_every=args.gc_full_every,
        codes_file=Path(args.codes) if args.codes else None,
        admin_token=args.admin_token,
        journal_entries=args.journal_entries,
        folder=not args.no_folder,
        poll_interval=args.poll_interval,
        settle_seconds=args.settle_seconds,
        latency=args.latency,
        workers=args.workers,
        reset_clock=args.reset_clock,
        trash_retention_days=args.trash_days,
        bulk={
            name: value
            for name, value in (
                ("pace", args.bulk_pace),
                ("max_records", args.bulk_max_records),
                ("result_format", args.bulk_result_format),
                ("retention_seconds", args.bulk_retention),
            )
            if value is not None
        },
        reports_dir=Path(args.reports) if args.reports else None,
        harness_config=Path(args.harness_config) if args.harness_config else None,
    )

    try:
        BulkSettings().with_changes(config.bulk)  # refuse a bad --bulk-… before anything starts
    except SettingsError as exc:
        raise CliError(EXIT_USAGE, str(exc)) from None
    return config


def _serve(args: argparse.Namespace) -> int:
    from mockgateway.engine import ClockStateError
    from mockgateway.fixtures import FixtureError
    from mockgateway.server import start
    from mockgateway.transports.folder import FolderError

    config = serve_config(args)

    def ready(running: object) -> None:
        del running
        tls = (
            f", Web API login https://{config.host}:{config.tls_port} (client certificate)"
            f" + search https://{config.host}:{config.search_tls_port} (Authorization header)"
            if config.tls_port
            else ""
        )
        print(
            f"mockgateway ready: folders {config.root.resolve()}/{{req,res,face,trash}}, "
            f"HTTP http://{config.host}:{config.http_port}{tls}, db {config.db_path}",
            flush=True,
        )
        token = "the --admin-token value" if config.admin_token else f"the token in {config.root / 'admin-token'}"
        print(f"console: http://{config.host}:{config.http_port}/console/ (log in with {token})", flush=True)

    try:
        start(config, on_ready=ready)
    except FixtureError as exc:  # the same one line as `fixtures check`, no traceback
        print(f"NG {exc}", file=sys.stderr)
        return 1
    except (ClockStateError, FolderError, FileExistsError, NotADirectoryError) as exc:
        print(f"mockgateway: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


def _pki(args: argparse.Namespace) -> int:
    from mockgateway.certs import institution_pki as pki

    if args.pki_command == "init":
        print(pki.cli_init(Path(args.dir)))
    elif args.pki_command == "revoke":
        if not args.code and not args.cert:
            raise CliError(EXIT_USAGE, "give --code (and --status) or --cert")
        try:
            print(pki.cli_revoke(Path(args.dir), args.code or "", args.status, Path(args.cert) if args.cert else None))
        except pki.PKIError as exc:
            print(f"NG {exc}", file=sys.stderr)
            return 1
    else:
        print(pki.cli_issue(Path(args.dir), args.code, args.status))
    return 0


def _fixtures_check(args: argparse.Namespace) -> int:
    import datetime as dt

    from mockgateway.domain.clock import JST
    from mockgateway.fixture_reader import FixtureError
    from mockgateway.fixtures import load_paths
    from mockgateway.services.medical.fixture import MedicalIndex

    today = dt.datetime.now(JST).date()
    try:
        data = load_paths([Path(p) for p in args.files], today)
    except FixtureError as exc:
        print(f"NG {exc}", file=sys.stderr)
        return 1
    # 医療情報 is read when the gateway loads (a bad `medical:` only disables that person's
    # records there, with a log line): a check must say so before anyone serves the file.
    medical = MedicalIndex.build(data.persons.values(), today)
    for error in medical.errors.values():
        print(f"NG {error}", file=sys.stderr)
    if medical.errors:
        return 1
    quals = sum(len(p.qualifications) for p in data.persons.values())
    print(
        f"OK {len(data.insurers)} insurers, {len(data.persons)} people, {quals} qualifications, "
        f"{len(medical.records)} with 医療情報"
    )
    return 0


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    from mockgateway import __version__

    top = argparse.ArgumentParser(prog=prog or "mockgateway", description=__doc__)
    top.add_argument("--version", action="version", version=f"mockgateway {__version__}")
    top.add_argument("-v", "--verbose", action="store_true")
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (folders, HTTP, Web API over TLS, admin API)")
    serve.add_argument("--root", default="var/oqs", help="folder root holding req/res/face/trash")
    serve.add_argument("--db", help="SQLite file (default: ROOT/mockgateway.sqlite3)")
    serve.add_argument("--fixtures", nargs="*", help="fixture files or folders (default: the shipped personas)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--http-port", type=int, default=8080)
    serve.add_argument(
        "--tls-port", type=int, default=8443, help="Web API login host (TLS with client certificate); 0: none"
    )
    serve.add_argument(
        "--search-port", type=int, help="Web API search host (TLS, server certificate only; default: TLS port + 1)"
    )
    serve.add_argument("--webapi-plain", action="store_true", help="also serve the Web API on the HTTP port")
    serve.add_argument("--pki-dir", help="test PKI directory (default: ROOT/pki, created on first start)")
    serve.add_argument("--encoding", default="Shift_JIS", choices=["Shift_JIS", "UTF-8"])
    serve.add_argument("--lenient-padding", action="store_true", help="accept 6-digit insurer numbers unpadded")
    serve.add_argument(
        "--kakunin-classification",
        metavar="CODE",
        help="InsuredCardClassification returned for a 資格確認書 (unconfirmed; default: its own code)",
    )
    serve.add_argument(
        "--webapi-strict-insurer",
        action="store_true",
        help='Web API: refuse "00" + 6 digits as a 国保 insurer number (default: accepted, as public clients send it)',
    )
    serve.add_argument(
        "--webapi-require-institution",
        action="store_true",
        help="Web API: refuse a search without MedicalInstitutionCode (default: the idToken's 医療機関)",
    )
    serve.add_argument("--link-system-code", default="0", help="the login answer's result.linkSysCharCd")
    serve.add_argument(
        "--diseases-layout-xml", default="nested", choices=["nested", "flat"], help="特定疾病 list in XML"
    )
    serve.add_argument(
        "--diseases-layout-json", default="flat", choices=["nested", "flat"], help="特定疾病 list in the Web API's JSON"
    )
    serve.add_argument("--compact", action="store_true", help="write result and face files on one line (not indented)")
    serve.add_argument(
        "--gc-full-every", type=float, default=3600.0, metavar="SECONDS",
        help="a full cycle collection this often (one pause); in between what survives is frozen (0: never)",
    )  # fmt: skip
    serve.add_argument(
        "--answer-memo", type=int, default=16_384, metavar="N",
        help="remember up to N whole 資格確認 answers per exact request, forgotten on any state change (0: off)",
    )  # fmt: skip
    serve.add_argument("--codes", help="YAML overriding ErrorCode/ProcessingResultCode values (docs/codes.md)")
    serve.add_argument("--admin-token", help="admin API token (default: generated into ROOT/admin-token)")
    serve.add_argument("--journal-entries", type=int, default=10_000)
    serve.add_argument("--no-folder", action="store_true", help="do not watch the folders")
    serve.add_argument("--poll-interval", type=float, default=0.2)
    serve.add_argument("--reports", help="harness reports the web console lists (default: ROOT/reports)")
    serve.add_argument(
        "--harness-config", help="harness settings (TOML) for runs the console starts (default: reference client)"
    )
    serve.add_argument(
        "--settle-seconds",
        type=float,
        default=2.0,
        help="a file found by a rescan whose writers cannot be checked is taken after this long unchanged",
    )
    serve.add_argument(
        "--trash-days",
        type=float,
        default=7.0,
        help="delete trash/ files older than this many days (default 7; 0 keeps them forever)",
    )
    serve.add_argument(
        "--reset-clock",
        action="store_true",
        help="forget the saved virtual clock and start at real time (the way out of a bad saved clock)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes answering 資格確認 on the plain-HTTP port (state shared; docs/performance.md)",
    )
    serve.add_argument(
        "--latency",
        default="off",
        help="answer after a log-normal delay: off (default), realistic (per-transport presets), or MEDIAN_MS:P99_MS",
    )
    bulk = serve.add_argument_group(
        "一括照会 / 照会番号一括登録 (kept in the store, like PUT /admin/bulk/settings; docs/bulk.md)"
    )
    bulk.add_argument("--bulk-pace", metavar="PACE", help="instant, 500ms, 3s, 2m, 1h, 200/s or 3s+200/s")
    bulk.add_argument("--bulk-max-records", metavar="N", help="records per bulk file (default 10000)")
    bulk.add_argument("--bulk-result-format", choices=["xml", "zip"], help="the 02res as .xml or a .zip of it")
    bulk.add_argument("--bulk-retention", metavar="SECONDS", help="how long (virtual time) a result stays downloadable")
    serve.set_defaults(func=_serve)

    pki = sub.add_parser("pki", help="test PKI for 医療機関 client certificates")
    pki_sub = pki.add_subparsers(dest="pki_command", required=True)
    init = pki_sub.add_parser("init", help="create the CA, server certificate and CRL")
    init.add_argument("--dir", default="var/oqs/pki")
    issue = pki_sub.add_parser("issue", help="issue a 医療機関 client certificate")
    issue.add_argument("--dir", default="var/oqs/pki")
    issue.add_argument("--code", required=True, help="10-digit 医療機関コード")
    issue.add_argument("--status", default="valid", choices=["valid", "expired", "revoked", "not_yet_valid"])
    revoke = pki_sub.add_parser(
        "revoke", help="list a client certificate in the CRL (a running gateway applies it without a restart)"
    )
    revoke.add_argument("--dir", default="var/oqs/pki")
    revoke.add_argument("--code", help="10-digit 医療機関コード of the certificate <code>-<status>.pem")
    revoke.add_argument("--status", default="valid", choices=["valid", "expired", "revoked", "not_yet_valid"])
    revoke.add_argument("--cert", help="or the certificate's PEM file")
    pki.set_defaults(func=_pki)

    from mockgateway.cli_control import add_parsers as add_control_parsers

    add_control_parsers(sub)

    fixtures = sub.add_parser("fixtures", help="fixture files")
    fx_sub = fixtures.add_subparsers(dest="fixtures_command", required=True)
    check = fx_sub.add_parser("check", help="validate fixture files and report")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=_fixtures_check)

    from mockgateway.population.cli import add_parser as add_population_parser

    add_population_parser(sub)
    return top


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    args = parser(prog).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"mockgateway: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    raise SystemExit(main())
