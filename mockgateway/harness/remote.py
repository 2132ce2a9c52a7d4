"""A gateway in a subprocess (`python -m mockgateway serve …` on free ports, temporary root) and a
small admin-API client for it: what the pytest plugin's session fixtures hand to a vendor's tests.

Standard library only (urllib), so a vendor's test environment needs nothing more.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockgateway.control.tokens import new_admin_token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class AdminError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"admin API {status}: {message}")
        self.status = status
        self.detail = message


@dataclass(slots=True)
class AdminClient:
    """The admin API (docs/admin.md): clock, fixtures, journal, faults."""

    base: str  # http://127.0.0.1:PORT
    token: str
    timeout: float = 10.0

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else (json.dumps(body).encode("utf-8") if body is not None else None)
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"X-Admin-Token": self.token}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")
            raise AdminError(exc.code, detail) from None

    # clock
    def now(self) -> str:
        return str(self.call("GET", "/admin/clock")["now"])

    def set_clock(self, now: str, *, running: bool = False) -> Any:
        return self.call("POST", "/admin/clock", {"now": now, "running": running})

    def advance(self, **delta: float) -> Any:
        return self.call("POST", "/admin/clock/advance", delta)

    # fixtures
    def load_fixtures(self, document: str | bytes | Mapping[str, Any], *, replace: bool = True) -> Any:
        if isinstance(document, Mapping):
            raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
        else:
            raw = document.encode("utf-8") if isinstance(document, str) else document
        return self.call("POST", f"/admin/fixtures?replace={'true' if replace else 'false'}", raw=raw)

    def reset(self) -> Any:
        return self.call("POST", "/admin/reset")

    # journal
    def journal(self, **query: Any) -> list[dict[str, Any]]:
        qs = "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
        return list(self.call("GET", "/admin/journal" + (f"?{qs}" if qs else ""))["entries"])

    def clear_journal(self) -> Any:
        return self.call("DELETE", "/admin/journal")

    # faults
    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/admin/faults", rule))

    def clear_faults(self) -> Any:
        return self.call("DELETE", "/admin/faults")

    def status(self) -> dict[str, Any]:
        return dict(self.call("GET", "/admin/status"))

    def routes(self) -> list[str]:
        """Every admin route this gateway build serves (the admin API lists them on an unknown path)."""
        try:
            self.call("GET", "/admin/-routes-")
        except AdminError as exc:
            if exc.status == 404:
                return [str(r) for r in json.loads(exc.detail).get("routes", [])]
            raise
        return []


@dataclass(slots=True)
class GatewayProcess:
    """`python -m mockgateway serve` in a subprocess; stop() ends it (and only it)."""

    root: Path
    http_port: int
    tls_port: int | None
    token: str
    search_port: int | None = None  # the Web API's search host (with tls_port)
    process: subprocess.Popen[bytes] | None = None
    output: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.http, self.token)

    @classmethod
    def start(
        cls,
        root: Path,
        *,
        tls: bool = True,
        extra_args: list[str] | None = None,
        timeout: float = 60.0,
        attempts: int = 3,
    ) -> GatewayProcess:
        """Start it on free ports; a port taken between choosing and binding costs a retry, not the run."""
        failures: list[str] = []
        for _ in range(attempts):
            gp = cls(root, free_port(), free_port() if tls else None, new_admin_token())
            gp.search_port = free_port() if tls else None
            problem = gp._launch(extra_args or [], timeout)
            if problem is None:
                return gp
            failures.append(problem)
        raise RuntimeError("the gateway subprocess did not become ready:\n" + "\n---\n".join(failures))

    def _launch(self, extra_args: list[str], timeout: float) -> str | None:
        argv = [
            sys.executable, "-m", "mockgateway", "serve",
            "--root", str(self.root),
            "--http-port", str(self.http_port),
            "--tls-port", str(self.tls_port or 0),
            *(["--search-port", str(self.search_port)] if self.search_port else []),
            f"--admin-token={self.token}",
            *extra_args,
        ]  # fmt: skip
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        ready = threading.Event()

        def pump() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip()
                self.output.append(line)
                del self.output[:-200]
                if line.startswith("mockgateway ready"):
                    ready.set()

        self.pump = threading.Thread(target=pump, daemon=True, name="mockgateway-output")
        self.pump.start()
        deadline = time.monotonic() + timeout
        while not (ready.wait(0.05) and _listening(self.http_port)):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "\n".join(self.output[-20:])
                return f"{' '.join(argv)} (exit status {process.poll()}):\n{tail}"
        return None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout)
        if self.pump is not None:
            self.pump.join(timeout)  # reads to EOF, which the process's exit brings
        if self.process.stdout is not None:
            self.process.stdout.close()
