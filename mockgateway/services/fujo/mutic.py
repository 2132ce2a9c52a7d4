"""医療扶助の一括照会 (OQSmutic01/02), two-step like 資格確認一括照会 (services/bulk.py).

    OQSmutic01req  MessageBody/QualificationConfirmSearchInfo/MedicalTreatmentMonth (YYYYMM, [Y2])
      → the recipients are chosen now: everyone with a 医療券・調剤券 of that 診療年月 designating
        this 医療機関 **(inferred selection)**; one stored record per recipient (durable, like any
        bulk job), OQSmutic01res = ReceptionNumber + ReceptionDateTime
    OQSmutic02req  ReceptionNumber → 処理中 (2) or one BulkConfirmUnit per recipient: the echo
                   (PublicExpenseNumber, BeneficiaryNumber, MedicalTreatmentMonth), status,
                   QualificationValidity, ResultOfQualificationConfirmation with PublicExpenseResultList
                   **(unit layout inferred from OQSmuquc02res)**

No month, or a month that is not YYYYMM or lies in the future → SegmentOfResult 9 naming
MedicalTreatmentMonth. A recipient gone by processing time (fixtures reloaded) → a per-record error
naming BeneficiaryNumber.
"""

from __future__ import annotations

from mockgateway.domain.codes import ProcessingResultStatus
from mockgateway.domain.eligibility import Match
from mockgateway.domain.fujo import parse_month, recipients
from mockgateway.engine import Context, Gateway
from mockgateway.services.bulk import render as bulk_render
from mockgateway.services.bulk.jobs import ChunkOutcome, Job
from mockgateway.services.bulk.layout import BulkLayout, BulkUpload
from mockgateway.services.bulk.service import UploadService
from mockgateway.services.fujo.layout import (
    BENEFICIARY,
    INFO,
    MONTH,
    MUTIC,
    MUTIC_TITLE,
    PUBLIC_EXPENSE,
    FujoSearch,
    parse_month_element,
)
from mockgateway.services.fujo.query import judge
from mockgateway.wire.messages import child, message, parse_header
from mockgateway.wire.results import ResultOptions, qualification_tree
from mockgateway.wire.xmlcodec import Node, Tree

LAYOUT = BulkLayout(MUTIC, MUTIC_TITLE, INFO, "BulkConfirmUnit")
BODY = "XmlMsg/MessageBody"


def find_recipients(gateway: Gateway, month: str, mic: str) -> list[Match]:
    """Walks the people index: fine for fixtures; the generated national population has no 医療扶助."""
    found: list[Match] = []
    for person in gateway.index.people.values():
        found.extend(recipients([Match(person, q) for q in person.qualifications if q.public_assistance], month, mic))
    return found


class MuticUploadService(UploadService):
    def upload(self, ctx: Context, tree: Tree) -> BulkUpload:
        header_tree, body = message(tree)
        header = parse_header(header_tree, date_required=False)
        info = child(body, INFO, BODY, required=False)  # empty: the month is what is missing
        month = parse_month_element(info, f"{BODY}/{INFO}", ctx.now.date(), required=True)
        assert month is not None
        mic = header.medical_institution.value
        records: list[Node] = [
            {
                PUBLIC_EXPENSE: m.qualification.key.insurer_number,
                BENEFICIARY: m.qualification.key.number,
                MONTH: month,
            }
            for m in find_recipients(ctx.gateway, month, mic)
        ]
        return BulkUpload(header=header, records=records)


class MuticProcessor:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def __call__(self, job: Job, records: list[tuple[int, Node]]) -> ChunkOutcome:
        gateway = self.gateway
        on = gateway.clock.today()
        now = gateway.clock.now()
        units: list[tuple[str, bool]] = []
        for seq, raw in records:
            assert isinstance(raw, dict)
            echo: Tree = {k: v for k, v in raw.items() if isinstance(v, str)}
            month = str(echo[MONTH])
            parse_month(month)
            search = FujoSearch(echo, str(echo[PUBLIC_EXPENSE]), str(echo[BENEFICIARY]), None, month, None,
                                f"{BODY}/{LAYOUT.unit}[{seq + 1}]/{INFO}/{BENEFICIARY}")  # fmt: skip
            candidates = [
                m for m in gateway.index.candidates(search.beneficiary_number) if m.qualification.public_assistance
            ]
            judged = judge(candidates, search, on, job.mic)
            unit: dict[str, Node] = {INFO: echo}
            if not judged.outcome.matches:
                code = gateway.codes.get(
                    "fujo.not_found", element=search.beneficiary_element, detail=judged.outcome.reason
                )
                unit.update(
                    ProcessingResultStatus=ProcessingResultStatus.ERROR.value,
                    ProcessingResultCode=code.code,
                    ProcessingResultMessage=code.message,
                )
                units.append((bulk_render.element(LAYOUT.unit, unit), True))
                continue
            options = ResultOptions(on=on, now=now, tickets=judged.tickets)
            unit.update(
                ProcessingResultStatus=ProcessingResultStatus.NORMAL.value,
                QualificationValidity=judged.outcome.validity.value,
                ResultOfQualificationConfirmation=[qualification_tree(m, options) for m in judged.outcome.matches],
            )
            units.append((bulk_render.element(LAYOUT.unit, unit), False))
        return ChunkOutcome(units)
