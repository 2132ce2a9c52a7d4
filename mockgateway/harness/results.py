"""Scenario results with their evidence; the JSON summary; comparison with an expected-results file.

Statuses, as Inferno has them:
- pass: every step held;
- fail: a step's assertion did not hold (the client did something wrong, or gave up);
- error: the scenario could not be judged (a broken step, a harness or configuration problem);
- skip: skipped for another reason (said in the message);
- omit: the client does not claim the capability, or the gateway does not serve the API yet.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["pass", "fail", "error", "skip", "omit"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "skip", "omit")
OMIT_PREFIX = "omitted: "
SUMMARY_SCHEMA = "mockgateway.summary/1"


@dataclass(slots=True)
class StepResult:
    keyword: str
    text: str
    status: str  # passed / failed / not run
    duration: float = 0.0


@dataclass(slots=True)
class EvidenceItem:
    """One exchange that justifies a result: an order and the client's report, or a journal entry."""

    kind: str  # "order", "report" or "exchange"
    title: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ScenarioResult:
    nodeid: str
    id: str | None
    title: str
    area: str
    feature: str
    rules: list[str]
    capabilities: list[str]
    status: Status = "pass"
    message: str = ""
    duration: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The scenario id, plus the example's parameters for a scenario outline (`OQS-X-001[ex1]`)."""
        if not self.id:
            return self.nodeid
        return self.id + (
            self.nodeid[self.nodeid.index("[") :] if self.nodeid.endswith("]") and "[" in self.nodeid else ""
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ScenarioResult:
        data = dict(doc)
        data["steps"] = [StepResult(**s) for s in data.get("steps", [])]
        data["evidence"] = [EvidenceItem(**e) for e in data.get("evidence", [])]
        return cls(**data)


@dataclass(slots=True)
class Change:
    id: str
    title: str
    expected: str
    actual: str

    @property
    def kind(self) -> str:
        if self.expected == "pass" and self.actual in ("fail", "error"):
            return "regression"
        if self.expected in ("fail", "error") and self.actual == "pass":
            return "fixed"
        if self.expected == "(absent)":
            return "new"
        if self.actual == "(absent)":
            return "removed"
        return "changed"


@dataclass(slots=True)
class RunSummary:
    adapter: str
    capabilities: list[str]
    started: str
    duration: float
    scenarios: list[ScenarioResult]
    changes: list[Change] = field(default_factory=list)
    expected_file: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def counts(self, area: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for s in self.scenarios:
            if area is None or s.area == area:
                counts[s.status] += 1
        return counts

    def areas(self) -> list[str]:
        from mockgateway.harness.catalogue import AREAS

        present = {s.area for s in self.scenarios}
        return [a for a in AREAS if a in present] + sorted(present - set(AREAS))

    def statuses(self) -> dict[str, str]:
        return {s.key: s.status for s in self.scenarios}

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": SUMMARY_SCHEMA,
            "adapter": self.adapter,
            "capabilities": self.capabilities,
            "started": self.started,
            "duration": round(self.duration, 3),
            "counts": self.counts(),
            "areas": {a: self.counts(a) for a in self.areas()},
            "expected_file": self.expected_file,
            "changes": [{**asdict(c), "kind": c.kind} for c in self.changes],
            "meta": self.meta,
            "scenarios": [s.as_json() for s in self.scenarios],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RunSummary:
        changes = [Change(c["id"], c["title"], c["expected"], c["actual"]) for c in doc.get("changes", [])]
        return cls(
            adapter=str(doc.get("adapter", "")),
            capabilities=list(doc.get("capabilities", [])),
            started=str(doc.get("started", "")),
            duration=float(doc.get("duration", 0.0)),
            scenarios=[ScenarioResult.from_json(s) for s in doc.get("scenarios", [])],
            changes=changes,
            expected_file=doc.get("expected_file"),
            meta=dict(doc.get("meta", {})),
        )

    @classmethod
    def read(cls, path: Path) -> RunSummary:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def read_expected(path: Path) -> dict[str, str]:
    """An expected-results file: a previous summary.json, or `{"OQS-ELIG-001": "pass", …}`.

    A summary is the natural baseline (keep the last release's); the flat map is easy to write
    by hand, e.g. to record known failures you have accepted for now.
    """
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc, dict) and "scenarios" in doc:
        return {r.key: r.status for r in (ScenarioResult.from_json(s) for s in doc["scenarios"])}
    if isinstance(doc, dict) and all(isinstance(v, str) for v in doc.values()):
        bad = {k: v for k, v in doc.items() if v not in STATUSES}
        if bad:
            raise ValueError(f"{path}: statuses must be one of {list(STATUSES)}; got {bad}")
        return {str(k): str(v) for k, v in doc.items()}
    raise ValueError(f"{path}: expected a summary.json or an object of scenario id → status")


def compare(expected: Mapping[str, str], results: Iterable[ScenarioResult]) -> list[Change]:
    """What changed between the expected statuses and this run, by scenario id."""
    actual = {r.key: r for r in results}
    changes = []
    for key in sorted(set(expected) | set(actual)):
        want = expected.get(key, "(absent)")
        got = actual[key].status if key in actual else "(absent)"
        if want != got:
            title = actual[key].title if key in actual else ""
            changes.append(Change(key, title, want, got))
    return changes
