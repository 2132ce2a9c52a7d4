"""薬剤・診療情報 (YZKsiquc01) and 特定健診情報 (TKKsiquc01) retrieval under consent (docs/medical.md).

`install(gateway)` registers both services, keeps a `MedicalIndex` of every persona's records
(rebuilt on each reload); the admin routes are admin.py's. Every answer — result
or refusal — is journalled by the engine with `extra["medical"]`: who was asked about, which
viewer role, which consent (flag, time, window) the view relied on, and whether it was an
emergency (flag 3) view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ConsentFlag, ResultCode, SegmentOfResult
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.domain.model import Person
from mockgateway.domain.retention import InformationKind, viewing_window
from mockgateway.engine import Context, Gateway, Reply
from mockgateway.services.medical import pdf as medical_pdf
from mockgateway.services.medical import xml as medical_xml
from mockgateway.services.medical.access import (
    GracePeriodBook,
    MedicalSettings,
    Refusal,
    card_refusal,
    consent_refusal,
    grace_refusal,
    role_refusal,
)
from mockgateway.services.medical.fixture import MedicalIndex
from mockgateway.services.medical.records import MedicalRecords
from mockgateway.services.medical.request import MedicalRequest, find_person, parse_request
from mockgateway.wire.xmlcodec import Tree

DRUG_API = "YZKsiquc01"
CHECKUP_API = "TKKsiquc01"


ContinuingSource = Callable[[str, str, ConsentKind, dt.datetime], "tuple[Consent, Refusal | None] | None"]


class MedicalFeature:
    """State shared by the 医療情報 services: settings, records, grace-period marks."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.settings = MedicalSettings.load(gateway.store)
        self.grace = GracePeriodBook(gateway.store)
        self.index = MedicalIndex()
        # Set by other features (None: not installed): the 居宅 continuing consent (home_visit) and
        # the institution-kind gate (資格確認限定型: no 医療情報 for 施術所 etc., limited).
        self.continuing: ContinuingSource | None = None
        self.institution_gate: Callable[[str, str], Refusal | None] | None = None  # (code, medical|disaster)
        self.rebuild(gateway)

    def rebuild(self, gateway: Gateway) -> None:
        index = gateway.index
        # A store-backed index offers `with_extension`, which walks only the people who have one.
        walk = getattr(index, "with_extension", None)
        people: Iterable[Person] = (
            walk("medical") if callable(walk) else (p for p in index.people.values() if "medical" in p.extensions)
        )
        self.index = MedicalIndex.build(people, gateway.clock.today())

    def records_of(self, person_id: str) -> MedicalRecords:
        return self.index.of(person_id)

    def update_settings(self, changes: dict[str, Any]) -> MedicalSettings:
        self.settings = self.settings.with_changes(changes)
        self.settings.save(self.gateway.store)
        return self.settings

    def consent_for(
        self, person_id: str, mic: str, kind: ConsentKind, now: dt.datetime
    ) -> tuple[Consent | None, Refusal | None]:
        consent = self.gateway.consents.latest(person_id, mic, kind)
        # A grace-period reading records the kinds as not consented and marks them: say why.
        if consent is not None and self.grace.is_marked(consent):
            return consent, grace_refusal(consent)
        refusal = consent_refusal(consent, kind, mic, now)
        if refusal is not None and self.continuing is not None:
            # No open 24-hour consent: a 居宅 continuing consent at this 医療機関 may speak for it.
            found = self.continuing(person_id, mic, kind, now)
            if found is not None:
                return found
        return consent, refusal


def consent_facts(consent: Consent | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    return {
        "kind": consent.kind.value,
        "flag": consent.flag.value,
        "given_at": format_timestamp(consent.given_at),
        "available_until": format_timestamp(consent.available_until),
        "emergency": consent.flag is ConsentFlag.UNOBTAINABLE,
    }


@dataclass
class _Outcome:
    """What a handler learned, whatever the answer: goes into the journal."""

    api: str
    facts: dict[str, Any]

    def refuse(self, ctx: Context, request: MedicalRequest | None, refusal: Refusal) -> Reply:
        code = ctx.codes.get(refusal.code_name, detail=refusal.detail, element="")
        tree = medical_xml.error_tree(
            now=ctx.now,
            mic=request.medical_institution.value if request else None,
            file_id=request.file_id if request else None,
            character_code=ctx.character_code,
            code=code,
        )
        self.facts["refused"] = refusal.code_name
        return Reply(tree, segment=SegmentOfResult.ABNORMAL, reason=refusal.detail, extra={"medical": self.facts})


class _MedicalService:
    api_id = ""
    reference = None
    categories: tuple[str, ...] = ("1", "2")
    consent_kind = ConsentKind.DRUG
    information = InformationKind.DRUG

    def __init__(self, feature: MedicalFeature) -> None:
        self.feature = feature

    def error_tree(self, ctx: Context, echo: dict[str, str], code: ResultCode) -> Tree:
        return medical_xml.error_tree(
            now=ctx.now,
            mic=echo.get("MedicalInstitutionCode"),
            file_id=echo.get("ArbitraryFileIdentifier"),
            character_code=ctx.character_code,
            code=code,
        )

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        feature = self.feature
        settings = feature.settings
        request = parse_request(
            tree,
            settings,
            categories=self.categories,
            strict_padding=ctx.gateway.settings.strict_insurer_padding,
        )
        mic = request.medical_institution.value
        outcome = _Outcome(
            self.api_id,
            {
                "kind": self.information.value,
                "viewer_role": request.viewer.role,
                "viewer_role_sent": request.viewer.sent,
                "file_category": request.file_category,
                "treatment_flag": request.treatment_flag,
            },
        )
        # Before the person is looked up: a 資格確認限定型 institution learns nothing about anyone.
        gate = feature.institution_gate(mic, "medical") if feature.institution_gate is not None else None
        if gate is not None:
            return outcome.refuse(ctx, request, gate)
        lookup = find_person(ctx.index, request.card)
        if lookup.match is None:
            assert lookup.code_name is not None
            return outcome.refuse(ctx, request, Refusal(lookup.code_name, lookup.detail))
        person, qualification = lookup.match.person, lookup.match.qualification
        outcome.facts["person"] = person.id
        error = feature.index.errors.get(person.id)
        refusal = (
            (Refusal("medical.records", error) if error else None)
            or card_refusal(qualification.card_classification)
            or self.institution_refusal(request)
        )
        refusal = refusal or role_refusal(request.viewer.role, self.roles(settings), self.information.label)
        if refusal:
            return outcome.refuse(ctx, request, refusal)
        consent, refusal = feature.consent_for(person.id, mic, self.consent_kind, ctx.now)
        outcome.facts["consent"] = consent_facts(consent)
        if refusal:
            return outcome.refuse(ctx, request, refusal)
        assert consent is not None
        try:
            reply = self.answer(ctx, request, person.id, outcome)
        except medical_pdf.FontMissing as exc:
            return outcome.refuse(ctx, request, Refusal("medical.font", str(exc)))
        if consent.flag is ConsentFlag.UNOBTAINABLE:
            outcome.facts["emergency"] = True
            reply.reason = "救急時医療情報閲覧: 同意取得困難 (閲覧同意フラグ 3) による閲覧"
        reply.extra = {"medical": outcome.facts}
        return reply

    def roles(self, settings: MedicalSettings) -> tuple[str, ...]:
        return settings.drug_roles

    def institution_refusal(self, request: MedicalRequest) -> Refusal | None:
        del request
        return None

    def answer(self, ctx: Context, request: MedicalRequest, person_id: str, outcome: _Outcome) -> Reply:
        raise NotImplementedError


def _period(start: dt.date, end: dt.date) -> str:
    return f"{start:%Y/%m/%d}〜{end:%Y/%m/%d}"


class DrugService(_MedicalService):
    api_id = DRUG_API
    categories = ("1", "2", "3", "4")

    def answer(self, ctx: Context, request: MedicalRequest, person_id: str, outcome: _Outcome) -> Reply:
        feature, policy = self.feature, self.feature.settings.retention
        today = ctx.now.date()
        person = ctx.index.people[person_id]
        window = viewing_window(policy, InformationKind.DRUG, today, request.start, request.end)
        notices: list[ResultCode] = []
        if window.clipped:
            since = f"{window.start:%Y%m%d} 以降 ({policy.drug_years}年)"
            notices.append(ctx.codes.get("medical.clipped", detail=since))
        clinical = False
        if request.clinical:
            consent, refusal = feature.consent_for(person_id, request.medical_institution.value,
                                                   ConsentKind.DIAGNOSIS, ctx.now)  # fmt: skip
            outcome.facts["clinical_consent"] = consent_facts(consent)
            clinical = refusal is None
            if not clinical:
                notices.append(ctx.codes.get("medical.clinical_omitted"))
                outcome.facts["clinical_omitted"] = refusal.detail if refusal else None
        records = feature.records_of(person_id).retained(policy, today).drugs_within(window.start, window.end)
        if not clinical:
            records = [r for r in records if r.drugs]
        outcome.facts.update(
            period=[f"{window.start:%Y%m%d}", f"{window.end:%Y%m%d}"],
            drug_lines=sum(len(r.drugs) for r in records),
            procedures=sum(len(r.procedures) for r in records) if clinical else 0,
        )
        if request.pdf:
            font = medical_pdf.find_font(feature.settings.font_path)
            pdf = medical_pdf.drug_pdf(
                font,
                person,
                records,
                medical_pdf.Request(
                    request.medical_institution.value,
                    request.viewer.role,
                    _period(window.start, window.end),
                    ctx.now,
                    tuple(f"※ {n.message}" for n in notices),
                ),
                clinical=clinical,
            )
            return Reply({}, document=pdf, extension=".pdf", media_type="application/pdf")
        header = medical_xml.header(
            now=ctx.now,
            mic=request.medical_institution.value,
            file_id=request.file_id,
            character_code=ctx.character_code,
            notices=notices,
        )
        header["QuaInf"] = medical_xml.drug_patient(person)
        body = medical_xml.drug_body(records, requester=request.medical_institution.value, with_procedures=clinical)
        return Reply({"MessageHeader": header, "MessageBody": body})


class CheckupService(_MedicalService):
    api_id = CHECKUP_API
    consent_kind = ConsentKind.CHECKUP
    information = InformationKind.CHECKUP

    def roles(self, settings: MedicalSettings) -> tuple[str, ...]:
        return settings.checkup_roles

    def institution_refusal(self, request: MedicalRequest) -> Refusal | None:
        if request.medical_institution.is_pharmacy:
            code = request.medical_institution.value
            return Refusal("medical.pharmacy", f"医療機関コード {code} の点数表番号は 4 (薬局) です")
        return None

    def answer(self, ctx: Context, request: MedicalRequest, person_id: str, outcome: _Outcome) -> Reply:
        feature, policy = self.feature, self.feature.settings.retention
        today = ctx.now.date()
        person = ctx.index.people[person_id]
        window = viewing_window(policy, InformationKind.CHECKUP, today, request.start, request.end)
        checkups = feature.records_of(person_id).retained(policy, today).checkups_within(window.start, window.end)
        outcome.facts.update(period=[f"{window.start:%Y%m%d}", f"{window.end:%Y%m%d}"], checkups=len(checkups))
        if request.pdf:
            font = medical_pdf.find_font(feature.settings.font_path)
            pdf = medical_pdf.checkup_pdf(
                font,
                person,
                checkups,
                medical_pdf.Request(
                    request.medical_institution.value, request.viewer.role, _period(window.start, window.end), ctx.now
                ),
            )
            return Reply({}, document=pdf, extension=".pdf", media_type="application/pdf")
        header = medical_xml.header(
            now=ctx.now, mic=request.medical_institution.value, file_id=request.file_id,
            character_code=ctx.character_code,
        )  # fmt: skip
        header["QualificationsInfo"] = medical_xml.checkup_patient(person)
        return Reply({"MessageHeader": header, "MessageBody": medical_xml.checkup_body(checkups)})


def medical_feature(gateway: Gateway) -> MedicalFeature:
    """The feature installed on `gateway` (for the admin routes, the disaster service and tests)."""
    service = gateway.services.get(DRUG_API)
    if not isinstance(service, DrugService):
        raise LookupError(
            "the 医療情報 feature is not installed on this gateway (mockgateway.services.medical.service)"
        )
    return service.feature


def install(gateway: Gateway) -> None:
    """Both services and the records index; the admin routes come from admin.install (after this)."""
    feature = MedicalFeature(gateway)
    gateway.register(DRUG_API, DrugService(feature))
    gateway.register(CHECKUP_API, CheckupService(feature))
    gateway.on_reload.append(feature.rebuild)
