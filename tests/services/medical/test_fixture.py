"""Records from the `medical:` fixture key, retention by the clock's date, seeded generation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from mockgateway.domain.codes import Sex
from mockgateway.domain.model import CardKey, Insurer, Person, Qualification
from mockgateway.domain.numbers import InsurerNumber, MedicalInstitutionCode
from mockgateway.domain.retention import InformationKind, RetentionPolicy, viewing_window, years_before
from mockgateway.fixtures import FixtureError
from mockgateway.services.medical.fixture import MedicalIndex, records_from_extension
from mockgateway.services.medical.generate import DRUGS, PROCEDURES, generate_history
from mockgateway.services.medical.records import DrugSource

TODAY = dt.date(2026, 11, 23)


def person(birth: dt.date = dt.date(1965, 2, 3), sex: Sex = Sex.MALE, medical: Any = None) -> Person:
    insurer = Insurer(InsurerNumber("139998"), "模擬市国民健康保険")
    q = Qualification(insurer, CardKey("139998", "模擬市", "1", "00"), "01", None, None, dt.date(2000, 1, 1))
    return Person("p1", "試験　太郎", "ｼｹﾝ ﾀﾛｳ", birth, sex, (q,), extensions={"medical": medical} if medical else {})


def drug(day: str, name: str = "アムロジピン錠５ｍｇ「模擬」", **extra: Any) -> dict[str, Any]:
    return {
        "DiDate": day,
        "MeTrDiHCd": "1340140019",
        "DrugInf": [{"DrugC": "699900011", "DrugN": name, "IngreN": "アムロジピンベシル酸塩"}],
        **extra,
    }


# -- retention (pure) ---------------------------------------------------------------------------


def test_years_before_keeps_the_calendar_day_and_folds_29_february() -> None:
    assert years_before(dt.date(2026, 11, 23), 3) == dt.date(2023, 11, 23)
    assert years_before(dt.date(2028, 2, 29), 3) == dt.date(2025, 2, 28)


def test_default_windows_drug_3_years_checkup_5_years() -> None:
    policy = RetentionPolicy()
    assert policy.kept_since(InformationKind.DRUG, TODAY) == dt.date(2023, 11, 23)
    assert policy.kept_since(InformationKind.CHECKUP, TODAY) == dt.date(2021, 11, 23)
    assert policy.keeps(InformationKind.DRUG, dt.date(2023, 11, 23), TODAY)
    assert not policy.keeps(InformationKind.DRUG, dt.date(2023, 11, 22), TODAY)
    assert not policy.keeps(InformationKind.DRUG, TODAY + dt.timedelta(days=1), TODAY)  # not yet there


def test_windows_are_configurable_and_checked() -> None:
    five = RetentionPolicy(drug_years=5)
    assert five.keeps(InformationKind.DRUG, dt.date(2022, 1, 1), TODAY)
    with pytest.raises(ValueError, match="drug_years"):
        RetentionPolicy(drug_years=0)


def test_viewing_window_clips_the_request_and_says_so() -> None:
    policy = RetentionPolicy()
    window = viewing_window(policy, InformationKind.DRUG, TODAY, dt.date(2020, 1, 1), dt.date(2030, 1, 1))
    assert (window.start, window.end, window.clipped) == (dt.date(2023, 11, 23), TODAY, True)
    inside = viewing_window(policy, InformationKind.DRUG, TODAY, dt.date(2025, 1, 1), None)
    assert (inside.start, inside.end, inside.clipped) == (dt.date(2025, 1, 1), TODAY, False)


# -- reading the fixture key --------------------------------------------------------------------


def test_records_read_every_source_with_relative_dates() -> None:
    raw = {
        "drugs": [
            drug("today-2m"),
            drug("today-3d", source="eprescription"),
            drug("today-3d", source="dispensing", PrlsHCd="1310110018"),
            {
                "DiDate": "20260901",
                "MeTrDiHCd": "1310110018",
                "MeTrInf": [{"SinInfCd": "199900010", "SinInfN": "再診料"}],
            },
        ],
        "checkups": [
            {
                "EffectiveTime": "today-1y",
                "HealthCheckupResultAndQuestionInfo": [
                    {"ItemCode": "9N001000000000001", "ItemName": "身長", "DataValue": "170"}
                ],
            }
        ],
    }
    records = records_from_extension(person(), raw, TODAY)
    assert [r.source for r in records.drugs] == [
        DrugSource.RECEIPT, DrugSource.RECEIPT, DrugSource.DISPENSING, DrugSource.EPRESCRIPTION,
    ]  # fmt: skip
    assert records.drugs[0].date == dt.date(2026, 9, 1)
    assert records.drugs[1].date == dt.date(2026, 9, 23)
    assert records.drugs[2].prescriber == "1310110018"
    assert records.checkups[0].date == dt.date(2025, 11, 23)


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"drugs": [drug("20260101", MeTrDiHCd="1340140010")]}, "MeTrDiHCd", "検証番号"),
        ({"drugs": [drug("2026-01-01")]}, "DiDate", "YYYYMMDD"),
        ({"drugs": [drug("20260101", source="paper")]}, "source", "receipt"),
        ({"drugs": [{"DiDate": "20260101", "MeTrDiHCd": "1340140019"}]}, "DrugInf", "1件以上"),
        ({"drugs": [drug("20260101", DrugInfo=[])]}, "DrugInfo", "未知の項目"),
        ({"drugs": [{"DiDate": "20260101", "MeTrDiHCd": "1340140019", "DrugInf": [{"DrugN": "x"}]}]}, "DrugC", "必須"),
        (
            {"drugs": [drug("20260101", source="dispensing", MeTrInf=[{"SinInfCd": "1", "SinInfN": "x"}])]},
            "MeTrInf",
            "receipt",
        ),
        ({"checkups": [{"EffectiveTime": "20260101"}]}, "HealthCheckupResultAndQuestionInfo", "1件以上"),
        ({"generate": {"seed": "1", "months": "0"}}, "months", "1〜240"),
        ({"generate": {"months": "12"}}, "seed", "必須"),
        ({"history": []}, "history", "未知の項目"),
    ],
)
def test_a_bad_record_names_person_and_field(raw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(FixtureError) as caught:
        records_from_extension(person(), raw, TODAY)
    assert caught.value.field == field
    assert "p1" in caught.value.where
    assert words in caught.value.detail


def test_the_index_keeps_a_bad_persona_out_and_says_why() -> None:
    good = person(medical={"drugs": [drug("20260101")]})
    bad = Person("p2", "x", "ｴｯｸｽ", dt.date(1990, 1, 1), Sex.FEMALE, good.qualifications,
                 extensions={"medical": {"drugs": [drug("bad")]}})  # fmt: skip
    index = MedicalIndex.build([good, bad], TODAY)
    assert len(index.of("p1").drugs) == 1
    assert index.of("p2").drugs == ()
    assert "DiDate" in index.errors["p2"]


def test_retained_drops_old_lines_and_keeps_procedures_by_their_own_window() -> None:
    raw = {"drugs": [drug("20231122"), drug("20231123"), drug("20261124")]}
    records = records_from_extension(person(), raw, TODAY).retained(RetentionPolicy(), TODAY)
    assert [r.date for r in records.drugs] == [dt.date(2023, 11, 23)]  # one day too old; one in the future
    with_clinical = {"drugs": [drug("20221201", MeTrInf=[{"SinInfCd": "199900010", "SinInfN": "再診料"}])]}
    longer = RetentionPolicy(clinical_years=5)
    kept = records_from_extension(person(), with_clinical, TODAY).retained(longer, TODAY)
    assert kept.drugs[0].drugs == ()
    assert kept.drugs[0].procedures[0].name == "再診料"


# -- generation ----------------------------------------------------------------------------------


def test_generation_is_deterministic_from_the_seed() -> None:
    one = generate_history("42", person(), until=TODAY, months=48)
    again = generate_history("42", person(), until=TODAY, months=48)
    other = generate_history("43", person(), until=TODAY, months=48)
    assert one == again
    assert one != other
    assert len(one.drugs) > 40


def test_generated_history_is_plausible_and_synthetic() -> None:
    records = generate_history("kokuho-ichiro-1", person(), until=TODAY, months=72)
    assert all(dt.date(2020, 11, 1) <= r.date <= TODAY for r in records.drugs)
    for r in records.drugs:
        MedicalInstitutionCode.parse(r.institution)  # valid check digits
        assert all(line.code in DRUGS and "「模擬」" in line.name for line in r.drugs)
        assert all(p.code in PROCEDURES for p in r.procedures)
    receipts = [r for r in records.drugs if r.source is DrugSource.RECEIPT]
    assert max(r.date for r in receipts) <= TODAY - dt.timedelta(days=40)  # receipts lag
    recent = {r.source for r in records.drugs if r.date > TODAY - dt.timedelta(days=30)}
    assert recent <= {DrugSource.EPRESCRIPTION, DrugSource.DISPENSING}
    assert {c.date.year for c in records.checkups} == set(range(2021, 2027))  # 40–74: one a year


def test_no_checkups_outside_40_to_74() -> None:
    assert generate_history("1", person(birth=dt.date(1940, 1, 10)), until=TODAY).checkups == ()
    assert generate_history("1", person(birth=dt.date(2000, 1, 10)), until=TODAY).checkups == ()


def test_the_fixture_merges_generated_and_explicit_records() -> None:
    raw = {"generate": {"seed": "7", "months": "12", "until": "20261123"}, "drugs": [drug("20261122", name="特別")]}
    records = records_from_extension(person(), raw, dt.date(2030, 1, 1))
    assert records.drugs[-1].drugs[0].name == "特別"
    assert records.drugs[0].date >= dt.date(2025, 11, 1)  # anchored at `until`, not the load date
    assert records == records_from_extension(person(), raw, dt.date(2031, 5, 5))
