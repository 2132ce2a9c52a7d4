"""Request documents as a レセコン writes them: YZKsiquc01req, TKKsiquc01req (oqs-interface.md §3.1,
after [Y1]/[Y2] GenerateXML) and our MGWdsquc01req (災害時, docs/medical.md). For tests, the
Gherkin steps and anyone scripting the gateway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from mockgateway.domain.clock import format_date
from mockgateway.domain.model import Qualification
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree


def _clean(tree: Mapping[str, Node]) -> Tree:
    return {k: v for k, v in tree.items() if v is not None}


def medical_request(
    card: Qualification | Mapping[str, str | None],
    *,
    medical_institution: str,
    file_category: str = "2",
    start: dt.date | None = None,
    end: dt.date | None = None,
    viewer_role: str | None = None,
    treatment_flag: str = "1",
    file_identifier: str | None = "mgw-medical",
    role_element: str = "ViewerRole",
    encoding: str = "Shift_JIS",
) -> bytes:
    """A YZKsiquc01req / TKKsiquc01req (same layout; TKK ignores StartDate/EndDate in practice).

    `card`: a Qualification, or a mapping with InsurerNumber / InsuranceCardSymbol /
    InsuredPersonIdentificationNumber / BranchNumber as the clerk typed them."""
    if isinstance(card, Qualification):
        keys: Mapping[str, str | None] = {
            "InsurerNumber": card.insurer.number.padded,
            "InsuranceCardSymbol": card.key.symbol or None,
            "InsuredPersonIdentificationNumber": card.key.number,
            "BranchNumber": card.key.branch or None,
        }
    else:
        keys = card
    header = _clean(
        {
            "MedicalInstitutionCode": medical_institution,
            **keys,
            "ArbitraryFileIdentifier": file_identifier,
            role_element: viewer_role,
        }
    )
    body = _clean(
        {
            "StartDate": format_date(start) if start else None,
            "EndDate": format_date(end) if end else None,
            "FileCategory": file_category,
            "PrDiInfClassification": "1",
            "MedicalTreatmentFlag": treatment_flag,
        }
    )
    return xmlcodec.render("XmlMsg", {"MessageHeader": header, "MessageBody": body}, encoding)


def disaster_request(
    search: Mapping[str, str | None],
    *,
    medical_institution: str,
    consent: str | None = "1",
    viewer_role: str | None = None,
    file_identifier: str | None = "mgw-disaster",
    encoding: str = "Shift_JIS",
) -> bytes:
    """A MGWdsquc01req: `search` holds DisasterSearchInfo (Name / NameKana, Birthdate, Sex,
    InsurerName / Address — or InsurerNumber, InsuredCardSymbol, InsuredIdentificationNumber,
    InsuredBranchNumber, Birthdate)."""
    header = _clean(
        {
            "MedicalInstitutionCode": medical_institution,
            "ArbitraryFileIdentifier": file_identifier,
            "ViewerRole": viewer_role,
        }
    )
    body = _clean({"DisasterSearchInfo": _clean(search), "ConsentClassification": consent, "FileCategory": "1"})
    return xmlcodec.render("XmlMsg", {"MessageHeader": header, "MessageBody": body}, encoding)


def card_search(q: Qualification, birthdate: dt.date) -> dict[str, str | None]:
    """DisasterSearchInfo by the numbers on a card."""
    return {
        "InsurerNumber": q.insurer.number.padded,
        "InsuredCardSymbol": q.key.symbol or None,
        "InsuredIdentificationNumber": q.key.number,
        "InsuredBranchNumber": q.key.branch or None,
        "Birthdate": format_date(birthdate),
    }
