"""医療扶助の資格確認 by 公費負担者番号 + 受給者番号 (OQSsiquc01, inferred elements) through `Gateway.process`."""

from __future__ import annotations

from typing import Any

import pytest

from mockgateway.domain.model import TICKET_ELEMENTS
from mockgateway.engine import Format, Gateway, Response
from mockgateway.services import fujo
from mockgateway.services.bulk import service as bulk
from mockgateway.services.eligibility import API_ID
from mockgateway.services.fujo.layout import single_request
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree
from tests.conftest import GatewayFactory, body_of, eligibility_request, header_of, reply_tree, results_of

MIC = "1310112345"  # the 医療機関 the personas' 医療券 designate
PEN = "12139994"


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Gateway:
    gw = make_gateway()
    bulk.install(gw)
    fujo.install(gw)
    return gw


def ask(gateway: Gateway, beneficiary: str, birthdate: str, *, pen: str = PEN, date: str = "20250618",
        month: str | None = None, mic: str = MIC, encoding: str = "Shift_JIS") -> Response:  # fmt: skip
    tree = single_request(mic, date, pen, beneficiary, birthdate, month=month, file_identifier="F-1")
    return gateway.process(API_ID, xmlcodec.render("XmlMsg", tree, encoding), fmt=Format.XML, transport="test")


def only_result(tree: Tree) -> Tree:
    results = results_of(tree)
    assert len(results) == 1
    return results[0]


def test_valid_recipient_gets_every_ticket_element(gateway: Gateway) -> None:
    tree = reply_tree(ask(gateway, "1000017", "19600101"))
    assert header_of(tree)["SegmentOfResult"] == "1"
    body = body_of(tree)
    assert body["ProcessingResultStatus"] == "1"
    assert body["QualificationValidity"] == "1"
    assert body["QualificationConfirmSearchInfo"] == {
        "PublicExpenseNumber": PEN, "BeneficiaryNumber": "1000017", "Birthdate": "19600101",
    }  # fmt: skip
    result = only_result(tree)
    assert result["InsuredCardClassification"] == "A1"
    assert result["InsurerNumber"] == PEN
    assert result["InsuredIdentificationNumber"] == "1000017"
    assert result["PublicExpenseNumber"] == PEN
    assert result["BeneficiaryNumber"] == "1000017"
    assert result["WelfareOfficeName"] == "模擬市福祉事務所"
    assert result["QualificationDate"] == "20230401"
    info = result["PublicExpenseResultList"]
    assert isinstance(info, dict)
    ticket = info["MedicalTicketInfo"]
    assert isinstance(ticket, dict)  # only this month's ticket
    assert list(ticket) == list(TICKET_ELEMENTS)
    assert ticket["MedicalTreatmentMonth"] == "202506"
    assert ticket["MedicalTicketValidDate"] == "20250601"
    assert ticket["MedicalTicketExpirationDate"] == "20250630"
    assert ticket["StatusOfInfecton"] == "0"  # the interface's own spelling
    assert ticket["Remarks3"] == "備考３"


def test_last_month_is_asked_with_medical_treatment_month(gateway: Gateway) -> None:
    ticket = only_result(reply_tree(ask(gateway, "1000017", "19600101", month="202505")))["PublicExpenseResultList"]
    assert isinstance(ticket, dict)
    assert xmlcodec.text_at(ticket, "MedicalTicketInfo", "IssueNumber") == "2025000099"


def test_no_ticket_this_month_is_six(gateway: Gateway) -> None:
    response = ask(gateway, "1000025", "19751111")
    tree = reply_tree(response)
    assert body_of(tree)["QualificationValidity"] == "6"
    assert "PublicExpenseResultList" not in only_result(tree)
    assert gateway.journal.entries()[-1].validity == "6"
    # last month's ticket is registered: 1 for that month
    assert body_of(reply_tree(ask(gateway, "1000025", "19751111", month="202505")))["QualificationValidity"] == "1"


def test_another_institution_without_a_ticket_gets_six(gateway: Gateway) -> None:
    tree = reply_tree(ask(gateway, "1000017", "19600101", mic="1311234569"))
    assert body_of(tree)["QualificationValidity"] == "6"


def test_ended_assistance_then_kokuho_is_three_and_the_kokuho_card_is_one(gateway: Gateway) -> None:
    tree = reply_tree(ask(gateway, "1000033", "19680606"))
    assert body_of(tree)["QualificationValidity"] == "3"
    result = only_result(tree)
    assert result["DisqualificationDate"] == "20250601"
    assert result["InsuredCardClassification"] == "A1"
    card = eligibility_request(insurer="  139998", symbol="模擬市", number="100555", branch="00", birthdate="19680606")
    kokuho = reply_tree(gateway.process(API_ID, card, fmt=Format.XML, transport="test"))
    assert body_of(kokuho)["QualificationValidity"] == "1"
    assert "PublicExpenseNumber" not in only_result(kokuho)
    # before the end (last month) the same numbers were 1, with last month's ticket
    before = reply_tree(ask(gateway, "1000033", "19680606", date="20250520", month="202505"))
    assert body_of(before)["QualificationValidity"] == "1"


def test_card_elements_spelling_is_the_same_query(gateway: Gateway) -> None:
    request = eligibility_request(insurer=PEN, symbol=None, number="1000017", branch=None, birthdate="19600101",
                                  mic=MIC)  # fmt: skip
    tree = reply_tree(gateway.process(API_ID, request, fmt=Format.XML, transport="test"))
    assert body_of(tree)["QualificationValidity"] == "1"
    assert "PublicExpenseResultList" in only_result(tree)


@pytest.mark.parametrize(
    ("fields", "code", "element"),
    [
        ({"pen": "12139995"}, "MGW1005", "PublicExpenseNumber"),  # wrong 検証番号
        ({"pen": "01139997"}, "MGW1004", "PublicExpenseNumber"),  # not 法別 12
        ({"beneficiary": "10000"}, "MGW1004", "BeneficiaryNumber"),
        ({"month": "202507"}, "MGW1401", "MedicalTreatmentMonth"),  # 診療年月 in the future
        ({"month": "2025-6"}, "MGW1401", "MedicalTreatmentMonth"),
    ],
)
def test_bad_input_is_segment_nine_naming_the_element(gateway: Gateway, fields: dict[str, Any], code: str,
                                                      element: str) -> None:  # fmt: skip
    args: dict[str, Any] = {"beneficiary": "1000017", "birthdate": "19600101", **fields}
    response = ask(gateway, args.pop("beneficiary"), args.pop("birthdate"), **args)
    header = header_of(reply_tree(response))
    assert header["SegmentOfResult"] == "9"
    assert header["ErrorCode"] == code
    assert element in str(header["ErrorMessage"])


def test_unknown_beneficiary_is_a_person_error_naming_the_element(gateway: Gateway) -> None:
    tree = reply_tree(ask(gateway, "9999999", "19600101"))
    assert header_of(tree)["SegmentOfResult"] == "1"
    body = body_of(tree)
    assert body["ProcessingResultStatus"] == "2"
    assert body["ProcessingResultCode"] == "MGW2901"
    assert "BeneficiaryNumber" in str(body["ProcessingResultMessage"])
    assert "QualificationValidity" not in body


def test_json_web_api_tree_gives_the_same_answer(gateway: Gateway) -> None:
    import orjson

    tree = single_request(MIC, "20250618", PEN, "1000025", "19751111")
    answer = gateway.process(API_ID, orjson.dumps({"XmlMsg": tree}), fmt=Format.JSON, transport="test")
    assert b'"QualificationValidity":"6"' in answer.body
