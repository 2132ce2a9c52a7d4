"""YAML fixtures: validation naming file / person / field, relative dates, the default personas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.codes import PersonalFamily, Sex
from mockgateway.domain.kana import is_half_width_kana
from mockgateway.engine import Gateway
from mockgateway.fixture_files import parse_yaml
from mockgateway.fixtures import (
    Dataset,
    FixtureError,
    load_documents,
    load_paths,
    read_files,
    resolve_date,
    resolve_relative,
)
from tests.conftest import GatewayFactory

TODAY = dt.date(2025, 6, 18)

INSURERS = [
    {"InsurerNumber": "06139992", "InsurerName": "模擬商事健康保険組合"},
    {"InsurerNumber": "139998", "InsurerName": "模擬市国民健康保険"},
]


def person(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "test-person",
        "Name": "試験　太郎",
        "NameKana": "シケン　タロウ",
        "Sex1": "1",
        "Birthdate": "19900101",
        "qualifications": [qualification()],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def qualification(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "InsurerNumber": "06139992",
        "InsuredCardSymbol": "7001",
        "InsuredIdentificationNumber": "1001",
        "InsuredBranchNumber": "00",
        "QualificationDate": "20200401",
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def load(*persons: dict[str, Any], source: str = "people.yaml") -> Dataset:
    return load_documents([(source, {"insurers": INSURERS, "persons": list(persons)})], TODAY)


def refused(*persons: dict[str, Any]) -> FixtureError:
    with pytest.raises(FixtureError) as info:
        load(*persons)
    return info.value


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- a valid person --------------------------------------------------------------------------------


def test_minimal_person() -> None:
    data = load(person())
    p = data.persons["test-person"]
    assert p.name == "試験　太郎"
    assert p.name_kana == "ｼｹﾝ ﾀﾛｳ"  # stored half-width
    assert p.birthdate == dt.date(1990, 1, 1)
    assert p.sex1 is Sex.MALE
    (q,) = p.qualifications
    assert q.insurer.name == "模擬商事健康保険組合"
    assert q.key.insurer_number == "06139992"
    assert q.card_classification == "01"  # default
    assert q.personal_family is None
    assert q.disqualification_date is None


def test_every_qualification_key() -> None:
    q = qualification(
        InsurerNumber="  139998",
        InsuredCardClassification="05",
        PersonalFamilyClassification="2",
        InsuredName="試験　父",
        DisqualificationDate="20250601",
        ReasonOfLoss="03",
        InsuredCertificateIssuanceDate="20200402",
        InsuredCardValidDate="20200403",
        InsuredCardExpirationDate="20291130",
        InsuredPartialContributionRatio="020",
        PreschoolClassification="1",
        ElderlyRecipientCertificateInfo={
            "ElderlyRecipientCertificateDate": "20250101",
            "ElderlyRecipientValidStartDate": "20250101",
            "ElderlyRecipientValidEndDate": "20251231",
            "ElderlyRecipientContributionRatio": "020",
        },
        LimitApplicationCertificateRelatedInfo=[
            {
                "LimitApplicationCertificateClassification": "02",
                "LimitApplicationCertificateClassificationFlag": "B05",
                "LimitApplicationCertificateDate": "20250101",
                "LimitApplicationCertificateValidStartDate": "20250101",
                "LimitApplicationCertificateValidEndDate": "20251231",
                "LimitApplicationCertificateLongTermDate": "20250301",
            }
        ],
        SpecificDiseasesCertificateInfo=[
            {
                "SpecificDiseasesDiseaseCategory": "3",
                "SpecificDiseasesCertificateDate": "20240101",
                "SpecificDiseasesValidStartDate": "20240101",
                "SpecificDiseasesValidEndDate": "20261231",
                "SpecificDiseasesSelfPay": "20000",
            }
        ],
        comment="メモ",
    )
    p = load(
        person(
            qualifications=[q],
            Sex1="2",
            Sex2="1",
            NameOfOther="通称",
            NameOfOtherKana="ツウショウ",
            Address="東京都",
            PostNumber="100-0001",
            comment="メモ",
            card={"registered": "false", "comment": "read by the card feature"},
        )
    ).persons["test-person"]
    (parsed,) = p.qualifications
    assert parsed.key.insurer_number == "139998"
    assert parsed.card_classification == "05"
    assert parsed.personal_family is PersonalFamily.FAMILY
    assert parsed.disqualification_date == dt.date(2025, 6, 1)
    assert parsed.reason_of_loss == "03"
    assert parsed.card_expiration_date == dt.date(2029, 11, 30)
    assert parsed.elderly is not None
    assert parsed.elderly.contribution_ratio == "020"
    assert parsed.limits[0].classification_flag == "B05"
    assert parsed.limits[0].long_term_date == dt.date(2025, 3, 1)
    assert parsed.specific_diseases[0].self_pay == "20000"
    assert p.sex2 is Sex.MALE
    assert p.name_of_other_kana == "ﾂｳｼｮｳ"
    assert p.extensions == {"card": {"registered": "false", "comment": "read by the card feature"}}


def test_hiragana_name_kana_is_accepted_and_converted() -> None:
    assert load(person(NameKana="しけん　たろう")).persons["test-person"].name_kana == "ｼｹﾝ ﾀﾛｳ"


# --- refusals name the file, the person and the field ----------------------------------------------


@pytest.mark.parametrize(
    ("doc", "field", "detail"),
    [
        (person(qualifications=[qualification(InsurerNumber="06139993")]), "InsurerNumber",
         "検証番号が正しくありません"),
        (person(qualifications=[qualification(InsurerNumber="01139997")]), "InsurerNumber",
         "01139997 は insurers に定義されていません"),
        (person(NameKana=None), "NameKana", "必須項目です"),
        (person(NameKana="Shiken Taro"), "NameKana", "カナ以外の文字を含みます"),
        (person(NameKana="試験"), "NameKana", "カナ以外の文字を含みます"),
        (person(Nmae="typo"), "Nmae", "未知の項目です"),
        (person(qualifications=[qualification(InsuredCardSymobl="7001")]), "InsuredCardSymobl", "未知の項目です"),
        (person(qualifications=[qualification(DisqualificationDate="20250601")]), "ReasonOfLoss",
         "資格喪失年月日があるときは資格喪失事由が必要です"),
        (person(qualifications=[qualification(DisqualificationDate="20200401", ReasonOfLoss="99")]),
         "DisqualificationDate", "資格取得年月日以前です"),
        (person(qualifications=[qualification(ReasonOfLoss="04", DisqualificationDate="20250601")]), "ReasonOfLoss",
         "定義されていない値です"),
        (person(Sex1="M"), "Sex1", "定義されていない値です"),
        (person(Birthdate="19901301"), "Birthdate", "month must be in 1..12"),
        (person(Birthdate="1990/01/01"), "Birthdate", "日付は YYYYMMDD か today±N(d|m|y) 形式です"),
        (person(Birthdate="１９９００１０１"), "Birthdate", "日付は YYYYMMDD"),
        (person(qualifications=[]), "qualifications", "資格が1件以上必要です"),
        (person(id=None), "id", "必須項目です"),
        (person(Name={"nested": "x"}), "Name", "文字列が必要です"),
        (person(qualifications=[qualification(InsuredIdentificationNumber=None)]), "InsuredIdentificationNumber",
         "被保険者証番号がありません"),
        (person(qualifications=[qualification(InsuredBranchNumber="1")]), "InsuredBranchNumber",
         "被保険者証枝番は2桁の数字です"),
        (person(qualifications=[qualification(InsuredCardSymbol="x" * 21)]), "InsuredCardSymbol",
         "被保険者証記号は20文字以内です"),
        (person(qualifications=[qualification(InsuredPartialContributionRatio="3")]),
         "InsuredPartialContributionRatio", "割合は3桁のパーセント表記です"),
        (person(qualifications=[qualification(InsuredCardClassification="99")]), "InsuredCardClassification",
         "定義されていない値です"),
        (person(qualifications=[qualification(QualificationDate=None)]), "QualificationDate", "必須項目です"),
    ],
)  # fmt: skip
def test_invalid_person(doc: dict[str, Any], field: str, detail: str) -> None:
    error = refused(doc)
    assert error.source == "people.yaml"
    assert error.where.startswith(f"person {doc.get('id', '(idなし)')}")
    assert error.field == field
    assert detail in error.detail
    assert str(error) == f"people.yaml: {error.where}: {field}: {error.detail}"


def test_qualification_errors_say_which_qualification() -> None:
    doc = person(qualifications=[qualification(), qualification(InsurerNumber="06139993")])
    error = refused(doc)
    assert error.where == "person test-person/qualifications[1]"
    assert str(error).startswith(
        "people.yaml: person test-person/qualifications[1]: InsurerNumber: 保険者番号 06139993"
    )


def test_nested_certificate_errors() -> None:
    limit = {"LimitApplicationCertificateClassification": "01", "LimitApplicationCertificateClassificationFlag": "Z99"}
    error = refused(person(qualifications=[qualification(LimitApplicationCertificateRelatedInfo=[limit])]))
    assert error.where == "person test-person/qualifications[0]/LimitApplicationCertificateRelatedInfo[0]"
    assert error.field == "LimitApplicationCertificateClassificationFlag"
    disease = {"SpecificDiseasesDiseaseCategory": "1", "SpecificDiseasesColour": "x"}
    error = refused(person(qualifications=[qualification(SpecificDiseasesCertificateInfo=[disease])]))
    assert error.field == "SpecificDiseasesColour"
    elderly = {"ElderlyRecipientValidStartDate": "20250101"}
    error = refused(person(qualifications=[qualification(ElderlyRecipientCertificateInfo=elderly)]))
    assert (error.field, error.detail) == ("ElderlyRecipientContributionRatio", "必須項目です")


def test_duplicate_id() -> None:
    error = refused(person(), person())
    assert (error.source, error.where, error.field) == ("people.yaml", "person test-person", "id")
    assert error.detail == "同じIDが既にあります"


def test_duplicate_id_across_files() -> None:
    docs = [
        ("a.yaml", {"insurers": INSURERS, "persons": [person()]}),
        ("b.yaml", {"persons": [person()]}),
    ]
    with pytest.raises(FixtureError) as info:
        load_documents(docs, TODAY)
    assert info.value.source == "b.yaml"


def test_insurers_of_later_files_serve_earlier_people() -> None:
    docs = [
        ("people.yaml", {"persons": [person()]}),
        ("insurers.yaml", {"insurers": INSURERS}),
    ]
    assert list(load_documents(docs, TODAY).persons) == ["test-person"]


@pytest.mark.parametrize(
    ("insurer", "field", "detail"),
    [
        ({"InsurerNumber": "06139993", "InsurerName": "x"}, "InsurerNumber", "検証番号"),
        ({"InsurerNumber": "06139992"}, "InsurerName", "必須項目です"),
        ({"InsurerNumber": "06139992", "InsurerName": "x", "Tel": "1"}, "Tel", "未知の項目です"),
    ],
)
def test_invalid_insurer(insurer: dict[str, str], field: str, detail: str) -> None:
    with pytest.raises(FixtureError) as info:
        load_documents([("ins.yaml", {"insurers": [insurer]})], TODAY)
    assert (info.value.source, info.value.where, info.value.field) == ("ins.yaml", "insurer[0]", field)
    assert detail in info.value.detail


def test_top_level_errors() -> None:
    with pytest.raises(FixtureError) as info:
        load_documents([("x.yaml", {"people": []})], TODAY)
    assert (info.value.field, info.value.detail) == ("people", "未知のトップレベル項目です")
    with pytest.raises(FixtureError) as info:
        load_documents([("x.yaml", ["a"])], TODAY)  # type: ignore[list-item]
    assert info.value.source == "x.yaml"
    with pytest.raises(FixtureError) as info:
        load_documents([("x.yaml", {"persons": ["just text"]})], TODAY)
    assert "マッピングが必要です" in info.value.detail


# --- files ------------------------------------------------------------------------------------------


def test_read_files_keeps_scalars_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "persons:\n  - InsuredBranchNumber: 00\n    Birthdate: 20240401\n    flag: yes\n")
    ((source, doc),) = read_files([path])
    assert source == str(path)
    assert doc == {"persons": [{"InsuredBranchNumber": "00", "Birthdate": "20240401", "flag": "yes"}]}


def test_read_a_directory_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", "persons: []\n")
    write(tmp_path, "a.yaml", "insurers: []\n")
    write(tmp_path, "c.txt", "ignored")
    write(tmp_path, "empty.yaml", "")
    assert [(Path(s).name, d) for s, d in read_files([tmp_path])] == [
        ("a.yaml", {"insurers": []}),
        ("b.yml", {"persons": []}),
        ("empty.yaml", {}),
    ]


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", "persons: [unclosed\n")
    with pytest.raises(FixtureError) as info:
        read_files([bad])
    assert info.value.source == str(bad)
    assert info.value.detail.startswith("読めません")
    with pytest.raises(FixtureError) as info:
        read_files([tmp_path / "missing.yaml"])
    assert info.value.source == str(tmp_path / "missing.yaml")


def test_an_error_in_a_file_names_the_file(tmp_path: Path) -> None:
    doc = {"insurers": INSURERS, "persons": [person(NameKana="Taro")]}
    path = write(tmp_path, "mine.yaml", yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(FixtureError) as info:
        load_paths([path], TODAY)
    assert str(info.value).startswith(f"{path}: person test-person: NameKana: カナ以外の文字を含みます")


# --- dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "today", "expected"),
    [
        ("20250401", TODAY, dt.date(2025, 4, 1)),
        (20250401, TODAY, dt.date(2025, 4, 1)),
        (dt.date(2025, 4, 1), TODAY, dt.date(2025, 4, 1)),
        (dt.datetime(2025, 4, 1, 12, 0), TODAY, dt.date(2025, 4, 1)),
        ("today", TODAY, dt.date(2025, 6, 18)),
        ("today-1d", TODAY, dt.date(2025, 6, 17)),
        ("today+1d", TODAY, dt.date(2025, 6, 19)),
        ("today-10d", TODAY, dt.date(2025, 6, 8)),
        ("today-1m", TODAY, dt.date(2025, 5, 18)),
        ("today-1m", dt.date(2025, 3, 31), dt.date(2025, 2, 28)),  # clamped to the month's end
        ("today+1y", dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
        ("today-72y", TODAY, dt.date(1953, 6, 18)),
        ("month_start", TODAY, dt.date(2025, 6, 1)),
        ("month_start+3d", TODAY, dt.date(2025, 6, 4)),
        ("month_start-1m+15d", TODAY, dt.date(2025, 5, 16)),
        ("month_start-2m", TODAY, dt.date(2025, 4, 1)),
        ("month_end", TODAY, dt.date(2025, 6, 30)),
        ("month_end+9m", TODAY, dt.date(2026, 3, 31)),
        ("month_end-4m", TODAY, dt.date(2025, 2, 28)),  # stays at a month's end
        ("month_end+8m", TODAY, dt.date(2026, 2, 28)),
        ("month_end+1y", dt.date(2023, 2, 10), dt.date(2024, 2, 29)),
        ("month_end+1d", TODAY, dt.date(2025, 7, 1)),
        ("today - 1m", TODAY, dt.date(2025, 5, 18)),  # spaces allowed
        (" today ", TODAY, dt.date(2025, 6, 18)),
    ],
)
def test_resolve_date(raw: object, today: dt.date, expected: dt.date) -> None:
    assert resolve_date(raw, today) == expected


@pytest.mark.parametrize("raw", ["yesterday", "today-1w", "today-1", "2025-06-18", "２０２５０６１８", "today+-1d", ""])
def test_resolve_date_errors(raw: str) -> None:
    with pytest.raises(ValueError, match="日付は YYYYMMDD か today±N"):
        resolve_date(raw, TODAY)


def test_resolve_relative_walks_the_document() -> None:
    doc = {"a": "today-1d", "b": ["month_start", {"c": "20200101"}], "d": "今日", "e": None}
    assert resolve_relative(doc, TODAY) == {
        "a": "20250617",
        "b": ["20250601", {"c": "20200101"}],
        "d": "今日",
        "e": None,
    }


def test_relative_dates_resolved_at_load_and_stored_absolute(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(personas=False)
    doc = person(
        Birthdate="today-30y",
        qualifications=[
            qualification(QualificationDate="month_start-1m", DisqualificationDate="today+1d", ReasonOfLoss="99")
        ],
    )
    data = load(doc)
    assert data.documents["test-person"]["Birthdate"] == "19950618"
    gateway.load(data)
    stored = dict(gateway.store.documents())["test-person"]
    assert stored["Birthdate"] == "19950618"
    assert stored["qualifications"][0]["QualificationDate"] == "20250501"
    assert stored["qualifications"][0]["DisqualificationDate"] == "20250619"
    # a later day does not move what was meant on the day of loading
    gateway.clock.set(dt.datetime(2026, 1, 1), running=False)
    gateway.reload()
    q = gateway.index.people["test-person"].qualifications[0]
    assert q.qualification_date == dt.date(2025, 5, 1)
    assert q.disqualification_date == dt.date(2025, 6, 19)


# --- the default personas ---------------------------------------------------------------------------


def test_default_personas_load() -> None:
    data = load_paths([DEFAULT_FIXTURES], TODAY)
    assert list(data.persons) == [
        "hoken-taro",
        "hoken-hanako",
        "kokuho-ichiro",
        "kouki-ume",
        "takasaki-sakiko",
        "gendo-kenji",
        "kourei-jukyu",
        "soushitsu-jiro",
        "tenshoku-saburo",
        "seiho-shiro",
        "mirai-goro",
        "futago-ichika",
        "futago-nika",
        "kumiai-natsu",
        "myna-kigen-chikai",
        "myna-yuyo",
        "myna-kigire",
        "myna-shikkou",
        "myna-mitouroku",
        "myna-lock",
        "myna-kao",
        "hizuke-nashi",
        # mockgateway/data/personas/shikaku-kyotaku-gentei.yaml: 居宅同意取得型 and 資格確認限定型
        "kyotaku-ume",
        "kyotaku-kiyoshi",
        "kyotaku-kigire",
        "kyotaku-torikeshi",
        "sejutsu-kenta",
    ]
    assert data.institutions == {"1370000018": "施術所", "1380000016": "健診実施機関", "1390000014": "助産所"}
    assert sorted(data.insurers) == ["01139997", "06139992", "133991", "139998", "31139991", "39139993"]
    assert all(is_half_width_kana(p.name_kana) for p in data.persons.values())
    assert data.persons["takasaki-sakiko"].name == "髙﨑　咲子"
    assert data.persons["soushitsu-jiro"].qualifications[0].disqualification_date == dt.date(2025, 6, 8)
    assert data.persons["kourei-jukyu"].birthdate == dt.date(1953, 6, 18)


def test_every_default_persona_result_carries_the_card_dates_but_one(gateway: Gateway) -> None:
    """Real results carry InsuredCardValidDate and InsuredCertificateIssuanceDate; client code that
    registers insurance from a result refuses one without ("保険証の有効期限開始日がありません",
    myclinic-ts). Only `hizuke-nashi` is made without them, for that negative case."""
    from mockgateway.client.requests_xml import CardQuery, eligibility_request
    from mockgateway.engine import Format
    from mockgateway.wire import xmlcodec

    seen: dict[str, int] = {}
    today = gateway.clock.today()
    for person in gateway.index.people.values():
        for q in person.qualifications:
            query = CardQuery(q.insurer.number.value, q.key.symbol, q.key.number, q.key.branch, person.birthdate)
            raw = eligibility_request(query, medical_institution="1310112345", on=today)
            tree = xmlcodec.parse(gateway.process("OQSsiquc01", raw, fmt=Format.XML, transport="test").body).tree
            listing = tree["MessageBody"].get("ResultList")  # type: ignore[union-attr]
            found = listing["ResultOfQualificationConfirmation"] if isinstance(listing, dict) else []
            for result in found if isinstance(found, list) else [found]:
                assert isinstance(result, dict)
                seen[person.id] = seen.get(person.id, 0) + 1
                has = {k: k in result for k in ("InsuredCardValidDate", "InsuredCertificateIssuanceDate")}
                expected = person.id != "hizuke-nashi"
                assert has == dict.fromkeys(has, expected), (person.id, has)
    assert "hizuke-nashi" in seen
    assert len(seen) >= 20, sorted(seen)  # every persona whose card answers with a result


def test_default_personas_every_comment_names_a_validity() -> None:
    raw = yaml.safe_load(DEFAULT_FIXTURES.joinpath("personas.yaml").read_text(encoding="utf-8"))
    for doc in raw["persons"]:
        assert any(f"({code})" in doc["comment"] for code in "12345"), doc["id"]


def test_default_personas_on_any_day(tmp_path: Path) -> None:
    # relative dates keep every persona loadable whatever the date
    for today in (dt.date(2024, 2, 29), dt.date(2025, 1, 1), dt.date(2025, 12, 31), dt.date(2026, 3, 31)):
        assert len(load_paths([DEFAULT_FIXTURES], today).persons) == 27


def test_gateway_with_default_personas(gateway: Gateway) -> None:
    assert gateway.store.count_people() == 27
    assert gateway.store.insurers()["139998"] == "模擬市国民健康保険"


# --- docs/fixtures.md stays true -----------------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "docs" / "fixtures.md"


def test_readme_example_loads() -> None:
    text = README.read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    doc = yaml.load(example, Loader=yaml.BaseLoader)
    data = load_documents([("README.md", doc)], TODAY)
    assert data.persons["sample-taro"].name_kana == "ﾐﾎﾝ ﾀﾛｳ"


def test_readme_documents_every_key_and_persona() -> None:
    from mockgateway import fixtures

    text = README.read_text(encoding="utf-8")
    keys = (
        fixtures.PERSON_KEYS
        | fixtures.QUALIFICATION_KEYS
        | fixtures.EXTENSION_KEYS
        | fixtures.LIMIT_KEYS
        | fixtures.DISEASE_KEYS
        | fixtures.ELDERLY_KEYS
        | {"InsurerName"}
    )  # fmt: skip
    for key in sorted(keys):
        assert f"`{key}`" in text, key
    for pid in load_paths([DEFAULT_FIXTURES], TODAY).persons:
        assert f"| `{pid}` |" in text, pid


# -- limits (issue 18 item 9) ----------------------------------------------------------------------

LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
)


def test_yaml_aliases_are_refused_naming_the_file(tmp_path: Path) -> None:
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(LAUGHS)
    with pytest.raises(FixtureError, match=r"laughs\.yaml: .*エイリアス \*a"):
        load_paths([bomb], dt.date(2025, 6, 18))


def test_deep_nesting_is_a_fixture_error_not_a_recursion_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("persons: " + "[" * 5000 + "]" * 5000)
    with pytest.raises(FixtureError, match=r"deep\.yaml: .*入れ子が深すぎます"):
        load_paths([deep], dt.date(2025, 6, 18))
    with pytest.raises(FixtureError, match="admin:fixtures"):
        parse_yaml(("{a: " * 100 + "1" + "}" * 100).encode(), "admin:fixtures")


def test_a_document_of_the_wrong_shape_is_a_fixture_error() -> None:
    with pytest.raises(FixtureError, match="persons: リスト"):
        load_documents([("x.yaml", {"persons": "hoken-taro"})], dt.date(2025, 6, 18))


# --- continuing_consents / institutions (居宅同意取得型, 資格確認限定型) ---------------------------------


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ({"channel": "home-visit", "from": "20250101"}, "continuing_consents[0]/institution", "必須"),
        ({"institution": "1310112340", "channel": "home-visit", "from": "20250101"},
         "continuing_consents[0]/institution", "検証番号"),
        ({"institution": "1310112345", "channel": "walk-in", "from": "20250101"},
         "continuing_consents[0]/channel", "unknown channel"),
        ({"institution": "1310112345", "channel": "fever", "from": "20250101"},
         "continuing_consents[0]/channel", "発熱外来"),
        ({"institution": "1310112345", "channel": "online", "from": "2025-01-01"},
         "continuing_consents[0]/from", "YYYYMMDD"),
        ({"institution": "1310112345", "channel": "online", "from": "20250101", "until": "20241231"},
         "continuing_consents[0]/until", "from より後"),
        ({"institution": "1310112345", "channel": "online", "from": "20250101", "kinds": ["drugs"]},
         "continuing_consents[0]/kinds", "unknown consent kind"),
        ({"institution": "1310112345", "channel": "online", "from": "20250101", "by": "x"},
         "continuing_consents[0]/by", "未知の項目"),
    ],
)  # fmt: skip
def test_continuing_consents_are_validated_naming_the_field(entry: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(FixtureError) as info:
        load(person(continuing_consents=[entry]))
    assert info.value.field == field
    assert words in info.value.detail


def test_institutions_are_validated() -> None:
    wrong = {"institutions": [{"MedicalInstitutionCode": "1370000018", "kind": "病院x"}]}
    with pytest.raises(FixtureError) as info:
        load_documents([("t.yaml", wrong)], TODAY)
    assert info.value.field == "kind"
    right = {"institutions": [{"MedicalInstitutionCode": "1370000018", "kind": "therapy"}]}
    data = load_documents([("t.yaml", right)], TODAY)
    assert data.institutions == {"1370000018": "施術所"}
