"""(2) Vendor software that only watches `req` / `res` / `face`: the harness writes an order into the
orders folder and waits for the report (docs/vendor-guide.md)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mockgateway.harness.adapters.base import Environment, Performed
from mockgateway.harness.orders import Order, Report, ReportError


@dataclass(slots=True)
class FolderAdapter:
    """Hands orders to the vendor's driver through the orders folder and waits for its reports.

    Files in `orders` (all UTF-8 JSON, written by temp file + rename):
      `<order_id>.order.json`   the harness: an order is pending (deleted once answered or abandoned)
      `<order_id>.report.json`  the driver: what the software displayed (moved to `done/` once read)
      `instructions.log`        the harness: every order in words, one line each, for a person
    """

    orders: Path
    capabilities: frozenset[str] = frozenset({"eligibility"})
    grace_seconds: float = 5.0  # waited beyond the order's own timeout before giving up
    poll: float = 0.02
    announce: Callable[[str], None] | None = None
    name: str = "folder"
    _env: Environment | None = field(default=None, init=False)

    def begin(self, env: Environment) -> None:
        self._env = env
        self.orders.mkdir(parents=True, exist_ok=True)
        (self.orders / "done").mkdir(exist_ok=True)
        for stale in self.orders.glob("*.order.json"):  # a previous run's leftovers: never act on them
            stale.unlink(missing_ok=True)

    def end(self) -> None:
        self._env = None

    def perform(self, order: Order) -> Performed:
        order_path = self.orders / f"{order.order_id}.order.json"
        report_path = self.orders / f"{order.order_id}.report.json"
        report_path.unlink(missing_ok=True)
        _write_json(order_path, order.as_json())
        line = f"[{order.order_id}] {order.instruction()}"
        with (self.orders / "instructions.log").open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        (self.announce or _announce)(line)
        limit = order.timeout_seconds + self.grace_seconds
        deadline = time.monotonic() + limit
        try:
            while time.monotonic() < deadline:
                if report_path.exists():
                    return Performed(self._read(report_path, order))
                time.sleep(self.poll)
        finally:
            order_path.unlink(missing_ok=True)
        seen = self._env.progress() if self._env and self._env.progress else "(no journal available)"
        message = (
            f"no report for order {order.order_id} within {limit:g} s. "
            f"The driver reads {order_path} and must write {report_path.name} in {self.orders}. "
            f"What the gateway saw since the order: {seen}"
        )
        return Performed(Report(order.order_id, "no-answer", message=message, extra={"harness_timeout": True}))

    def _read(self, path: Path, order: Order) -> Report:
        text = ""
        for _ in range(50):  # a driver that writes in place may be caught mid-write: retry briefly
            text = path.read_text(encoding="utf-8")
            try:
                doc = json.loads(text)
                break
            except json.JSONDecodeError:
                time.sleep(self.poll)
        else:
            return Report(order.order_id, "error", message=f"{path.name} is not JSON: {text[:200]!r}")
        done = self.orders / "done" / path.name
        os.replace(path, done)
        try:
            return Report.from_json(doc, order_id=order.order_id)
        except ReportError as exc:
            return Report(order.order_id, "error", message=f"{path.name}: {exc}", extra={"bad_report": True})


def _announce(line: str) -> None:
    stream = sys.__stderr__
    if stream is not None:
        stream.write(f"\nmockgateway order: {line}\n")
        stream.flush()


def _write_json(path: Path, doc: object) -> None:
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temp, path)
