"""Collects each scenario's status, steps and evidence during a pytest run (pytest-bdd items only).

The plugin feeds it from pytest's reports; the scenario's world attaches evidence. At the end
it makes a RunSummary, compares it with the expected-results file, and writes the JSON summary
and the HTML report.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mockgateway.harness.catalogue import AREAS, required_capabilities, tags_of
from mockgateway.harness.results import (
    OMIT_PREFIX,
    EvidenceItem,
    RunSummary,
    ScenarioResult,
    StepResult,
    compare,
    now_iso,
    read_expected,
)

NOT_EXERCISED = (
    "the client under test was never asked to act in this scenario (no order): its steps exercised the "
    "gateway only, so it certifies nothing about the client"
)


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    id: str | None
    title: str
    area: str
    feature: str
    tags: frozenset[str]
    rules: tuple[str, ...]
    capabilities: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]  # (keyword, text)


def scenario_of(item: pytest.Item) -> ScenarioInfo | None:
    """The Gherkin scenario behind a pytest-bdd item, or None for ordinary tests."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry
    except ImportError:  # pragma: no cover - pytest-bdd is a dependency of the harness
        return None
    func = getattr(item, "function", None)
    template = scenario_wrapper_template_registry.get(func) if func is not None else None
    if template is None:
        return None
    feature = template.feature
    tags = frozenset(template.tags | feature.tags)
    area = _area(Path(feature.filename))
    ids, rules, _ = tags_of(tags)
    return ScenarioInfo(
        id=ids[0] if ids else None,
        title=template.name,
        area=area,
        feature=feature.name,
        tags=tags,
        rules=tuple(rules),
        capabilities=required_capabilities(area, tags),
        steps=tuple((s.keyword.strip(), s.name) for s in template.steps),
    )


def _area(path: Path) -> str:
    for parent in path.parents:
        if parent.name in AREAS:
            return parent.name
    return path.parent.name


@dataclass
class Recorder:
    adapter: str
    capabilities: list[str]
    expected: Path | None = None
    results: dict[str, ScenarioResult] = field(default_factory=dict)
    evidence: dict[str, list[EvidenceItem]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    started: str = field(default_factory=now_iso)
    # Part of every order id, so ids never repeat across runs (a driver may remember what it did).
    run_token: str = field(default_factory=lambda: secrets.token_hex(2))
    _t0: float = field(default_factory=time.monotonic)

    def attach(self, nodeid: str, items: list[EvidenceItem]) -> None:
        self.evidence.setdefault(nodeid, []).extend(items)

    def record(self, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
        info = scenario_of(item)
        if info is None:
            return
        result = self.results.get(report.nodeid)
        if result is None:
            result = ScenarioResult(
                nodeid=report.nodeid,
                id=info.id,
                title=info.title,
                area=info.area,
                feature=info.feature,
                rules=list(info.rules),
                capabilities=list(info.capabilities),
                steps=[StepResult(k, t, "not run") for k, t in info.steps],
            )
            self.results[report.nodeid] = result
        result.duration += report.duration
        if report.when == "call":
            result.steps = _steps(report, info) or result.steps
        if report.skipped:
            reason = _skip_reason(report)
            result.status = "omit" if reason.startswith(OMIT_PREFIX) else "skip"
            result.message = reason.removeprefix(OMIT_PREFIX)
        elif report.failed:
            if report.when == "call" and call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
                result.status = "fail"
            elif result.status not in ("fail",):
                result.status = "error"
            text = _failure_text(call, report)
            result.message = f"{result.message}\n{text}".strip() if result.message else text
        elif report.when == "call" and result.status == "pass":
            result.status = "pass"

    def summary(self) -> RunSummary:
        scenarios = list(self.results.values())
        for s in scenarios:
            s.evidence = self.evidence.get(s.nodeid, [])
            if self.adapter != "reference" and s.status == "pass" and not any(e.kind == "order" for e in s.evidence):
                # Passing without the client ever acting certifies the gateway, not the client.
                s.status, s.message = "omit", NOT_EXERCISED
        summary = RunSummary(
            adapter=self.adapter,
            capabilities=sorted(self.capabilities),
            started=self.started,
            duration=time.monotonic() - self._t0,
            scenarios=scenarios,
            meta=self.meta,
        )
        if self.expected is not None:
            summary.expected_file = str(self.expected)
            summary.changes = compare(read_expected(self.expected), scenarios)
        return summary


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _failure_text(call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    if call.excinfo is not None:
        exc = call.excinfo.value
        text = f"{type(exc).__name__}: {exc}"
    else:
        text = str(report.longrepr)
    return text[:6000]


def _steps(report: pytest.TestReport, info: ScenarioInfo) -> list[StepResult]:
    try:
        from pytest_bdd.reporting import test_report_context_registry
    except ImportError:  # pragma: no cover
        return []
    context = test_report_context_registry.get(report)
    if context is None:
        return []
    out: list[StepResult] = []
    failed_seen = False
    for step in context.scenario["steps"]:
        if failed_seen:
            status = "not run"
        elif step["failed"]:
            status, failed_seen = "failed", True
        else:
            status = "passed"
        out.append(StepResult(step["keyword"].strip(), step["name"], status, round(step["duration"], 4)))
    done = len(out)
    out += [StepResult(k, t, "not run") for k, t in info.steps[done:]]
    return out
