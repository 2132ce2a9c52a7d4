"""再照会 (OQSsihvq01 / OQSsionq01) and 閲覧同意取り消し (OQSsihvd01) through Gateway.process."""

from __future__ import annotations

import dataclasses

from mockgateway.domain.continuing_consent import Family
from mockgateway.engine import Format, Gateway
from mockgateway.services.home_visit import feature
from mockgateway.services.home_visit.layout import patient_query_tree
from tests.services.home_visit.conftest import MIC, OTHER_MIC, body, card_of, header, requery, result, send


def test_valid_consent_returns_the_current_qualification_with_flags_1(gateway: Gateway) -> None:
    response = requery(gateway, "kyotaku-ume")
    assert header(response)["SegmentOfResult"] == "1"
    assert body(response)["ProcessingResultStatus"] == "1"
    assert body(response)["QualificationValidity"] == "1"
    found = result(response)
    assert found["Name"] == "居宅　梅"
    assert found["PharmacistsInfoConsFlg"] == "1"
    assert found["DiagnosisInfoConsFlg"] == "1"
    assert found["OperationInfoConsFlg"] == "0"
    # AvailableTime is the continuing consent's end (from + consent_days), not consent + 24 h
    assert found["PharmacistsInfoConsTime"] == "20261024000000"
    assert found["PharmacistsInfoAvailableTime"] == "20271024000000"
    assert response.entry.extra["home_visit"]["status"] == "valid"


def test_another_institution_gets_the_same_answer_as_for_an_unknown_card(gateway: Gateway) -> None:
    other = requery(gateway, "kyotaku-ume", mic=OTHER_MIC)
    unknown = send(gateway, "OQSsihvq01",
                   patient_query_tree(MIC, Family.HOME_VISIT, dict(card_of(gateway, "kyotaku-ume"),
                                                                   Birthdate="19400311")))  # fmt: skip
    for response in (other, unknown):
        assert header(response)["SegmentOfResult"] == "1"
        assert body(response)["ProcessingResultStatus"] == "2"
        assert body(response)["ProcessingResultCode"] == "MGW2701"
        assert "ResultList" not in body(response)
        assert b"\x8b\x8f\x91\xee" not in response.body  # 居宅 (cp932): no name of the patient


def test_a_consent_of_the_other_family_does_not_count(gateway: Gateway) -> None:
    # kyotaku-kiyoshi consented to オンライン診療等 at MIC and to 訪問診療等 at OTHER_MIC only
    assert body(requery(gateway, "kyotaku-kiyoshi"))["ProcessingResultCode"] == "MGW2701"
    online = requery(gateway, "kyotaku-kiyoshi", family=Family.ONLINE)
    assert body(online)["ProcessingResultStatus"] == "1"
    assert result(online)["PharmacistsInfoConsFlg"] == "1"
    assert result(online)["SpecificHealthCheckupsInfoConsFlg"] == "0"
    elsewhere = requery(gateway, "kyotaku-kiyoshi", mic=OTHER_MIC)
    assert result(elsewhere)["SpecificHealthCheckupsInfoConsFlg"] == "1"


def test_a_lapsed_consent_gives_the_qualification_with_flag_2_and_a_notice(gateway: Gateway) -> None:
    response = requery(gateway, "kyotaku-kigire")
    assert body(response)["ProcessingResultStatus"] == "1"
    assert body(response)["ProcessingResultCode"] == "MGW3701"
    assert result(response)["PharmacistsInfoConsFlg"] == "2"
    assert result(response)["SpecificHealthCheckupsInfoConsFlg"] == "2"


def test_lapsed_requery_can_be_refused_by_setting(gateway: Gateway) -> None:
    feature(gateway).update_settings({"lapsed_requery": "false"})
    assert body(requery(gateway, "kyotaku-kigire"))["ProcessingResultCode"] == "MGW2701"


def test_a_withdrawn_consent_is_refused(gateway: Gateway) -> None:
    response = requery(gateway, "kyotaku-torikeshi")
    assert body(response)["ProcessingResultStatus"] == "2"
    assert body(response)["ProcessingResultCode"] == "MGW2702"


def test_wrong_treatment_flag_is_a_file_error_naming_the_element(gateway: Gateway) -> None:
    tree = patient_query_tree(MIC, Family.ONLINE, card_of(gateway, "kyotaku-ume"))
    response = send(gateway, "OQSsihvq01", tree)
    assert header(response)["SegmentOfResult"] == "9"
    assert header(response)["ErrorCode"] == "MGW1004"
    assert "MedicalTreatmentFlag" in str(header(response)["ErrorMessage"])


def test_missing_birthdate_is_a_file_error_naming_the_element(gateway: Gateway) -> None:
    card = {k: v for k, v in card_of(gateway, "kyotaku-ume").items() if k != "Birthdate"}
    response = send(gateway, "OQSsihvq01", patient_query_tree(MIC, Family.HOME_VISIT, card))
    assert header(response)["SegmentOfResult"] == "9"
    assert "Birthdate" in str(header(response)["ErrorMessage"])


def test_withdrawal_ends_the_consent_and_survives_a_restart(gateway: Gateway, tmp_path: object) -> None:
    tree = patient_query_tree(MIC, Family.HOME_VISIT, card_of(gateway, "kyotaku-ume"))
    response = send(gateway, "OQSsihvd01", tree)
    assert body(response)["ProcessingResultStatus"] == "1"
    assert body(response)["ConsentWithdrawalDateTime"] == "20261123100000"
    assert body(requery(gateway, "kyotaku-ume"))["ProcessingResultCode"] == "MGW2702"
    # the book is in the store: a second feature on the same store sees the withdrawal
    again = feature(gateway).book.at(MIC, "kyotaku-ume")
    assert again[0].withdrawn_at is not None
    # withdrawing twice: nothing left to withdraw
    assert body(send(gateway, "OQSsihvd01", tree))["ProcessingResultCode"] == "MGW2702"


def test_another_institution_cannot_withdraw(gateway: Gateway) -> None:
    tree = patient_query_tree(OTHER_MIC, Family.HOME_VISIT, card_of(gateway, "kyotaku-ume"))
    assert body(send(gateway, "OQSsihvd01", tree))["ProcessingResultCode"] == "MGW2701"
    assert body(requery(gateway, "kyotaku-ume"))["ProcessingResultStatus"] == "1"


def test_json_on_the_convenience_route_shape(gateway: Gateway) -> None:
    from mockgateway.wire import jsoncodec

    tree = patient_query_tree(MIC, Family.HOME_VISIT, card_of(gateway, "kyotaku-ume"))
    response = gateway.process("OQSsihvq01", jsoncodec.render("XmlMsg", tree), fmt=Format.JSON, transport="test")
    assert b'"QualificationValidity":"1"' in response.body


def test_first_visit_registration_then_requery(gateway: Gateway) -> None:
    from mockgateway.domain.consent import ConsentKind
    from mockgateway.domain.continuing_consent import Channel

    home = feature(gateway)
    assert body(requery(gateway, "hoken-taro"))["ProcessingResultCode"] == "MGW2701"
    made = home.register("hoken-taro", MIC, Channel.BEDSIDE, frozenset({ConsentKind.DRUG}), gateway.clock.now())
    assert made is not None
    assert made.family is Family.HOME_VISIT
    assert body(requery(gateway, "hoken-taro"))["ProcessingResultStatus"] == "1"
    fever = home.register("hoken-hanako", MIC, Channel.FEVER, frozenset({ConsentKind.DRUG}), gateway.clock.now())
    assert fever is None  # 発熱外来: 24 h like the counter, no continuing consent
    assert dataclasses.is_dataclass(made)
