"""Request layouts of the 居宅同意取得型 interfaces. PARTLY INFERRED — this module is the only place
that knows them (docs/home-visit.md); when the real 別紙3-1 pages are known, change this module.

Observed ([Y2] CreateRequestAsync, oqs-interface.md §2) — 同意済資格情報一括取得, OQSmuhvq / OQSmuonq:

    MessageHeader: MedicalInstitutionCode, ArbitraryFileIdentifier
    MessageBody/QualificationConfirmSearchInfo:
        ConsentDateFrom, ConsentDateTo (YYYYMMDD)  or  ExaminationDateFrom, ExaminationDateTo
        MedicalTreatmentFlag  2 (訪問診療等) / 3 (オンライン診療等)

INFERRED — the API-id mapping of the single interfaces (the ids appear only as names in [PS]):
OQSsihvq 資格確認（訪問診療等）, OQSsionq 資格確認（オンライン診療等）, OQSsihvd 閲覧同意取り消し
(訪問診療等) — `HomeVisitSettings.api_ids` changes them. Their bodies are not public; we accept the
single query's own body (OQSsiquc01req's QualificationConfirmSearchInfo: the 被保険者証情報 the
institution holds from the first visit, and Birthdate) plus an optional MedicalTreatmentFlag.
The 02 (download) step is the 一括照会 one (bulk_layout.parse_download).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from mockgateway.domain.continuing_consent import Family
from mockgateway.wire.messages import (
    Header,
    RequestError,
    SearchInfo,
    child,
    date,
    message,
    parse_header,
    parse_search_info,
    text,
)
from mockgateway.wire.xmlcodec import Node, Tree

BODY = "XmlMsg/MessageBody"
INFO = f"{BODY}/QualificationConfirmSearchInfo"


@dataclass(frozen=True, slots=True)
class DateRange:
    element: str  # ConsentDate / ExaminationDate: which dates the range is about
    start: dt.date
    end: dt.date

    def holds(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class ConsentedQuery:
    """同意済資格情報一括取得要求 (OQS-IF-017 / 021)."""

    header: Header
    family: Family
    range: DateRange
    raw: Tree  # the search info as sent, echoed in the journal


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """資格確認要求（訪問診療等 / オンライン診療等）and 閲覧同意取り消し要求 (inferred body)."""

    header: Header
    family: Family
    info: SearchInfo


def _family(info: Mapping[str, Node], expected: tuple[Family, ...], *, required: bool) -> Family:
    raw = text(info, "MedicalTreatmentFlag", INFO, required=required)
    if raw is None:
        return expected[0]
    for family in expected:
        if raw == family.value:
            return family
    wanted = " / ".join(f"{f.value} ({f.label})" for f in expected)
    raise RequestError("xml.format", f"{INFO}/MedicalTreatmentFlag", f"{raw!r}: この要求では {wanted} です")


def parse_consented_query(tree: Mapping[str, Node], family: Family) -> ConsentedQuery:
    """Missing range → `xml.required` naming ConsentDateFrom; From after To → `home_visit.range`."""
    header_tree, body = message(tree)
    header = parse_header(header_tree, date_required=False)
    info = child(body, "QualificationConfirmSearchInfo", BODY)
    found = _family(info, (family,), required=True)
    ranges: list[DateRange] = []
    for element in ("ConsentDate", "ExaminationDate"):
        start = date(info, f"{element}From", INFO)
        end = date(info, f"{element}To", INFO)
        if start is None and end is None:
            continue
        if start is None or end is None:
            missing = f"{element}From" if start is None else f"{element}To"
            raise RequestError("xml.required", f"{INFO}/{missing}", f"{element}From と {element}To は対で指定します")
        if start > end:
            raise RequestError(
                "home_visit.range", f"{INFO}/{element}From", f"{start:%Y%m%d} が {element}To {end:%Y%m%d} より後です"
            )
        ranges.append(DateRange(element, start, end))
    if not ranges:
        raise RequestError(
            "xml.required",
            f"{INFO}/ConsentDateFrom",
            "ConsentDateFrom/To か ExaminationDateFrom/To のどちらかが必要です",
        )
    if len(ranges) > 1:
        raise RequestError(
            "xml.format", f"{INFO}/ExaminationDateFrom", "ConsentDate と ExaminationDate はどちらか一方を指定します"
        )
    raw: Tree = {k: v for k, v in info.items() if isinstance(v, str)}
    return ConsentedQuery(header, found, ranges[0], raw)


def parse_patient_query(
    tree: Mapping[str, Node], families: tuple[Family, ...], *, strict_padding: bool
) -> PatientQuery:
    """`families`: the MedicalTreatmentFlag values this API takes (the first when none is sent)."""
    header_tree, body = message(tree)
    header = parse_header(header_tree, date_required=False)
    info_tree = child(body, "QualificationConfirmSearchInfo", BODY)
    found = _family(info_tree, families, required=False)
    rest = {k: v for k, v in info_tree.items() if k != "MedicalTreatmentFlag"}
    info = parse_search_info(rest, INFO, strict_padding=strict_padding)
    raw = {**info.raw, **({"MedicalTreatmentFlag": found.value} if "MedicalTreatmentFlag" in info_tree else {})}
    return PatientQuery(header, found, dataclasses.replace(info, raw=raw))


# -- the client side (tests, the reference client, load generators) -------------------------------


def consented_query_tree(
    mic: str,
    family: Family,
    *,
    consent_from: str | None = None,
    consent_to: str | None = None,
    examination_from: str | None = None,
    examination_to: str | None = None,
    file_identifier: str | None = None,
) -> Tree:
    info: dict[str, Node] = {
        "ConsentDateFrom": consent_from,
        "ConsentDateTo": consent_to,
        "ExaminationDateFrom": examination_from,
        "ExaminationDateTo": examination_to,
        "MedicalTreatmentFlag": family.value,
    }
    header: dict[str, Node] = {"MedicalInstitutionCode": mic, "ArbitraryFileIdentifier": file_identifier}
    return {
        "MessageHeader": {k: v for k, v in header.items() if v is not None},
        "MessageBody": {"QualificationConfirmSearchInfo": {k: v for k, v in info.items() if v is not None}},
    }


def patient_query_tree(
    mic: str, family: Family, card: Mapping[str, str], *, file_identifier: str | None = None
) -> Tree:
    """`card`: InsurerNumber, InsuredCardSymbol, InsuredIdentificationNumber, InsuredBranchNumber, Birthdate."""
    header: dict[str, Node] = {"MedicalInstitutionCode": mic, "ArbitraryFileIdentifier": file_identifier}
    info: dict[str, Node] = {k: v for k, v in card.items() if v}
    info["MedicalTreatmentFlag"] = family.value
    return {
        "MessageHeader": {k: v for k, v in header.items() if v is not None},
        "MessageBody": {"QualificationConfirmSearchInfo": info},
    }
