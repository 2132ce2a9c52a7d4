"""Hot-path caches keep the bytes identical: shared rendered subtrees, the per-second timestamp."""

from __future__ import annotations

import copy
import datetime as dt
import pickle

import pytest

from mockgateway.domain.clock import format_timestamp, jst
from mockgateway.domain.codes import Validity
from mockgateway.domain.eligibility import Match
from mockgateway.engine import Format, Gateway
from mockgateway.wire import jsoncodec, xmlcodec
from mockgateway.wire.results import (
    ResultOptions,
    _qualification_tree,
    eligibility_body,
    qualification_tree,
    timestamp_memo,
)
from mockgateway.wire.xmlcodec import Rendered, Tree
from tests.conftest import eligibility_request

TREE: Tree = {
    "A": "x & y < z",
    "B": {"C": "1", "D": None, "E": ["p", "q"]},
    "F": [{"G": "1"}, {"G": "2"}],
    "H": "",
}


def test_a_rendered_subtree_renders_the_same_bytes_as_the_plain_tree() -> None:
    plain = xmlcodec.render("XmlMsg", {"Body": TREE}, "Shift_JIS")
    shared = xmlcodec.render("XmlMsg", {"Body": Rendered(TREE)}, "Shift_JIS")
    assert shared == plain
    assert jsoncodec.render("XmlMsg", {"Body": Rendered(TREE)}) == jsoncodec.render("XmlMsg", {"Body": TREE})
    assert Rendered(TREE) == TREE


def test_a_rendered_subtree_is_read_only_and_copies_are_plain() -> None:
    tree = Rendered(TREE)
    with pytest.raises(TypeError):
        tree["A"] = "changed"
    with pytest.raises(TypeError):
        tree.update({"A": "changed"})
    inner = tree["B"]
    assert isinstance(inner, Rendered)
    with pytest.raises(TypeError):
        inner["C"] = "2"
    for duplicate in (copy.copy(tree), copy.deepcopy(tree), pickle.loads(pickle.dumps(tree))):
        assert type(duplicate) is dict
        assert duplicate == TREE
        duplicate["A"] = "fine"


def _match(gateway: Gateway, number: str = "42") -> Match:
    return gateway.index.candidates(number)[0]


def test_qualification_trees_are_shared_when_nothing_per_request_is_in_them(gateway: Gateway) -> None:
    options = ResultOptions(on=dt.date(2025, 6, 18), now=jst(2025, 6, 18, 10, 30))
    match = _match(gateway)
    first, again = qualification_tree(match, options), qualification_tree(match, options)
    assert first is again
    assert isinstance(first, Rendered)
    assert first == _qualification_tree(match, options)
    other = ResultOptions(on=options.on, now=options.now, reference_number="R-1")
    assert qualification_tree(match, other) is not first
    assert qualification_tree(match, other)["ReferenceNumber"] == "R-1"


def test_limit_consent_trees_follow_the_clock(gateway: Gateway) -> None:
    match = _match(gateway, "77")  # gendo-kenji: 限度額 and 特定疾病
    at_ten = ResultOptions(on=dt.date(2025, 6, 18), now=jst(2025, 6, 18, 10, 0), limit_consent=True)
    at_eleven = ResultOptions(on=dt.date(2025, 6, 18), now=jst(2025, 6, 18, 11, 0), limit_consent=True)
    ten, eleven = qualification_tree(match, at_ten), qualification_tree(match, at_eleven)
    assert ten["LimitApplicationCertificateRelatedConsTime"] == "20250618100000"
    assert eleven["LimitApplicationCertificateRelatedConsTime"] == "20250618110000"


def test_a_body_with_a_shared_tree_renders_like_one_built_fresh(gateway: Gateway) -> None:
    options = ResultOptions(on=dt.date(2025, 6, 18), now=jst(2025, 6, 18, 10, 30))
    match = _match(gateway)
    body = eligibility_body(Validity.VALID, [match], options, search_echo={"InsurerNumber": "06139992"})
    fresh = dict(body, ResultList={"ResultOfQualificationConfirmation": _qualification_tree(match, options)})
    assert xmlcodec.render("XmlMsg", body, "Shift_JIS") == xmlcodec.render("XmlMsg", fresh, "Shift_JIS")


def test_the_timestamp_memo_is_format_timestamp_to_the_second() -> None:
    base = jst(2025, 6, 18, 10, 30, 0)
    for delta in (0, 0.2, 0.999, 1.0, 1.5, 3600, -86400.5):
        when = base + dt.timedelta(seconds=delta)
        assert timestamp_memo(when) == format_timestamp(when)
    utc = dt.datetime(2025, 6, 18, 1, 30, tzinfo=dt.UTC)
    assert timestamp_memo(utc) == "20250618103000"


def test_the_same_request_gives_the_same_bytes_first_and_second_time(gateway: Gateway) -> None:
    request = eligibility_request(consent="1")
    first = gateway.process("OQSsiquc01", request, fmt=Format.XML, transport="test").body
    second = gateway.process("OQSsiquc01", request, fmt=Format.XML, transport="test").body
    assert first == second
    assert "髙﨑".encode("cp932") in first
