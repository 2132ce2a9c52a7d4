"""資格確認 by 被保険者証 / 資格確認書 numbers: OQSsiquc01req → OQSsiquc01res (OQS-IF-001/002)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from mockgateway.domain.codes import ReferenceClassification, SegmentOfResult
from mockgateway.domain.eligibility import SearchKey, confirm
from mockgateway.domain.model import CardKey
from mockgateway.engine import Context, Format, Reply
from mockgateway.wire.messages import Header, child, message, parse_header, parse_search_info_memo
from mockgateway.wire.results import ResultOptions, eligibility_body, result_header
from mockgateway.wire.xmlcodec import Tree

API_ID = "OQSsiquc01"

# Set by the 照会番号 feature: (医療機関コード, card key) → the number registered there, or None.
ReferenceNumberLookup = Callable[[str, CardKey], str | None]


class PublicAssistanceQuery(Protocol):
    """Set by the 医療扶助 feature (services/fujo): answers a query by 公費負担者番号 + 受給者番号."""

    def handle(self, ctx: Context, header: Header, info: Tree) -> Reply: ...


# Set with it: whether a QualificationConfirmSearchInfo is such a query.
PublicAssistanceClaim = Callable[[Tree], bool]


class EligibilityService:
    reference = ReferenceClassification.INSURANCE_CARD

    def __init__(self, reference_numbers: ReferenceNumberLookup | None = None) -> None:
        self.reference_numbers = reference_numbers
        self.public_assistance: tuple[PublicAssistanceClaim, PublicAssistanceQuery] | None = None

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        header_tree, body_tree = message(tree)
        header = parse_header(header_tree, date_required=True, institution=ctx.institution)
        info_tree = child(body_tree, "QualificationConfirmSearchInfo", "XmlMsg/MessageBody")
        if self.public_assistance is not None and self.public_assistance[0](info_tree):
            return self.public_assistance[1].handle(ctx, header, info_tree)
        settings = ctx.gateway.settings
        info = parse_search_info_memo(
            info_tree,
            "XmlMsg/MessageBody/QualificationConfirmSearchInfo",
            strict_padding=settings.strict_insurer_padding,
            zero_padded=ctx.fmt is Format.JSON and settings.webapi_zero_padded_insurer,
        )
        on = header.confirmation_date
        assert on is not None
        outcome = confirm(ctx.index.candidates(info.card.number), SearchKey(info.card, info.birthdate), on)
        mic = header.medical_institution.value
        options = ResultOptions(
            on=on,
            now=ctx.now,
            limit_consent=info.limit_consent,
            arbitrary_identifier=info.arbitrary_identifier,
            kakunin_classification=settings.kakunin_classification,
            diseases_layout=settings.diseases_layout(ctx.fmt),
        )
        if self.reference_numbers is not None and outcome.match is not None:
            options.reference_number = self.reference_numbers(mic, outcome.match.qualification.key)
        body = eligibility_body(
            outcome.validity,
            outcome.matches,
            options,
            search_echo=info.raw,
        )
        reply = Reply(normal_result(ctx, header, body), validity=outcome.validity.value, reason=outcome.reason)
        reply.memo = True  # the request, the index, the registry and the settings decide it (AnswerMemo)
        return reply


def normal_result(ctx: Context, header: Header, body: Tree) -> Tree:
    """資格確認結果 (OQSsiquc01res) with SegmentOfResult 1 around a MessageBody (also the 医療扶助 query's)."""
    return {
        "MessageHeader": result_header(
            now=ctx.now,
            mic=header.medical_institution.value,
            confirmation_date=header.confirmation_date,
            arbitrary_file_identifier=header.arbitrary_file_identifier,
            reference=ReferenceClassification.INSURANCE_CARD,
            segment=SegmentOfResult.NORMAL,
            error=None,
            character_code=ctx.character_code,
        ),
        "MessageBody": body,
    }
