"""照会番号: OQSsiimm01 and OQSmuimm01/02 through `Gateway.process`, and where the number comes back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from mockgateway.domain.model import CardKey
from mockgateway.engine import Format, Gateway, Response
from mockgateway.fixtures import load_documents
from mockgateway.services import reference_numbers
from mockgateway.services.bulk import service as bulk
from mockgateway.services.bulk.layout import CONFIRM, REGISTRATION, download_tree, upload_tree
from mockgateway.services.reference_numbers import ReferenceNumberRegistry, reference_number_for
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree
from tests.conftest import (
    FROZEN_AT,
    MIC,
    GatewayFactory,
    body_of,
    eligibility_request,
    header_of,
    reply_tree,
    results_of,
)

OTHER_MIC = "1311234577"
TAKASAKI = CardKey("06139992", "7001", "42", "00")


def info(
    number: str | None = "P-0042", insurer: str = "06139992", symbol: str | None = "7001",
    ident: str | None = "42", branch: str | None = "00",
) -> dict[str, str]:  # fmt: skip
    """ReferenceNumberRegistrationInfo; defaults register takasaki-sakiko. None leaves an element out."""
    fields = {
        "ReferenceNumber": number,
        "InsurerNumber": insurer,
        "InsuredCardSymbol": symbol,
        "InsuredIdentificationNumber": ident,
        "InsuredBranchNumber": branch,
    }
    return {k: v for k, v in fields.items() if v is not None}


def register(gateway: Gateway, fields: Mapping[str, str], *, mic: str = MIC, encoding: str = "Shift_JIS") -> Response:
    tree: Tree = {
        "MessageHeader": {"MedicalInstitutionCode": mic, "ArbitraryFileIdentifier": "reg-1"},
        "MessageBody": {"ReferenceNumberRegistrationInfo": dict(fields)},
    }
    raw = xmlcodec.render("XmlMsg", tree, encoding)
    return gateway.process("OQSsiimm01", raw, fmt=Format.XML, transport="test", name="OQSsiimm01req_0001.xml")


def single(gateway: Gateway, *, mic: str = MIC, **card: str) -> Tree:
    fields = {"insurer": "06139992", "symbol": "7001", "number": "42", "branch": "00", "birthdate": "19900909"}
    fields.update(card)
    raw = eligibility_request(mic=mic, **fields)
    return reply_tree(gateway.process("OQSsiquc01", raw, fmt=Format.XML, transport="test"))


def single_reference(gateway: Gateway, *, mic: str = MIC, **card: str) -> Node:
    (result,) = results_of(single(gateway, mic=mic, **card))
    return result.get("ReferenceNumber")


def status_of(response: Response) -> tuple[str, str | None]:
    tree = reply_tree(response)
    assert header_of(tree)["SegmentOfResult"] == "1", tree
    body = body_of(tree)
    status, code = body["ProcessingResultStatus"], body.get("ProcessingResultCode")
    assert isinstance(status, str)
    assert code is None or isinstance(code, str)
    return status, code


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Gateway:
    gw = make_gateway()
    reference_numbers.install(gw)
    bulk.install(gw)
    bulk.configure(gw, pace="instant")
    return gw


# --- single registration ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["Shift_JIS", "UTF-8"])
def test_registered_number_comes_back_in_single_results(gateway: Gateway, encoding: str) -> None:
    assert single_reference(gateway) is None  # nothing registered yet
    response = register(gateway, info(number="カルテ００４２"), encoding=encoding)
    tree = reply_tree(response)
    header = header_of(tree)
    assert header["SegmentOfResult"] == "1"
    assert header["MedicalInstitutionCode"] == MIC
    assert header["ArbitraryFileIdentifier"] == "reg-1"
    assert "ReferenceClassification" not in header
    assert body_of(tree) == {
        "ReferenceNumberRegistrationInfo": info(number="カルテ００４２"),
        "ProcessingResultStatus": "1",
    }
    assert single_reference(gateway) == "カルテ００４２"
    assert reference_number_for(gateway, MIC, TAKASAKI) == "カルテ００４２"


def test_never_leaks_to_another_institution(gateway: Gateway) -> None:
    assert status_of(register(gateway, info(number="MINE")))[0] == "1"
    assert single_reference(gateway, mic=OTHER_MIC) is None
    assert reference_number_for(gateway, OTHER_MIC, TAKASAKI) is None
    assert status_of(register(gateway, info(number="THEIRS"), mic=OTHER_MIC))[0] == "1"
    assert single_reference(gateway) == "MINE"
    assert single_reference(gateway, mic=OTHER_MIC) == "THEIRS"


def test_re_registration_replaces(gateway: Gateway) -> None:
    register(gateway, info(number="OLD"))
    register(gateway, info(number="NEW"))
    assert single_reference(gateway) == "NEW"
    registry = reference_numbers.registry(gateway)
    assert registry is not None
    assert registry.entries(MIC) == [(MIC, TAKASAKI, "NEW")]


def test_registered_against_the_qualification_not_the_person(gateway: Gateway) -> None:
    """tenshoku-saburo changed insurer: only the qualification in force can be registered, and the
    number comes back only for it."""
    old = {"insurer": "06139992", "symbol": "7001", "ident": "33", "branch": "00"}
    new = {"insurer": "01139997", "symbol": "55-66", "ident": "3301", "branch": "00"}
    assert status_of(register(gateway, info(number="T1", **old))) == ("2", "MGW2102")
    assert status_of(register(gateway, info(number="T1", **new))) == ("1", None)
    card = {"birthdate": "19850101"}
    assert single_reference(gateway, insurer="01139997", symbol="55-66", number="3301", **card) == "T1"
    assert single_reference(gateway, insurer="06139992", symbol="7001", number="33", **card) is None


@pytest.mark.parametrize(
    ("fields", "code", "detail"),
    [
        (info(ident="4242"), "MGW2102", "有効な資格に一致しません"),  # nobody
        (info(symbol="7002"), "MGW2102", "有効な資格に一致しません"),  # wrong 記号
        (info(ident="88"), "MGW2102", "有効な資格に一致しません"),  # soushitsu-jiro: lost 10 days ago
        (info(insurer="31139991", symbol="88", ident="501"), "MGW2102", "有効な資格に一致しません"),  # starts tomorrow
        (info(insurer="31139991", symbol="88", ident="777", branch=None), "MGW2103", "枝番を指定してください"),  # twins
    ],
)
def test_unknown_qualification_is_a_person_level_error(
    gateway: Gateway, fields: dict[str, str], code: str, detail: str
) -> None:
    tree = reply_tree(register(gateway, fields))
    body = body_of(tree)
    assert body["ProcessingResultStatus"] == "2"
    assert body["ProcessingResultCode"] == code
    message = body["ProcessingResultMessage"]
    assert isinstance(message, str)
    assert detail in message
    assert body["ReferenceNumberRegistrationInfo"] == fields
    registry = reference_numbers.registry(gateway)
    assert registry is not None
    assert registry.entries() == []


def test_branch_may_be_left_out_when_it_names_one_qualification(gateway: Gateway) -> None:
    assert status_of(register(gateway, info(branch=None))) == ("1", None)  # takasaki-sakiko: 00 only
    kouki = info(number="K", insurer="39139993", symbol=None, ident="12345678", branch=None)
    assert status_of(register(gateway, kouki)) == ("1", None)  # 後期高齢者: no 記号, no 枝番
    assert reference_number_for(gateway, MIC, CardKey("39139993", "", "12345678", "")) == "K"


@pytest.mark.parametrize(
    ("fields", "code", "element"),
    [
        (info(number="X" * 51), "MGW1004", "ReferenceNumber"),
        (info(number=None), "MGW1003", "ReferenceNumber"),
        (info(number="   "), "MGW1003", "ReferenceNumber"),
        (info(insurer="06139993"), "MGW1005", "InsurerNumber"),
        (info(insurer="139998", symbol="模擬市", ident="100234"), "MGW1004", "InsurerNumber"),  # not padded
        (info(ident=None), "MGW1003", "InsuredIdentificationNumber"),
        (info(branch="0"), "MGW1004", "InsuredBranchNumber"),
    ],
)
def test_malformed_registration_fails_the_file(
    gateway: Gateway, fields: dict[str, str], code: str, element: str
) -> None:
    header = header_of(reply_tree(register(gateway, fields)))
    assert header["SegmentOfResult"] == "9"
    assert header["ErrorCode"] == code
    message = header["ErrorMessage"]
    assert isinstance(message, str)
    assert f"ReferenceNumberRegistrationInfo/{element}" in message


def test_fifty_characters_is_the_limit(gateway: Gateway) -> None:
    assert status_of(register(gateway, info(number="照" * 50))) == ("1", None)
    assert single_reference(gateway) == "照" * 50


def test_registrations_survive_a_restart(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = make_gateway()
    reference_numbers.install(gateway)
    register(gateway, info(number="KEEP"))
    again = make_gateway(db=tmp_path / "mockgateway.sqlite3", personas=False)
    reference_numbers.install(again)
    assert single_reference(again) == "KEEP"


def test_fixture_extension_seeds_numbers(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    reference_numbers.install(gateway)
    doc = {
        "insurers": [{"InsurerNumber": "06139992", "InsurerName": "模擬商事健康保険組合"}],
        "persons": [
            {
                "id": "seeded", "Name": "登録　済子", "NameKana": "トウロク　スミコ", "Sex1": "2",
                "Birthdate": "19700101", "reference_numbers": {MIC: "SEED-1", "123": "bad code is skipped"},
                "qualifications": [
                    {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001", "InsuredIdentificationNumber": "900",
                     "InsuredBranchNumber": "00", "QualificationDate": "20200401"},
                ],
            }
        ],
    }  # fmt: skip
    gateway.load(load_documents([("seed", doc)], FROZEN_AT.date()), replace=False)
    key = CardKey("06139992", "7001", "900", "00")
    assert reference_number_for(gateway, MIC, key) == "SEED-1"
    register(gateway, info(number="API", ident="900"))
    gateway.reload()  # a reload does not overwrite what a clinic registered
    assert reference_number_for(gateway, MIC, key) == "API"


def test_registry_reads_the_store(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = make_gateway()
    registry = ReferenceNumberRegistry(gateway.store)
    registry.register(MIC, TAKASAKI, "R1", FROZEN_AT)
    assert ReferenceNumberRegistry(gateway.store).lookup(MIC, TAKASAKI) == "R1"


# --- bulk registration and bulk results -------------------------------------------------------------------------


def _two_step(gateway: Gateway, family: str, tree: Tree, *, mic: str = MIC) -> Tree:
    up = reply_tree(gateway.process(f"{family}01", xmlcodec.render("XmlMsg", tree, "Shift_JIS"), fmt=Format.XML,
                                    transport="test"))  # fmt: skip
    number = body_of(up)["ReceptionNumber"]
    assert isinstance(number, str)
    feature = bulk.feature(gateway)
    assert feature is not None
    feature.worker.run_once()
    raw = xmlcodec.render("XmlMsg", download_tree(mic, number), "Shift_JIS")
    return reply_tree(gateway.process(f"{family}02", raw, fmt=Format.XML, transport="test"))


def _units(tree: Tree, name: str) -> list[Tree]:
    node = body_of(tree)[name]
    items = node if isinstance(node, list) else [node]
    return [item for item in items if isinstance(item, dict)]


def test_bulk_registration_then_bulk_and_single_results(gateway: Gateway) -> None:
    records = [
        info(number="B-42"),
        info(number="B-X", ident="4242"),  # nobody
        info(number="B-77", ident="77"),  # gendo-kenji
        info(number="Y" * 51, ident="77"),  # too long: this record only
        info(number="B-5678", insurer="01139997", symbol="12-34", ident="5678", branch="01"),  # hoken-hanako
    ]
    result = _two_step(gateway, "OQSmuimm", upload_tree(REGISTRATION, MIC, records, file_identifier="reg-bulk"))
    header = header_of(result)
    assert header["SegmentOfResult"] == "1"
    assert header["ArbitraryFileIdentifier"] == "reg-bulk"
    assert (header["NumberOfProcessingResult"], header["NumberOfNormalProcessing"], header["NumberOfError"]) == (
        "5", "3", "2",
    )  # fmt: skip
    assert "QualificationConfirmationDate" not in header
    units = _units(result, "BulkRegistrationUnit")
    assert [u["ReferenceNumberRegistrationInfo"] for u in units] == records
    assert [(u["ProcessingResultStatus"], u.get("ProcessingResultCode")) for u in units] == [
        ("1", None), ("2", "MGW2102"), ("1", None), ("2", "MGW2101"), ("1", None),
    ]  # fmt: skip
    assert single_reference(gateway) == "B-42"
    assert single_reference(gateway, number="77", birthdate="19720520") == "B-77"  # the too-long one did not replace

    searches = [
        {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001", "InsuredIdentificationNumber": "42",
         "InsuredBranchNumber": "00", "Birthdate": "19900909"},
        {"InsurerNumber": "01139997", "InsuredCardSymbol": "12-34", "InsuredIdentificationNumber": "5678",
         "InsuredBranchNumber": "00", "Birthdate": "19800401"},  # hoken-taro: nothing registered
        {"InsurerNumber": "01139997", "InsuredCardSymbol": "12-34", "InsuredIdentificationNumber": "5678",
         "InsuredBranchNumber": "01", "Birthdate": "19820715"},
    ]  # fmt: skip
    mine = _units(_two_step(gateway, "OQSmuquc", upload_tree(CONFIRM, MIC, searches)), "BulkConfirmUnit")
    assert [u.get("ReferenceNumber") for u in mine] == ["B-42", None, "B-5678"]
    theirs = _units(
        _two_step(gateway, "OQSmuquc", upload_tree(CONFIRM, OTHER_MIC, searches), mic=OTHER_MIC), "BulkConfirmUnit"
    )
    assert [u.get("ReferenceNumber") for u in theirs] == [None, None, None]


def test_registration_reception_number_is_not_a_confirmation_one(gateway: Gateway) -> None:
    up = gateway.process(
        "OQSmuimm01",
        xmlcodec.render("XmlMsg", upload_tree(REGISTRATION, MIC, [info()]), "Shift_JIS"),
        fmt=Format.XML,
        transport="test",
    )
    number = body_of(reply_tree(up))["ReceptionNumber"]
    assert isinstance(number, str)
    raw = xmlcodec.render("XmlMsg", download_tree(MIC, number), "Shift_JIS")
    header = header_of(reply_tree(gateway.process("OQSmuquc02", raw, fmt=Format.XML, transport="test")))
    assert header["ErrorCode"] == "MGW1203"
