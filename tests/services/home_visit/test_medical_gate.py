"""The 医療情報 gate learns continuing consent (居宅) and refuses 資格確認限定型 institutions."""

from __future__ import annotations

from mockgateway.engine import Format, Gateway, Response
from mockgateway.services.medical.client import card_search, disaster_request, medical_request
from mockgateway.services.medical.service import CHECKUP_API, DRUG_API
from mockgateway.wire import xmlcodec
from tests.services.home_visit.conftest import MIC, OTHER_MIC, SEJUTSU, card_of, requery, send

ISHIKAWA_SEJUTSU = "1770000014"  # 石川県, 点数表番号 7 (施術所 by the default coding)


def ask(g: Gateway, pid: str, api: str = DRUG_API, *, mic: str = MIC) -> Response:
    card = max(g.index.people[pid].qualifications, key=lambda q: q.qualification_date)
    return g.process(api, medical_request(card, medical_institution=mic), fmt=Format.XML, transport="test")


def outcome(response: Response) -> tuple[str, str]:
    header = xmlcodec.parse(response.body).tree["MessageHeader"]
    assert isinstance(header, dict)
    return str(header.get("ResultCode")), str(header.get("MessageContents", ""))


def test_continuing_consent_opens_drug_information_without_a_counter_consent(gateway: Gateway) -> None:
    response = ask(gateway, "kyotaku-ume")
    assert outcome(response)[0] == "1", response.body[:400]
    assert response.entry.extra["medical"]["consent"]["available_until"] == "20271024000000"


def test_continuing_consent_is_per_institution_and_per_kind(gateway: Gateway) -> None:
    assert "MGW2503" in outcome(ask(gateway, "kyotaku-ume", mic=OTHER_MIC))[1]
    # kyotaku-kiyoshi agreed to 薬剤 only for オンライン診療等 here; 特定健診 only at OTHER_MIC
    assert outcome(ask(gateway, "kyotaku-kiyoshi"))[0] == "1"
    assert outcome(ask(gateway, "kyotaku-kiyoshi", CHECKUP_API))[0] == "2"
    assert outcome(ask(gateway, "kyotaku-kiyoshi", CHECKUP_API, mic=OTHER_MIC))[0] == "1"


def test_lapsed_and_withdrawn_consents_are_refused_with_their_reason(gateway: Gateway) -> None:
    code, words = outcome(ask(gateway, "kyotaku-kigire"))
    assert code == "2"
    assert "MGW2504" in words
    assert "閲覧同意フラグ 2" in words
    code, words = outcome(ask(gateway, "kyotaku-torikeshi"))
    assert code == "2"
    assert "MGW2503" in words
    assert "取り消されました" in words


def test_withdrawal_through_the_interface_closes_medical_information(gateway: Gateway) -> None:
    from mockgateway.domain.continuing_consent import Family
    from mockgateway.services.home_visit.layout import patient_query_tree

    assert outcome(ask(gateway, "kyotaku-ume"))[0] == "1"
    send(gateway, "OQSsihvd01", patient_query_tree(MIC, Family.HOME_VISIT, card_of(gateway, "kyotaku-ume")))
    assert outcome(ask(gateway, "kyotaku-ume"))[0] == "2"


def test_a_therapy_institution_gets_no_medical_information_and_learns_nothing(gateway: Gateway) -> None:
    for api in (DRUG_API, CHECKUP_API):
        code, words = outcome(ask(gateway, "sejutsu-kenta", api, mic=SEJUTSU))
        assert code == "2"
        assert "MGW2801" in words
        assert "施術所" in words
    # the same words for a person who does not exist: the gate comes before the lookup
    unknown = gateway.process(
        DRUG_API,
        medical_request({"InsurerNumber": "01139997", "InsuredPersonIdentificationNumber": "999999"},
                        medical_institution=SEJUTSU),
        fmt=Format.XML, transport="test",
    )  # fmt: skip
    assert "MGW2801" in outcome(unknown)[1]


def test_a_therapy_institution_still_confirms_eligibility(gateway: Gateway) -> None:
    from tests.conftest import eligibility_request

    card = card_of(gateway, "sejutsu-kenta")
    body = eligibility_request(
        insurer=card["InsurerNumber"].strip(), symbol=card["InsuredCardSymbol"],
        number=card["InsuredIdentificationNumber"], branch=card["InsuredBranchNumber"],
        birthdate=card["Birthdate"], mic=SEJUTSU, date="20261123",
    )  # fmt: skip
    response = gateway.process("OQSsiquc01", body, fmt=Format.XML, transport="test")
    assert b"<QualificationValidity>1</QualificationValidity>" in response.body


def test_checkup_and_midwifery_institutions_are_limited_too(gateway: Gateway) -> None:
    for mic in ("1380000016", "1390000014"):
        assert "MGW2801" in outcome(ask(gateway, "hoken-taro", mic=mic))[1]


def test_disaster_search_is_refused_for_a_limited_institution(gateway: Gateway) -> None:
    from tests.services.medical.test_disaster import declare

    declare(gateway)
    person = gateway.index.people["sejutsu-kenta"]
    q = person.qualifications[0]
    response = gateway.process("MGWdsquc01", disaster_request(card_search(q, person.birthdate),
                                                               medical_institution=ISHIKAWA_SEJUTSU),
                               fmt=Format.XML, transport="test")  # fmt: skip
    code, words = outcome(response)
    assert code == "2"
    assert "MGW2802" in words


def test_the_registry_wins_over_the_digit(gateway: Gateway) -> None:
    from mockgateway.services import limited

    feature = limited.feature(gateway)
    feature.register({"1310112345": "施術所"})
    assert "MGW2801" in outcome(ask(gateway, "kyotaku-ume"))[1]
    feature.register({"1310112345": None})
    assert outcome(ask(gateway, "kyotaku-ume"))[0] == "1"
    feature.set_digits({"7": "医療機関"})
    assert "MGW2801" not in outcome(ask(gateway, "sejutsu-kenta", mic="1370000026"))[1]
    assert feature.kind_of("1370000026").value == "医療機関"
    assert feature.kind_of(SEJUTSU).value == "施術所"  # registered in fixtures


def test_requery_still_works_for_eligibility(gateway: Gateway) -> None:
    assert b"<ProcessingResultStatus>1</ProcessingResultStatus>" in requery(gateway, "kyotaku-ume").body
