"""`mockgateway …`: serve the gateway, manage the test PKI, check fixtures, drive the card reader."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mockgateway.config import DEFAULT_FIXTURES, Config


def _serve(args: argparse.Namespace) -> int:
    from mockgateway.engine import ClockStateError
    from mockgateway.fixtures import FixtureError
    from mockgateway.server import start
    from mockgateway.transports.folder import FolderError

    config = Config(
        root=Path(args.root),
        db=Path(args.db) if args.db else None,
        fixtures=[Path(p) for p in args.fixtures] if args.fixtures else [DEFAULT_FIXTURES],
        host=args.host,
        http_port=args.http_port,
        tls_port=args.tls_port or None,
        webapi_plain=args.webapi_plain,
        pki_dir=Path(args.pki_dir) if args.pki_dir else None,
        output_encoding=args.encoding,
        strict_insurer_padding=not args.lenient_padding,
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
    )

    def ready(running: object) -> None:
        del running
        tls = f", Web API https://{config.host}:{config.tls_port} (client certificate)" if config.tls_port else ""
        print(
            f"mockgateway ready: folders {config.root.resolve()}/{{req,res,face,trash}}, "
            f"HTTP http://{config.host}:{config.http_port}{tls}, db {config.db_path}",
            flush=True,
        )

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
    else:
        print(pki.cli_issue(Path(args.dir), args.code, args.status))
    return 0


def _fixtures_check(args: argparse.Namespace) -> int:
    import datetime as dt

    from mockgateway.domain.clock import JST
    from mockgateway.fixtures import FixtureError, load_paths
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


def _admin_call(args: argparse.Namespace, method: str, path: str, body: object = None) -> tuple[int, object]:
    """One admin API call to a running gateway (loopback + token, docs/admin.md)."""
    import json
    import os
    import urllib.error
    import urllib.request

    token = args.token or os.environ.get("MOCKGATEWAY_ADMIN_TOKEN")
    if not token:
        token_file = Path(args.root) / "admin-token"
        try:
            token = token_file.read_text(encoding="ascii").strip()
        except OSError:
            raise SystemExit(
                f"no admin token: give --token, set MOCKGATEWAY_ADMIN_TOKEN, or --root of the gateway ({token_file})"
            ) from None
    data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
    request = urllib.request.Request(
        args.url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"X-Admin-Token": token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"error": raw.decode("utf-8", errors="replace")}
    except OSError as exc:
        raise SystemExit(f"cannot reach the gateway at {args.url}: {exc}") from None


def _print_reader_result(result: dict[str, object], as_json: bool) -> int:
    import json

    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        error = result.get("error")
        if isinstance(error, dict):
            print(f"reader error {error.get('id')}: {error.get('message')} ({error.get('detail')})")
        else:
            cert = result.get("certificate") if isinstance(result.get("certificate"), dict) else {}
            assert isinstance(cert, dict)
            print(
                f"confirmed by {result.get('method')}: certificate {cert.get('status')} "
                f"(expires {cert.get('expires')}), consents {result.get('consents_given')}"
            )
        if result.get("face_file"):
            print(f"face/{result['face_file']}")
        print(f"{result.get('elapsed_ms')} ms, journal #{result.get('journal_id')}")
    return 0 if result.get("outcome") == "confirmed" else 3


def _reader(args: argparse.Namespace) -> int:
    if args.reader_command == "place":
        if not args.person_id and not args.generic_card:
            raise SystemExit("give a person id, or --generic-card for a card that is not a My Number card")
        body: dict[str, object] = {
            "person_id": args.person_id,
            "mode": args.mode,
            "pins": args.pin or [],
            "face": args.face,
            "consents": [c for chunk in args.consent or [] for c in chunk.split(",") if c.strip()],
            "generic_card": args.generic_card,
        }
        for key, value in (
            ("fallback", args.fallback),
            ("medical_institution", args.mic),
            ("remove_at", args.remove_at),
        ):
            if value:
                body[key] = value
        status, doc = _admin_call(args, "POST", "/admin/reader/place", body)
    elif args.reader_command == "last":
        status, doc = _admin_call(args, "GET", "/admin/reader/last")
    else:
        path = "/admin/cards" + (f"?id={args.person_id}" if args.person_id else "")
        status, doc = _admin_call(args, "GET", path)
    if status != 200 or not isinstance(doc, dict):
        message = doc.get("error") if isinstance(doc, dict) else doc
        print(f"NG HTTP {status}: {message}", file=sys.stderr)
        return 1
    if args.reader_command == "cards":
        import json

        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    return _print_reader_result(doc, args.json)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mockgateway", description=__doc__)
    top.add_argument("-v", "--verbose", action="store_true")
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (folders, HTTP, Web API over TLS, admin API)")
    serve.add_argument("--root", default="var/oqs", help="folder root holding req/res/face/trash")
    serve.add_argument("--db", help="SQLite file (default: ROOT/mockgateway.sqlite3)")
    serve.add_argument("--fixtures", nargs="*", help="fixture files or folders (default: the shipped personas)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--http-port", type=int, default=8080)
    serve.add_argument("--tls-port", type=int, default=8443, help="Web API over TLS; 0 disables it")
    serve.add_argument("--webapi-plain", action="store_true", help="also serve the Web API on the HTTP port")
    serve.add_argument("--pki-dir", help="test PKI directory (default: ROOT/pki, created on first start)")
    serve.add_argument("--encoding", default="Shift_JIS", choices=["Shift_JIS", "UTF-8"])
    serve.add_argument("--lenient-padding", action="store_true", help="accept 6-digit insurer numbers unpadded")
    serve.add_argument("--codes", help="YAML overriding ErrorCode/ProcessingResultCode values (docs/codes.md)")
    serve.add_argument("--admin-token", help="admin API token (default: generated into ROOT/admin-token)")
    serve.add_argument("--journal-entries", type=int, default=10_000)
    serve.add_argument("--no-folder", action="store_true", help="do not watch the folders")
    serve.add_argument("--poll-interval", type=float, default=0.2)
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
    serve.set_defaults(func=_serve)

    pki = sub.add_parser("pki", help="test PKI for 医療機関 client certificates")
    pki_sub = pki.add_subparsers(dest="pki_command", required=True)
    init = pki_sub.add_parser("init", help="create the CA, server certificate and CRL")
    init.add_argument("--dir", default="var/oqs/pki")
    issue = pki_sub.add_parser("issue", help="issue a 医療機関 client certificate")
    issue.add_argument("--dir", default="var/oqs/pki")
    issue.add_argument("--code", required=True, help="10-digit 医療機関コード")
    issue.add_argument("--status", default="valid", choices=["valid", "expired", "revoked", "not_yet_valid"])
    pki.set_defaults(func=_pki)

    reader = sub.add_parser("reader", help="the face-auth card reader of a running gateway (docs/card.md)")
    reader_sub = reader.add_subparsers(dest="reader_command", required=True)
    place = reader_sub.add_parser("place", help="a patient places a card on the reader")
    place.add_argument("person_id", nargs="?", help="fixture person whose My Number card is placed")
    place.add_argument(
        "--mode", default="face", choices=["face", "pin", "visual"], help="本人確認: 顔認証 / 暗証番号 / 目視"
    )
    place.add_argument("--fallback", choices=["face", "pin", "visual"], help="when the mode fails (face mismatch, …)")
    place.add_argument("--pin", action="append", help="a PIN the patient types (repeat for several attempts)")
    place.add_argument("--face", default="match", choices=["match", "mismatch"], help="the camera's verdict")
    place.add_argument("--consent", action="append", help="agreed consent screens: drug,checkup,diagnosis,operation")
    place.add_argument("--mic", help="医療機関コード (default: the reader's setting)")
    place.add_argument("--remove-at", choices=["certificate", "face_image", "pin", "signature"])
    place.add_argument("--generic-card", action="store_true", help="place a card that is not a My Number card")
    place.add_argument("--json", action="store_true", help="print the whole result as JSON")
    last = reader_sub.add_parser("last", help="the last placement's result (the reader's error, the face file)")
    last.add_argument("--json", action="store_true")
    cards = reader_sub.add_parser("cards", help="issued cards, or one person's card (issued on demand)")
    cards.add_argument("person_id", nargs="?")
    for command in (place, last, cards):
        command.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway's HTTP base URL")
        command.add_argument("--root", default="var/oqs", help="gateway root holding admin-token")
        command.add_argument("--token", help="admin token (default: $MOCKGATEWAY_ADMIN_TOKEN or ROOT/admin-token)")
        command.add_argument("--timeout", type=float, default=30.0)
    reader.set_defaults(func=_reader)

    fixtures = sub.add_parser("fixtures", help="fixture files")
    fx_sub = fixtures.add_subparsers(dest="fixtures_command", required=True)
    check = fx_sub.add_parser("check", help="validate fixture files and report")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=_fixtures_check)

    from mockgateway.population.cli import add_parser as add_population_parser

    add_population_parser(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
