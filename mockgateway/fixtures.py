"""YAML fixtures → domain model. Keys are the interface's element names (docs/fixtures.md).

Every error names the file, the person (or insurer) and the field. Dates may be absolute
(YYYYMMDD) or relative to the gateway clock's date at load time (`today-1m`, `month_start+3d`),
so a shipped persona such as "changed insurer last month" stays true on any day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from mockgateway.domain.fujo import CARD_CLASSIFICATION as FUJO_CLASSIFICATION
from mockgateway.domain.fujo import (
    TICKET_DATES,
    is_public_expense_number,
    make_ticket,
    parse_beneficiary_number,
    parse_public_expense_number,
)
from mockgateway.domain.institutions import RegistrationError, registration
from mockgateway.domain.kakunin import DOCUMENTS, validity_problem
from mockgateway.domain.kana import is_half_width_kana, to_half_width_kana
from mockgateway.domain.model import (
    TICKET_ELEMENTS,
    CardKey,
    ElderlyRecipientCertificate,
    Insurer,
    LimitCertificate,
    Person,
    PublicAssistance,
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
from mockgateway.fixture_reader import DocReader


@dataclass
class Dataset:
    insurers: dict[str, Insurer] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # person id → normalised doc
    institutions: dict[str, str] = field(default_factory=dict)  # 医療機関コード → InstitutionKind value


_SEX = {s.value: s.name for s in Sex}
# The field mapping of a persona, shared by this reader and the store's fast builder
# (mockgateway/store/fast_person.py): element names as in the result XML, plus ours in lower case.
QUALIFICATION_KEYS = frozenset({
    "InsurerNumber", "InsuredCardSymbol", "InsuredIdentificationNumber", "InsuredBranchNumber",
    "InsuredCardClassification", "PersonalFamilyClassification", "InsuredName", "QualificationDate",
    "DisqualificationDate", "ReasonOfLoss", "InsuredCertificateIssuanceDate", "InsuredCardValidDate",
    "InsuredCardExpirationDate", "InsuredPartialContributionRatio", "PreschoolClassification",
    "ElderlyRecipientCertificateInfo", "LimitApplicationCertificateRelatedInfo",
    "SpecificDiseasesCertificateInfo", "MedicalTicketInfo", "WelfareOfficeName", "document", "comment",
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
    document = r.code("document", {d: d for d in DOCUMENTS})
    valid_from, valid_until = r.date("InsuredCardValidDate"), r.date("InsuredCardExpirationDate")
    problem = validity_problem(valid_from, valid_until) if document else None
    if problem:
        raise r.fail("InsuredCardExpirationDate", problem)
    classification = r.code("InsuredCardClassification", INSURED_CARD_CLASSIFICATION)
    if classification is None:
        classification = FUJO_CLASSIFICATION if is_public_expense_number(key.insurer_number) else "01"
    return Qualification(
        insurer=insurer,
        key=key,
        card_classification=classification,
        personal_family=PersonalFamily(family) if family else None,
        insured_name=r.text("InsuredName"),
        qualification_date=qualified,
        disqualification_date=lost,
        reason_of_loss=reason,
        card_issuance_date=r.date("InsuredCertificateIssuanceDate"),
        card_valid_date=valid_from,
        card_expiration_date=valid_until,
        partial_contribution_ratio=r.ratio("InsuredPartialContributionRatio"),
        preschool=r.text("PreschoolClassification"),
        elderly=elderly,
        limits=tuple(limits),
        specific_diseases=tuple(diseases),
        public_assistance=_public_assistance(r, key, insurer, classification),
        document=document,
    )


def _month_text(r: DocReader, raw: object) -> str:
    """診療年月: YYYYMM, or any date expression (`today`, `today-1m`) whose month is meant."""
    text = str(raw).strip()
    if re.fullmatch(r"[0-9]{6}", text):
        return text
    try:
        day = resolve_date(raw, r.today)
    except ValueError:
        raise r.fail("MedicalTreatmentMonth", f"YYYYMM か日付の式 (today-1m 等) です: {raw!r}") from None
    return f"{day.year:04d}{day.month:02d}"


def _public_assistance(r: DocReader, key: CardKey, insurer: Insurer, classification: str) -> PublicAssistance | None:
    """医療扶助 (A1): the 公費負担者番号 / 受給者番号 rules, the 福祉事務所 and its 医療券 (docs/fujo.md)."""
    tickets = r.children("MedicalTicketInfo")
    if classification != FUJO_CLASSIFICATION:
        if tickets or r.text("WelfareOfficeName"):
            raise r.fail("MedicalTicketInfo", "医療券・福祉事務所名は医療扶助 (A1) の資格だけです")
        return None
    try:
        parse_public_expense_number(key.insurer_number)
    except NumberError as exc:
        raise r.fail("InsurerNumber", f"医療扶助の公費負担者番号: {exc.detail}") from None
    try:
        parse_beneficiary_number(key.number)
    except NumberError as exc:
        raise r.fail("InsuredIdentificationNumber", f"医療扶助の受給者番号: {exc.detail}") from None
    parsed = []
    for tr in tickets:
        tr.known(set(TICKET_ELEMENTS))
        values: dict[str, str] = {}
        for name in TICKET_ELEMENTS:
            if name == "MedicalTreatmentMonth":
                raw = tr.doc.get(name)
                if raw in (None, ""):
                    raise tr.fail(name, "必須項目です")
                values[name] = _month_text(tr, raw)
            elif name in TICKET_DATES:
                day = tr.date(name)
                if day is not None:
                    values[name] = day.strftime("%Y%m%d")
            else:
                value = tr.text(name)
                if value is not None:
                    values[name] = value
        try:
            parsed.append(make_ticket(values))
        except ValueError as exc:
            raise tr.fail("MedicalTreatmentMonth", str(exc)) from None
    return PublicAssistance(r.text("WelfareOfficeName") or insurer.name, tuple(parsed))


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
