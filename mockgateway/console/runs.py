"""Certification runs started from the console: `mockgateway-harness run` as a child process, one
at a time, its report written into the reports folder, its scenarios' pass/fail read off pytest's
verbose lines as they come.

The run uses the harness settings the gateway was started with (`serve --harness-config FILE`,
docs/vendor-guide.md), or the reference client when there are none; the chosen area becomes
`--mg-capabilities` (what is not claimed is reported as 対象外 omit). The harness starts its own
gateway per scenario: a run does not touch the state of the gateway serving the console.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_LINES = 2000  # the console shows the tail; the full output is in the report folder's run.log
_RESULT = re.compile(r"^(?P<node>\S+::\S+)\s+(?P<status>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
_STATUS = {"PASSED": "pass", "FAILED": "fail", "ERROR": "error", "SKIPPED": "skip", "XFAIL": "skip", "XPASS": "fail"}


@dataclass
class Run:
    id: int
    name: str  # the report folder, relative to the reports folder
    capability: str
    argv: list[str]
    started: str
    process: subprocess.Popen[str] | None = None
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LINES))
    line_count: int = 0
    results: list[dict[str, str]] = field(default_factory=list)
    exit_code: int | None = None
    problem: str | None = None

    def as_dict(self, since: int = 0) -> dict[str, Any]:
        first = self.line_count - len(self.lines)
        tail = list(self.lines)[max(0, since - first) :]
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return {
            "id": self.id,
            "name": self.name,
            "capability": self.capability,
            "started": self.started,
            "running": self.exit_code is None and self.problem is None,
            "exit_code": self.exit_code,
            "problem": self.problem,
            "results": self.results,
            "counts": counts,
            "lines": tail,
            "next": self.line_count,
        }


class Runs:
    def __init__(self, reports_dir: Path, harness_config: Path | None, capabilities: list[str]) -> None:
        self.reports_dir = reports_dir
        self.harness_config = harness_config
        self.capabilities = capabilities
        self._lock = threading.Lock()
        self._runs: list[Run] = []

    def current(self) -> Run | None:
        with self._lock:
            return self._runs[-1] if self._runs else None

    def get(self, run_id: int) -> Run | None:
        with self._lock:
            return next((r for r in self._runs if r.id == run_id), None)

    def start(self, capability: str) -> Run:
        if capability not in self.capabilities:
            raise ValueError(f"capability {capability!r}: choose one of {', '.join(self.capabilities)}")
        with self._lock:
            if self._runs and self._runs[-1].exit_code is None and self._runs[-1].problem is None:
                raise RuntimeError(f"run {self._runs[-1].name} is still running: one run at a time")
            stamp = dt.datetime.now().astimezone()
            name = f"console-{stamp:%Y%m%d-%H%M%S}-{capability}"
            out = self.reports_dir / name
            argv = [sys.executable, "-m", "mockgateway.harness", "run", "-v", "--mg-capabilities", capability,
                    "--mg-report", str(out.resolve())]  # fmt: skip
            if self.harness_config is not None:
                argv += ["--mg-config", str(self.harness_config.resolve())]
            run = Run(len(self._runs) + 1, name, capability, argv, stamp.isoformat(timespec="seconds"))
            self._runs.append(run)
            del self._runs[:-20]  # old runs live on as reports
        out.mkdir(parents=True, exist_ok=True)
        # The child pytest's own temporary root: pytest prunes old numbered folders under the shared
        # /tmp/pytest-of-<user>, which could be the folders of whoever started this gateway.
        scratch = tempfile.TemporaryDirectory(prefix="mgw-run-")
        env = dict(os.environ, PYTEST_DEBUG_TEMPROOT=scratch.name)
        env.pop("PYTEST_CURRENT_TEST", None)
        try:
            run.process = subprocess.Popen(  # our own interpreter and module, fixed arguments
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                errors="replace", cwd=out, stdin=subprocess.DEVNULL, env=env,
            )  # fmt: skip
        except OSError as exc:
            scratch.cleanup()
            run.problem = f"could not start the harness: {exc}"
            return run
        threading.Thread(
            target=self._follow, args=(run, out / "run.log", scratch), daemon=True, name=f"run-{run.id}"
        ).start()
        return run

    def _follow(self, run: Run, log: Path, scratch: tempfile.TemporaryDirectory[str]) -> None:
        try:
            self._read(run, log)
        finally:
            scratch.cleanup()

    def _read(self, run: Run, log: Path) -> None:
        assert run.process is not None
        assert run.process.stdout is not None
        with log.open("w", encoding="utf-8") as sink:
            for raw in run.process.stdout:
                line = raw.rstrip("\n")
                sink.write(raw)
                found = _RESULT.match(line)
                with self._lock:
                    run.lines.append(line)
                    run.line_count += 1
                    if found:
                        run.results.append({"node": found["node"], "status": _STATUS[found["status"]]})
        code = run.process.wait()
        with self._lock:
            run.exit_code = code

    def stop(self) -> None:
        run = self.current()
        if run is not None and run.process is not None and run.exit_code is None:
            run.process.terminate()
