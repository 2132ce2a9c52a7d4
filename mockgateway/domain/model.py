"""Insurers, people and their qualification history (pure data).

Field names follow the interface's element names where one exists (oqs-interface.md §1.4), in
snake_case; `mockgateway.fixtures` maps the YAML keys (the element names themselves) onto them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mockgateway.domain.codes import PersonalFamily, Sex
from mockgateway.domain.numbers import InsurerNumber


@dataclass(frozen=True, slots=True)
class Insurer:
    number: InsurerNumber
    name: str


@dataclass(frozen=True, slots=True)
class ElderlyRecipientCertificate:  # 高齢受給者証情報
    issued: dt.date | None
    valid_start: dt.date | None
    valid_end: dt.date | None
    contribution_ratio: str  # "020" = 2割


@dataclass(frozen=True, slots=True)
class LimitCertificate:  # 限度額適用認定証関連情報
    classification: str  # OQSCD011
    classification_flag: str  # OQSCD012 適用区分
    issued: dt.date | None
    valid_start: dt.date | None
    valid_end: dt.date | None
    long_term_date: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return (self.valid_start is None or self.valid_start <= on) and (self.valid_end is None or on <= self.valid_end)


@dataclass(frozen=True, slots=True)
class SpecificDiseaseCertificate:  # 特定疾病療養受療証情報
    disease_category: str  # OQSCD013
    issued: dt.date | None
    valid_start: dt.date | None
    valid_end: dt.date | None
    self_pay: str | None  # 1ヶ月あたり自己負担限度額 (yen, as printed)

    def in_force(self, on: dt.date) -> bool:
        return (self.valid_start is None or self.valid_start <= on) and (self.valid_end is None or on <= self.valid_end)


# MedicalTicketInfo children in the order [RW] and [Y2] list them (oqs-interface.md §1.4).
TICKET_ELEMENTS = (
    "TicketType", "MedicalTicketValidDate", "MedicalTicketExpirationDate", "IssueNumber",
    "MedicalTreatmentMonth", "DesignatedMedicalInstitutionCode", "DesignatedMedicalInstitutionFlag",
    "DesignatedMedicalInstitutionName", "PrescriptionIssuerMedicalInstitutionCode",
    "PrescriptionIssuerMedicalInstitutionName", "InjuryName1", "InjuryName2", "InjuryName3",
    "MedicalTreatmentType", "SelfPayAmount", "DistrictContactName", "HandlingContactName",
    "SingleOrCombinedUse", "StatusOfSocialInsurance", "ConsistencyFlag", "StatusOfInfecton",
    "StatusOfElderlyMedicalCare", "StatusOfPrefecturalExpenses", "Remarks1", "Remarks2", "Remarks3",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MedicalTicket:  # 医療券・調剤券情報 (rules: domain/fujo.py)
    """医療券・調剤券情報: element name → value, in TICKET_ELEMENTS order (absent elements left out)."""

    values: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        for key, value in self.values:
            if key == name:
                return value
        return None

    @property
    def month(self) -> str:
        month = self.get("MedicalTreatmentMonth")
        assert month is not None
        return month

    @property
    def designated(self) -> str | None:
        return self.get("DesignatedMedicalInstitutionCode")

    def serves(self, month: str, mic: str | None) -> bool:
        """For this 診療年月 at this 医療機関 (None: any 医療機関, e.g. the 福祉事務所's own view)."""
        return self.month == month and (mic is None or self.designated in (None, mic))

    def as_tree(self) -> dict[str, str | None]:
        return dict(self.values)


@dataclass(frozen=True, slots=True)
class PublicAssistance:
    """The 医療扶助 part of an A1 qualification: 福祉事務所 and the 医療券 it registered."""

    welfare_office_name: str
    tickets: tuple[MedicalTicket, ...] = ()

    def tickets_for(self, month: str, mic: str | None) -> tuple[MedicalTicket, ...]:
        return tuple(t for t in self.tickets if t.serves(month, mic))


@dataclass(frozen=True, slots=True)
class CardKey:
    """What is printed on a 被保険者証 / 資格確認書 and typed in at reception."""

    insurer_number: str  # bare 6 or 8 digits
    symbol: str  # "" when the card has none
    number: str
    branch: str  # "" when the card has none


@dataclass(frozen=True, slots=True)
class Qualification:
    insurer: Insurer
    key: CardKey
    card_classification: str  # OQSCD010
    personal_family: PersonalFamily | None  # absent for 後期高齢者
    insured_name: str | None  # 被保険者氏名（世帯主氏名）
    qualification_date: dt.date  # 資格取得年月日
    disqualification_date: dt.date | None = None  # 資格喪失年月日: the first day not covered
    reason_of_loss: str | None = None  # 01 死亡, 02 生活保護, 03 医療保険等の資格取得, 99 その他
    card_issuance_date: dt.date | None = None
    card_valid_date: dt.date | None = None
    card_expiration_date: dt.date | None = None
    partial_contribution_ratio: str | None = None  # "010" / "020" / "030"
    preschool: str | None = None
    elderly: ElderlyRecipientCertificate | None = None
    limits: tuple[LimitCertificate, ...] = ()
    specific_diseases: tuple[SpecificDiseaseCertificate, ...] = ()
    # 医療扶助 (A1): key.insurer_number is the 公費負担者番号, key.number the 受給者番号 (domain/fujo.py)
    public_assistance: PublicAssistance | None = None
    # What the person presents: "資格確認書" (since 2024-12-02, docs/card.md) or None (被保険者証 etc.).
    document: str | None = None

    def in_force(self, on: dt.date) -> bool:
        return self.qualification_date <= on and (self.disqualification_date is None or on < self.disqualification_date)

    def lost_by(self, on: dt.date) -> bool:
        return self.disqualification_date is not None and on >= self.disqualification_date


@dataclass(frozen=True, slots=True)
class Person:
    id: str  # stable fixture id scenarios refer to
    name: str  # 券面記載の氏名, full-width
    name_kana: str  # half-width katakana
    birthdate: dt.date
    sex1: Sex
    qualifications: tuple[Qualification, ...]
    sex2: Sex | None = None
    name_of_other: str | None = None
    name_of_other_kana: str | None = None
    address: str | None = None
    post_number: str | None = None
    extensions: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def in_force(self, on: dt.date) -> list[Qualification]:
        return [q for q in self.qualifications if q.in_force(on)]
