"""A small fake "vendor" レセコン and its test driver, as a separate program.

It knows nothing of mockgateway's code: it reads orders (JSON), writes request files into `req`
the way a レセコン does (Shift_JIS, temp file + rename), waits for `res`, reads the result with the
standard library and reports what it "displayed". Two ways to run it:

    python fake_vendor.py watch --root ROOT --orders ORDERS [--wrong]   # the folder adapter's driver
    python fake_vendor.py command [--wrong] [--http] < order.json > report.json  # the command adapter

`--wrong` makes a deliberately faulty vendor: it zero-pads 6-digit 保険者番号 (instead of
left-padding with spaces), never sends the 限度額 consent flag as 1, and does not show the
資格喪失年月日 (DisqualificationDate) it received; in the 居宅同意取得型 requests it sends
MedicalTreatmentFlag 1 (the counter's) whatever the order says. Reading a card-reader result it
shows each 閲覧期限 as …ConsTime + 24 h (the counter's window) instead of the file's
…AvailableTime, so a 居宅 continuing consent looks like a day; and after every card-reader result it
asks for the patient's 薬剤情報 (YZKsiquc01) without looking at the consent flags or at what kind of
institution it runs in — as a 施術所 (資格確認限定型) it asks for 医療情報 it may not have.

It also does the 居宅同意取得型 orders (docs/home-visit.md): home-visit-requery, consent-withdrawal
(one request) and consented-bulk (upload, then poll the 02 download while SegmentOfResult is 2), and the
医療扶助の一括照会 (fujo-bulk). `--fault NAME` (repeatable) adds one more fault:

    fujo         knows nothing of 医療扶助: shows 6 有効（未登録） as 1 and never shows the 医療券
    mutic-month  sends the 医療扶助の一括照会 (OQSmutic01) without its MedicalTreatmentMonth
    kakunin      does not show the validity period of a 資格確認書 (InsuredCardValidDate / …ExpirationDate)
    limit        does not show the 限度額 information (LimitApplicationCertificateRelatedInfo)
    consents     does not show the 閲覧同意 flags (…ConsFlg / …ConsTime / …AvailableTime)
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import itertools
import json
import os
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

SEQ = itertools.count(1)
FAULTS: set[str] = set()
FAULT_NAMES = ("fujo", "mutic-month", "kakunin", "limit", "consents")
STOP_FILE = "fake-vendor.stop"


def request_xml(order: dict[str, Any], *, wrong: bool) -> bytes:
    card = order["card"]
    insurer = card["insurer_number"]
    insurer = insurer.zfill(8) if wrong else insurer.rjust(8, " ")
    consent = "0" if wrong else ("1" if order.get("limit_consent") else "0")
    parts = [
        f"<InsurerNumber>{insurer}</InsurerNumber>",
        f"<InsuredCardSymbol>{card['symbol']}</InsuredCardSymbol>" if card.get("symbol") else "",
        f"<InsuredIdentificationNumber>{card['number']}</InsuredIdentificationNumber>",
        f"<InsuredBranchNumber>{card['branch']}</InsuredBranchNumber>" if card.get("branch") else "",
        f"<Birthdate>{card['birthdate']}</Birthdate>",
        f"<LimitApplicationCertificateRelatedConsFlg>{consent}</LimitApplicationCertificateRelatedConsFlg>",
    ]
    xml = (
        '<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>\r\n<XmlMsg><MessageHeader>'
        f"<QualificationConfirmationDate>{order['confirmation_date']}</QualificationConfirmationDate>"
        f"<MedicalInstitutionCode>{order['medical_institution']}</MedicalInstitutionCode>"
        "</MessageHeader><MessageBody><QualificationConfirmSearchInfo>"
        + "".join(parts)
        + "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
    return xml.encode("cp932")


def home_visit_xml(order: dict[str, Any], *, wrong: bool, reception_number: str | None = None) -> bytes:
    """居宅同意取得型 requests: 再照会 / 閲覧同意取り消し (a card) or 同意済資格情報一括取得 (a range, then 02)."""
    flag = "1" if wrong else order["treatment"]
    if reception_number is not None:
        body = f"<ReceptionNumber>{reception_number}</ReceptionNumber>"
    elif order["action"] == "consented-bulk":
        span = order.get("date_range") or {}
        element = span.get("element")
        body = (
            "<QualificationConfirmSearchInfo>"
            + (
                f"<{element}From>{span['from']}</{element}From><{element}To>{span['to']}</{element}To>"
                if element
                else ""
            )
            + f"<MedicalTreatmentFlag>{flag}</MedicalTreatmentFlag></QualificationConfirmSearchInfo>"
        )
    else:
        card = order["card"]
        insurer = card["insurer_number"].zfill(8) if wrong else card["insurer_number"].rjust(8, " ")
        body = (
            f"<QualificationConfirmSearchInfo><InsurerNumber>{insurer}</InsurerNumber>"
            + (f"<InsuredCardSymbol>{card['symbol']}</InsuredCardSymbol>" if card.get("symbol") else "")
            + f"<InsuredIdentificationNumber>{card['number']}</InsuredIdentificationNumber>"
            + (f"<InsuredBranchNumber>{card['branch']}</InsuredBranchNumber>" if card.get("branch") else "")
            + f"<Birthdate>{card['birthdate']}</Birthdate><MedicalTreatmentFlag>{flag}</MedicalTreatmentFlag>"
            + "</QualificationConfirmSearchInfo>"
        )
    xml = (
        '<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>\r\n<XmlMsg><MessageHeader>'
        f"<MedicalInstitutionCode>{order['medical_institution']}</MedicalInstitutionCode>"
        f"</MessageHeader><MessageBody>{body}</MessageBody></XmlMsg>"
    )
    return xml.encode("cp932")


def read_result(raw: bytes) -> ET.Element:
    head = raw[:200].decode("ascii", errors="replace").lower()
    text = raw.decode("cp932" if "shift_jis" in head else "utf-8")
    if text.startswith("<?xml"):
        text = text.split("?>", 1)[1]
    return ET.fromstring(text)


def element_value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    return {child.tag: element_value(child) for child in children}


def over_http(
    order: dict[str, Any], base: dict[str, Any], api_id: str, xml: bytes
) -> tuple[bytes | None, dict[str, Any]]:
    """The convenience route: POST the request file's XML, get the result file's XML back."""
    url = f"{order['gateway']['http']}/oqs/{api_id}"
    request = urllib.request.Request(url, data=xml, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=float(order.get("timeout_seconds", 30))) as answer:
            return answer.read(), {}
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # refused, cut, timed out
        return None, {**base, "status": "no-answer", "message": f"結果が返りませんでした ({exc})"}


def report_for(order: dict[str, Any], root: Path, *, wrong: bool, http: bool = False) -> dict[str, Any]:
    base = {"schema": "mockgateway.report/1", "order_id": order["order_id"]}
    if order.get("action") == "face":  # show the newest card-reader result in face/
        faces = sorted((root / "face").glob("*.xml"), key=lambda p: p.stat().st_mtime_ns)
        if not faces:
            return {**base, "status": "no-answer", "message": "face フォルダに結果がありません"}
        report = shown(base, read_result(faces[-1].read_bytes()), None, faces[-1].name, wrong=wrong)
        if wrong and report["results"]:
            fetch_drugs(order, base, root, report["results"][0], http=http)
        return report
    action = order.get("action")
    if action == "fujo-bulk":
        return mutic(order, root)
    if action in ("home-visit-requery", "consent-withdrawal", "consented-bulk"):
        return home_visit_report(order, base, root, wrong=wrong, http=http)
    if action != "eligibility":
        return {**base, "status": "unsupported", "message": f"this software does not do {action}"}
    got = exchange(order, base, root, "OQSsiquc01", request_xml(order, wrong=wrong), http=http)
    if isinstance(got, dict):
        return got
    raw, name, result_name = got
    return shown(base, read_result(raw), name, result_name, wrong=wrong)


def fetch_drugs(order: dict[str, Any], base: dict[str, Any], root: Path, shown_result: dict[str, Any], *,
                http: bool) -> None:  # fmt: skip
    """The wrong vendor's habit: 薬剤情報 for the patient just read, whatever the flags and the institution."""
    keys = {
        "InsurerNumber": shown_result.get("InsurerNumber"),
        "InsuranceCardSymbol": shown_result.get("InsuredCardSymbol"),
        "InsuredPersonIdentificationNumber": shown_result.get("InsuredIdentificationNumber"),
        "BranchNumber": shown_result.get("InsuredBranchNumber"),
    }
    header = f"<MedicalInstitutionCode>{order['medical_institution']}</MedicalInstitutionCode>" + "".join(
        f"<{k}>{v}</{k}>" for k, v in keys.items() if v
    )
    xml = (
        '<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>\r\n<XmlMsg><MessageHeader>'
        f"{header}<ArbitraryFileIdentifier>fake-vendor</ArbitraryFileIdentifier></MessageHeader><MessageBody>"
        "<FileCategory>2</FileCategory><PrDiInfClassification>1</PrDiInfClassification>"
        "<MedicalTreatmentFlag>1</MedicalTreatmentFlag></MessageBody></XmlMsg>"
    )
    exchange(order, base, root, "YZKsiquc01", xml.encode("cp932"), http=http)  # the answer is not shown


def counter_window(displayed: dict[str, Any]) -> None:
    """The wrong vendor's 閲覧期限: …ConsTime + 24 h for every kind agreed to, whatever …AvailableTime says."""
    for key, value in list(displayed.items()):
        if key.endswith("ConsTime") and isinstance(value, str) and len(value) == 14:
            window = f"{key[: -len('ConsTime')]}AvailableTime"
            if displayed.get(window):
                day = datetime.datetime.strptime(value, "%Y%m%d%H%M%S") + datetime.timedelta(hours=24)
                displayed[window] = day.strftime("%Y%m%d%H%M%S")


def exchange(
    order: dict[str, Any], base: dict[str, Any], root: Path, api_id: str, xml: bytes, *, http: bool
) -> tuple[bytes, str | None, str | None] | dict[str, Any]:
    """One request and its result, over the folders or the convenience route; a report when none came."""
    if http:
        raw, failed = over_http(order, base, api_id, xml)
        return failed if raw is None else (raw, None, None)
    name = f"{api_id}req_{time.strftime('%Y%m%d%H%M%S')}{os.getpid() % 1000:03d}{next(SEQ):04d}.xml"
    temp = root / "req" / f".{name}.tmp"
    temp.write_bytes(xml)
    os.replace(temp, root / "req" / name)
    result = root / "res" / name.replace("req_", "res_", 1)
    deadline = time.monotonic() + float(order.get("timeout_seconds", 30))
    while not result.exists():
        if time.monotonic() > deadline:
            return {**base, "status": "no-answer", "message": "結果が返りませんでした", "request_file": name}
        time.sleep(0.02)
    return result.read_bytes(), name, result.name


def home_visit_report(
    order: dict[str, Any], base: dict[str, Any], root: Path, *, wrong: bool, http: bool
) -> dict[str, Any]:
    api_id = order["api_id"]
    got = exchange(order, base, root, api_id, home_visit_xml(order, wrong=wrong), http=http)
    if isinstance(got, dict):
        return got
    raw, name, result_name = got
    msg = read_result(raw)
    if order["action"] == "consent-withdrawal":
        report = shown(base, msg, name, result_name, wrong=wrong)
        body = msg.find("MessageBody")
        report["results"] = [element_value(body)] if body is not None and list(body) else []
        return report
    if order["action"] == "home-visit-requery":
        return shown(base, msg, name, result_name, wrong=wrong)
    number = msg.findtext("MessageBody/ReceptionNumber")
    if not number:  # the upload was refused: show its error
        return shown(base, msg, name, result_name, wrong=wrong)
    family = api_id[:-2]
    deadline = time.monotonic() + float(order.get("timeout_seconds", 30))
    while time.monotonic() < deadline:
        time.sleep(0.5)
        got = exchange(order, base, root, f"{family}02", home_visit_xml(order, wrong=wrong, reception_number=number),
                       http=http)  # fmt: skip
        if isinstance(got, dict):
            return got
        raw, name, result_name = got
        msg = read_result(raw)
        if msg.findtext("MessageHeader/SegmentOfResult") != "2":
            report = shown(base, msg, name, result_name, wrong=wrong)
            report["results"] = [element_value(u) for u in msg.iter("BulkConfirmUnit")]
            return report
    return {**base, "status": "no-answer", "segment": "2", "message": f"{number} は処理中のままでした"}


def shown(
    base: dict[str, Any], msg: ET.Element, name: str | None, result_name: str | None, *, wrong: bool
) -> dict[str, Any]:
    """What the software displays for a result: the header's outcome and every qualification."""
    header = msg.find("MessageHeader")
    body = msg.find("MessageBody")

    def text(node: ET.Element | None, tag: str) -> str | None:
        found = node.find(tag) if node is not None else None
        return found.text if found is not None else None

    results = []
    for item in body.iter("ResultOfQualificationConfirmation") if body is not None else []:
        displayed = {child.tag: element_value(child) for child in item}
        if wrong:
            displayed.pop("DisqualificationDate", None)
            counter_window(displayed)
        results.append(hide(displayed))
    validity = text(body, "QualificationValidity")
    if "fujo" in FAULTS and validity == "6":
        validity = "1"
    return {
        **base,
        "status": "answered",
        "segment": text(header, "SegmentOfResult"),
        "error_code": text(header, "ErrorCode"),
        "error_message": text(header, "ErrorMessage"),
        "validity": validity,
        "results": results,
        # what the screen says: the terminal's error, or its notice (e.g. the certificate expires soon)
        "message": text(header, "ErrorMessage") or text(body, "ProcessingResultMessage") or "資格確認しました",
        "request_file": name,
        "result_file": result_name,
    }


def hide(displayed: dict[str, Any]) -> dict[str, Any]:
    """What a faulty screen leaves out (`--fault`)."""
    gone: set[str] = set()
    if "fujo" in FAULTS:
        gone.add("PublicExpenseResultList")
    if "kakunin" in FAULTS:
        gone |= {"InsuredCardValidDate", "InsuredCardExpirationDate"}
    if "limit" in FAULTS:
        gone.add("LimitApplicationCertificateRelatedInfo")
    return {
        k: v
        for k, v in displayed.items()
        if k not in gone and not ("consents" in FAULTS and k.endswith(("ConsFlg", "ConsTime", "AvailableTime")))
    }


def folder_exchange(root: Path, api_id: str, xml: bytes, timeout: float) -> tuple[str, bytes] | None:
    """One request file into req, its answer from res (None: no answer in time)."""
    name = f"{api_id}req_{time.strftime('%Y%m%d%H%M%S')}{os.getpid() % 1000:03d}{next(SEQ):04d}.xml"
    temp = root / "req" / f".{name}.tmp"
    temp.write_bytes(xml)
    os.replace(temp, root / "req" / name)
    result = root / "res" / name.replace("req_", "res_", 1)
    deadline = time.monotonic() + timeout
    while not result.exists():
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)
    return name, result.read_bytes()


def mutic(order: dict[str, Any], root: Path) -> dict[str, Any]:
    """医療扶助の一括照会: upload the 診療年月, poll the 受付番号, show every unit."""
    base = {"schema": "mockgateway.report/1", "order_id": order["order_id"]}
    month = order.get("treatment_month")
    info = f"<MedicalTreatmentMonth>{month}</MedicalTreatmentMonth>" if month and "mutic-month" not in FAULTS else ""
    mic = f"<MedicalInstitutionCode>{order['medical_institution']}</MedicalInstitutionCode>"
    upload = (
        '<?xml version="1.0" encoding="Shift_JIS"?>\r\n<XmlMsg><MessageHeader>' + mic + "</MessageHeader>"
        f"<MessageBody><QualificationConfirmSearchInfo>{info}</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    ).encode("cp932")
    timeout = float(order.get("timeout_seconds", 30))
    first = folder_exchange(root, "OQSmutic01", upload, timeout)
    if first is None:
        return {**base, "status": "no-answer", "message": "受付結果が返りませんでした"}
    msg = read_result(first[1])
    number = msg.findtext("MessageBody/ReceptionNumber")
    if not number:
        return shown(base, msg, first[0], None, wrong=False)
    poll = (
        '<?xml version="1.0" encoding="Shift_JIS"?>\r\n<XmlMsg><MessageHeader>' + mic + "</MessageHeader>"
        f"<MessageBody><ReceptionNumber>{number}</ReceptionNumber></MessageBody></XmlMsg>"
    ).encode("cp932")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        got = folder_exchange(root, "OQSmutic02", poll, timeout)
        if got is None:
            break
        result = read_result(got[1])
        if result.findtext("MessageHeader/SegmentOfResult") != "2":
            report = shown(base, result, got[0], got[0].replace("req_", "res_", 1), wrong=False)
            units = result.findall("MessageBody/BulkConfirmUnit")
            report["results"] = [hide({c.tag: element_value(c) for c in unit}) for unit in units]
            return report
    return {**base, "status": "no-answer", "segment": "2", "message": "処理中のままでした"}


def watch(root: Path, orders: Path, *, wrong: bool) -> int:
    handled: set[str] = set()
    orders.mkdir(parents=True, exist_ok=True)
    while not (orders / STOP_FILE).exists():
        for path in sorted(orders.glob("*.order.json")):
            if path.name in handled:
                continue
            try:
                order = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue  # withdrawn or not complete yet: look again
            handled.add(path.name)
            report = report_for(order, root, wrong=wrong)
            out = orders / f"{order['order_id']}.report.json"
            temp = orders / f".{out.name}.tmp"
            temp.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
            os.replace(temp, out)
        time.sleep(0.02)
    return 0


def command(*, wrong: bool, http: bool) -> int:
    order = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    root = Path(order.get("gateway", {}).get("root") or os.environ["MOCKGATEWAY_ROOT"])
    print(json.dumps(report_for(order, root, wrong=wrong, http=http), ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("watch")
    w.add_argument("--root", required=True)
    w.add_argument("--orders", required=True)
    w.add_argument("--wrong", action="store_true")
    w.add_argument("--fault", action="append", choices=FAULT_NAMES, default=[])
    c = sub.add_parser("command")
    c.add_argument("--wrong", action="store_true")
    c.add_argument("--fault", action="append", choices=FAULT_NAMES, default=[])
    c.add_argument("--http", action="store_true", help="use the order's gateway.http convenience route")
    args = parser.parse_args(argv)
    FAULTS.update(args.fault)
    if args.mode == "watch":
        return watch(Path(args.root), Path(args.orders), wrong=args.wrong)
    return command(wrong=args.wrong, http=args.http)


if __name__ == "__main__":
    raise SystemExit(main())
