"""資格確認 by 被保険者証 / 資格確認書 numbers: OQSsiquc01req → OQSsiquc01res (OQS-IF-001/002)."""

from __future__ import annotations

from collections.abc import Callable

from mockgateway.domain.codes import ReferenceClassification, SegmentOfResult
from mockgateway.domain.eligibility import SearchKey, confirm
from mockgateway.domain.model import CardKey
from mockgateway.engine import Context, Format, Reply
from mockgateway.wire.messages import child, message, parse_header, parse_search_info_memo
from mockgateway.wire.results import ResultOptions, eligibility_body, result_header
from mockgateway.wire.xmlcodec import Tree

API_ID = "OQSsiquc01"

# Set by the 照会番号 feature: (医療機関コード, card key) → the number registered there, or None.
ReferenceNumberLookup = Callable[[str, CardKey], str | None]


class EligibilityService:
    reference = ReferenceClassification.INSURANCE_CARD

    def __init__(self, reference_numbers: ReferenceNumberLookup | None = None) -> None:
        self.reference_numbers = reference_numbers

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        header_tree, body_tree = message(tree)
        header = parse_header(header_tree, date_required=True, institution=ctx.institution)
        info_tree = child(body_tree, "QualificationConfirmSearchInfo", "XmlMsg/MessageBody")
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
        result: Tree = {
            "MessageHeader": result_header(
                now=ctx.now,
                mic=mic,
                confirmation_date=on,
                arbitrary_file_identifier=header.arbitrary_file_identifier,
                reference=self.reference,
                segment=SegmentOfResult.NORMAL,
                error=None,
                character_code=ctx.character_code,
            ),
            "MessageBody": body,
        }
        return Reply(result, validity=outcome.validity.value, reason=outcome.reason)
