"""同意済資格情報一括取得 (訪問診療等 OQSmuhvq, OQS-IF-017…020; オンライン診療等 OQSmuonq, OQS-IF-021…024).

Two steps like 一括照会 (docs/bulk.md), on the same durable job store and worker: the 01req names a
date range (ConsentDate or ExaminationDate, [Y2]) and the family's MedicalTreatmentFlag; the
gateway resolves it at upload, against this 医療機関's continuing consents only, into one record per
consent (so the 02res is the same after a restart and never holds another institution's patients);
the worker turns each record into a `BulkConfirmUnit` with the patient's current 資格 and the consent
flags (1 valid / 2 lapsed). Withdrawn consents are left out. Inferred: the unit's layout (the
一括照会 unit plus the consent elements of the single result), and ExaminationDate = the day of
the first visit (the gateway keeps no other 受診日) — docs/home-visit.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ProcessingResultStatus, SegmentOfResult
from mockgateway.domain.continuing_consent import Family, Status
from mockgateway.domain.eligibility import current_qualifications
from mockgateway.engine import Context, Reply
from mockgateway.services.bulk import render as bulk_render
from mockgateway.services.bulk.jobs import ChunkOutcome, Job
from mockgateway.services.bulk.layout import BulkLayout
from mockgateway.services.bulk.service import UploadService
from mockgateway.services.home_visit.feature import HomeVisitFeature
from mockgateway.services.home_visit.layout import parse_consented_query
from mockgateway.services.home_visit.requery import result_consents
from mockgateway.wire.results import ResultOptions, qualification_tree, result_header
from mockgateway.wire.xmlcodec import Node, Tree

if TYPE_CHECKING:
    from mockgateway.services.bulk.service import BulkFeature

_SEARCH_ECHO = ("InsurerNumber", "InsuredCardSymbol", "InsuredIdentificationNumber", "InsuredBranchNumber",
                "Birthdate")  # fmt: skip


def layout_for(family: Family, api_family: str) -> BulkLayout:
    return BulkLayout(api_family, f"同意済資格情報一括取得（{family.label}）", "QualificationConfirmSearchInfo",
                      "BulkConfirmUnit")  # fmt: skip


class ConsentedUploadService(UploadService):
    """01req: the date range → one record per consent at this 医療機関; answered like 一括照会's 01res."""

    def __init__(self, bulk: BulkFeature, layout: BulkLayout, feature: HomeVisitFeature, family: Family) -> None:
        super().__init__(bulk, layout)
        self.home = feature
        self.family = family

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        query = parse_consented_query(tree, self.family)
        mic = query.header.medical_institution.value
        records: list[Node] = []
        for consent in self.home.book.at(mic):
            if consent.family is not self.family or consent.status(ctx.now) is Status.WITHDRAWN:
                continue
            if query.range.holds(consent.given_at.date()):
                records.append({"consent": consent.id})
        job = self.feature.jobs.create(
            family=self.layout.family,
            mic=mic,
            file_identifier=query.header.arbitrary_file_identifier,
            confirmation_date=f"{ctx.now:%Y%m%d}",
            accepted=ctx.now,
            accepted_real=self.feature.real_time(),
            pace=self.feature.settings.pace,
            records=records,
        )
        self.feature.worker.wake()
        header = result_header(
            now=ctx.now, mic=mic, confirmation_date=None,
            arbitrary_file_identifier=query.header.arbitrary_file_identifier, reference=None,
            segment=SegmentOfResult.NORMAL, error=None, character_code=ctx.character_code,
        )  # fmt: skip
        period = f"{query.range.element} {query.range.start:%Y%m%d}–{query.range.end:%Y%m%d}"
        return Reply(
            {"MessageHeader": header,
             "MessageBody": {"ReceptionNumber": job.reception_number, "ReceptionDateTime": job.accepted_at}},
            reason=f"受付 {job.reception_number}: {self.family.label} {period} → {len(records)}件",
            extra={"reception_number": job.reception_number, "bulk": "upload", "records": len(records),
                   "home_visit": {"family": self.family.label, "range": period}},
        )  # fmt: skip


class ConsentedProcessor:
    """One consent → one BulkConfirmUnit (current 資格 as of the job's date, consent flags)."""

    def __init__(self, feature: HomeVisitFeature) -> None:
        self.feature = feature

    def __call__(self, job: Job, records: list[tuple[int, Node]]) -> ChunkOutcome:
        gateway = self.feature.gateway
        now = gateway.clock.now()
        units: list[tuple[str, bool]] = []
        for _seq, raw in records:
            consent_id = raw.get("consent") if isinstance(raw, dict) else None
            consent = self.feature.book.get(str(consent_id)) if consent_id else None
            person = gateway.index.people.get(consent.person_id) if consent else None
            if consent is None or person is None or consent.medical_institution != job.mic:
                code = gateway.codes.get("home_visit.no_consent", detail=f"{consent_id}")
                unit: dict[str, Node] = {
                    "ProcessingResultStatus": ProcessingResultStatus.ERROR.value,
                    "ProcessingResultCode": code.code,
                    "ProcessingResultMessage": code.message,
                }
                units.append((bulk_render.element("BulkConfirmUnit", unit), True))
                continue
            outcome = current_qualifications(person, now.date())
            options = ResultOptions(on=now.date(), now=now, consents=result_consents(consent, now))
            results: list[Node] = [dict(qualification_tree(m, options)) for m in outcome.matches]
            echo: dict[str, Node] = {}
            if outcome.match is not None:
                q = outcome.match.qualification
                echo = {
                    "InsurerNumber": q.insurer.number.padded,
                    "InsuredCardSymbol": q.key.symbol or None,
                    "InsuredIdentificationNumber": q.key.number,
                    "InsuredBranchNumber": q.key.branch or None,
                    "Birthdate": f"{person.birthdate:%Y%m%d}",
                }
            lapsed = consent.status(now) is Status.LAPSED
            notice = gateway.codes.get("home_visit.lapsed", detail=format_timestamp(consent.until)) if lapsed else None
            unit = {
                "QualificationConfirmSearchInfo": {k: v for k, v in echo.items() if v is not None},
                "ProcessingResultStatus": ProcessingResultStatus.NORMAL.value,
                "ProcessingResultCode": notice.code if notice else None,
                "ProcessingResultMessage": notice.message if notice else None,
                "QualificationValidity": outcome.validity.value,
                "ConsentDate": f"{consent.given_at:%Y%m%d}",
                "ResultOfQualificationConfirmation": results[0] if len(results) == 1 else (results or None),
            }
            units.append((bulk_render.element("BulkConfirmUnit", {k: v for k, v in unit.items() if v is not None}),
                          False))  # fmt: skip
        return ChunkOutcome(units)
