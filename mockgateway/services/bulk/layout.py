"""Request layouts of the two-step bulk interfaces. The upload layout is INFERRED.

No public source shows the body of 資格確認一括照会要求 (OQSmuquc01req, OQS-IF-005); see
oqs-interface.md §2. By analogy with 照会番号一括登録 (whose records are "保険証データを1件ごとに
<ReferenceNumberRegistrationInfo> で囲む", [SANO] road26) we accept:

    XmlMsg/MessageHeader: MedicalInstitutionCode, ArbitraryFileIdentifier?, QualificationConfirmationDate?
    XmlMsg/MessageBody:   QualificationConfirmSearchInfo+   (each as in OQSsiquc01req, with ArbitraryIdentifier)

The download request (02req) is observed ([S], [Y2], [M]): MessageHeader/MedicalInstitutionCode and
MessageBody/ReceptionNumber.

This module is the only place that knows these layouts: when the real 別紙3-1 layout is known,
change `BulkLayout` entries and `parse_upload` here and nothing else. Records are kept as sent
(raw trees) and validated one by one during processing, so one bad record fails alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mockgateway.wire.messages import Header, RequestError, message, parse_header, text
from mockgateway.wire.xmlcodec import Node, Tree

BODY = "XmlMsg/MessageBody"


@dataclass(frozen=True, slots=True)
class BulkLayout:
    family: str  # API id without the step: OQSmuquc / OQSmuimm
    title: str  # 資格確認一括照会 / 照会番号一括登録
    record: str  # the repeated element of the upload body
    unit: str  # the repeated element of the final result body


CONFIRM = BulkLayout("OQSmuquc", "資格確認一括照会", "QualificationConfirmSearchInfo", "BulkConfirmUnit")
REGISTRATION = BulkLayout("OQSmuimm", "照会番号一括登録", "ReferenceNumberRegistrationInfo", "BulkRegistrationUnit")
LAYOUTS = {layout.family: layout for layout in (CONFIRM, REGISTRATION)}


@dataclass(frozen=True, slots=True)
class BulkUpload:
    header: Header
    records: list[Node]  # as sent; a record may be malformed (validated when processed)


@dataclass(frozen=True, slots=True)
class DownloadRequest:
    header: Header
    reception_number: str


def record_path(layout: BulkLayout, seq: int) -> str:
    """Element path of record `seq` (0-based) as error messages show it: …/Info[1] is the first."""
    return f"{BODY}/{layout.record}[{seq + 1}]"


def parse_upload(tree: Mapping[str, Node], layout: BulkLayout) -> BulkUpload:
    """Raises RequestError `bulk.not_bulk` when the body holds no record element at all."""
    header_tree, body = message(tree)
    header = parse_header(header_tree, date_required=False)
    node = body.get(layout.record)
    if node is None:
        present = ", ".join(body) or "なし"
        raise RequestError(
            "bulk.not_bulk",
            f"{BODY}/{layout.record}",
            f"{layout.title}要求ではありません (MessageBody の子要素: {present})",
        )
    return BulkUpload(header=header, records=node if isinstance(node, list) else [node])


def parse_download(tree: Mapping[str, Node]) -> DownloadRequest:
    header_tree, body = message(tree)
    header = parse_header(header_tree, date_required=False)
    number = text(body, "ReceptionNumber", BODY, required=True)
    assert number is not None
    return DownloadRequest(header=header, reception_number=number.strip())


def confirmation_date(header: Header, today: dt.date) -> dt.date:
    """資格確認日 of a bulk job: the header's QualificationConfirmationDate when sent (hospitals
    pre-check tomorrow's patients), else the gateway clock's date at upload. Inferred."""
    return header.confirmation_date or today


def upload_tree(
    layout: BulkLayout,
    mic: str,
    records: Sequence[Mapping[str, Node]],
    *,
    file_identifier: str | None = None,
    confirmation_date: str | None = None,
) -> Tree:
    """The client side of the inferred layout (tests, benchmarks, load generators): render with
    `xmlcodec.render("XmlMsg", tree, encoding)`."""
    header: dict[str, Node] = {
        "QualificationConfirmationDate": confirmation_date,
        "MedicalInstitutionCode": mic,
        "ArbitraryFileIdentifier": file_identifier,
    }
    body: list[Node] = [dict(record) for record in records]
    return {
        "MessageHeader": {k: v for k, v in header.items() if v is not None},
        "MessageBody": {layout.record: body},
    }


def download_tree(mic: str, reception_number: str) -> Tree:
    return {
        "MessageHeader": {"MedicalInstitutionCode": mic},
        "MessageBody": {"ReceptionNumber": reception_number},
    }
