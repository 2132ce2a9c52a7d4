"""Fault injection: what a client must survive from the real terminal and network.

Rules match by API id, transport and 医療機関コード (each optional), may fire a limited number
of times, and are evaluated in order; every matching latency adds up, and the first matching
"outcome" fault (error, 503, drop, maintenance) decides what happens.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mockgateway.domain.clock import JST, parse_timestamp

Kind = Literal["latency", "error", "http503", "drop", "maintenance"]
KINDS: tuple[Kind, ...] = ("latency", "error", "http503", "drop", "maintenance")


# The longest delay a fault may add to one answer (docs/admin.md): longer would hang a client's
# request (and a folder worker) for what is in practice forever. Several latency rules add up to
# at most this too, and a log-normal sample is cut at it.
MAX_LATENCY_MS = 60_000.0
MAX_SIGMA = 3.0
MAX_TIMES = 1_000_000_000
_TEXT_KEYS = ("api_id", "transport", "medical_institution", "error_code", "error_message")


class FaultSpecError(ValueError):
    pass


@dataclass(slots=True)
class FaultRule:
    kind: Kind
    api_id: str | None = None  # e.g. OQSsiquc01; None = any
    transport: str | None = None  # folder / http / webapi / face; None = any
    medical_institution: str | None = None
    times: int | None = None  # fire this many times, then retire; None = until removed
    # latency
    latency_ms: float | None = None  # fixed
    median_ms: float | None = None  # log-normal: median and sigma of ln(latency)
    sigma: float | None = None
    # error
    error_code: str | None = None
    error_message: str | None = None
    # maintenance window, virtual time (JST); None start = now, None end = until removed
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    id: int = 0
    fired: int = 0

    def matches(self, api_id: str, transport: str, mic: str | None, now: dt.datetime) -> bool:
        if self.api_id is not None and not api_id.startswith(self.api_id):
            return False
        if self.transport is not None and self.transport != transport:
            return False
        if self.medical_institution is not None and self.medical_institution != mic:
            return False
        if self.kind == "maintenance":
            return (self.start is None or self.start <= now) and (self.end is None or now < self.end)
        return True

    def delay(self, rng: random.Random) -> float:
        if self.latency_ms is not None:
            return self.latency_ms / 1000
        if self.median_ms is not None:
            return min(rng.lognormvariate(math.log(self.median_ms), self.sigma or 0.5), MAX_LATENCY_MS) / 1000
        return 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("start", "end"):
            if out[key] is not None:
                out[key] = out[key].strftime("%Y%m%d%H%M%S")
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    delay: float = 0.0
    action: Kind | None = None  # error / http503 / drop / maintenance
    rule: FaultRule | None = None
    fired: tuple[int, ...] = field(default=())


NO_FAULT = Decision()


def rule_from_dict(spec: dict[str, Any]) -> FaultRule:
    """Validate an admin-API fault spec; errors say which key is wrong and what is allowed."""
    allowed = set(FaultRule.__dataclass_fields__) - {"id", "fired"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise FaultSpecError(f"unknown fault keys {unknown}; allowed: {sorted(allowed)}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultSpecError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    values = dict(spec)
    for key in _TEXT_KEYS:
        value = values.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 256):
            raise FaultSpecError(f"{key}: a string of at most 256 characters, got {type(value).__name__}")
    for key in ("start", "end"):
        if values.get(key) is not None:
            try:
                values[key] = parse_timestamp(str(values[key]))
            except ValueError as exc:
                raise FaultSpecError(f"{key}: {exc}") from None
    for key in ("latency_ms", "median_ms", "sigma"):
        if values.get(key) is not None:
            high = MAX_SIGMA if key == "sigma" else MAX_LATENCY_MS
            raw = values[key]
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise FaultSpecError(f"{key}: a number from 0 to {high:g}, got {type(raw).__name__}")
            try:
                values[key] = float(raw)
            except (TypeError, ValueError, OverflowError):
                raise FaultSpecError(f"{key}: a number from 0 to {high:g}, got {raw!r:.40}") from None
            if not 0 <= values[key] <= high:  # also refuses NaN
                raise FaultSpecError(f"{key}: a number from 0 to {high:g} (the maximum), got {raw!r:.40}")
    if values.get("times") is not None:
        raw = values["times"]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip().isdigit():
            raise FaultSpecError(f"times: an integer from 1 to {MAX_TIMES}, got {raw!r:.40}")
        values["times"] = int(str(raw))
        if not 1 <= values["times"] <= MAX_TIMES:
            raise FaultSpecError(f"times: an integer from 1 to {MAX_TIMES}, got {raw!r:.40}")
    if values.get("median_ms") is not None and values["median_ms"] <= 0:
        raise FaultSpecError(f"median_ms: a number above 0 and at most {MAX_LATENCY_MS:g}, got 0")
    rule = FaultRule(**values)
    if rule.kind == "latency" and rule.latency_ms is None and rule.median_ms is None:
        raise FaultSpecError("a latency fault needs latency_ms (fixed) or median_ms [+ sigma] (log-normal)")
    return rule


class FaultBook:
    def __init__(self, seed: int | None = None) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def evaluate(self, api_id: str, transport: str, mic: str | None, now: dt.datetime) -> Decision:
        if not self._rules:  # the hot path: no lock, no allocation
            return NO_FAULT
        now = now.astimezone(JST)
        delay = 0.0
        outcome: FaultRule | None = None
        fired: list[int] = []
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(api_id, transport, mic, now):
                    continue
                if rule.kind == "latency":
                    delay += rule.delay(self._rng)
                elif outcome is None:
                    outcome = rule
                else:
                    continue
                rule.fired += 1
                fired.append(rule.id)
                if rule.times is not None and rule.fired >= rule.times:
                    self._rules.remove(rule)
        return Decision(min(delay, MAX_LATENCY_MS / 1000), outcome.kind if outcome else None, outcome, tuple(fired))

    def in_maintenance(self, api_id: str, transport: str, now: dt.datetime) -> bool:
        """For the folder transport: hold files (without consuming a `times` budget)."""
        now = now.astimezone(JST)
        return any(r.kind == "maintenance" and r.matches(api_id, transport, None, now) for r in self.rules())
