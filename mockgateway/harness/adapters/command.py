"""(3) A vendor command line, run once per order: the order as JSON on standard input, the report as
JSON on standard output (docs/vendor-guide.md)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mockgateway.harness.adapters.base import AdapterError, Environment, Performed
from mockgateway.harness.orders import Order, Report, ReportError


@dataclass(slots=True)
class CommandAdapter:
    """Runs `command` once per order: the order JSON on stdin, the report JSON on stdout.

    Environment for the command: MOCKGATEWAY_ROOT (folder root), MOCKGATEWAY_HTTP (base URL, when
    served), MOCKGATEWAY_WEBAPI, MOCKGATEWAY_WEBAPI_SEARCH and MOCKGATEWAY_PKI (the Web API's login
    host, its search host and their test PKI directory, in `webapi` scenarios), MOCKGATEWAY_ORDER_ID.
    Exit status 0 with a report; anything else is reported as an error with the tail of stderr.
    """

    command: Sequence[str]
    capabilities: frozenset[str] = frozenset({"eligibility"})
    grace_seconds: float = 5.0
    cwd: Path | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    name: str = "command"
    _env: Environment | None = field(default=None, init=False)

    @classmethod
    def from_string(cls, command: str, **kwargs: object) -> CommandAdapter:
        argv = shlex.split(command)
        if not argv:
            raise AdapterError("the command adapter needs a command (--mg-command or [client] command)")
        return cls(argv, **kwargs)  # type: ignore[arg-type]

    def begin(self, env: Environment) -> None:
        self._env = env

    def end(self) -> None:
        self._env = None

    def perform(self, order: Order) -> Performed:
        env = dict(os.environ)
        env.update(self.extra_env)
        if self._env is not None:
            env["MOCKGATEWAY_ROOT"] = str(self._env.root)
            if self._env.http:
                env["MOCKGATEWAY_HTTP"] = self._env.http
            if self._env.webapi:
                env["MOCKGATEWAY_WEBAPI"] = self._env.webapi
            if self._env.webapi_search:
                env["MOCKGATEWAY_WEBAPI_SEARCH"] = self._env.webapi_search
            if self._env.pki is not None:
                env["MOCKGATEWAY_PKI"] = str(self._env.pki)
        env["MOCKGATEWAY_ORDER_ID"] = order.order_id
        limit = order.timeout_seconds + self.grace_seconds
        try:
            done = subprocess.run(
                list(self.command),
                input=json.dumps(order.as_json(), ensure_ascii=False).encode("utf-8"),
                capture_output=True,
                timeout=limit,
                env=env,
                cwd=self.cwd,
                check=False,
            )
        except FileNotFoundError as exc:
            raise AdapterError(f"the client command {self.command[0]!r} was not found: {exc}") from None
        except subprocess.TimeoutExpired as exc:
            seen = self._env.progress() if self._env and self._env.progress else ""
            tail = _tail(exc.stderr)
            message = f"the command did not finish within {limit:g} s. Gateway saw: {seen}. stderr: {tail}"
            return Performed(Report(order.order_id, "no-answer", message=message, extra={"harness_timeout": True}))
        stdout = done.stdout.decode("utf-8", errors="replace").strip()
        if done.returncode != 0:
            message = f"the command exited with status {done.returncode}; stderr: {_tail(done.stderr)}"
            return Performed(Report(order.order_id, "error", message=message))
        try:
            doc = json.loads(stdout)
        except json.JSONDecodeError:
            message = f"the command's stdout is not one JSON report: {stdout[:300]!r}; stderr: {_tail(done.stderr)}"
            return Performed(Report(order.order_id, "error", message=message, extra={"bad_report": True}))
        try:
            return Performed(Report.from_json(doc, order_id=order.order_id))
        except ReportError as exc:
            return Performed(Report(order.order_id, "error", message=f"report: {exc}", extra={"bad_report": True}))


def _tail(raw: bytes | str | None, limit: int = 600) -> str:
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.strip()[-limit:]
