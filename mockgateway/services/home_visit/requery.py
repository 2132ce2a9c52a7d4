"""再照会 (資格確認（訪問診療等 / オンライン診療等）, OQS-IF-025…028) and 閲覧同意取り消し (OQS-IF-037/038).

From the second visit the institution asks for the patient's current 資格 without the card, under
the continuing consent the first visit registered (seed 002; oqs-interface.md §7). The request
names the patient by the 被保険者証情報 the institution holds (layout.py, inferred).

Rules (docs/home-visit.md):
- the answer is about the patient's *current* qualification (直近の資格情報), even when the
  numbers sent are those of an older one;
- no continuing consent of this family at this 医療機関 → ProcessingResultStatus 2,
  `home_visit.no_consent`; an unknown card gets the same answer, so a request never tells one
  institution anything about another's patients;
- withdrawn → `home_visit.withdrawn`; lapsed → the 資格 with every …ConsFlg 2 and the notice
  `home_visit.lapsed` (or `home_visit.no_consent` when the setting `lapsed_requery` is off).
"""

from __future__ import annotations

import datetime as dt

from mockgateway.domain.codes import ReferenceClassification, ResultCode, SegmentOfResult, Validity
from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.continuing_consent import ContinuingConsent, Family, Status, pick
from mockgateway.domain.eligibility import SearchKey, confirm, current_qualifications
from mockgateway.domain.model import Person
from mockgateway.engine import Context, Reply
from mockgateway.services.home_visit.feature import HomeVisitFeature
from mockgateway.services.home_visit.layout import PatientQuery, parse_patient_query
from mockgateway.wire.results import Consent, ResultOptions, eligibility_body, result_header
from mockgateway.wire.xmlcodec import Tree


def result_consents(consent: ContinuingConsent, now: dt.datetime) -> dict[str, Consent]:
    """The four …ConsFlg of a 再照会 result: 1 (with ConsTime, AvailableTime = the consent's end)
    while valid, 2 once lapsed (OQSCD016), 0 for a kind the patient did not agree to."""
    out: dict[str, Consent] = {}
    for kind in ConsentKind:
        flag = consent.flag(kind, now)
        if kind in consent.kinds:
            out[kind.value] = Consent(flag, consent.given_at, consent.until)
        else:
            out[kind.value] = Consent(flag)
    return out


class _PatientService:
    reference = ReferenceClassification.MY_NUMBER_CARD

    def __init__(self, feature: HomeVisitFeature, *families: Family) -> None:
        self.feature = feature
        self.families = families  # MedicalTreatmentFlag values taken; the first is the default

    def _parse(self, ctx: Context, tree: Tree) -> PatientQuery:
        return parse_patient_query(tree, self.families, strict_padding=ctx.gateway.settings.strict_insurer_padding)

    def _find(self, ctx: Context, query: PatientQuery) -> tuple[Person | None, ContinuingConsent | None]:
        """The patient the numbers name and this institution's consent for them (never another's)."""
        info = query.info
        outcome = confirm(ctx.index.candidates(info.card.number), SearchKey(info.card, info.birthdate), ctx.now.date())
        people = {m.person.id: m.person for m in outcome.matches}
        if len(people) != 1:
            return None, None
        person = next(iter(people.values()))
        mine = self.feature.book.of_family(query.header.medical_institution.value, person.id, query.family)
        return person, pick(mine, ctx.now)

    def _header(self, ctx: Context, query: PatientQuery) -> Tree:
        return result_header(
            now=ctx.now,
            mic=query.header.medical_institution.value,
            confirmation_date=ctx.now.date(),
            arbitrary_file_identifier=query.header.arbitrary_file_identifier,
            reference=self.reference,
            segment=SegmentOfResult.NORMAL,
            error=None,
            character_code=ctx.character_code,
        )

    def _person_error(self, ctx: Context, query: PatientQuery, code: ResultCode, why: str) -> Reply:
        body = eligibility_body(
            Validity.NOT_FOUND, [], ResultOptions(on=ctx.now.date(), now=ctx.now),
            search_echo=query.info.raw, person_error=code,
        )  # fmt: skip
        return Reply({"MessageHeader": self._header(ctx, query), "MessageBody": body}, reason=why,
                     extra={"home_visit": {"family": query.family.label, "refused": why}})  # fmt: skip

    def error_tree(self, ctx: Context, echo: dict[str, str], code: ResultCode) -> Tree:
        header = result_header(
            now=ctx.now, mic=echo.get("MedicalInstitutionCode"), confirmation_date=None,
            arbitrary_file_identifier=echo.get("ArbitraryFileIdentifier"), reference=self.reference,
            segment=SegmentOfResult.ABNORMAL, error=code, character_code=ctx.character_code,
        )  # fmt: skip
        return {"MessageHeader": header, "MessageBody": {}}

    def _refusal(self, ctx: Context, query: PatientQuery) -> tuple[Person, ContinuingConsent] | Reply:
        person, consent = self._find(ctx, query)
        mic = query.header.medical_institution.value
        if person is None or consent is None:
            code = ctx.codes.get("home_visit.no_consent", detail=f"医療機関 {mic} の{query.family.label}")
            return self._person_error(ctx, query, code, f"{query.family.label}の継続同意なし")
        status = consent.status(ctx.now)
        if status is Status.WITHDRAWN:
            detail = consent.refusal(ConsentKind.DRUG, ctx.now) or "取り消し済み"
            return self._person_error(ctx, query, ctx.codes.get("home_visit.withdrawn", detail=detail), detail)
        if status is not Status.VALID and not (status is Status.LAPSED and self.feature.settings.lapsed_requery):
            code = ctx.codes.get("home_visit.no_consent", detail=f"{consent.id} は {status.value}")
            return self._person_error(ctx, query, code, f"継続同意 {status.value}")
        return person, consent

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        query = self._parse(ctx, tree)
        found = self._refusal(ctx, query)
        if isinstance(found, Reply):
            return found
        return self.answer(ctx, query, *found)

    def answer(self, ctx: Context, query: PatientQuery, person: Person, consent: ContinuingConsent) -> Reply:
        raise NotImplementedError


class RequeryService(_PatientService):
    """資格確認要求（訪問診療等 / オンライン診療等）→ 資格確認結果, the face result's shape."""

    def answer(self, ctx: Context, query: PatientQuery, person: Person, consent: ContinuingConsent) -> Reply:
        outcome = current_qualifications(person, ctx.now.date())
        notice = None
        if consent.status(ctx.now) is Status.LAPSED:
            notice = ctx.codes.get("home_visit.lapsed", detail=f"{consent.until:%Y%m%d%H%M%S}")
        options = ResultOptions(
            on=ctx.now.date(), now=ctx.now, consents=result_consents(consent, ctx.now),
            arbitrary_identifier=query.info.arbitrary_identifier,
            reference_number=self.feature.reference_number(query.header.medical_institution.value, outcome),
        )  # fmt: skip
        body = eligibility_body(outcome.validity, outcome.matches, options, search_echo=query.info.raw, notice=notice)
        facts = {"family": query.family.label, "consent": consent.id, "status": consent.status(ctx.now).value,
                 "person": person.id}  # fmt: skip
        return Reply(
            {"MessageHeader": self._header(ctx, query), "MessageBody": body},
            validity=outcome.validity.value,
            reason=f"再照会 ({query.family.label}) 継続同意 {consent.id} {consent.status(ctx.now).value}",
            extra={"home_visit": facts},
        )


class WithdrawService(_PatientService):
    """閲覧同意取り消し要求 → 結果: ends the continuing consent now; `ConsentWithdrawalDateTime` (ours).
    OQS-IF-037 names 訪問診療等; an オンライン診療等 consent is withdrawn with MedicalTreatmentFlag 3
    (inferred)."""

    def answer(self, ctx: Context, query: PatientQuery, person: Person, consent: ContinuingConsent) -> Reply:
        withdrawn = self.feature.book.withdraw(consent, ctx.now)
        body: Tree = {
            "ProcessingResultStatus": "1",
            "QualificationConfirmSearchInfo": query.info.raw,
            "ConsentWithdrawalDateTime": f"{ctx.now:%Y%m%d%H%M%S}",
        }
        return Reply(
            {"MessageHeader": self._header(ctx, query), "MessageBody": body},
            reason=f"閲覧同意取り消し {withdrawn.id}",
            extra={"home_visit": {"withdrawn": withdrawn.id, "person": person.id, "family": query.family.label}},
        )
