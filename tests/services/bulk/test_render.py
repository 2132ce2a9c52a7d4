"""The fast bulk renderer produces exactly what `xmlcodec.render` produces."""

from __future__ import annotations

import io
import zipfile

import pytest

from mockgateway.services.bulk import render as bulk_render
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree

SEARCH: Tree = {"InsurerNumber": "  139998", "InsuredCardSymbol": "模擬市", "InsuredIdentificationNumber": "100234",
                "Birthdate": "19650203", "ArbitraryIdentifier": "髙﨑 ①"}  # fmt: skip
RESULT: Tree = {"InsurerNumber": "  139998", "Name": "国保　一郎", "NameKana": "ｺｸﾎ ｲﾁﾛｳ",
                "ElderlyRecipientCertificateInfo": {"ElderlyRecipientContributionRatio": "020"}}  # fmt: skip


def unit(**extra: Node) -> Tree:
    return {"QualificationConfirmSearchInfo": dict(SEARCH), "ProcessingResultStatus": "1",
            "QualificationValidity": "1", "ResultOfQualificationConfirmation": dict(RESULT), **extra}  # fmt: skip


HEADER: Tree = {"ProcessExecutionTime": "20250618103000", "SegmentOfResult": "1", "ErrorMessage": None,
                "NumberOfProcessingResult": "3"}  # fmt: skip

CASES: list[list[Tree]] = [
    [unit(), unit(ReferenceNumber="P-1"), unit()],
    [unit(ResultOfQualificationConfirmation=[dict(RESULT), dict(RESULT, Name="二人目")])],  # 複数該当
    [unit(ReferenceNumber="A&B <x> & y"), unit(QualificationConfirmSearchInfo={})],  # escapes, empty element
    [
        {
            "QualificationConfirmSearchInfo": {"InsurerNumber": "1"},
            "ProcessingResultStatus": "2",
            "ProcessingResultCode": "MGW2003",
            "ProcessingResultMessage": "…[2]/InsurerNumber: <missing>",
        }
    ],
]


@pytest.mark.parametrize("encoding", ["Shift_JIS", "UTF-8"])
@pytest.mark.parametrize("units", CASES)
def test_same_bytes_as_xmlcodec(units: list[Tree], encoding: str) -> None:
    tree: Tree = {"MessageHeader": dict(HEADER), "MessageBody": {"BulkConfirmUnit": list(units)}}
    expected = xmlcodec.render("XmlMsg", tree, encoding)
    assert bulk_render.render(tree, encoding) == expected
    stored = "".join(bulk_render.element("BulkConfirmUnit", unit) for unit in units).encode("utf-8")
    assert bulk_render.document(dict(HEADER), stored, encoding) == expected


def test_characters_outside_cp932_become_references() -> None:
    tree: Tree = {"MessageHeader": {"X": "🏥"}, "MessageBody": {}}
    assert bulk_render.render(tree, "Shift_JIS") == xmlcodec.render("XmlMsg", tree, "Shift_JIS")
    stored = bulk_render.element("U", {"Name": "𠮷野"}).encode("utf-8")
    assert b"<Name>&#134071;\x96\xec</Name>" in bulk_render.document({}, stored, "Shift_JIS")


def test_zip_holds_one_named_file() -> None:
    data = bulk_render.zip_document("OQSmuquc02res_1.xml", b"<XmlMsg/>", (2025, 6, 18, 10, 30, 0))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (info,) = archive.infolist()
        assert info.filename == "OQSmuquc02res_1.xml"
        assert info.date_time == (2025, 6, 18, 10, 30, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert archive.read(info) == b"<XmlMsg/>"
