"""The recorder's own judgement: a scenario the client never acted in does not pass for the client."""

from __future__ import annotations

from mockgateway.harness.recorder import NOT_EXERCISED, Recorder
from mockgateway.harness.results import EvidenceItem, ScenarioResult


def scenario(nodeid: str) -> ScenarioResult:
    return ScenarioResult(nodeid, nodeid.upper(), "t", "マイナ保険証", "f", ["rule:x"], ["face"], "pass")


def test_a_pass_without_any_order_is_omitted_for_a_vendor_adapter() -> None:
    rec = Recorder(adapter="folder", capabilities=["face"])
    rec.results = {"a": scenario("a"), "b": scenario("b")}
    rec.attach("a", [EvidenceItem("order", "資格確認してください"), EvidenceItem("exchange", "#1")])
    rec.attach("b", [EvidenceItem("exchange", "#1 face")])
    statuses = {s.nodeid: (s.status, s.message) for s in rec.summary().scenarios}
    assert statuses == {"a": ("pass", ""), "b": ("omit", NOT_EXERCISED)}


def test_the_reference_client_keeps_every_pass() -> None:
    rec = Recorder(adapter="reference", capabilities=["face"])
    rec.results = {"b": scenario("b")}
    assert rec.summary().scenarios[0].status == "pass"
