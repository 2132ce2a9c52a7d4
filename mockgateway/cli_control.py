"""`mockgateway reader …` and `mockgateway card …`: commands that drive a running gateway through its
admin API (loopback + token, docs/admin.md), with exit codes a script can branch on (docs/card.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# Exit codes of the commands that drive a running gateway (`reader …`, `card …`; docs/card.md).
EXIT_REFUSED = 1  # the reader refused the card (reader error, PIN failure, no consent …)
EXIT_USAGE = 2  # bad arguments: argparse's own code, and a request the gateway refused as malformed (4xx)
EXIT_UNREACHABLE = 3  # the gateway cannot be reached, or failed (5xx)
EXIT_NO_TOKEN = 4  # no admin token found, or the gateway refused the token (401/403)
EXIT_UNAVAILABLE = 5  # the gateway cannot do it on this machine (503: pcscd or vpcd not installed, …)

CONTROL_EPILOG = (
    "exit status: 0 done; 1 the reader refused the card; 2 bad arguments (or the gateway refused the request); "
    "3 the gateway cannot be reached; 4 no admin token, or the token was refused; "
    "5 the gateway cannot do it on this machine (e.g. pcscd or vpcd not installed)"
)


class CliError(Exception):
    """A command that cannot complete: the message goes to stderr, the code is the exit status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _admin_call(args: argparse.Namespace, method: str, path: str, body: object = None) -> tuple[int, object]:
    """One admin API call to a running gateway (loopback + token, docs/admin.md).

    Raises CliError for what is not an answer about the request itself: no token, a refused
    token, an unreachable or failing gateway, a request refused as malformed."""
    status, doc = _admin_exchange(args, method, path, body)
    message = doc.get("error") if isinstance(doc, dict) else doc
    if status in (401, 403):
        raise CliError(EXIT_NO_TOKEN, f"the gateway refused the admin token (HTTP {status}): {message}")
    if status == 503:
        raise CliError(EXIT_UNAVAILABLE, f"{message}")
    if status >= 500:
        raise CliError(EXIT_UNREACHABLE, f"the gateway failed (HTTP {status}): {message}")
    if status >= 400:
        raise CliError(EXIT_USAGE, f"NG HTTP {status}: {message}")
    return status, doc


def _admin_exchange(args: argparse.Namespace, method: str, path: str, body: object = None) -> tuple[int, object]:
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
            raise CliError(
                EXIT_NO_TOKEN,
                f"no admin token: give --token, set MOCKGATEWAY_ADMIN_TOKEN, or --root of the gateway ({token_file})",
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
        raise CliError(EXIT_UNREACHABLE, f"cannot reach the gateway at {args.url}: {exc}") from None


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
    return 0 if result.get("outcome") == "confirmed" else EXIT_REFUSED


def _reader(args: argparse.Namespace) -> int:
    if args.reader_command == "place":
        if not args.person_id and not args.generic_card:
            raise CliError(EXIT_USAGE, "give a person id, or --generic-card for a card that is not a My Number card")
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
            ("prescription", args.prescription),
            ("channel", args.channel),
            ("passcode", args.passcode),
        ):
            if value:
                body[key] = value
        status, doc = _admin_call(args, "POST", "/admin/reader/place", body)
    elif args.reader_command == "last":
        status, doc = _admin_call(args, "GET", "/admin/reader/last")
    else:
        path = "/admin/cards" + (f"?id={args.person_id}" if args.person_id else "")
        status, doc = _admin_call(args, "GET", path)
    if not isinstance(doc, dict):
        raise CliError(EXIT_UNREACHABLE, f"the gateway answered HTTP {status} with {doc!r}, not a JSON object")
    if args.reader_command == "cards":
        import json

        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    return _print_reader_result(doc, args.json)


def _card(args: argparse.Namespace) -> int:
    """`card reader start|stop|status`, `card insert`, `card remove`: the PC/SC reader service."""
    if args.card_command == "reader":
        action = args.reader_action
        status, doc = (
            _admin_call(args, "GET", "/admin/card/reader")
            if action == "status"
            else _admin_call(args, "POST", f"/admin/card/reader/{action}")
        )
    elif args.card_command == "insert":
        body = {"person_id": args.person_id, "slot": args.slot}
        status, doc = _admin_call(args, "POST", "/admin/card/insert", body)
    else:
        status, doc = _admin_call(args, "POST", "/admin/card/remove", {"slot": args.slot})
    if not isinstance(doc, dict):
        raise CliError(EXIT_UNREACHABLE, f"the gateway answered HTTP {status} with {doc!r}, not a JSON object")
    if args.json:
        import json

        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    readers, slots = doc.get("readers"), doc.get("slots")
    if not isinstance(readers, dict) or not isinstance(slots, dict):
        raise CliError(EXIT_UNREACHABLE, f"the gateway's answer lacks readers and slots: {doc!r}")
    if doc.get("running"):
        print(f"card reader running: pcscd pid {doc.get('pid')} ({doc.get('pid_file')}), socket {doc.get('socket')}")
    else:
        print("card reader stopped")
    for name, reader in readers.items():
        held = slots.get(name)
        print(f"  {name:5} {reader}: {f'card of {held}' if held else 'empty'}")
    return 0


def _control_options(command: argparse.ArgumentParser) -> None:
    """How a command reaches a running gateway's admin API."""
    command.add_argument(
        "--url", default="http://127.0.0.1:8080", help="the gateway's HTTP base URL (default: %(default)s)"
    )
    command.add_argument("--root", default="var/oqs", help="gateway root holding admin-token (default: %(default)s)")
    command.add_argument("--token", help="admin token (default: $MOCKGATEWAY_ADMIN_TOKEN or ROOT/admin-token)")
    command.add_argument("--timeout", type=float, default=30.0, help="seconds (default: %(default)s)")


def add_parsers(sub: Any) -> None:
    """The `reader` and `card` commands, on the top parser's subparsers."""
    reader = sub.add_parser(
        "reader", help="the face-auth card reader of a running gateway (docs/card.md)", epilog=CONTROL_EPILOG
    )
    reader_sub = reader.add_subparsers(dest="reader_command", required=True)
    place = reader_sub.add_parser("place", help="a patient places a card on the reader", epilog=CONTROL_EPILOG)
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
    place.add_argument(
        "--prescription",
        choices=["electronic", "paper"],
        help="処方箋発行形態 the patient picks (default: the reader's setting; face file PrescriptionIssueSelect)",
    )
    place.add_argument(
        "--channel",
        choices=["counter", "home-visit", "online", "bedside", "fever", "limited"],
        help="away from the counter: 居宅同意取得型 (docs/home-visit.md) or 資格確認限定型 (docs/limited.md)",
    )
    place.add_argument("--passcode", help="目視確認用パスコード for --mode visual away from the counter")
    place.add_argument("--json", action="store_true", help="print the whole result as JSON")
    last = reader_sub.add_parser(
        "last", help="the last placement's result (the reader's error, the face file)", epilog=CONTROL_EPILOG
    )
    last.add_argument("--json", action="store_true")
    cards = reader_sub.add_parser(
        "cards", help="issued cards, or one person's card (issued on demand)", epilog=CONTROL_EPILOG
    )
    cards.add_argument("person_id", nargs="?")
    for command in (place, last, cards):
        _control_options(command)
    reader.set_defaults(func=_reader)

    card = sub.add_parser(
        "card",
        help="a person's My Number card in a real PC/SC reader (pcscd + vpcd) of a running gateway (docs/card.md)",
        epilog=CONTROL_EPILOG,
    )
    card_sub = card.add_subparsers(dest="card_command", required=True)
    card_reader = card_sub.add_parser(
        "reader", help="start or stop the PC/SC reader service (pcscd + the vpcd bridge)", epilog=CONTROL_EPILOG
    )
    card_reader.add_argument("reader_action", choices=["start", "stop", "status"])
    insert = card_sub.add_parser("insert", help="insert a fixture person's card into a reader", epilog=CONTROL_EPILOG)
    insert.add_argument("person_id", help="fixture person whose My Number card is inserted")
    remove = card_sub.add_parser("remove", help="pull the card out of a reader", epilog=CONTROL_EPILOG)
    for command in (insert, remove):
        command.add_argument(
            "--slot",
            default="plain",
            choices=["face", "plain"],
            help="reader '… 00 00' (face: the face-auth reader's) or '… 00 01' (plain) (default: %(default)s)",
        )
    for command in (card_reader, insert, remove):
        command.add_argument("--json", action="store_true", help="print the reader's state as JSON")
        _control_options(command)
    card.set_defaults(func=_card)
