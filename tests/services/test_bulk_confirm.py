"""The bulk result subset agrees with the single result for every default persona."""

from __future__ import annotations

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.eligibility import Match
from mockgateway.fixtures import load_paths
from mockgateway.results import ResultOptions, qualification_tree
from mockgateway.services.bulk_confirm import RESULT_FIELDS, result_subset
from tests.conftest import FROZEN_AT


def test_subset_is_the_single_result_restricted_to_the_bulk_fields() -> None:
    data = load_paths([DEFAULT_FIXTURES], FROZEN_AT.date())
    options = ResultOptions(on=FROZEN_AT.date(), now=FROZEN_AT, limit_consent=True, reference_number="R",
                            arbitrary_identifier="A")  # fmt: skip
    seen: set[str] = set()
    for person in data.persons.values():
        for q in person.qualifications:
            match = Match(person, q)
            full = qualification_tree(match, options)
            subset = result_subset(match)
            assert subset == {name: full[name] for name in RESULT_FIELDS if name in full}, person.id
            assert list(subset) == [name for name in full if name in RESULT_FIELDS]  # same order
            seen.update(subset)
    assert {"ElderlyRecipientCertificateInfo", "DisqualificationDate", "ReasonOfLoss", "PreschoolClassification",
            "InsuredCardExpirationDate"} <= seen  # fmt: skip
    assert "ReferenceNumber" not in seen  # at BulkConfirmUnit level, not inside the result
    assert "LimitApplicationCertificateRelatedConsFlg" not in seen
