"""YAML fixtures → domain model. Keys are the interface's element names (docs/fixtures.md).

Every error names the file, the person (or insurer) and the field. Dates may be absolute
(YYYYMMDD) or relative to the gateway clock's date at load time (`today-1m`, `month_start+3d`),
so a shipped persona such as "changed insurer last month" stays true on any day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from mockgateway.card.spec import CardSpecError, parse_card_spec
from mockgateway.domain.codes import (
    INSURED_CARD_CLASSIFICATION,
    LIMIT_CERTIFICATE_CLASSIFICATION,
    LIMIT_CERTIFICATE_FLAG,
    REASON_OF_LOSS,
    SPECIFIC_DISEASE_CATEGORY,
    PersonalFamily,
    Sex,
)
from mockgateway.domain.continuing_consent import ConsentSpecError, consents_from_fixture
from mockgateway.domain.institutions import RegistrationError, registration
from mockgateway.domain.kana import is_half_width_kana, to_half_width_kana
from mockgateway.domain.model import (
    CardKey,
    ElderlyRecipientCertificate,
    Insurer,
    LimitCertificate,
    Person,
    Qualification,
    SpecificDiseaseCertificate,
)
from mockgateway.domain.numbers import (
    InsurerNumber,
    NumberError,
    normalize_branch,
    normalize_number,
    normalize_symbol,
)
from mockgateway.domain.relative_dates import resolve_date, resolve_relative
from mockgateway.fixture_files import FixtureError as FixtureError  # noqa: PLC0414 - re-exported: the public name
from mockgateway.fixture_files import read_files


@dataclass
class Dataset:
    insurers: dict[str, Insurer] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # person id → normalised doc
    institutions: dict[str, str] = field(default_factory=dict)  # 医療機関コード → InstitutionKind value


class DocReader:
    """Reads one mapping, remembering where it is so errors can say so (fixture keys of every feature)."""

    def __init__(self, source: str, where: str, doc: object, today: dt.date) -> None:
        if not isinstance(doc, Mapping):
            raise FixtureError(source, where, "-", f"マッピングが必要です: {type(doc).__name__}")
        self.source, self.where, self.doc, self.today = source, where, doc, today

    def fail(self, name: str, detail: str) -> FixtureError:
        return FixtureError(self.source, self.where, name, detail)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.doc.get(name)
        if value is None or value == "":
            if required:
                raise self.fail(name, "必須項目です")
            return None
        if isinstance(value, Mapping | list):
            raise self.fail(name, "文字列が必要です")
        return str(value)

    def required(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.doc.get(name)
        if value is None or value == "":
            if required:
                raise self.fail(name, "必須項目です")
            return None
        try:
            return resolve_date(value, self.today)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def code(self, name: str, table: Mapping[str, str], *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in table:
            raise self.fail(name, f"{value!r} は定義されていない値です (有効: {', '.join(table)})")
        return value

    def ratio(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not re.fullmatch(r"\d{3}", value):
            raise self.fail(name, f"割合は3桁のパーセント表記です (例 030): {value!r}")
        return value

    def children(self, name: str) -> list[Self]:
        value = self.doc.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [type(self)(self.source, f"{self.where}/{name}[{i}]", item, self.today) for i, item in enumerate(items)]

    def known(self, allowed: Set[str]) -> None:
        unknown = sorted(set(self.doc) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"未知の項目です (誤記?): 使える項目 {', '.join(sorted(allowed))}")


_SEX = {s.value: s.name for s in Sex}
# The field mapping of a persona, shared by this reader and the store's fast builder
# (mockgateway/store/fast_person.py): element names as in the result XML, plus ours in lower case.
QUALIFICATION_KEYS = frozenset({
    "InsurerNumber", "InsuredCardSymbol", "InsuredIdentificationNumber", "InsuredBranchNumber",
    "InsuredCardClassification", "PersonalFamilyClassification", "InsuredName", "QualificationDate",
    "DisqualificationDate", "ReasonOfLoss", "InsuredCertificateIssuanceDate", "InsuredCardValidDate",
    "InsuredCardExpirationDate", "InsuredPartialContributionRatio", "PreschoolClassification",
    "ElderlyRecipientCertificateInfo", "LimitApplicationCertificateRelatedInfo",
    "SpecificDiseasesCertificateInfo", "comment",
})  # fmt: skip
PERSON_KEYS = frozenset({
    "id", "Name", "NameKana", "NameOfOther", "NameOfOtherKana", "Sex1", "Sex2", "Birthdate",
    "Address", "PostNumber", "qualifications", "comment",
})  # fmt: skip
ELDERLY_KEYS = frozenset({
    "ElderlyRecipientCertificateDate", "ElderlyRecipientValidStartDate", "ElderlyRecipientValidEndDate",
    "ElderlyRecipientContributionRatio",
})  # fmt: skip
LIMIT_KEYS = frozenset(
    f"LimitApplicationCertificate{k}"
    for k in ("Classification", "ClassificationFlag", "Date", "ValidStartDate", "ValidEndDate", "LongTermDate")
)
DISEASE_KEYS = frozenset(
    f"SpecificDiseases{k}" for k in ("DiseaseCategory", "CertificateDate", "ValidStartDate", "ValidEndDate", "SelfPay")
)
EXTENSION_KEYS = frozenset({"card", "medical", "reference_numbers", "continuing_consents"})  # for later features


def _insurer(r: DocReader) -> Insurer:
    r.known({"InsurerNumber", "InsurerName", "comment"})
    try:
        number = InsurerNumber.parse(r.required("InsurerNumber"))
    except NumberError as exc:
        raise r.fail("InsurerNumber", exc.detail) from None
    return Insurer(number, r.required("InsurerName"))


def _qualification(r: DocReader, insurers: Mapping[str, Insurer]) -> Qualification:
    r.known(QUALIFICATION_KEYS)
    try:
        insurer_number = InsurerNumber.parse(r.required("InsurerNumber"))
    except NumberError as exc:
        raise r.fail("InsurerNumber", exc.detail) from None
    insurer = insurers.get(insurer_number.value)
    if insurer is None:
        raise r.fail("InsurerNumber", f"{insurer_number.value} は insurers に定義されていません")
    parts: list[str] = []
    for name, normalize in (
        ("InsuredCardSymbol", normalize_symbol),
        ("InsuredIdentificationNumber", normalize_number),
        ("InsuredBranchNumber", normalize_branch),
    ):
        try:  # one at a time, so the error names the field that broke the rule
            parts.append(normalize(r.text(name)))
        except NumberError as exc:
            raise r.fail(name, exc.detail) from None
    key = CardKey(insurer_number.value, *parts)
    family = r.code("PersonalFamilyClassification", {p.value: p.name for p in PersonalFamily})
    elderly = None
    for er in r.children("ElderlyRecipientCertificateInfo")[:1]:
        er.known(ELDERLY_KEYS)
        elderly = ElderlyRecipientCertificate(
            er.date("ElderlyRecipientCertificateDate"),
            er.date("ElderlyRecipientValidStartDate"),
            er.date("ElderlyRecipientValidEndDate"),
            er.ratio("ElderlyRecipientContributionRatio") or er.required("ElderlyRecipientContributionRatio"),
        )
    limits = []
    for lr in r.children("LimitApplicationCertificateRelatedInfo"):
        lr.known(LIMIT_KEYS)
        limits.append(
            LimitCertificate(
                lr.code(
                    "LimitApplicationCertificateClassification",
                    LIMIT_CERTIFICATE_CLASSIFICATION,
                    required=True,
                )
                or "",
                lr.code("LimitApplicationCertificateClassificationFlag", LIMIT_CERTIFICATE_FLAG, required=True) or "",
                lr.date("LimitApplicationCertificateDate"),
                lr.date("LimitApplicationCertificateValidStartDate"),
                lr.date("LimitApplicationCertificateValidEndDate"),
                lr.date("LimitApplicationCertificateLongTermDate"),
            )
        )
    diseases = []
    for sr in r.children("SpecificDiseasesCertificateInfo"):
        sr.known(DISEASE_KEYS)
        diseases.append(
            SpecificDiseaseCertificate(
                sr.code("SpecificDiseasesDiseaseCategory", SPECIFIC_DISEASE_CATEGORY, required=True) or "",
                sr.date("SpecificDiseasesCertificateDate"),
                sr.date("SpecificDiseasesValidStartDate"),
                sr.date("SpecificDiseasesValidEndDate"),
                sr.text("SpecificDiseasesSelfPay"),
            )
        )
    qualified = r.date("QualificationDate", required=True)
    assert qualified is not None
    lost = r.date("DisqualificationDate")
    reason = r.code("ReasonOfLoss", REASON_OF_LOSS)
    if lost is not None and lost <= qualified:
        raise r.fail("DisqualificationDate", f"資格喪失年月日 {lost:%Y%m%d} が資格取得年月日以前です")
    if lost is not None and reason is None:
        raise r.fail("ReasonOfLoss", "資格喪失年月日があるときは資格喪失事由が必要です")
    return Qualification(
        insurer=insurer,
        key=key,
        card_classification=r.code("InsuredCardClassification", INSURED_CARD_CLASSIFICATION) or "01",
        personal_family=PersonalFamily(family) if family else None,
        insured_name=r.text("InsuredName"),
        qualification_date=qualified,
        disqualification_date=lost,
        reason_of_loss=reason,
        card_issuance_date=r.date("InsuredCertificateIssuanceDate"),
        card_valid_date=r.date("InsuredCardValidDate"),
        card_expiration_date=r.date("InsuredCardExpirationDate"),
        partial_contribution_ratio=r.ratio("InsuredPartialContributionRatio"),
        preschool=r.text("PreschoolClassification"),
        elderly=elderly,
        limits=tuple(limits),
        specific_diseases=tuple(diseases),
    )


def person_from_doc(
    doc: Mapping[str, Any], insurers: Mapping[str, Insurer], today: dt.date, source: str = "<store>"
) -> Person:
    pid = str(doc.get("id") or "") if isinstance(doc, Mapping) else ""
    r = DocReader(source, f"person {pid or '(idなし)'}", doc, today)  # refuses a non-mapping
    if not pid:
        raise r.fail("id", "必須項目です (シナリオが参照する安定ID)")
    r.known(PERSON_KEYS | EXTENSION_KEYS)
    kana = r.required("NameKana")
    half = to_half_width_kana(kana)
    if not is_half_width_kana(half):
        raise r.fail("NameKana", f"カナ以外の文字を含みます: {kana!r}")
    sex1 = r.code("Sex1", _SEX, required=True)
    sex2 = r.code("Sex2", _SEX)
    birth = r.date("Birthdate", required=True)
    assert birth is not None
    assert sex1 is not None
    quals = tuple(_qualification(q, insurers) for q in r.children("qualifications"))
    if not quals:
        raise r.fail("qualifications", "資格が1件以上必要です")
    if "card" in doc:
        _check_card(r, doc["card"], birth)
    if "continuing_consents" in doc:  # 居宅同意取得型 (docs/home-visit.md)
        try:
            consents_from_fixture(pid, resolve_relative(doc["continuing_consents"], r.today))
        except ConsentSpecError as exc:
            raise r.fail(exc.field, exc.detail) from None
    other_kana = r.text("NameOfOtherKana")
    return Person(
        id=pid,
        name=r.required("Name"),
        name_kana=half,
        birthdate=birth,
        sex1=Sex(sex1),
        sex2=Sex(sex2) if sex2 else None,
        qualifications=quals,
        name_of_other=r.text("NameOfOther"),
        name_of_other_kana=to_half_width_kana(other_kana) if other_kana else None,
        address=r.text("Address"),
        post_number=r.text("PostNumber"),
        extensions={k: doc[k] for k in EXTENSION_KEYS if k in doc},
    )


def _check_card(r: DocReader, card: object, birth: dt.date) -> None:
    """The `card:` extension (マイナンバーカード): validated here, kept raw in `extensions["card"]`."""
    try:
        parse_card_spec(card, birthdate=birth, today=r.today, resolve_date=resolve_date)
    except CardSpecError as exc:
        raise r.fail(f"card/{exc.field}", exc.detail) from None


def _plain(value: Any) -> Any:
    """YAML may give dates and ints; store JSON-safe strings so a reload reads the same."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if value is None or isinstance(value, bool):
        return value
    return str(value) if isinstance(value, int | float) else value


def load_documents(documents: Sequence[tuple[str, Mapping[str, Any]]], today: dt.date) -> Dataset:
    """`documents`: (source name, parsed YAML) pairs; later sources may add people, not redefine them."""
    data = Dataset()
    for source, doc in documents:
        if not isinstance(doc, Mapping):
            raise FixtureError(source, "-", "-", "トップレベルはマッピング (insurers / persons) です")
        unknown = set(doc) - {"insurers", "persons", "institutions", "version", "comment"}
        if unknown:
            raise FixtureError(source, "-", sorted(unknown)[0], "未知のトップレベル項目です")
        for key in ("insurers", "persons"):
            if doc.get(key) is not None and not isinstance(doc[key], list):
                raise FixtureError(source, "-", key, "リスト (- で始まる項目の並び) です")
        for i, item in enumerate(doc.get("insurers") or []):
            insurer = _insurer(DocReader(source, f"insurer[{i}]", item, today))
            data.insurers[insurer.number.value] = insurer
        for i, item in enumerate(doc.get("institutions") or []):  # the registry (docs/limited.md)
            try:
                code, kind = registration(item)
            except RegistrationError as exc:
                raise FixtureError(source, f"institution[{i}]", exc.field, exc.detail) from None
            data.institutions[code] = kind.value
    for source, doc in documents:
        for item in doc.get("persons") or []:
            person = person_from_doc(item, data.insurers, today, source)
            if person.id in data.persons:
                raise FixtureError(source, f"person {person.id}", "id", "同じIDが既にあります")
            data.persons[person.id] = person
            data.documents[person.id] = resolve_relative(_plain(item), today)
    return data


def load_paths(paths: Sequence[Path], today: dt.date) -> Dataset:
    return load_documents(read_files(paths), today)
