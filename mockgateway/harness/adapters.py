"""The client under test, behind one interface: every step that acts as the レセコン goes here.

- `ReferenceAdapter`: our own client (mockgateway.client), so the catalogue is green out of the box.
- `FolderAdapter`: vendor software that only watches `req` / `res` / `face`. The harness writes
  nothing into `req`: it writes an *order* into the orders folder (`<id>.order.json`), announces
  it in words, and waits for the vendor's test driver (or a person) to make the software act and
  to write `<id>.report.json` with what the software displayed.
- `CommandAdapter`: runs a vendor command line once per order, the order as JSON on standard
  input, the report as JSON on standard output.

The JSON of orders and reports is in mockgateway.harness.orders and docs/vendor-guide.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import shlex
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mockgateway import xmlcodec
from mockgateway.client.folder import Exchange  # a raw request/result file pair, when the adapter saw it
from mockgateway.harness.catalogue import CAPABILITIES
from mockgateway.harness.orders import BULK_ACTIONS, Card, Order, Report, ReportError
from mockgateway.xmlcodec import Node, Tree

if TYPE_CHECKING:
    from mockgateway.client.requests_xml import CardQuery

log = logging.getLogger("mockgateway.harness")

ADAPTERS = ("reference", "folder", "command")
# Shorthands accepted by --mg-capabilities: "card" is everything a My Number card brings.
CAPABILITY_ALIASES: dict[str, tuple[str, ...]] = {"card": ("face", "card-reader", "certificate")}


@dataclass(slots=True)
class Environment:
    """Where the client under test points, for one scenario."""

    root: Path  # folder transport root: req/ res/ face/ trash/
    http: str | None = None  # base URL of the convenience route and admin API, when served
    progress: Callable[[], str] | None = None  # what the gateway saw since the order (for timeouts)
    webapi: str | None = None  # base URL of the Web API's login host (TLS, client certificate), when served
    webapi_search: str | None = None  # … and of its search host (TLS, server certificate only)
    pki: Path | None = None  # the test PKI behind it: ca.pem, and <code>-<status>.pem / -key.pem per 医療機関


@dataclass(frozen=True, slots=True)
class Performed:
    report: Report
    exchange: Exchange | None = None


class ClientAdapter(Protocol):
    name: str
    capabilities: frozenset[str]

    def begin(self, env: Environment) -> None:
        """A scenario starts: remember where the client points."""

    def perform(self, order: Order) -> Performed:
        """Make the client act on the order and return what it reports (never raises for the client's
        own failures: those are reports with status no-answer / error)."""

    def end(self) -> None:
        """The scenario is over."""


class AdapterError(RuntimeError):
    """The harness could not talk to the client under test at all (a configuration problem)."""


# -- reading a result tree as a client would -----------------------------------------------------


def _items(node: Node) -> list[Tree]:
    items = node if isinstance(node, list) else [node] if node is not None else []
    return [i for i in items if isinstance(i, dict)]


def _flat(tree: Tree) -> dict[str, str]:
    """Element → text; a group (e.g. LimitApplicationCertificateRelatedInfo) → its children as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in tree.items() if v is not None}


def report_from_tree(order_id: str, tree: Tree, *, request_file: str | None, result_file: str | None) -> Report:
    """What a well-behaved client shows for a result tree: segment, error, validity, each result."""
    header = tree.get("MessageHeader")
    body = tree.get("MessageBody")
    header = header if isinstance(header, dict) else {}
    body = body if isinstance(body, dict) else {}
    listing = body.get("ResultList")
    results = _items(listing.get("ResultOfQualificationConfirmation")) if isinstance(listing, dict) else []
    segment = header.get("SegmentOfResult")
    validity = body.get("QualificationValidity")
    error = header.get("ErrorCode")
    error_message = header.get("ErrorMessage")
    message = error_message or body.get("ProcessingResultMessage") or ""
    return Report(
        order_id=order_id,
        status="answered",
        segment=segment if isinstance(segment, str) else None,
        error_code=error if isinstance(error, str) else None,
        error_message=error_message if isinstance(error_message, str) else None,
        validity=validity if isinstance(validity, str) else None,
        results=tuple(_flat(r) for r in results),
        message=message if isinstance(message, str) else "",
        request_file=request_file,
        result_file=result_file,
    )


# -- (1) the reference client --------------------------------------------------------------------


class ReferenceAdapter:
    """Our own folder client: what a well-behaved レセコン does."""

    name = "reference"
    bulk_poll_interval = 1.0  # seconds between 一括照会 downloads while the terminal answers 処理中

    def __init__(self) -> None:
        self.capabilities = frozenset(CAPABILITIES)
        self._root: Path | None = None

    def begin(self, env: Environment) -> None:
        self._root = env.root

    def end(self) -> None:
        self._root = None

    def perform(self, order: Order) -> Performed:
        from mockgateway.client.folder import ClientTimeout, FolderClient
        from mockgateway.client.requests_xml import eligibility_request
        from mockgateway.domain.clock import parse_date

        if self._root is None:
            raise AdapterError("the reference adapter has no scenario: begin() was not called")
        client = FolderClient(self._root, timeout=order.timeout_seconds)
        if order.action == "eligibility":
            body = eligibility_request(
                card_query(order),
                medical_institution=order.medical_institution,
                on=parse_date(order.confirmation_date),
            )
        elif order.action == "raw" and order.raw is not None:
            body = order.raw
        elif order.action == "reference-number":
            body = registration_request(order)
        elif order.action in BULK_ACTIONS:
            return self._bulk(client, order)
        elif order.action == "bulk-download":
            return self._bulk_download(client, order)
        elif order.action == "face":
            return self._face(order)
        elif order.action == "webapi-eligibility":
            return self._webapi(order)
        else:
            return Performed(Report(order.order_id, "unsupported", message=f"{order.action} is not implemented"))
        name = client.send(order.api_id, body)
        try:
            path = client.wait(name)
        except ClientTimeout as exc:
            return Performed(Report(order.order_id, "no-answer", message=str(exc), request_file=name))
        raw = path.read_bytes()
        try:
            parsed = xmlcodec.parse(raw)
        except xmlcodec.XmlError as exc:
            report = Report(order.order_id, "error", message=f"unreadable result {path.name}: {exc}")
            return Performed(report)
        exchange = Exchange(name, path.name, raw, parsed.tree, parsed.encoding)
        report = report_from_tree(order.order_id, parsed.tree, request_file=name, result_file=path.name)
        if order.action == "reference-number":  # the registration result: one object, as for bulk units
            result = parsed.tree.get("MessageBody")
            report = dataclasses.replace(report, results=(_flat(result),) if isinstance(result, dict) else ())
        return Performed(report, exchange)

    def _webapi(self, order: Order) -> Performed:
        """資格確認 over the Web API as the real flow goes: log in on the login host over TLS with the
        医療機関's client certificate (the order's `gateway.webapi`), then search on the search host
        with only the idToken in `Authorization` (no client certificate there); the JSON answer is
        shown as a result file would be. A refused handshake is the client's own failure: status error."""
        import requests

        from mockgateway import jsoncodec
        from mockgateway.transports.http import AUTH_PATH, JSON, SEARCH_PATH

        access = order.gateway.get("webapi")
        if not isinstance(access, dict):
            message = "the order names no Web API (gateway.webapi): the harness serves none for this scenario"
            return Performed(Report(order.order_id, "error", message=message))
        query = card_query(order)
        header: Tree = {"QualificationConfirmationDate": order.confirmation_date}
        if order.send_medical_institution_code:
            header["MedicalInstitutionCode"] = order.medical_institution
        search = {**query.search_info(), "InsurerNumber": order.padded_insurer_number}
        body = jsoncodec.render(
            "XmlMsg", {"MessageHeader": header, "MessageBody": {"QualificationConfirmSearchInfo": search}}
        )
        login_url = str(access.get("login_url", access["url"])).rstrip("/")
        search_url = str(access.get("search_url", login_url)).rstrip("/")
        # verify= on each request: requests lets REQUESTS_CA_BUNDLE override a Session's verify.
        tls: dict[str, Any] = {"verify": str(access["ca"]), "timeout": order.timeout_seconds}
        certificate = (str(access["client_cert"]), str(access["client_key"]))
        with requests.Session() as session:
            session.headers["Content-Type"] = JSON
            try:
                login = session.post(
                    login_url + AUTH_PATH,
                    data=json.dumps({"MedicalInstitutionCode": order.medical_institution}),
                    cert=certificate,
                    **tls,
                )
            except requests.exceptions.ConnectionError as exc:  # SSLError is one: the handshake refused us
                message = f"Web API にログインできませんでした (TLS/接続): {exc}"
                return Performed(Report(order.order_id, "error", message=message, extra={"refused": "login"}))
            except requests.exceptions.Timeout as exc:
                return Performed(Report(order.order_id, "no-answer", message=f"ログインの応答がありません: {exc}"))
            token = _id_token(login)
            if token is None:  # refused in the interface's own terms: show it as any error result
                return Performed(_json_report(order.order_id, login.content, AUTH_PATH))
            try:
                found = session.post(search_url + SEARCH_PATH, data=body, headers={"Authorization": token}, **tls)
            except requests.exceptions.Timeout as exc:
                return Performed(Report(order.order_id, "no-answer", message=f"照会の応答がありません: {exc}"))
            except requests.exceptions.ConnectionError as exc:
                return Performed(Report(order.order_id, "error", message=f"照会できませんでした: {exc}"))
        return Performed(_json_report(order.order_id, found.content, SEARCH_PATH))

    def _face(self, order: Order) -> Performed:
        """A card-reader confirmation: show the newest result the terminal wrote into `face`."""
        assert self._root is not None
        deadline = time.monotonic() + order.timeout_seconds
        while True:
            found = newest_face_file(self._root)
            if found is not None:
                break
            if time.monotonic() > deadline:
                return Performed(Report(order.order_id, "no-answer", message="face フォルダに結果が届きませんでした"))
            time.sleep(0.02)
        raw = found.read_bytes()
        try:
            parsed = xmlcodec.parse(raw)
        except xmlcodec.XmlError as exc:
            return Performed(Report(order.order_id, "error", message=f"unreadable face result {found.name}: {exc}"))
        exchange = Exchange("", found.name, raw, parsed.tree, parsed.encoding)
        return Performed(
            report_from_tree(order.order_id, parsed.tree, request_file=None, result_file=found.name), exchange
        )

    def _bulk(self, client: Any, order: Order) -> Performed:
        """一括照会 / 照会番号一括登録: upload (01), then poll the download (02) every
        `bulk_poll_interval` seconds while the terminal answers 処理中 (SegmentOfResult 2), giving up
        after the order's timeout. A ZIP result is opened and its XML read."""
        from mockgateway.client.folder import ClientTimeout
        from mockgateway.services.bulk_layout import CONFIRM, REGISTRATION, download_tree, upload_tree

        layout = CONFIRM if order.action == "bulk" else REGISTRATION
        if order.action == "bulk":
            records = [search_info(c) for c in order.cards]
            upload = upload_tree(CONFIRM, order.medical_institution, records, confirmation_date=order.confirmation_date)
        else:
            records = [registration_info(c) for c in order.cards]
            upload = upload_tree(REGISTRATION, order.medical_institution, records)
        deadline = time.monotonic() + order.timeout_seconds
        try:
            first = client.exchange(f"{layout.family}01", xmlcodec.render("XmlMsg", upload, "Shift_JIS"))
        except ClientTimeout as exc:
            return Performed(Report(order.order_id, "no-answer", message=str(exc)))
        reception = _find_text(first.tree, "ReceptionNumber")
        if reception is None:
            exchange = first
            report = report_from_tree(
                order.order_id, first.tree, request_file=first.request_name, result_file=first.result_name
            )
            return Performed(report, exchange)
        polls = 0
        download = xmlcodec.render("XmlMsg", download_tree(order.medical_institution, reception), "Shift_JIS")
        while True:
            time.sleep(self.bulk_poll_interval)
            polls += 1
            extra = {"reception_number": reception, "polls": polls}
            try:
                got = _fetch(client, f"{layout.family}02", download)
            except ClientTimeout as exc:
                return Performed(Report(order.order_id, "no-answer", message=str(exc), extra=extra))
            except (xmlcodec.XmlError, zipfile.BadZipFile, KeyError) as exc:
                return Performed(Report(order.order_id, "error", message=f"unreadable result: {exc}", extra=extra))
            header = got.tree.get("MessageHeader")
            segment = header.get("SegmentOfResult") if isinstance(header, dict) else None
            if segment != "2":
                report = report_from_tree(
                    order.order_id, got.tree, request_file=got.request_name, result_file=got.result_name
                )
                units = _find_items(got.tree, layout.unit)
                return Performed(dataclasses.replace(report, results=tuple(_flat(u) for u in units), extra=extra), got)
            if time.monotonic() + self.bulk_poll_interval > deadline:
                message = f"一括照会 {reception} は {polls} 回問い合わせても処理中のままでした"
                return Performed(Report(order.order_id, "no-answer", segment="2", message=message, extra=extra))

    def _bulk_download(self, client: Any, order: Order) -> Performed:
        """The download (02) alone, for a 受付番号 given in the order: one request, the answer shown."""
        from mockgateway.client.folder import ClientTimeout
        from mockgateway.services.bulk_layout import CONFIRM, download_tree

        number = order.reception_number or ""
        download = xmlcodec.render("XmlMsg", download_tree(order.medical_institution, number), "Shift_JIS")
        try:
            got = _fetch(client, order.api_id, download)
        except ClientTimeout as exc:
            return Performed(Report(order.order_id, "no-answer", message=str(exc)))
        except (xmlcodec.XmlError, zipfile.BadZipFile, KeyError) as exc:
            return Performed(Report(order.order_id, "error", message=f"unreadable result: {exc}"))
        report = report_from_tree(order.order_id, got.tree, request_file=got.request_name, result_file=got.result_name)
        units = _find_items(got.tree, CONFIRM.unit)
        return Performed(dataclasses.replace(report, results=tuple(_flat(u) for u in units)), got)


def search_info(card: Card) -> dict[str, str]:
    """A card as a 一括照会 record (QualificationConfirmSearchInfo): 保険者番号 padded to 8 with spaces."""
    return {
        "InsurerNumber": card.insurer_number.rjust(8, " "),
        **({"InsuredCardSymbol": card.symbol} if card.symbol else {}),
        "InsuredIdentificationNumber": card.number,
        **({"InsuredBranchNumber": card.branch} if card.branch else {}),
        "Birthdate": card.birthdate,
    }


def registration_info(card: Card) -> dict[str, str]:
    """A card and its 照会番号 as ReferenceNumberRegistrationInfo (OQSsiimm01, OQSmuimm01)."""
    return {
        "ReferenceNumber": card.reference_number,
        "InsurerNumber": card.insurer_number.rjust(8, " "),
        **({"InsuredCardSymbol": card.symbol} if card.symbol else {}),
        "InsuredIdentificationNumber": card.number,
        **({"InsuredBranchNumber": card.branch} if card.branch else {}),
    }


def registration_request(order: Order) -> bytes:
    info: Tree = dict(registration_info(order.card))
    tree: Tree = {
        "MessageHeader": {"MedicalInstitutionCode": order.medical_institution},
        "MessageBody": {"ReferenceNumberRegistrationInfo": info},
    }
    return xmlcodec.render("XmlMsg", tree, "Shift_JIS")


def card_query(order: Order) -> CardQuery:
    """What the clerk types from the order's 被保険者証 / 資格確認書, whatever the transport."""
    from mockgateway.client.requests_xml import CardQuery
    from mockgateway.domain.clock import parse_date

    card = order.card
    return CardQuery(
        insurer_number=card.insurer_number,
        symbol=card.symbol,
        number=card.number,
        branch=card.branch,
        birthdate=parse_date(card.birthdate),
        limit_consent=order.limit_consent,
    )


def _id_token(login: Any) -> str | None:
    """`result.idToken` of a successful login, else None."""
    if login.status_code != 200:
        return None
    try:
        token = login.json()["result"]["idToken"]
    except (ValueError, KeyError, TypeError):
        return None
    return token if isinstance(token, str) and token else None


def _json_report(order_id: str, raw: bytes, path: str) -> Report:
    """A Web API answer (`{"XmlMsg": …}`) reported like a result file; anything else is an error.
    A refused login carries the error header under `XmlMsg` beside `status` / `msg` / `result`."""
    from mockgateway import jsoncodec

    try:
        doc = json.loads(raw)
        if isinstance(doc, dict) and "XmlMsg" in doc and len(doc) > 1:
            raw = json.dumps({"XmlMsg": doc["XmlMsg"]}).encode()
    except ValueError:
        pass  # jsoncodec says what is wrong with it
    try:
        _, tree = jsoncodec.parse(raw)
    except xmlcodec.XmlError as exc:
        return Report(order_id, "error", message=f"unreadable Web API answer from {path}: {exc}: {raw[:200]!r}")
    return report_from_tree(order_id, tree, request_file=None, result_file=None)


def read_result_file(raw: bytes) -> bytes:
    """A result file's XML: as is, or the one file inside a ZIP result (一括照会 results may be zipped)."""
    if raw[:4] != b"PK\x03\x04":
        return raw
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise zipfile.BadZipFile(f"a ZIP result holds one XML file, this one holds {names}")
        return archive.read(names[0])


def _fetch(client: Any, api_id: str, body: bytes) -> Exchange:
    """Send, wait for the result (.xml or .zip) and read it; `raw` is the XML (unzipped)."""
    name = client.send(api_id, body)
    path = client.wait(name)
    raw = read_result_file(path.read_bytes())
    parsed = xmlcodec.parse(raw)
    return Exchange(name, path.name, raw, parsed.tree, parsed.encoding)


def newest_face_file(root: Path) -> Path | None:
    """The most recent result the terminal wrote into `<root>/face` (temp files excluded)."""
    files = [p for p in (root / "face").glob("*.xml") if not p.name.startswith(".")]
    return max(files, key=lambda p: (p.stat().st_mtime_ns, p.name)) if files else None


def _find_text(tree: Tree, name: str) -> str | None:
    for key, value in tree.items():
        if key == name and isinstance(value, str):
            return value
        if isinstance(value, dict):
            found = _find_text(value, name)
            if found is not None:
                return found
    return None


def _find_items(tree: Tree, name: str) -> list[Tree]:
    for key, value in tree.items():
        if key == name:
            return _items(value)
        if isinstance(value, dict):
            found = _find_items(value, name)
            if found:
                return found
    return []


# -- (2) vendor software that watches the folders -------------------------------------------------


@dataclass(slots=True)
class FolderAdapter:
    """Hands orders to the vendor's driver through the orders folder and waits for its reports.

    Files in `orders` (all UTF-8 JSON, written by temp file + rename):
      `<order_id>.order.json`   the harness: an order is pending (deleted once answered or abandoned)
      `<order_id>.report.json`  the driver: what the software displayed (moved to `done/` once read)
      `instructions.log`        the harness: every order in words, one line each, for a person
    """

    orders: Path
    capabilities: frozenset[str] = frozenset({"eligibility"})
    grace_seconds: float = 5.0  # waited beyond the order's own timeout before giving up
    poll: float = 0.02
    announce: Callable[[str], None] | None = None
    name: str = "folder"
    _env: Environment | None = field(default=None, init=False)

    def begin(self, env: Environment) -> None:
        self._env = env
        self.orders.mkdir(parents=True, exist_ok=True)
        (self.orders / "done").mkdir(exist_ok=True)
        for stale in self.orders.glob("*.order.json"):  # a previous run's leftovers: never act on them
            stale.unlink(missing_ok=True)

    def end(self) -> None:
        self._env = None

    def perform(self, order: Order) -> Performed:
        order_path = self.orders / f"{order.order_id}.order.json"
        report_path = self.orders / f"{order.order_id}.report.json"
        report_path.unlink(missing_ok=True)
        _write_json(order_path, order.as_json())
        line = f"[{order.order_id}] {order.instruction()}"
        with (self.orders / "instructions.log").open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        (self.announce or _announce)(line)
        limit = order.timeout_seconds + self.grace_seconds
        deadline = time.monotonic() + limit
        try:
            while time.monotonic() < deadline:
                if report_path.exists():
                    return Performed(self._read(report_path, order))
                time.sleep(self.poll)
        finally:
            order_path.unlink(missing_ok=True)
        seen = self._env.progress() if self._env and self._env.progress else "(no journal available)"
        message = (
            f"no report for order {order.order_id} within {limit:g} s. "
            f"The driver reads {order_path} and must write {report_path.name} in {self.orders}. "
            f"What the gateway saw since the order: {seen}"
        )
        return Performed(Report(order.order_id, "no-answer", message=message, extra={"harness_timeout": True}))

    def _read(self, path: Path, order: Order) -> Report:
        text = ""
        for _ in range(50):  # a driver that writes in place may be caught mid-write: retry briefly
            text = path.read_text(encoding="utf-8")
            try:
                doc = json.loads(text)
                break
            except json.JSONDecodeError:
                time.sleep(self.poll)
        else:
            return Report(order.order_id, "error", message=f"{path.name} is not JSON: {text[:200]!r}")
        done = self.orders / "done" / path.name
        os.replace(path, done)
        try:
            return Report.from_json(doc, order_id=order.order_id)
        except ReportError as exc:
            return Report(order.order_id, "error", message=f"{path.name}: {exc}", extra={"bad_report": True})


def _announce(line: str) -> None:
    stream = sys.__stderr__
    if stream is not None:
        stream.write(f"\nmockgateway order: {line}\n")
        stream.flush()


def _write_json(path: Path, doc: object) -> None:
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temp, path)


# -- (3) a vendor command line ------------------------------------------------------------------


@dataclass(slots=True)
class CommandAdapter:
    """Runs `command` once per order: the order JSON on stdin, the report JSON on stdout.

    Environment for the command: MOCKGATEWAY_ROOT (folder root), MOCKGATEWAY_HTTP (base URL, when
    served), MOCKGATEWAY_WEBAPI, MOCKGATEWAY_WEBAPI_SEARCH and MOCKGATEWAY_PKI (the Web API's login
    host, its search host and their test PKI directory, in `webapi` scenarios), MOCKGATEWAY_ORDER_ID.
    Exit status 0 with a report; anything else is reported as an error with the tail of stderr.
    """

    command: Sequence[str]
    capabilities: frozenset[str] = frozenset({"eligibility"})
    grace_seconds: float = 5.0
    cwd: Path | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    name: str = "command"
    _env: Environment | None = field(default=None, init=False)

    @classmethod
    def from_string(cls, command: str, **kwargs: object) -> CommandAdapter:
        argv = shlex.split(command)
        if not argv:
            raise AdapterError("the command adapter needs a command (--mg-command or [client] command)")
        return cls(argv, **kwargs)  # type: ignore[arg-type]

    def begin(self, env: Environment) -> None:
        self._env = env

    def end(self) -> None:
        self._env = None

    def perform(self, order: Order) -> Performed:
        env = dict(os.environ)
        env.update(self.extra_env)
        if self._env is not None:
            env["MOCKGATEWAY_ROOT"] = str(self._env.root)
            if self._env.http:
                env["MOCKGATEWAY_HTTP"] = self._env.http
            if self._env.webapi:
                env["MOCKGATEWAY_WEBAPI"] = self._env.webapi
            if self._env.webapi_search:
                env["MOCKGATEWAY_WEBAPI_SEARCH"] = self._env.webapi_search
            if self._env.pki is not None:
                env["MOCKGATEWAY_PKI"] = str(self._env.pki)
        env["MOCKGATEWAY_ORDER_ID"] = order.order_id
        limit = order.timeout_seconds + self.grace_seconds
        try:
            done = subprocess.run(
                list(self.command),
                input=json.dumps(order.as_json(), ensure_ascii=False).encode("utf-8"),
                capture_output=True,
                timeout=limit,
                env=env,
                cwd=self.cwd,
                check=False,
            )
        except FileNotFoundError as exc:
            raise AdapterError(f"the client command {self.command[0]!r} was not found: {exc}") from None
        except subprocess.TimeoutExpired as exc:
            seen = self._env.progress() if self._env and self._env.progress else ""
            tail = _tail(exc.stderr)
            message = f"the command did not finish within {limit:g} s. Gateway saw: {seen}. stderr: {tail}"
            return Performed(Report(order.order_id, "no-answer", message=message, extra={"harness_timeout": True}))
        stdout = done.stdout.decode("utf-8", errors="replace").strip()
        if done.returncode != 0:
            message = f"the command exited with status {done.returncode}; stderr: {_tail(done.stderr)}"
            return Performed(Report(order.order_id, "error", message=message))
        try:
            doc = json.loads(stdout)
        except json.JSONDecodeError:
            message = f"the command's stdout is not one JSON report: {stdout[:300]!r}; stderr: {_tail(done.stderr)}"
            return Performed(Report(order.order_id, "error", message=message, extra={"bad_report": True}))
        try:
            return Performed(Report.from_json(doc, order_id=order.order_id))
        except ReportError as exc:
            return Performed(Report(order.order_id, "error", message=f"report: {exc}", extra={"bad_report": True}))


def _tail(raw: bytes | str | None, limit: int = 600) -> str:
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.strip()[-limit:]


def parse_capabilities(raw: str | Sequence[str] | None, default: Sequence[str] = ("eligibility",)) -> frozenset[str]:
    """`bulk,face` or a list → a set (`card` = face + card-reader + certificate, `all` = every one);
    unknown names are refused with the known ones listed."""
    if raw is None:
        return frozenset(default)
    items = [p.strip() for p in raw.split(",")] if isinstance(raw, str) else [str(p).strip() for p in raw]
    names = {p for p in items if p}
    if "all" in names:
        return frozenset(CAPABILITIES)
    for alias, meant in CAPABILITY_ALIASES.items():
        if alias in names:
            names = (names - {alias}) | set(meant)
    unknown = sorted(names - set(CAPABILITIES))
    if unknown:
        raise AdapterError(f"unknown capabilities {unknown}; known: {sorted(CAPABILITIES)} (or 'card', 'all')")
    return frozenset(names)


def cleanup_folders(root: Path) -> None:
    """Empty req/res/face/trash between scenarios, so no scenario sees another's files."""
    for sub in ("req", "res", "face", "trash"):
        folder = root / sub
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() or path.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
