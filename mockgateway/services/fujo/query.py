"""医療扶助の資格確認 by 公費負担者番号 + 受給者番号 (OQSsiquc01, the inferred elements of layout.py).

The 資格 rule is the one of every other query (`domain.eligibility.confirm`: 2 after 停止・廃止, 3
when a newer 資格 such as 国保 exists, 5 …), refined by `domain.fujo.refine`: 6 有効（未登録）
without a 医療券 of the 診療年月 for this 医療機関. An unknown 受給者番号 (or one under another
公費負担者番号) is a per-person error naming the element (`fujo.not_found`).
"""

from __future__ import annotations

import datetime as dt

from mockgateway.domain.codes import ReferenceClassification, Validity
from mockgateway.domain.eligibility import Match, Outcome, SearchKey, confirm
from mockgateway.domain.fujo import FujoOutcome, refine
from mockgateway.domain.model import CardKey
from mockgateway.engine import Context, Reply
from mockgateway.services.eligibility import normal_result
from mockgateway.services.fujo.layout import FujoSearch, parse_single
from mockgateway.wire.messages import Header
from mockgateway.wire.results import ResultOptions, eligibility_body
from mockgateway.wire.xmlcodec import Tree

PATH = "XmlMsg/MessageBody/QualificationConfirmSearchInfo"


def assistance_candidates(ctx: Context, search: FujoSearch) -> list[Match]:
    return [m for m in ctx.index.candidates(search.beneficiary_number) if m.qualification.public_assistance]


def judge(candidates: list[Match], search: FujoSearch, on: dt.date, mic: str) -> FujoOutcome:
    card = CardKey(search.public_expense_number, "", search.beneficiary_number, "")
    if search.birthdate is None:  # only the bulk path, whose records carry no 生年月日
        matches = [m for m in candidates if m.qualification.key == card]
        birth = matches[0].person.birthdate if matches else dt.date.min
    else:
        birth = search.birthdate
    outcome = confirm(candidates, SearchKey(card, birth), on)
    if outcome.validity is Validity.NOT_FOUND and outcome.matches == ():
        return FujoOutcome(outcome, ())
    return refine(outcome, search.month, mic)


class FujoQuery:
    """Installed as `EligibilityService.public_assistance`: answers the 医療扶助 spelling of OQSsiquc01."""

    reference = ReferenceClassification.INSURANCE_CARD

    def handle(self, ctx: Context, header: Header, info: Tree) -> Reply:
        on = header.confirmation_date
        assert on is not None
        search = parse_single(info, PATH, on=on, today=ctx.now.date())
        mic = header.medical_institution.value
        judged = judge(assistance_candidates(ctx, search), search, on, mic)
        outcome: Outcome = judged.outcome
        options = ResultOptions(on=on, now=ctx.now, arbitrary_identifier=search.arbitrary_identifier,
                                tickets=judged.tickets)  # fmt: skip
        person_error = None
        if not outcome.matches:
            person_error = ctx.codes.get("fujo.not_found", element=search.beneficiary_element, detail=outcome.reason)
        body = eligibility_body(outcome.validity, outcome.matches, options, search_echo=search.raw,
                                person_error=person_error)  # fmt: skip
        reason = f"医療扶助 {search.public_expense_number}/{search.beneficiary_number} {search.month}: {outcome.reason}"
        return Reply(
            normal_result(ctx, header, body), validity=None if person_error else outcome.validity.value, reason=reason
        )
