"""A real gateway (folders, HTTP, admin listener with the console) on free ports, and a harness
report in its reports folder, for the console's tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockgateway.config import Config
from mockgateway.harness import report
from mockgateway.server import Running, start_in_thread
from tests.harness.test_report import summary
from tests.transports.conftest import ADMIN, free_port

REPORT_RUN = "2026-11-23-folder"


class Console:
    def __init__(self, running: Running) -> None:
        self.running = running
        self.config = running.config
        self.base = f"http://127.0.0.1:{self.config.http_port}"

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, self.base + path, headers={"X-Admin-Token": ADMIN}, timeout=10, **kwargs)  # type: ignore[arg-type]

    def login(self) -> tuple[requests.Session, str]:
        """A logged-in requests session and its CSRF token (as the page carries it)."""
        s = requests.Session()
        r = s.post(self.base + "/console/login", data={"token": ADMIN}, headers={"Origin": self.base}, timeout=10)
        assert r.status_code == 200, r.text
        found = re.search(r'name="csrf-token" content="([^"]+)"', r.text)
        assert found
        return s, found.group(1)


@pytest.fixture(scope="package")
def console_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    root: Path = tmp_path_factory.mktemp("oqs")
    run = summary()
    run.write(root / "reports" / REPORT_RUN / "summary.json")
    report.write(run, root / "reports" / REPORT_RUN / "report.html")
    config = Config(root=root, http_port=free_port(), tls_port=None, folder=True, admin_token=ADMIN)
    running = start_in_thread(config)
    yield Console(running)
    running.stop()
    running.stopped.wait(10)


@pytest.fixture
def console(console_live: Console) -> Console:
    """Default personas (cards as issued), empty journal, no faults or disasters, clock frozen."""
    c = console_live
    assert c.admin("POST", "/admin/clock", json={"now": "20261123100000", "running": False}).status_code == 200
    assert c.admin("POST", "/admin/reset").status_code == 200
    c.admin("DELETE", "/admin/disasters")
    return c
