"""Result trees of 資格確認結果 built from domain objects."""

from __future__ import annotations

import datetime as dt

import orjson

from mockgateway.domain.clock import jst
from mockgateway.domain.codes import (
    CharacterCode,
    ConsentFlag,
    PersonalFamily,
    ReferenceClassification,
    ResultCode,
    SegmentOfResult,
    Sex,
    Validity,
)
from mockgateway.domain.eligibility import Match
from mockgateway.domain.model import (
    CardKey,
    ElderlyRecipientCertificate,
    Insurer,
    LimitCertificate,
    Person,
    Qualification,
    SpecificDiseaseCertificate,
)
from mockgateway.domain.numbers import InsurerNumber
from mockgateway.wire.results import Consent, ResultOptions, eligibility_body, qualification_tree, result_header

NOW = jst(2025, 6, 18, 10, 30, 0)
ON = dt.date(2025, 6, 18)
KOKUHO = Insurer(InsurerNumber("139998"), "模擬市国民健康保険")

LIMIT_NOW = LimitCertificate("01", "A03", dt.date(2025, 4, 1), dt.date(2025, 4, 1), dt.date(2026, 3, 31))
LIMIT_OLD = LimitCertificate("02", "A04", None, dt.date(2024, 4, 1), dt.date(2025, 3, 31), dt.date(2024, 8, 1))
DISEASE = SpecificDiseaseCertificate("1", dt.date(2023, 4, 1), dt.date(2023, 4, 1), None, "10000")
DISEASE_OLD = SpecificDiseaseCertificate("2", None, None, dt.date(2020, 1, 1), None)


def make_match(**qualification: object) -> Match:
    q = Qualification(
        **{  # type: ignore[arg-type]
            "insurer": KOKUHO,
            "key": CardKey("139998", "模擬市", "100234", "00"),
            "card_classification": "01",
            "personal_family": PersonalFamily.INSURED,
            "insured_name": "国保　一郎",
            "qualification_date": dt.date(2015, 4, 1),
            **qualification,
        }
    )
    person = Person("p", "国保　一郎", "ｺｸﾎ ｲﾁﾛｳ", dt.date(1965, 2, 3), Sex.MALE, (q,))
    return Match(person, q)


def test_qualification_tree_minimal_in_order() -> None:
    tree = qualification_tree(make_match(), ResultOptions(on=ON, now=NOW))
    assert list(tree.items()) == [
        ("InsuredCardClassification", "01"),
        ("InsurerNumber", "  139998"),  # 6-digit, right-aligned with spaces
        ("InsuredCardSymbol", "模擬市"),
        ("InsuredIdentificationNumber", "100234"),
        ("InsuredBranchNumber", "00"),
        ("PersonalFamilyClassification", "1"),
        ("InsuredName", "国保　一郎"),
        ("Name", "国保　一郎"),
        ("NameKana", "ｺｸﾎ ｲﾁﾛｳ"),
        ("Sex1", "1"),
        ("Birthdate", "19650203"),
        ("QualificationDate", "20150401"),
        ("InsurerName", "模擬市国民健康保険"),
        ("LimitApplicationCertificateRelatedConsFlg", "0"),
    ]


def test_qualification_tree_lost_with_elderly() -> None:
    match = make_match(
        disqualification_date=dt.date(2025, 6, 8),
        reason_of_loss="99",
        card_issuance_date=dt.date(2015, 4, 1),
        card_valid_date=dt.date(2015, 4, 2),
        card_expiration_date=dt.date(2029, 11, 30),
        partial_contribution_ratio="020",
        preschool="1",
        elderly=ElderlyRecipientCertificate(None, dt.date(2025, 5, 1), dt.date(2026, 4, 30), "020"),
    )
    tree = qualification_tree(match, ResultOptions(on=ON, now=NOW))
    assert tree["DisqualificationDate"] == "20250608"
    assert tree["ReasonOfLoss"] == "99"
    assert tree["InsuredCertificateIssuanceDate"] == "20150401"
    assert tree["InsuredCardValidDate"] == "20150402"
    assert tree["InsuredCardExpirationDate"] == "20291130"
    assert tree["InsuredPartialContributionRatio"] == "020"
    assert tree["PreschoolClassification"] == "1"
    assert tree["ElderlyRecipientCertificateInfo"] == {
        "ElderlyRecipientValidStartDate": "20250501",
        "ElderlyRecipientValidEndDate": "20260430",
        "ElderlyRecipientContributionRatio": "020",
    }
    keys = list(tree)
    assert keys.index("DisqualificationDate") < keys.index("ReasonOfLoss") < keys.index("InsurerName")


def test_limit_info_only_with_consent_and_only_in_force() -> None:
    match = make_match(limits=(LIMIT_OLD, LIMIT_NOW), specific_diseases=(DISEASE, DISEASE_OLD))
    without = qualification_tree(match, ResultOptions(on=ON, now=NOW, limit_consent=False))
    assert without["LimitApplicationCertificateRelatedConsFlg"] == "0"
    assert not any(k.startswith(("LimitApplicationCertificateRelatedInfo", "SpecificDiseases")) for k in without)
    tree = qualification_tree(match, ResultOptions(on=ON, now=NOW, limit_consent=True))
    assert tree["LimitApplicationCertificateRelatedConsFlg"] == "1"
    assert tree["LimitApplicationCertificateRelatedConsTime"] == "20250618103000"
    assert tree["LimitApplicationCertificateRelatedInfo"] == {
        "LimitApplicationCertificateClassification": "01",
        "LimitApplicationCertificateClassificationFlag": "A03",
        "LimitApplicationCertificateDate": "20250401",
        "LimitApplicationCertificateValidStartDate": "20250401",
        "LimitApplicationCertificateValidEndDate": "20260331",
    }
    assert tree["SpecificDiseasesCertificateRelatedConsFlg"] == "1"
    assert tree["SpecificDiseasesCertificateRelatedConsTime"] == "20250618103000"
    assert tree["SpecificDiseasesCertificateList"] == {
        "SpecificDiseasesCertificateInfo": [
            {
                "SpecificDiseasesDiseaseCategory": "1",
                "SpecificDiseasesCertificateDate": "20230401",
                "SpecificDiseasesValidStartDate": "20230401",
                "SpecificDiseasesSelfPay": "10000",
            }
        ]
    }


def test_several_limits_in_force_become_a_list_with_long_term_date() -> None:
    long_term = LimitCertificate("02", "A04", None, dt.date(2025, 1, 1), None, dt.date(2025, 2, 1))
    match = make_match(limits=(LIMIT_NOW, long_term))
    tree = qualification_tree(match, ResultOptions(on=ON, now=NOW, limit_consent=True))
    info = tree["LimitApplicationCertificateRelatedInfo"]
    assert isinstance(info, list)
    assert [i["LimitApplicationCertificateClassification"] for i in info if isinstance(i, dict)] == ["01", "02"]
    assert info[1] == {
        "LimitApplicationCertificateClassification": "02",
        "LimitApplicationCertificateClassificationFlag": "A04",
        "LimitApplicationCertificateValidStartDate": "20250101",
        "LimitApplicationCertificateLongTermDate": "20250201",
    }


def test_consent_without_certificates_in_force() -> None:
    tree = qualification_tree(make_match(limits=(LIMIT_OLD,)), ResultOptions(on=ON, now=NOW, limit_consent=True))
    assert "LimitApplicationCertificateRelatedInfo" not in tree
    assert "SpecificDiseasesCertificateList" not in tree
    assert tree["SpecificDiseasesCertificateRelatedConsFlg"] == "1"


def test_viewing_consents_reference_number_and_identifier() -> None:
    options = ResultOptions(
        on=ON,
        now=NOW,
        consents={
            "PharmacistsInfo": Consent(ConsentFlag.GIVEN, NOW, NOW + dt.timedelta(hours=24)),
            "DiagnosisInfo": Consent(ConsentFlag.NONE),
            "Unknown": Consent(ConsentFlag.GIVEN),
        },
        reference_number="R-1",
        arbitrary_identifier="A-1",
    )
    tree = qualification_tree(make_match(), options)
    assert list(tree.items())[-7:] == [
        ("LimitApplicationCertificateRelatedConsFlg", "0"),
        ("PharmacistsInfoConsFlg", "1"),
        ("PharmacistsInfoConsTime", "20250618103000"),
        ("PharmacistsInfoAvailableTime", "20250619103000"),
        ("DiagnosisInfoConsFlg", "0"),
        ("ReferenceNumber", "R-1"),
        ("ArbitraryIdentifier", "A-1"),
    ]
    assert "UnknownConsFlg" not in tree


def test_result_header_normal() -> None:
    header = result_header(
        now=NOW,
        mic="1311234569",
        confirmation_date=ON,
        arbitrary_file_identifier="f",
        reference=ReferenceClassification.INSURANCE_CARD,
        segment=SegmentOfResult.NORMAL,
        error=None,
        character_code=CharacterCode.UTF8,
    )
    assert list(header.items()) == [
        ("ProcessExecutionTime", "20250618103000"),
        ("QualificationConfirmationDate", "20250618"),
        ("MedicalInstitutionCode", "1311234569"),
        ("ArbitraryFileIdentifier", "f"),
        ("ReferenceClassification", "2"),
        ("SegmentOfResult", "1"),
        ("CharacterCodeIdentifier", "0"),
    ]


def test_result_header_error_echoes_raw_text() -> None:
    header = result_header(
        now=NOW,
        mic=None,
        confirmation_date="2025xx18",  # as it came, even when unparseable
        arbitrary_file_identifier=None,
        reference=None,
        segment=SegmentOfResult.ABNORMAL,
        error=ResultCode("E1", "だめ"),
        character_code=CharacterCode.SHIFT_JIS,
    )
    assert header == {
        "ProcessExecutionTime": "20250618103000",
        "QualificationConfirmationDate": "2025xx18",
        "SegmentOfResult": "9",
        "ErrorCode": "E1",
        "ErrorMessage": "だめ",
        "CharacterCodeIdentifier": "1",
    }


def test_eligibility_body_single_and_multiple() -> None:
    options = ResultOptions(on=ON, now=NOW)
    one = eligibility_body(Validity.VALID, [make_match()], options, search_echo={"InsurerNumber": "  139998"})
    assert list(one) == [
        "ProcessingResultStatus",
        "QualificationValidity",
        "QualificationConfirmSearchInfo",
        "ResultList",
    ]
    assert one["ProcessingResultStatus"] == "1"
    assert one["QualificationValidity"] == "1"
    result_list = one["ResultList"]
    assert isinstance(result_list, dict)
    assert isinstance(result_list["ResultOfQualificationConfirmation"], dict)
    two = eligibility_body(Validity.MULTIPLE, [make_match(), make_match()], options, search_echo=None)
    result_list = two["ResultList"]
    assert isinstance(result_list, dict)
    assert isinstance(result_list["ResultOfQualificationConfirmation"], list)
    assert "QualificationConfirmSearchInfo" not in two


def test_eligibility_body_not_found_has_no_result_list() -> None:
    body = eligibility_body(Validity.NOT_FOUND, [], ResultOptions(on=ON, now=NOW), search_echo={})
    assert body == {"ProcessingResultStatus": "1", "QualificationValidity": "4", "QualificationConfirmSearchInfo": {}}


def test_eligibility_body_notice_and_person_error() -> None:
    options = ResultOptions(on=ON, now=NOW)
    notice = eligibility_body(
        Validity.VALID, [make_match()], options, search_echo=None, notice=ResultCode("N1", "お知らせ")
    )
    assert (notice["ProcessingResultStatus"], notice["ProcessingResultCode"], notice["ProcessingResultMessage"]) == (
        "1",
        "N1",
        "お知らせ",
    )
    assert notice["QualificationValidity"] == "1"
    error = eligibility_body(
        Validity.VALID,
        [],
        options,
        search_echo=None,
        notice=ResultCode("N1", "x"),
        person_error=ResultCode("P1", "誤り"),
    )
    assert error == {"ProcessingResultStatus": "2", "ProcessingResultCode": "P1", "ProcessingResultMessage": "誤り"}


def test_specific_diseases_flat_layout_lists_the_certificates_themselves() -> None:
    from mockgateway.wire import jsoncodec, xmlcodec

    match = make_match(specific_diseases=(DISEASE,))
    certificate = {
        "SpecificDiseasesDiseaseCategory": "1",
        "SpecificDiseasesCertificateDate": "20230401",
        "SpecificDiseasesValidStartDate": "20230401",
        "SpecificDiseasesSelfPay": "10000",
    }
    flat = qualification_tree(match, ResultOptions(on=ON, now=NOW, limit_consent=True, diseases_layout="flat"))
    nested = qualification_tree(match, ResultOptions(on=ON, now=NOW, limit_consent=True))
    assert flat["SpecificDiseasesCertificateList"] == [certificate]
    assert nested["SpecificDiseasesCertificateList"] == {"SpecificDiseasesCertificateInfo": [certificate]}
    # JSON: an array of certificate objects (flat) or an object holding the Info array (nested)
    as_json = orjson.loads(jsoncodec.render("R", {"r": flat}))["R"]["r"]
    assert as_json["SpecificDiseasesCertificateList"] == [certificate]
    nested_json = orjson.loads(jsoncodec.render("R", {"r": nested}))["R"]["r"]
    assert nested_json["SpecificDiseasesCertificateList"] == {"SpecificDiseasesCertificateInfo": [certificate]}
    # XML: the List element repeated (flat) or one List holding Info elements (nested)
    flat_xml = xmlcodec.render("R", {"r": flat}).decode()
    assert "<SpecificDiseasesCertificateList><SpecificDiseasesDiseaseCategory>1<" in flat_xml
    assert "SpecificDiseasesCertificateInfo" not in flat_xml
    nested_xml = xmlcodec.render("R", {"r": nested}).decode()
    assert "<SpecificDiseasesCertificateList><SpecificDiseasesCertificateInfo><SpecificDiseasesDiseaseCategory>" in (
        nested_xml
    )


def test_two_certificates_flat_are_two_list_elements() -> None:
    from mockgateway.wire import xmlcodec

    second = SpecificDiseaseCertificate("2", dt.date(2024, 4, 1), dt.date(2024, 4, 1), None, "20000")
    match = make_match(specific_diseases=(DISEASE, second))
    flat = qualification_tree(match, ResultOptions(on=ON, now=NOW, limit_consent=True, diseases_layout="flat"))
    parsed = xmlcodec.parse(xmlcodec.render("R", {"r": flat})).tree["r"]
    assert isinstance(parsed, dict)
    listed = parsed["SpecificDiseasesCertificateList"]
    assert isinstance(listed, list)
    assert [c["SpecificDiseasesDiseaseCategory"] for c in listed if isinstance(c, dict)] == ["1", "2"]


def test_every_consent_flag_writes_the_specific_diseases_flag_as_zero() -> None:
    match = make_match(specific_diseases=(DISEASE,))
    face = qualification_tree(match, ResultOptions(on=ON, now=NOW, every_consent_flag=True))
    assert face["SpecificDiseasesCertificateRelatedConsFlg"] == "0"
    assert "SpecificDiseasesCertificateList" not in face
    plain = qualification_tree(match, ResultOptions(on=ON, now=NOW))
    assert "SpecificDiseasesCertificateRelatedConsFlg" not in plain
