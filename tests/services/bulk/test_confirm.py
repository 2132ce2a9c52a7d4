"""The bulk result subset agrees with the single result for every default persona."""

from __future__ import annotations

import dataclasses

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.eligibility import Match
from mockgateway.engine import Gateway
from mockgateway.fixtures import load_paths
from mockgateway.services.bulk.confirm import RESULT_FIELDS, ConfirmProcessor, result_subset, subset_xml
from mockgateway.services.bulk.jobs import Job, JobStore
from mockgateway.services.bulk.render import children
from mockgateway.services.bulk.settings import Pace
from mockgateway.store.index import PeopleIndex
from mockgateway.wire.results import ResultOptions, qualification_tree
from tests.conftest import FROZEN_AT, MIC, TODAY, GatewayFactory


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


def test_subset_xml_is_the_rendered_subset() -> None:
    """The one-pass renderer the bulk processor uses gives the bytes of the tree rendered."""
    data = load_paths([DEFAULT_FIXTURES], FROZEN_AT.date())
    odd = dataclasses.replace(next(iter(data.persons.values())), name="A&B <株>", address="")
    people = [*data.persons.values(), odd]
    elderly = 0
    for person in people:
        for q in person.qualifications:
            match = Match(person, q)
            elderly += q.elderly is not None
            for kakunin in (None, "05"):
                tree = result_subset(match, kakunin)
                expected = f"<ResultOfQualificationConfirmation>{children(tree)}</ResultOfQualificationConfirmation>"
                assert subset_xml(match, kakunin) == expected, (person.id, kakunin)
    assert elderly > 0


def test_a_changed_person_is_rendered_anew(make_gateway: GatewayFactory) -> None:
    """Rendered results are reused only for the very Person object they came from."""
    gateway = make_gateway()
    data = load_paths([DEFAULT_FIXTURES], FROZEN_AT.date())
    insurers = {number: insurer.name for number, insurer in data.insurers.items()}
    gateway.index = PeopleIndex.build(insurers, data.documents.items(), FROZEN_AT.date())  # add() replaces
    processor = ConfirmProcessor(gateway)
    record = {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001", "InsuredIdentificationNumber": "42",
              "InsuredBranchNumber": "00", "Birthdate": "19900909"}  # fmt: skip
    job = _job(gateway)
    ((first, bad),) = processor(job, [(0, record)]).units
    assert not bad
    assert "<Name>髙﨑　咲子</Name>" in first
    (match,) = [m for m in gateway.index.candidates("42") if m.person.birthdate.year == 1990]
    gateway.index.add(dataclasses.replace(match.person, name="髙﨑　咲"))
    ((second, _),) = processor(job, [(0, record)]).units
    assert "<Name>髙﨑　咲</Name>" in second


def _job(gateway: Gateway) -> Job:
    feature_jobs = JobStore(gateway.store)
    return feature_jobs.create(
        family="OQSmuquc", mic=MIC, file_identifier=None, confirmation_date=TODAY, accepted=FROZEN_AT,
        accepted_real=0.0, pace=Pace(), records=[{}],
    )  # fmt: skip
