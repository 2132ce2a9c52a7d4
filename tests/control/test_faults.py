"""Fault rules: latency, ErrorCode, 503, drop, maintenance windows in virtual time."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import pytest

from mockgateway.control.faults import NO_FAULT, FaultBook, FaultRule, FaultSpecError, rule_from_dict
from mockgateway.domain.clock import jst
from mockgateway.engine import Format, Gateway, Response
from mockgateway.services.eligibility import API_ID
from tests.conftest import MIC, GatewayFactory, eligibility_request, header_of, reply_tree

NOW = jst(2025, 6, 18, 10, 30)
OTHER_MIC = "3410712362"


def ask(gateway: Gateway, *, transport: str = "folder", mic: str = MIC, api_id: str = API_ID) -> Response:
    return gateway.process(api_id, eligibility_request(mic=mic), fmt=Format.XML, transport=transport)


def segment(response: Response) -> str:
    value = header_of(reply_tree(response))["SegmentOfResult"]
    assert isinstance(value, str)
    return value


@pytest.fixture
def faults() -> FaultBook:
    return FaultBook(seed=7)


@pytest.fixture
def gw(make_gateway: GatewayFactory, faults: FaultBook) -> Gateway:
    return make_gateway(faults=faults)


# --- spec validation ------------------------------------------------------------------------------


def test_rule_from_dict_converts_types() -> None:
    rule = rule_from_dict(
        {"kind": "maintenance", "start": "20250618100000", "end": 20250618110000, "times": "2", "api_id": "OQSsiquc01"}
    )
    assert rule.start == jst(2025, 6, 18, 10, 0)
    assert rule.end == jst(2025, 6, 18, 11, 0)
    assert rule.times == 2
    latency = rule_from_dict({"kind": "latency", "latency_ms": "250"})
    assert latency.latency_ms == 250.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "latency", "latency_ms": 1, "colour": "red"}, r"unknown fault keys \['colour'\]"),
        ({"kind": "explode"}, "kind must be one of"),
        ({}, "kind must be one of"),
        ({"kind": "latency"}, "a latency fault needs latency_ms"),
        ({"kind": "latency", "latency_ms": "fast"}, "latency_ms: a number from 0 to 60000"),
        ({"kind": "latency", "latency_ms": -1}, "latency_ms: a number from 0 to 60000"),
        ({"kind": "latency", "median_ms": 100, "sigma": -0.5}, "sigma: a number from 0 to 3"),
        ({"kind": "error", "times": 0}, "times: an integer from 1 to"),
        ({"kind": "error", "times": "twice"}, "times: an integer from 1 to"),
        # issue 18 item 2: accepted before, and 1e12 ms hung the request
        ({"kind": "latency", "latency_ms": 1e12}, r"latency_ms: a number from 0 to 60000 \(the maximum\)"),
        ({"kind": "latency", "latency_ms": float("nan")}, "latency_ms: a number from 0 to 60000"),
        ({"kind": "latency", "median_ms": 0}, "median_ms: a number above 0"),
        ({"kind": "error", "times": 1e30}, "times: an integer from 1 to"),
        ({"kind": "error", "api_id": ["x"]}, "api_id: a string of at most 256"),
        ({"kind": "maintenance", "start": "2025-06-18"}, "start: "),
        ({"kind": "maintenance", "end": "20251301000000"}, "end: "),
    ],
)
def test_spec_validation_errors(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        rule_from_dict(spec)


def test_unknown_keys_message_lists_the_allowed() -> None:
    with pytest.raises(FaultSpecError) as info:
        rule_from_dict({"kind": "error", "id": 3})
    assert "allowed:" in str(info.value)
    assert "'error_code'" in str(info.value)


def test_as_dict() -> None:
    rule = rule_from_dict({"kind": "maintenance", "start": "20250618100000"})
    doc = rule.as_dict()
    assert doc["kind"] == "maintenance"
    assert doc["start"] == "20250618100000"
    assert doc["end"] is None


# --- FaultBook --------------------------------------------------------------------------------------


def test_no_rules_no_fault(faults: FaultBook) -> None:
    assert faults.evaluate(API_ID, "folder", MIC, NOW) is NO_FAULT


def test_add_remove_clear(faults: FaultBook) -> None:
    a = faults.add(FaultRule("drop"))
    b = faults.add(FaultRule("http503"))
    assert (a.id, b.id) == (1, 2)
    assert faults.remove(1) is True
    assert faults.remove(1) is False
    assert [r.id for r in faults.rules()] == [2]
    faults.clear()
    assert faults.rules() == []
    assert faults.add(FaultRule("drop")).id == 3


def test_fixed_latency(faults: FaultBook) -> None:
    faults.add(FaultRule("latency", latency_ms=250))
    decision = faults.evaluate(API_ID, "folder", MIC, NOW)
    assert decision.delay == 0.25
    assert decision.action is None


def test_log_normal_latency_is_seeded() -> None:
    book = FaultBook(seed=42)
    book.add(FaultRule("latency", median_ms=200, sigma=0.3))
    rng = random.Random(42)
    for _ in range(3):
        expected = rng.lognormvariate(math.log(200), 0.3) / 1000
        assert book.evaluate(API_ID, "folder", MIC, NOW).delay == expected
    default_sigma = FaultBook(seed=1)
    default_sigma.add(FaultRule("latency", median_ms=100))
    assert (
        default_sigma.evaluate(API_ID, "folder", MIC, NOW).delay
        == random.Random(1).lognormvariate(math.log(100), 0.5) / 1000
    )


def test_latencies_add_up_and_the_first_outcome_wins(faults: FaultBook) -> None:
    faults.add(FaultRule("latency", latency_ms=100))
    first = faults.add(FaultRule("error", error_code="E1"))
    second = faults.add(FaultRule("http503"))
    faults.add(FaultRule("latency", latency_ms=50))
    decision = faults.evaluate(API_ID, "folder", MIC, NOW)
    assert decision.delay == pytest.approx(0.15)
    assert decision.action == "error"
    assert decision.rule is first
    assert decision.fired == (1, 2, 4)
    assert second.fired == 0  # shadowed: not counted


def test_times_budget(faults: FaultBook) -> None:
    faults.add(FaultRule("error", times=2))
    actions = [faults.evaluate(API_ID, "folder", MIC, NOW).action for _ in range(3)]
    assert actions == ["error", "error", None]
    assert faults.rules() == []


def test_shadowed_rule_keeps_its_budget(faults: FaultBook) -> None:
    faults.add(FaultRule("drop", times=1))
    faults.add(FaultRule("http503", times=1))
    assert [faults.evaluate(API_ID, "folder", MIC, NOW).action for _ in range(3)] == ["drop", "http503", None]


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        (FaultRule("drop", api_id="OQSsiquc01"), [True, False, True, True]),
        (FaultRule("drop", api_id="OQSsi"), [True, False, True, True]),  # a prefix
        (FaultRule("drop", transport="http"), [False, False, True, False]),
        (FaultRule("drop", medical_institution=OTHER_MIC), [False, False, False, True]),
        (
            FaultRule("drop", api_id="OQSsiquc01", transport="folder", medical_institution=MIC),
            [True, False, False, False],
        ),
    ],
)
def test_filters(faults: FaultBook, rule: FaultRule, matches: list[bool]) -> None:
    faults.add(rule)
    calls = [
        ("OQSsiquc01", "folder", MIC),
        ("OQSmuquc01", "folder", MIC),
        ("OQSsiquc01", "http", MIC),
        ("OQSsiquc01", "folder", OTHER_MIC),
    ]
    assert [faults.evaluate(a, t, m, NOW).action == "drop" for a, t, m in calls] == matches


def test_maintenance_window_in_virtual_time(faults: FaultBook) -> None:
    faults.add(rule_from_dict({"kind": "maintenance", "start": "20250618100000", "end": "20250618110000"}))
    at = {
        jst(2025, 6, 18, 9, 59, 59): None,  # before
        jst(2025, 6, 18, 10, 0, 0): "maintenance",  # start is inclusive
        jst(2025, 6, 18, 10, 30, 0): "maintenance",
        jst(2025, 6, 18, 10, 59, 59): "maintenance",
        jst(2025, 6, 18, 11, 0, 0): None,  # end is exclusive
    }
    for when, action in at.items():
        assert faults.evaluate(API_ID, "folder", MIC, when).action == action, when


def test_maintenance_compares_in_japan_time(faults: FaultBook) -> None:
    faults.add(rule_from_dict({"kind": "maintenance", "start": "20250618100000", "end": "20250618110000"}))
    utc = dt.datetime(2025, 6, 18, 1, 30, tzinfo=dt.UTC)  # 10:30 JST
    assert faults.evaluate(API_ID, "folder", MIC, utc).action == "maintenance"


def test_open_ended_maintenance(faults: FaultBook) -> None:
    faults.add(FaultRule("maintenance", start=jst(2025, 6, 18, 12, 0)))
    assert faults.evaluate(API_ID, "folder", MIC, NOW).action is None
    assert faults.evaluate(API_ID, "folder", MIC, jst(2030, 1, 1)).action == "maintenance"


def test_in_maintenance_does_not_consume_the_budget(faults: FaultBook) -> None:
    faults.add(FaultRule("maintenance", times=1, transport="folder"))
    assert faults.in_maintenance(API_ID, "folder", NOW) is True
    assert faults.in_maintenance(API_ID, "folder", NOW) is True
    assert faults.in_maintenance(API_ID, "http", NOW) is False
    assert faults.rules()[0].fired == 0
    assert faults.evaluate(API_ID, "folder", MIC, NOW).action == "maintenance"
    assert faults.in_maintenance(API_ID, "folder", NOW) is False  # retired after its one firing


# --- through the engine ----------------------------------------------------------------------------


def test_latency_fault_still_answers(gw: Gateway, faults: FaultBook) -> None:
    faults.add(FaultRule("latency", latency_ms=1500))
    response = ask(gw)
    assert response.delay == 1.5
    assert response.action is None
    assert segment(response) == "1"
    assert response.entry.fault is None


def test_log_normal_latency_through_the_engine(make_gateway: GatewayFactory) -> None:
    book = FaultBook(seed=3)
    gateway = make_gateway(faults=book)
    book.add(rule_from_dict({"kind": "latency", "median_ms": 300, "sigma": 0.4}))
    response = ask(gateway)
    assert response.delay > 0
    assert response.delay == random.Random(3).lognormvariate(math.log(300), 0.4) / 1000


def test_error_fault_with_a_chosen_code(gw: Gateway, faults: FaultBook) -> None:
    faults.add(rule_from_dict({"kind": "error", "error_code": "EOQS0503", "error_message": "混雑しています"}))
    response = ask(gw)
    header = header_of(reply_tree(response))
    assert header["SegmentOfResult"] == "9"
    assert header["ErrorCode"] == "EOQS0503"
    assert header["ErrorMessage"] == "混雑しています"
    assert header["MedicalInstitutionCode"] == MIC
    assert header["ReferenceClassification"] == "2"
    assert response.action == "error"
    assert response.entry.fault == "error"
    assert response.entry.reason == "injected fault error (rule 1)"


def test_error_fault_default_code(gw: Gateway, faults: FaultBook) -> None:
    faults.add(FaultRule("error"))
    header = header_of(reply_tree(ask(gw)))
    assert (header["ErrorCode"], header["ErrorMessage"]) == ("MGW9001", "システムエラーが発生しました(擬似障害)")


@pytest.mark.parametrize("kind", ["http503", "drop"])
def test_transport_acted_faults(gw: Gateway, faults: FaultBook, kind: str) -> None:
    faults.add(FaultRule(kind))  # type: ignore[arg-type]
    response = ask(gw)
    assert response.action == kind
    assert response.entry.fault == kind
    assert segment(response) == "9"  # a body exists for transports that still need one


def test_maintenance_through_the_engine(gw: Gateway, faults: FaultBook) -> None:
    faults.add(rule_from_dict({"kind": "maintenance", "start": "20250618100000", "end": "20250618110000"}))
    response = ask(gw)
    assert response.action == "maintenance"
    header = header_of(reply_tree(response))
    assert (header["SegmentOfResult"], header["ErrorCode"]) == ("9", "MGW9002")
    gw.clock.set(jst(2025, 6, 18, 11, 0), running=False)
    after = ask(gw)
    assert after.action is None
    assert segment(after) == "1"
    gw.clock.set(jst(2025, 6, 18, 9, 59, 59), running=False)
    assert ask(gw).action is None


def test_times_budget_through_the_engine(gw: Gateway, faults: FaultBook) -> None:
    faults.add(rule_from_dict({"kind": "error", "times": 2}))
    assert [segment(ask(gw)) for _ in range(3)] == ["9", "9", "1"]


def test_filters_through_the_engine(gw: Gateway, faults: FaultBook) -> None:
    faults.add(FaultRule("drop", transport="http", medical_institution=OTHER_MIC))
    assert ask(gw, transport="http", mic=MIC).action is None
    assert ask(gw, transport="folder", mic=OTHER_MIC).action is None
    assert ask(gw, transport="http", mic=OTHER_MIC).action == "drop"


def test_fault_applies_before_an_unknown_api_id(gw: Gateway, faults: FaultBook) -> None:
    faults.add(FaultRule("http503", api_id="OQSzz"))
    assert ask(gw, api_id="OQSzz01").action == "http503"


def test_unparseable_requests_are_not_faulted(gw: Gateway, faults: FaultBook) -> None:
    faults.add(FaultRule("drop", times=1))
    response = gw.process(API_ID, b"junk", fmt=Format.XML, transport="folder")
    assert response.action is None
    assert len(faults.rules()) == 1  # budget untouched
