"""YZKsiquc01 / TKKsiquc01 through `Gateway.process`: consent, retention, refusals, journal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mockgateway.app import build_gateway
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.domain.clock import jst
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.engine import Format, Gateway, Response
from mockgateway.fixtures import load_documents, load_paths
from mockgateway.services.medical.client import medical_request
from mockgateway.services.medical.service import CHECKUP_API, DRUG_API, medical_feature
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree

NOW = jst(2026, 11, 23, 10, 0)
MIC = "1310112345"  # 東京都 医科
OTHER_MIC = "1310110018"
PHARMACY = "1340112349"  # 点数表番号 4


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    g = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))
    g.clock.set(NOW, running=False)
    g.load(load_paths([DEFAULT_FIXTURES], g.clock.today()))
    yield g
    g.store.close()


def consent(
    g: Gateway, pid: str, kind: ConsentKind = ConsentKind.DRUG, *, mic: str = MIC,
    flag: ConsentFlag = ConsentFlag.GIVEN, at: dt.datetime | None = None,
) -> Consent:  # fmt: skip
    given = Consent(pid, mic, kind, flag, at or g.clock.now())
    g.consents.record(given)
    return given


def ask(g: Gateway, pid: str, api: str = DRUG_API, *, mic: str = MIC, **kwargs: object) -> Response:
    card = max(g.index.people[pid].qualifications, key=lambda q: q.qualification_date)
    body = medical_request(card, medical_institution=mic, **kwargs)  # type: ignore[arg-type]
    return g.process(api, body, fmt=Format.XML, transport="test")


def tree(response: Response) -> Tree:
    return xmlcodec.parse(response.body).tree


def head(response: Response) -> Tree:
    node = tree(response)["MessageHeader"]
    assert isinstance(node, dict)
    return node


def values(node: Node, suffix: str) -> list[str]:
    """Every text whose element name ends with `suffix`, anywhere below `node`."""
    out: list[str] = []
    if isinstance(node, list):
        for item in node:
            out += values(item, suffix)
    elif isinstance(node, dict):
        for key, child in node.items():
            if key.endswith(suffix) and isinstance(child, str):
                out.append(child)
            else:
                out += values(child, suffix)
    return out


def refused(response: Response, code: str) -> str:
    h = head(response)
    assert h["ResultCode"] == "2", h
    message = h["MessageContents"]
    assert isinstance(message, str)
    assert message.startswith(code), message
    assert response.entry.segment == "9"
    return message


def test_no_consent_is_refused_and_journalled(gateway: Gateway) -> None:
    response = ask(gateway, "hoken-taro")
    assert "薬剤情報の閲覧同意がありません" in refused(response, "MGW2503")
    assert response.entry.extra["medical"]["refused"] == "medical.no_consent"
    assert response.entry.extra["medical"]["person"] == "hoken-taro"
    assert values(tree(response), "DrugN") == []


def test_drugs_within_three_years_with_every_source(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro")
    response = ask(gateway, "hoken-taro")
    result = tree(response)
    header = head(response)
    assert header["ResultCode"] == "1"
    assert "MessageContents" not in header
    assert header["QuaInf"] == {"Name": "保険　太郎", "KanaName": "ﾎｹﾝ ﾀﾛｳ", "Birth": "19800401", "AdmGendCode": "1"}
    body = result["MessageBody"]
    assert isinstance(body, dict)
    names = values(body["MeTrMonthInf"], "DrugN")
    assert "カンデサルタン錠８ｍｇ「模擬」" in names  # 35 months ago
    assert "レバミピド錠１００ｍｇ「模擬」" not in values(body, "DrugN")  # 37 months ago
    assert values(body["ShPrInf"], "ShDrugN") == ["アムロジピン錠５ｍｇ「模擬」"]
    assert values(body["CzDiInf"], "CzDrugN") == ["アムロジピン錠５ｍｇ「模擬」"]
    assert values(body, "CzPrlsHCd") == ["1310110018"]
    assert values(body, "MeTrInf") == []  # 診療情報 only with FileCategory 3/4
    facts = response.entry.extra["medical"]
    assert facts["consent"]["available_until"] == "20261124100000"
    assert facts["viewer_role"] == "医師"
    assert facts["viewer_role_sent"] is False
    assert facts["period"] == ["20231123", "20261123"]


def test_month_blocks_follow_the_documented_nesting(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro")
    body = tree(ask(gateway, "hoken-taro"))["MessageBody"]
    assert isinstance(body, dict)
    months = body["MeTrMonthInf"]
    assert isinstance(months, list)
    first = months[0]
    assert isinstance(first, dict)
    assert first["MeTrMonth"] == "202312"
    assert first["MeTrDiHCd"] == "1340140019"
    assert first["DiOrg"] == "3"  # a 薬局's receipt
    assert first["PrIsOrg"] == "2"  # not the requesting 医療機関
    date_block = first["DiDateInfs"]
    assert isinstance(date_block, dict)
    day = date_block["DiDateInf"]
    assert isinstance(day, dict)
    assert day["DiDate"] == "20231223"
    drugs = day["DrugInfs"]
    assert isinstance(drugs, dict)
    line = drugs["DrugInf"]
    assert isinstance(line, dict)
    assert list(line) == ["DrugC", "DrugN", "IngreN", "Qua1", "Unit", "UsageN", "Times", "MeTrIdCl"]


def test_the_consent_window_closes_24_hours_after_consent(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro", at=NOW - dt.timedelta(hours=24) + dt.timedelta(seconds=1))
    assert head(ask(gateway, "hoken-taro"))["ResultCode"] == "1"
    gateway.clock.advance(dt.timedelta(seconds=1))
    message = refused(ask(gateway, "hoken-taro"), "MGW2504")
    assert "(20261122100001) の有効期限 20261123100001 を過ぎています" in message


@pytest.mark.parametrize(
    ("flag", "mic", "code"),
    [
        (ConsentFlag.NONE, MIC, "MGW2503"),
        (ConsentFlag.EXPIRED, MIC, "MGW2504"),
        (ConsentFlag.GIVEN, OTHER_MIC, "MGW2503"),  # consent is per 医療機関
    ],
)
def test_consent_must_be_given_here(gateway: Gateway, flag: ConsentFlag, mic: str, code: str) -> None:
    consent(gateway, "hoken-taro", flag=flag, mic=mic)
    refused(ask(gateway, "hoken-taro"), code)


def test_consent_of_another_kind_does_not_open_drugs(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro", ConsentKind.CHECKUP)
    refused(ask(gateway, "hoken-taro"), "MGW2503")
    assert head(ask(gateway, "hoken-taro", CHECKUP_API))["ResultCode"] == "1"


def test_a_grace_period_consent_gives_no_medical_information(gateway: Gateway) -> None:
    feature = medical_feature(gateway)
    feature.grace.mark(consent(gateway, "hoken-taro"))
    assert "猶予期間" in refused(ask(gateway, "hoken-taro"), "MGW2505")
    gateway.clock.advance(dt.timedelta(hours=1))
    consent(gateway, "hoken-taro")  # the renewed card: no mark
    assert head(ask(gateway, "hoken-taro"))["ResultCode"] == "1"


@pytest.mark.parametrize(
    ("api", "role", "allowed"),
    [
        (DRUG_API, "医師", True),
        (DRUG_API, "歯科医師", True),
        (DRUG_API, "薬剤師", True),
        (DRUG_API, "pharmacist", True),
        (DRUG_API, "事務", False),
        (CHECKUP_API, "医師", True),
        (CHECKUP_API, "薬剤師", False),
        (CHECKUP_API, "看護師", False),
    ],
)
def test_only_qualified_viewers(gateway: Gateway, api: str, role: str, allowed: bool) -> None:
    for kind in (ConsentKind.DRUG, ConsentKind.CHECKUP):
        consent(gateway, "hoken-taro", kind)
    response = ask(gateway, "hoken-taro", api, viewer_role=role)
    if allowed:
        assert head(response)["ResultCode"] == "1"
        assert response.entry.extra["medical"]["viewer_role_sent"] is True
    else:
        assert role in refused(response, "MGW2508")
    assert response.entry.extra["medical"]["viewer_role"] == {"pharmacist": "薬剤師"}.get(role, role)


def test_viewer_role_element_and_requirement_are_settings(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro")
    feature = medical_feature(gateway)
    feature.update_settings({"require_viewer_role": "true", "viewer_role_element": "OperatorRole"})
    response = ask(gateway, "hoken-taro", viewer_role="医師")  # sent under the old name
    assert "OperatorRole" in refused(response, "MGW1003")
    assert head(ask(gateway, "hoken-taro", viewer_role="医師", role_element="OperatorRole"))["ResultCode"] == "1"


def test_checkups_for_a_clinic_five_years_but_never_for_a_pharmacy(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro", ConsentKind.CHECKUP)
    response = ask(gateway, "hoken-taro", CHECKUP_API)
    result = tree(response)
    header = head(response)
    assert header["QualificationsInfo"] == {
        "Name": "保険　太郎", "KanasName": "ﾎｹﾝ ﾀﾛｳ", "Birthday": "19800401", "AdministrativeGenderCode": "1",
    }  # fmt: skip
    assert values(result, "EffectiveTime") == ["20260123"]  # 61 months ago is gone, 10 months ago stays
    assert "142" in values(result, "DataValue")
    consent(gateway, "hoken-taro", ConsentKind.CHECKUP, mic=PHARMACY)
    assert "点数表番号は 4" in refused(ask(gateway, "hoken-taro", CHECKUP_API, mic=PHARMACY), "MGW2507")


EXTRA = """
insurers:
  - {InsurerNumber: "07139991", InsurerName: 模擬防衛省共済組合}
  - {InsurerNumber: "12139994", InsurerName: 模擬市福祉事務所}
persons:
  - id: jieikan-ken
    Name: 自衛　健
    NameKana: ジエイ　ケン
    Sex1: "1"
    Birthdate: "19900101"
    qualifications:
      - {InsurerNumber: "07139991", InsuredCardSymbol: "01", InsuredIdentificationNumber: "7001",
         InsuredCardClassification: "07", QualificationDate: "20200101"}
    medical: {drugs: [{DiDate: today-1m, MeTrDiHCd: "1340140019", DrugInf: [{DrugC: "699900011", DrugN: x}]}]}
  - id: fujo-hana
    Name: 扶助　花
    NameKana: フジョ　ハナ
    Sex1: "2"
    Birthdate: "19600101"
    qualifications:
      - {InsurerNumber: "12139994", InsuredIdentificationNumber: "5551234", InsuredCardClassification: "A1",
         QualificationDate: "20200101"}
  - id: broken-records
    Name: 壊れ　記録
    NameKana: コワレ　キロク
    Sex1: "1"
    Birthdate: "19700101"
    qualifications:
      - {InsurerNumber: "07139991", InsuredIdentificationNumber: "7999", QualificationDate: "20200101"}
    medical: {drugs: [{DiDate: "2026-01-01", MeTrDiHCd: "1340140019", DrugInf: [{DrugC: "1", DrugN: x}]}]}
"""


def add_people(g: Gateway, text: str) -> None:
    g.load(load_documents([("test", yaml.load(text, Loader=yaml.BaseLoader))], g.clock.today()), replace=False)


@pytest.mark.parametrize(("pid", "words"), [("jieikan-ken", "自衛官診療証"), ("fujo-hana", "医療扶助")])
def test_no_medical_information_for_these_tickets(gateway: Gateway, pid: str, words: str) -> None:
    add_people(gateway, EXTRA)
    consent(gateway, pid)
    assert words in refused(ask(gateway, pid), "MGW2506")


def test_a_persona_with_broken_records_is_told_not_guessed(gateway: Gateway) -> None:
    add_people(gateway, EXTRA)
    consent(gateway, "broken-records")
    assert "DiDate" in refused(ask(gateway, "broken-records"), "MGW2510")


def test_unknown_and_ambiguous_cards(gateway: Gateway) -> None:
    card = {"InsurerNumber": "01139997", "InsuranceCardSymbol": "12-34", "InsuredPersonIdentificationNumber": "9999"}
    response = gateway.process(DRUG_API, medical_request(card, medical_institution=MIC), fmt=Format.XML, transport="t")
    refused(response, "MGW2501")
    twins = {"InsurerNumber": "31139991", "InsuranceCardSymbol": "88", "InsuredPersonIdentificationNumber": "777"}
    response = gateway.process(DRUG_API, medical_request(twins, medical_institution=MIC), fmt=Format.XML, transport="t")
    assert "枝番" in refused(response, "MGW2502")


def test_a_malformed_request_gets_the_drug_result_shape(gateway: Gateway) -> None:
    response = ask(gateway, "hoken-taro", mic="1310112346")
    message = refused(response, "MGW1005")
    assert "MedicalInstitutionCode" in message
    bad_category = ask(gateway, "hoken-taro", CHECKUP_API, file_category="3")
    assert "FileCategory" in refused(bad_category, "MGW1004")


def test_period_is_checked_and_clipped_to_retention(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro")
    backwards = ask(gateway, "hoken-taro", start=dt.date(2026, 1, 1), end=dt.date(2025, 1, 1))
    assert "StartDate" in refused(backwards, "MGW2509")
    clipped = ask(gateway, "hoken-taro", start=dt.date(2020, 1, 1), end=dt.date(2024, 1, 1))
    header = head(clipped)
    assert header["ResultCode"] == "1"
    assert str(header["MessageContents"]).startswith("MGW3502")
    assert values(tree(clipped), "DrugN") == ["カンデサルタン錠８ｍｇ「模擬」"]


def test_clinical_information_needs_its_own_consent(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro")
    without = ask(gateway, "hoken-taro", file_category="4")
    assert values(tree(without), "SinInfN") == []
    assert str(head(without)["MessageContents"]).startswith("MGW3501")
    consent(gateway, "hoken-taro", ConsentKind.DIAGNOSIS)
    with_it = ask(gateway, "hoken-taro", file_category="4")
    assert values(tree(with_it), "SinInfN") == ["再診料", "生化学的検査（１）（１０項目以上）"]
    assert with_it.entry.extra["medical"]["procedures"] == 2


def test_emergency_consent_opens_the_window_and_is_journalled(gateway: Gateway) -> None:
    consent(gateway, "hoken-taro", flag=ConsentFlag.UNOBTAINABLE)
    response = ask(gateway, "hoken-taro")
    assert head(response)["ResultCode"] == "1"
    assert response.entry.extra["medical"]["emergency"] is True
    assert response.entry.extra["medical"]["consent"]["flag"] == "3"
    assert response.entry.reason is not None
    assert "救急時" in response.entry.reason


def test_retention_follows_the_clock_and_the_setting(gateway: Gateway) -> None:
    gateway.clock.advance(dt.timedelta(days=61))  # 2027-01-23: the 35-month-old record is now 37 months old
    consent(gateway, "hoken-taro")
    assert "カンデサルタン錠８ｍｇ「模擬」" not in values(tree(ask(gateway, "hoken-taro")), "DrugN")
    medical_feature(gateway).update_settings({"drug_years": 5})
    names = values(tree(ask(gateway, "hoken-taro")), "DrugN")
    assert {"カンデサルタン錠８ｍｇ「模擬」", "レバミピド錠１００ｍｇ「模擬」"} <= set(names)


def test_settings_survive_a_restart(gateway: Gateway, tmp_path: Path) -> None:
    medical_feature(gateway).update_settings({"checkup_years": "4", "drug_roles": ["doctor", "薬剤師"]})
    again = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))
    try:
        settings = medical_feature(again).settings
        assert settings.retention.checkup_years == 4
        assert settings.drug_roles == ("医師", "薬剤師")
    finally:
        again.store.close()
    with pytest.raises(ValueError, match="unknown medical setting"):
        medical_feature(gateway).update_settings({"drug_year": 5})
