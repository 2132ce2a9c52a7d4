"""薬剤・特定健診 request files (YZKsiquc01req / TKKsiquc01req) → typed requests (oqs-interface.md §3.1).

```
XmlMsg/MessageHeader: MedicalInstitutionCode, InsurerNumber, InsuranceCardSymbol,
                      InsuredPersonIdentificationNumber, BranchNumber, ArbitraryFileIdentifier,
                      ViewerRole (ours; the name is a setting)
XmlMsg/MessageBody:   StartDate, EndDate (薬剤), FileCategory (1 PDF, 2 XML; 薬剤 also 3 PDF / 4 XML
                      with 診療情報, inferred), PrDiInfClassification, MedicalTreatmentFlag (1/2/3)
```
Note the names differ from the 資格確認 files (`InsuranceCardSymbol`, not `InsuredCardSymbol`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from mockgateway.domain.eligibility import Match
from mockgateway.domain.model import CardKey
from mockgateway.domain.numbers import (
    MedicalInstitutionCode,
)
from mockgateway.services.medical.access import MedicalSettings, normalize_role
from mockgateway.store.index import PeopleIndex
from mockgateway.wire.messages import RequestError, child, date, flag, parse_card, parse_institution, text
from mockgateway.wire.xmlcodec import Node, Tree

HEADER = "XmlMsg/MessageHeader"
BODY = "XmlMsg/MessageBody"


@dataclass(frozen=True, slots=True)
class ViewerRole:
    role: str
    sent: bool  # False: the request named none and the configured default was assumed


def parse_role(header: Mapping[str, Node], settings: MedicalSettings) -> ViewerRole:
    element = settings.viewer_role_element
    raw = text(header, element, HEADER, required=settings.require_viewer_role)
    if raw is None:
        return ViewerRole(settings.default_viewer_role, sent=False)
    return ViewerRole(normalize_role(raw), sent=True)


@dataclass(frozen=True, slots=True)
class MedicalRequest:
    medical_institution: MedicalInstitutionCode
    card: CardKey
    file_id: str | None
    viewer: ViewerRole
    start: dt.date | None
    end: dt.date | None
    file_category: str  # 1 PDF, 2 XML, 3 PDF 薬剤＋診療, 4 XML 薬剤＋診療
    treatment_flag: str  # MedicalTreatmentFlag: 1 外来, 2 訪問診療等, 3 オンライン診療等
    classification: str | None  # PrDiInfClassification, echoed to the journal only

    @property
    def pdf(self) -> bool:
        return self.file_category in {"1", "3"}

    @property
    def clinical(self) -> bool:
        return self.file_category in {"3", "4"}


def parse_request(
    tree: Mapping[str, Node], settings: MedicalSettings, *, categories: tuple[str, ...], strict_padding: bool
) -> MedicalRequest:
    header = child(tree, "MessageHeader", "XmlMsg")
    body: Tree = child(tree, "MessageBody", "XmlMsg", required=False)
    mic = parse_institution(header)
    card = parse_card(
        header,
        HEADER,
        ("InsuranceCardSymbol", "InsuredPersonIdentificationNumber", "BranchNumber"),
        strict_padding=strict_padding,
    )
    start = date(body, "StartDate", BODY)
    end = date(body, "EndDate", BODY)
    if start is not None and end is not None and start > end:
        raise RequestError(
            "medical.range", f"{BODY}/StartDate", f"StartDate {start:%Y%m%d} が EndDate {end:%Y%m%d} より後です"
        )
    category = flag(body, "FileCategory", BODY, categories)
    if category is None:
        raise RequestError("xml.required", f"{BODY}/FileCategory", f"必須項目です ({'/'.join(categories)})")
    return MedicalRequest(
        medical_institution=mic,
        card=card,
        file_id=text(header, "ArbitraryFileIdentifier", HEADER),
        viewer=parse_role(header, settings),
        start=start,
        end=end,
        file_category=category,
        treatment_flag=flag(body, "MedicalTreatmentFlag", BODY, ("1", "2", "3")) or "1",
        classification=text(body, "PrDiInfClassification", BODY),
    )


@dataclass(frozen=True, slots=True)
class Lookup:
    match: Match | None
    code_name: str | None  # medical.not_found / medical.multiple
    detail: str


def find_person(index: PeopleIndex, card: CardKey) -> Lookup:
    """By 保険者番号・記号・番号 (and 枝番 when sent), any qualification past or present; newest wins."""
    found = [
        m
        for m in index.candidates(card.number)
        if m.qualification.key.insurer_number == card.insurer_number
        and m.qualification.key.symbol == card.symbol
        and (not card.branch or m.qualification.key.branch == card.branch)
    ]
    shown = f"保険者番号 {card.insurer_number} 記号 {card.symbol or '-'} 番号 {card.number} 枝番 {card.branch or '-'}"
    people = sorted({m.person.id for m in found})
    if not people:
        return Lookup(None, "medical.not_found", shown)
    if len(people) > 1:
        return Lookup(None, "medical.multiple", f"{shown} ({len(people)} 人: 枝番を指定してください)")
    return Lookup(max(found, key=lambda m: m.qualification.qualification_date), None, shown)
