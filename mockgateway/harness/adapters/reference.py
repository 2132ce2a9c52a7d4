"""(1) The reference client: our own folder / Web API client (mockgateway.client), so the catalogue
is green out of the box."""

from __future__ import annotations

import dataclasses
import io
import json
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockgateway.client.folder import Exchange  # a raw request/result file pair, when the adapter saw it
from mockgateway.harness import home_visit
from mockgateway.harness.adapters.base import AdapterError, Environment, Performed, flat, items_of, report_from_tree
from mockgateway.harness.catalogue import CAPABILITIES
from mockgateway.harness.orders import BULK_ACTIONS, HOME_VISIT_ACTIONS, Card, Order, Report
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree

if TYPE_CHECKING:
    from mockgateway.client.requests_xml import CardQuery


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
        elif order.action == "consented-bulk":
            family = order.api_id[:-2]
            upload = home_visit.request_tree(order)
            return self._upload_and_poll(client, order, family, upload, "BulkConfirmUnit")
        elif order.action in HOME_VISIT_ACTIONS:
            body = xmlcodec.render("XmlMsg", home_visit.request_tree(order), "Shift_JIS")
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
        if order.action in ("reference-number", "consent-withdrawal"):  # one object, as for bulk units
            result = parsed.tree.get("MessageBody")
            report = dataclasses.replace(report, results=(flat(result),) if isinstance(result, dict) else ())
        return Performed(report, exchange)

    def _webapi(self, order: Order) -> Performed:
        """資格確認 over the Web API as the real flow goes: log in on the login host over TLS with the
        医療機関's client certificate (the order's `gateway.webapi`), then search on the search host
        with only the idToken in `Authorization` (no client certificate there); the JSON answer is
        shown as a result file would be. A refused handshake is the client's own failure: status error."""
        import requests

        from mockgateway.transports.http import AUTH_PATH, JSON, SEARCH_PATH
        from mockgateway.wire import jsoncodec

        access = order.gateway.get("webapi")
        if not isinstance(access, dict):
            message = "the order names no Web API (gateway.webapi): the harness serves none for this scenario"
            return Performed(Report(order.order_id, "error", message=message))
        query = card_query(order)
        header: Tree = {"QualificationConfirmationDate": order.confirmation_date}
        if order.send_medical_institution_code:
            header["MedicalInstitutionCode"] = order.medical_institution
        search = {**query.search_info(), "InsurerNumber": order.padded_insurer_number}
        request: Tree = {"MessageHeader": header, "MessageBody": {"QualificationConfirmSearchInfo": search}}
        body = jsoncodec.render("XmlMsg", request)
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
        from mockgateway.services.bulk.layout import CONFIRM, REGISTRATION, upload_tree

        layout = CONFIRM if order.action == "bulk" else REGISTRATION
        if order.action == "bulk":
            records = [search_info(c) for c in order.cards]
            upload = upload_tree(CONFIRM, order.medical_institution, records, confirmation_date=order.confirmation_date)
        else:
            records = [registration_info(c) for c in order.cards]
            upload = upload_tree(REGISTRATION, order.medical_institution, records)
        return self._upload_and_poll(client, order, layout.family, upload, layout.unit)

    def _upload_and_poll(self, client: Any, order: Order, family: str, upload: Tree, unit: str) -> Performed:
        """Upload (<family>01), then download (<family>02) every `bulk_poll_interval` seconds while
        the terminal answers 処理中; the units (`unit` elements) are what the client shows."""
        from mockgateway.client.folder import ClientTimeout
        from mockgateway.services.bulk.layout import download_tree

        deadline = time.monotonic() + order.timeout_seconds
        try:
            first = client.exchange(f"{family}01", xmlcodec.render("XmlMsg", upload, "Shift_JIS"))
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
                got = _fetch(client, f"{family}02", download)
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
                units = _find_items(got.tree, unit)
                return Performed(dataclasses.replace(report, results=tuple(flat(u) for u in units), extra=extra), got)
            if time.monotonic() + self.bulk_poll_interval > deadline:
                message = f"一括照会 {reception} は {polls} 回問い合わせても処理中のままでした"
                return Performed(Report(order.order_id, "no-answer", segment="2", message=message, extra=extra))

    def _bulk_download(self, client: Any, order: Order) -> Performed:
        """The download (02) alone, for a 受付番号 given in the order: one request, the answer shown."""
        from mockgateway.client.folder import ClientTimeout
        from mockgateway.services.bulk.layout import CONFIRM, download_tree

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
        return Performed(dataclasses.replace(report, results=tuple(flat(u) for u in units)), got)


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
    from mockgateway.wire import jsoncodec

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
            return items_of(value)
        if isinstance(value, dict):
            found = _find_items(value, name)
            if found:
                return found
    return []
