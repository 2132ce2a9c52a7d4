"""OQSsiquc01 through `Gateway.process` with real request files and the default personas."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.codes import CharacterCode
from mockgateway.engine import Format, Gateway, Response, Settings
from mockgateway.fixtures import load_paths
from mockgateway.services.eligibility import API_ID, EligibilityService
from mockgateway.wire.xmlcodec import Tree
from tests.conftest import (
    MIC,
    GatewayFactory,
    body_of,
    eligibility_request,
    header_of,
    reply_tree,
    results_of,
)


def ask(gateway: Gateway, **fields: Any) -> Response:
    return gateway.process(API_ID, eligibility_request(**fields), fmt=Format.XML, transport="test")


def validity(response: Response) -> str:
    value = body_of(reply_tree(response))["QualificationValidity"]
    assert isinstance(value, str)
    return value


# persona → the search keys printed on their card
CARDS: dict[str, dict[str, str | None]] = {
    "hoken-taro": {"insurer": "01139997", "symbol": "12-34", "number": "5678", "branch": "00",
                   "birthdate": "19800401"},
    "hoken-hanako": {"insurer": "01139997", "symbol": "12-34", "number": "5678", "branch": "01",
                     "birthdate": "19820715"},
    "kokuho-ichiro": {"insurer": "  139998", "symbol": "模擬市", "number": "100234", "branch": "00",
                      "birthdate": "19650203"},
    "kouki-ume": {"insurer": "39139993", "symbol": None, "number": "12345678", "branch": None,
                  "birthdate": "19400110"},
    "takasaki-sakiko": {"insurer": "06139992", "symbol": "7001", "number": "42", "branch": "00",
                        "birthdate": "19900909"},
    "gendo-kenji": {"insurer": "06139992", "symbol": "7001", "number": "77", "branch": "00",
                    "birthdate": "19720520"},
    "kourei-jukyu": {"insurer": "  139998", "symbol": "模擬市", "number": "100999", "branch": "00",
                     "birthdate": "19530618"},
    "soushitsu-jiro": {"insurer": "06139992", "symbol": "7001", "number": "88", "branch": "00",
                       "birthdate": "19880808"},
    "tenshoku-saburo-old": {"insurer": "06139992", "symbol": "7001", "number": "33", "branch": "00",
                            "birthdate": "19850101"},
    "tenshoku-saburo-new": {"insurer": "01139997", "symbol": "55-66", "number": "3301", "branch": "00",
                            "birthdate": "19850101"},
    "seiho-shiro": {"insurer": "  139998", "symbol": "模擬市", "number": "100444", "branch": "00",
                    "birthdate": "19700303"},
    "mirai-goro": {"insurer": "31139991", "symbol": "88", "number": "501", "branch": "00",
                   "birthdate": "20000505"},
    "futago": {"insurer": "31139991", "symbol": "88", "number": "777", "branch": None,
               "birthdate": "20180612"},
    "futago-ichika": {"insurer": "31139991", "symbol": "88", "number": "777", "branch": "02",
                      "birthdate": "20180612"},
    "futago-nika": {"insurer": "31139991", "symbol": "88", "number": "777", "branch": "03",
                    "birthdate": "20180612"},
    "kumiai-natsu": {"insurer": "  133991", "symbol": "05", "number": "3456", "branch": "00",
                     "birthdate": "19930707"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("card", "expected", "names"),
    [
        ("hoken-taro", "1", ["保険　太郎"]),
        ("hoken-hanako", "1", ["保険　花子"]),
        ("kokuho-ichiro", "1", ["国保　一郎"]),
        ("kouki-ume", "1", ["後期　うめ"]),
        ("takasaki-sakiko", "1", ["髙﨑　咲子"]),
        ("gendo-kenji", "1", ["限度　健二"]),
        ("kourei-jukyu", "1", ["高齢　受給"]),
        ("soushitsu-jiro", "2", ["喪失　次郎"]),
        ("tenshoku-saburo-old", "3", ["転職　三郎"]),
        ("tenshoku-saburo-new", "1", ["転職　三郎"]),
        ("seiho-shiro", "2", ["保護　四郎"]),
        ("mirai-goro", "4", []),
        ("futago", "5", ["双子　一花", "双子　二花"]),
        ("futago-ichika", "1", ["双子　一花"]),
        ("futago-nika", "1", ["双子　二花"]),
        ("kumiai-natsu", "1", ["組合　なつ"]),
    ],
)
def test_every_persona(gateway: Gateway, card: str, expected: str, names: list[str]) -> None:
    response = ask(gateway, **CARDS[card])
    tree = reply_tree(response)
    header, body = header_of(tree), body_of(tree)
    assert header["SegmentOfResult"] == "1"
    assert "ErrorCode" not in header
    assert body["ProcessingResultStatus"] == "1"
    assert body["QualificationValidity"] == expected
    assert [r["Name"] for r in results_of(tree)] == names
    assert response.entry.validity == expected


def test_valid_result_contents(gateway: Gateway) -> None:
    tree = reply_tree(ask(gateway, **CARDS["hoken-taro"]))
    assert results_of(tree) == [
        {
            "InsuredCardClassification": "01",
            "InsurerNumber": "01139997",
            "InsuredCardSymbol": "12-34",
            "InsuredIdentificationNumber": "5678",
            "InsuredBranchNumber": "00",
            "PersonalFamilyClassification": "1",
            "InsuredName": "保険　太郎",
            "Name": "保険　太郎",
            "NameKana": "ﾎｹﾝ ﾀﾛｳ",
            "Sex1": "1",
            "Birthdate": "19800401",
            "Address": "東京都千代田区霞が関一丁目２番２号",
            "PostNumber": "100-8916",
            "QualificationDate": "20200401",
            "InsuredCertificateIssuanceDate": "20200401",
            "InsuredCardValidDate": "20200401",
            "InsuredPartialContributionRatio": "030",
            "InsurerName": "全国健康保険協会東京支部",
            "LimitApplicationCertificateRelatedConsFlg": "0",
        }
    ]


def test_result_element_order(gateway: Gateway) -> None:
    tree = reply_tree(ask(gateway, **CARDS["hoken-taro"]))
    assert list(header_of(tree)) == [
        "ProcessExecutionTime",
        "QualificationConfirmationDate",
        "MedicalInstitutionCode",
        "ArbitraryFileIdentifier",
        "ReferenceClassification",
        "SegmentOfResult",
        "CharacterCodeIdentifier",
    ]
    assert list(body_of(tree)) == [
        "ProcessingResultStatus",
        "QualificationValidity",
        "QualificationConfirmSearchInfo",
        "ResultList",
    ]


def test_header_of_a_normal_result(gateway: Gateway) -> None:
    header = header_of(reply_tree(ask(gateway, **CARDS["hoken-taro"], file_id="abc-123")))
    assert header == {
        "ProcessExecutionTime": "20250618103000",
        "QualificationConfirmationDate": "20250618",
        "MedicalInstitutionCode": MIC,
        "ArbitraryFileIdentifier": "abc-123",
        "ReferenceClassification": "2",
        "SegmentOfResult": "1",
        "CharacterCodeIdentifier": CharacterCode.SHIFT_JIS.value,
    }


def test_search_info_is_echoed_as_sent(gateway: Gateway) -> None:
    body = body_of(reply_tree(ask(gateway, **CARDS["kokuho-ichiro"])))
    assert body["QualificationConfirmSearchInfo"] == {
        "InsurerNumber": "  139998",
        "InsuredCardSymbol": "模擬市",
        "InsuredIdentificationNumber": "100234",
        "InsuredBranchNumber": "00",
        "Birthdate": "19650203",
        "LimitApplicationCertificateRelatedConsFlg": "0",
    }


def test_kouki_result_has_no_symbol_branch_or_family(gateway: Gateway) -> None:
    (result,) = results_of(reply_tree(ask(gateway, **CARDS["kouki-ume"])))
    assert "InsuredCardSymbol" not in result
    assert "InsuredBranchNumber" not in result
    assert "PersonalFamilyClassification" not in result
    assert result["InsuredPartialContributionRatio"] == "010"


def test_elderly_recipient_certificate(gateway: Gateway) -> None:
    (result,) = results_of(reply_tree(ask(gateway, **CARDS["kourei-jukyu"])))
    assert result["Birthdate"] == "19530618"  # today-72y
    assert result["ElderlyRecipientCertificateInfo"] == {
        "ElderlyRecipientCertificateDate": "20250501",
        "ElderlyRecipientValidStartDate": "20250501",
        "ElderlyRecipientValidEndDate": "20260430",
        "ElderlyRecipientContributionRatio": "020",
    }


def test_lost_result_carries_loss_date_and_reason(gateway: Gateway) -> None:
    response = ask(gateway, **CARDS["soushitsu-jiro"])
    (result,) = results_of(reply_tree(response))
    assert result["DisqualificationDate"] == "20250608"
    assert result["ReasonOfLoss"] == "99"
    assert response.entry.reason == "資格喪失 20250608"


def test_3_describes_the_old_qualification(gateway: Gateway) -> None:
    response = ask(gateway, **CARDS["tenshoku-saburo-old"])
    (result,) = results_of(reply_tree(response))
    assert result["InsurerNumber"] == "06139992"
    assert result["InsuredIdentificationNumber"] == "33"
    assert result["DisqualificationDate"] == "20250516"
    assert result["ReasonOfLoss"] == "03"
    assert response.entry.reason == "資格喪失 20250516; 同じ人に有効な資格があります (01139997)"


def test_twins_without_branch_list_both(gateway: Gateway) -> None:
    results = results_of(reply_tree(ask(gateway, **CARDS["futago"])))
    assert [(r["Name"], r["InsuredBranchNumber"]) for r in results] == [("双子　一花", "02"), ("双子　二花", "03")]


# --- as-of-date edges -------------------------------------------------------------------------


@pytest.mark.parametrize(("date", "expected"), [("20250607", "1"), ("20250608", "2"), ("20250609", "2")])
def test_loss_date_edges(gateway: Gateway, date: str, expected: str) -> None:
    assert validity(ask(gateway, **CARDS["soushitsu-jiro"], date=date)) == expected


def test_qualification_starting_tomorrow(gateway: Gateway) -> None:
    response = ask(gateway, **CARDS["mirai-goro"])
    body = body_of(reply_tree(response))
    assert body["QualificationValidity"] == "4"
    assert "ResultList" not in body
    assert response.entry.reason == "資格取得年月日 20250619 が資格確認日 20250618 より後です"


def test_qualification_on_its_first_day(gateway: Gateway) -> None:
    response = ask(gateway, **CARDS["mirai-goro"], date="20250619")
    (result,) = results_of(reply_tree(response))
    assert validity(response) == "1"
    assert result["QualificationDate"] == "20250619"


def test_confirmation_date_is_the_requests_not_the_clocks(gateway: Gateway) -> None:
    # the clock says 2025-06-18; the request asks about 2025-05-15, before the change of insurer
    assert validity(ask(gateway, **CARDS["tenshoku-saburo-old"], date="20250515")) == "1"
    assert validity(ask(gateway, **CARDS["tenshoku-saburo-new"], date="20250515")) == "4"


# --- near misses ---------------------------------------------------------------------------------


def test_birthdate_mismatch(gateway: Gateway) -> None:
    response = ask(gateway, **{**CARDS["takasaki-sakiko"], "birthdate": "19900910"})
    assert validity(response) == "4"
    assert response.entry.reason is not None
    assert response.entry.reason.startswith("生年月日が一致しません")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"symbol": "7002"}, "被保険者証記号が一致しません: 送信 '7002'"),
        ({"symbol": None}, "被保険者証記号が一致しません: 送信 ''"),
        ({"branch": "01"}, "被保険者証枝番が一致しません: 送信 '01'"),
        ({"insurer": "01139997"}, "保険者番号が一致しません: 送信 '01139997'"),
        ({"number": "43"}, "被保険者証番号 '43' の資格は登録されていません"),
    ],
)
def test_wrong_key_names_it(gateway: Gateway, change: dict[str, str | None], named: str) -> None:
    response = ask(gateway, **{**CARDS["takasaki-sakiko"], **change})
    body = body_of(reply_tree(response))
    assert body["ProcessingResultStatus"] == "1"
    assert body["QualificationValidity"] == "4"
    assert "ResultList" not in body
    assert response.entry.reason is not None
    assert response.entry.reason.startswith(named)


# --- 限度額適用認定証 / 特定疾病 --------------------------------------------------------------------


def test_limit_certificate_with_consent(gateway: Gateway) -> None:
    (result,) = results_of(reply_tree(ask(gateway, **CARDS["gendo-kenji"], consent="1")))
    assert result["LimitApplicationCertificateRelatedConsFlg"] == "1"
    assert result["LimitApplicationCertificateRelatedConsTime"] == "20250618103000"
    assert result["LimitApplicationCertificateRelatedInfo"] == {
        "LimitApplicationCertificateClassification": "01",
        "LimitApplicationCertificateClassificationFlag": "A03",
        "LimitApplicationCertificateDate": "20250401",
        "LimitApplicationCertificateValidStartDate": "20250401",
        "LimitApplicationCertificateValidEndDate": "20260331",
    }
    assert result["SpecificDiseasesCertificateRelatedConsFlg"] == "1"
    assert result["SpecificDiseasesCertificateList"] == {
        "SpecificDiseasesCertificateInfo": {
            "SpecificDiseasesDiseaseCategory": "1",
            "SpecificDiseasesCertificateDate": "20230401",
            "SpecificDiseasesValidStartDate": "20230401",
            "SpecificDiseasesSelfPay": "10000",
        }
    }


@pytest.mark.parametrize("consent", ["0", None])
def test_limit_certificate_without_consent(gateway: Gateway, consent: str | None) -> None:
    (result,) = results_of(reply_tree(ask(gateway, **CARDS["gendo-kenji"], consent=consent)))
    assert result["LimitApplicationCertificateRelatedConsFlg"] == "0"
    for absent in (
        "LimitApplicationCertificateRelatedConsTime",
        "LimitApplicationCertificateRelatedInfo",
        "SpecificDiseasesCertificateRelatedConsFlg",
        "SpecificDiseasesCertificateList",
    ):
        assert absent not in result


def test_limit_certificate_outside_its_validity_is_left_out(gateway: Gateway) -> None:
    (result,) = results_of(reply_tree(ask(gateway, **CARDS["gendo-kenji"], consent="1", date="20250331")))
    assert result["LimitApplicationCertificateRelatedConsFlg"] == "1"
    assert "LimitApplicationCertificateRelatedInfo" not in result
    assert "SpecificDiseasesCertificateList" in result  # still in force


def test_consent_flag_must_be_0_or_1(gateway: Gateway) -> None:
    header = header_of(reply_tree(ask(gateway, **CARDS["gendo-kenji"], consent="2")))
    assert header["SegmentOfResult"] == "9"
    assert header["ErrorCode"] == "MGW1004"
    assert "LimitApplicationCertificateRelatedConsFlg" in str(header["ErrorMessage"])


# --- identifiers and the 照会番号 hook ---------------------------------------------------------------


def test_arbitrary_identifier_is_echoed_in_the_result(gateway: Gateway) -> None:
    tree = reply_tree(ask(gateway, **CARDS["hoken-taro"], arbitrary="受付-0001"))
    (result,) = results_of(tree)
    assert result["ArbitraryIdentifier"] == "受付-0001"
    info = body_of(tree)["QualificationConfirmSearchInfo"]
    assert isinstance(info, dict)
    assert info["ArbitraryIdentifier"] == "受付-0001"


def test_reference_number_lookup(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    calls: list[tuple[str, str]] = []

    def lookup(mic: str, key: object) -> str | None:
        calls.append((mic, getattr(key, "number", "")))
        return "REF-42"

    gateway.register(API_ID, EligibilityService(reference_numbers=lookup))
    (result,) = results_of(reply_tree(ask(gateway, **CARDS["takasaki-sakiko"])))
    assert result["ReferenceNumber"] == "REF-42"
    assert calls == [(MIC, "42")]
    # no single match (5): not asked
    ask(gateway, **CARDS["futago"])
    assert len(calls) == 1


def test_reference_number_absent_when_not_registered(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    gateway.register(API_ID, EligibilityService(reference_numbers=lambda mic, key: None))
    (result,) = results_of(reply_tree(ask(gateway, **CARDS["takasaki-sakiko"])))
    assert "ReferenceNumber" not in result


def test_relaxed_padding_serves_a_bare_six_digit_number(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(settings=Settings(strict_insurer_padding=False))
    response = ask(gateway, **{**CARDS["kokuho-ichiro"], "insurer": "139998"})
    tree: Tree = reply_tree(response)
    assert body_of(tree)["QualificationValidity"] == "1"
    (result,) = results_of(tree)
    assert result["InsurerNumber"] == "  139998"


def test_remembered_parts_of_the_answer_follow_every_fixture_setting_and_clock_change(
    make_gateway: GatewayFactory,
) -> None:
    """The hot path remembers validated request values and each person's rendered qualification;
    a change of fixtures, settings or clock must show in the very next answer to the same bytes."""
    gateway = make_gateway()
    request = eligibility_request(consent="1")
    first = reply_tree(ask(gateway, consent="1"))
    assert results_of(first)[0]["Name"] == "髙﨑　咲子"
    assert reply_tree(gateway.process(API_ID, request, fmt=Format.XML, transport="test")) == first  # remembered

    # fixtures: the same person renamed → the new name at once
    data = load_paths([DEFAULT_FIXTURES], gateway.clock.today())
    data.documents = {"takasaki-sakiko": copy.deepcopy(data.documents["takasaki-sakiko"])}
    data.documents["takasaki-sakiko"]["Name"] = "高崎　咲子"
    gateway.load(data, replace=False)
    renamed = reply_tree(gateway.process(API_ID, request, fmt=Format.XML, transport="test"))
    assert results_of(renamed)[0]["Name"] == "高崎　咲子"

    # clock: the consent time and the processing time follow it
    gateway.clock.advance(dt.timedelta(minutes=5))
    later = reply_tree(gateway.process(API_ID, request, fmt=Format.XML, transport="test"))
    assert header_of(later)["ProcessExecutionTime"] == "20250618103500"
    assert results_of(later)[0]["LimitApplicationCertificateRelatedConsTime"] == "20250618103500"

    # settings: the output encoding, and the padding rule for the very same (remembered) values
    gateway.settings.output_encoding = "UTF-8"
    utf8 = gateway.process(API_ID, request, fmt=Format.XML, transport="test").body
    assert utf8.startswith(b'<?xml version="1.0" encoding="UTF-8"')
    assert "高崎　咲子".encode() in utf8
    bare = eligibility_request(insurer="139998", symbol="模擬市", number="100234", birthdate="19650203")
    gateway.settings.strict_insurer_padding = False
    assert (
        header_of(reply_tree(gateway.process(API_ID, bare, fmt=Format.XML, transport="test")))["SegmentOfResult"] == "1"
    )
    gateway.settings.strict_insurer_padding = True
    refused = header_of(reply_tree(gateway.process(API_ID, bare, fmt=Format.XML, transport="test")))
    assert refused["SegmentOfResult"] == "9"
