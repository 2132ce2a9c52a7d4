"""Results, the JSON summary and the comparison with an expected-results file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockgateway.harness.results import (
    EvidenceItem,
    RunSummary,
    ScenarioResult,
    StepResult,
    compare,
    read_expected,
)


def result(sid: str, status: str, area: str = "障害・異常系") -> ScenarioResult:
    return ScenarioResult(
        nodeid=f"t::{sid}",
        id=sid,
        title=f"title {sid}",
        area=area,
        feature="f",
        rules=["rule:x"],
        capabilities=["eligibility"],
        status=status,  # type: ignore[arg-type]
        steps=[StepResult("もし", "何かする", "passed")],
        evidence=[EvidenceItem("exchange", "#1", {"request": "<x/>"})],
    )


def test_compare_names_each_kind_of_change() -> None:
    expected = {"A": "pass", "B": "fail", "C": "pass", "D": "omit", "E": "pass"}
    got = [result("A", "pass"), result("B", "pass"), result("C", "error"), result("D", "pass"), result("F", "pass")]
    kinds = {c.id: c.kind for c in compare(expected, got)}
    assert kinds == {"B": "fixed", "C": "regression", "D": "changed", "E": "removed", "F": "new"}


def test_summary_round_trips_and_counts_by_area(tmp_path: Path) -> None:
    summary = RunSummary(
        "folder",
        ["eligibility"],
        "2026-11-23T10:00:00+09:00",
        1.5,
        [result("A", "pass"), result("B", "fail", "資格喪失・保険者異動"), result("C", "omit")],
    )
    path = tmp_path / "summary.json"
    summary.write(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["counts"] == {"pass": 1, "fail": 1, "error": 0, "skip": 0, "omit": 1}
    assert doc["areas"]["障害・異常系"]["omit"] == 1
    assert list(doc["areas"]) == ["資格喪失・保険者異動", "障害・異常系"]  # catalogue order
    again = RunSummary.read(path)
    assert again.scenarios[1].evidence[0].data == {"request": "<x/>"}
    assert read_expected(path) == {"A": "pass", "B": "fail", "C": "omit"}


def test_expected_file_may_be_a_flat_map_and_is_checked(tmp_path: Path) -> None:
    flat = tmp_path / "expected.json"
    flat.write_text('{"OQS-ELIG-001": "pass", "OQS-BULK-001": "omit"}', encoding="utf-8")
    assert read_expected(flat) == {"OQS-ELIG-001": "pass", "OQS-BULK-001": "omit"}
    flat.write_text('{"OQS-ELIG-001": "green"}', encoding="utf-8")
    with pytest.raises(ValueError, match="statuses must be one of"):
        read_expected(flat)
    flat.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"expected a summary\.json or an object"):
        read_expected(flat)


def test_examples_of_a_scenario_outline_are_told_apart() -> None:
    one, two = result("OQS-X-001", "pass"), result("OQS-X-001", "fail")
    one.nodeid, two.nodeid = "t::test_x[ex1]", "t::test_x[ex2]"
    assert (one.key, two.key) == ("OQS-X-001[ex1]", "OQS-X-001[ex2]")
    assert [c.id for c in compare({"OQS-X-001[ex1]": "pass", "OQS-X-001[ex2]": "pass"}, [one, two])] == [
        "OQS-X-001[ex2]"
    ]
