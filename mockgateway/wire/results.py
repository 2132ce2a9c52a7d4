"""Result trees: the shapes of 資格確認結果 (oqs-interface.md §1.4), built from domain objects.

Element order follows the public models ([S], [RW]); optional elements are left out rather
than sent empty, except where clients are known to expect the element.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mockgateway.domain.clock import format_date, format_timestamp
from mockgateway.domain.codes import (
    CharacterCode,
    ConsentFlag,
    ProcessingResultStatus,
    ReferenceClassification,
    ResultCode,
    SegmentOfResult,
    Validity,
)
from mockgateway.domain.eligibility import Match
from mockgateway.domain.model import LimitCertificate, Qualification, SpecificDiseaseCertificate
from mockgateway.wire.xmlcodec import Node, Rendered, Tree

TREE_CACHE = 30_000  # qualification results kept rendered (about 2 KB each)
# An enum member's .value goes through a descriptor (~0.3 µs); the hot path looks values up instead.
_VALUES: dict[object, str] = {
    m: m.value
    for e in (CharacterCode, ProcessingResultStatus, ReferenceClassification, SegmentOfResult, Validity)
    for m in e
}


def _d(value: dt.date | None) -> str | None:
    return format_date(value) if value is not None else None


_last_timestamp: list[tuple[float, str]] = [(math.nan, "")]


def timestamp_memo(now: dt.datetime) -> str:
    """format_timestamp, remembered for the last second (requests within a second share it)."""
    second = math.floor(now.timestamp())
    last, text = _last_timestamp[0]
    if last == second:
        return text
    text = format_timestamp(now)
    _last_timestamp[0] = (second, text)
    return text


@dataclass(frozen=True, slots=True)
class Consent:
    """One 閲覧同意 as captured on the card reader: flag, time, and the end of its window."""

    flag: ConsentFlag
    time: dt.datetime | None = None
    available_until: dt.datetime | None = None


@dataclass(slots=True)
class ResultOptions:
    on: dt.date
    now: dt.datetime
    limit_consent: bool = False  # LimitApplicationCertificateRelatedConsFlg sent as 1
    consents: Mapping[str, Consent] = field(default_factory=dict)  # "PharmacistsInfo" → Consent
    reference_number: str | None = None
    arbitrary_identifier: str | None = None
    diseases_layout: str = "nested"  # SpecificDiseasesCertificateList: nested (List → Info*) or flat (docs/layouts.md)
    # face files: the reader writes every consent flag, 0 for a screen it did not show
    every_consent_flag: bool = False


CONSENT_KINDS = ("SpecificHealthCheckupsInfo", "PharmacistsInfo", "DiagnosisInfo", "OperationInfo")


_trees: dict[tuple[object, ...], tuple[object, object, Rendered]] = {}


def qualification_tree(match: Match, options: ResultOptions) -> Tree:
    """ResultOfQualificationConfirmation. Without per-request consents the tree depends only on the
    match and a few options, so it is built and rendered once and shared (`xmlcodec.Rendered`)."""
    if options.consents:
        return _qualification_tree(match, options)
    person, q = match.person, match.qualification
    limit = options.limit_consent
    key = (
        id(person),
        id(q),
        limit,
        options.reference_number,
        options.arbitrary_identifier,
        options.diseases_layout,
        options.every_consent_flag,
        options.on if limit else None,
        options.now if limit else None,
    )
    hit = _trees.get(key)
    if hit is not None and hit[0] is person and hit[1] is q:  # the ids are still these objects
        return hit[2]
    tree = Rendered(_qualification_tree(match, options))
    if len(_trees) >= TREE_CACHE:
        _trees.clear()
    _trees[key] = (person, q, tree)
    return tree


def _qualification_tree(match: Match, options: ResultOptions) -> Tree:
    person, q = match.person, match.qualification
    tree: Tree = {
        "InsuredCardClassification": q.card_classification,
        "InsurerNumber": q.insurer.number.padded,
        "InsuredCardSymbol": q.key.symbol or None,
        "InsuredIdentificationNumber": q.key.number,
        "InsuredBranchNumber": q.key.branch or None,
        "PersonalFamilyClassification": q.personal_family.value if q.personal_family else None,
        "InsuredName": q.insured_name,
        "Name": person.name,
        "NameOfOther": person.name_of_other,
        "NameKana": person.name_kana,
        "NameOfOtherKana": person.name_of_other_kana,
        "Sex1": person.sex1.value,
        "Sex2": person.sex2.value if person.sex2 else None,
        "Birthdate": format_date(person.birthdate),
        "Address": person.address,
        "PostNumber": person.post_number,
        "QualificationDate": format_date(q.qualification_date),
        "DisqualificationDate": _d(q.disqualification_date),
        "InsuredCertificateIssuanceDate": _d(q.card_issuance_date),
        "InsuredCardValidDate": _d(q.card_valid_date),
        "InsuredCardExpirationDate": _d(q.card_expiration_date),
        "InsuredPartialContributionRatio": q.partial_contribution_ratio,
        "PreschoolClassification": q.preschool,
        "ReasonOfLoss": q.reason_of_loss,
        "InsurerName": q.insurer.name,
        "ElderlyRecipientCertificateInfo": _elderly(q),
    }
    tree["LimitApplicationCertificateRelatedConsFlg"] = "1" if options.limit_consent else "0"
    if options.limit_consent:
        tree["LimitApplicationCertificateRelatedConsTime"] = timestamp_memo(options.now)
        limits: list[Node] = [_limit(c) for c in q.limits if c.in_force(options.on)]
        tree["LimitApplicationCertificateRelatedInfo"] = limits[0] if len(limits) == 1 else (limits or None)
        diseases: list[Node] = [_disease(c) for c in q.specific_diseases if c.in_force(options.on)]
        tree["SpecificDiseasesCertificateRelatedConsFlg"] = "1"
        tree["SpecificDiseasesCertificateRelatedConsTime"] = timestamp_memo(options.now)
        if diseases:
            # flat: a list under the List name renders as repeated List elements in XML and as a
            # JSON array of certificate objects; nested: one List holding Info elements.
            flat = options.diseases_layout == "flat"
            listed: Node = diseases if flat else {"SpecificDiseasesCertificateInfo": diseases}
            tree["SpecificDiseasesCertificateList"] = listed
    elif options.every_consent_flag:
        tree["SpecificDiseasesCertificateRelatedConsFlg"] = "0"
    for kind in CONSENT_KINDS:
        consent = options.consents.get(kind)
        if consent is None:
            continue
        tree[f"{kind}ConsFlg"] = consent.flag.value
        if consent.time is not None:
            tree[f"{kind}ConsTime"] = format_timestamp(consent.time)
        if consent.available_until is not None:
            tree[f"{kind}AvailableTime"] = format_timestamp(consent.available_until)
    tree["ReferenceNumber"] = options.reference_number
    tree["ArbitraryIdentifier"] = options.arbitrary_identifier
    return {k: v for k, v in tree.items() if v is not None}


def _elderly(q: Qualification) -> Tree | None:
    e = q.elderly
    if e is None:
        return None
    return {
        k: v
        for k, v in {
            "ElderlyRecipientCertificateDate": _d(e.issued),
            "ElderlyRecipientValidStartDate": _d(e.valid_start),
            "ElderlyRecipientValidEndDate": _d(e.valid_end),
            "ElderlyRecipientContributionRatio": e.contribution_ratio,
        }.items()
        if v is not None
    }


def _limit(c: LimitCertificate) -> Tree:
    out: dict[str, Node] = {
        "LimitApplicationCertificateClassification": c.classification,
        "LimitApplicationCertificateClassificationFlag": c.classification_flag,
        "LimitApplicationCertificateDate": _d(c.issued),
        "LimitApplicationCertificateValidStartDate": _d(c.valid_start),
        "LimitApplicationCertificateValidEndDate": _d(c.valid_end),
        "LimitApplicationCertificateLongTermDate": _d(c.long_term_date),
    }
    return {k: v for k, v in out.items() if v is not None}


def _disease(c: SpecificDiseaseCertificate) -> Tree:
    out: dict[str, Node] = {
        "SpecificDiseasesDiseaseCategory": c.disease_category,
        "SpecificDiseasesCertificateDate": _d(c.issued),
        "SpecificDiseasesValidStartDate": _d(c.valid_start),
        "SpecificDiseasesValidEndDate": _d(c.valid_end),
        "SpecificDiseasesSelfPay": c.self_pay,
    }
    return {k: v for k, v in out.items() if v is not None}


def result_header(
    *,
    now: dt.datetime,
    mic: str | None,
    confirmation_date: dt.date | str | None,
    arbitrary_file_identifier: str | None,
    reference: ReferenceClassification | None,
    segment: SegmentOfResult,
    error: ResultCode | None,
    character_code: CharacterCode,
) -> Tree:
    date = confirmation_date if isinstance(confirmation_date, str) or confirmation_date is None else None
    if isinstance(confirmation_date, dt.date):
        date = f"{confirmation_date.year:04d}{confirmation_date.month:02d}{confirmation_date.day:02d}"
    header: dict[str, Node] = {
        "ProcessExecutionTime": timestamp_memo(now),
        "QualificationConfirmationDate": date,
        "MedicalInstitutionCode": mic,
        "ArbitraryFileIdentifier": arbitrary_file_identifier,
        "ReferenceClassification": _VALUES[reference] if reference else None,
        "SegmentOfResult": _VALUES[segment],
        "ErrorCode": error.code if error else None,
        "ErrorMessage": error.message if error else None,
        "CharacterCodeIdentifier": _VALUES[character_code],
    }
    return {k: v for k, v in header.items() if v is not None}


def eligibility_body(
    validity: Validity,
    matches: Iterable[Match],
    options: ResultOptions,
    *,
    search_echo: Tree | None,
    notice: ResultCode | None = None,
    person_error: ResultCode | None = None,
) -> Tree:
    """MessageBody of 資格確認結果: per-person status, validity, echo, and the ResultList."""
    status = ProcessingResultStatus.ERROR if person_error else ProcessingResultStatus.NORMAL
    code = person_error or notice
    body: dict[str, Node] = {
        "ProcessingResultStatus": _VALUES[status],
        "ProcessingResultCode": code.code if code else None,
        "ProcessingResultMessage": code.message if code else None,
        "QualificationValidity": None if person_error else _VALUES[validity],
        "QualificationConfirmSearchInfo": search_echo,
    }
    results: list[Node] = [qualification_tree(m, options) for m in matches]
    if results:
        body["ResultList"] = {"ResultOfQualificationConfirmation": results if len(results) > 1 else results[0]}
    return {k: v for k, v in body.items() if v is not None}
