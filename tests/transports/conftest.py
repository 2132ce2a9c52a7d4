"""A real gateway in a background thread, on free ports, for transport tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockgateway.certs.institution_pki import TestPKI
from mockgateway.config import Config
from mockgateway.server import Running, start_in_thread

ADMIN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    def __init__(self, running: Running) -> None:
        self.running = running
        self.config = running.config
        self.base = f"http://127.0.0.1:{self.config.http_port}"
        self.tls = f"https://127.0.0.1:{self.config.tls_port}"  # the Web API's login host
        self.search = f"https://127.0.0.1:{self.config.search_tls_port}"  # … and its search host
        self.pki = TestPKI(self.config.pki_path)

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, self.base + path, headers={"X-Admin-Token": ADMIN}, timeout=10, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root: Path = tmp_path_factory.mktemp("oqs")
    pki = TestPKI.init(root / "pki")
    # Issued before start: the TLS listener reads the CRL when it starts.
    for status in ("valid", "expired", "revoked"):
        pki.issue_client("1310112345", status)  # type: ignore[arg-type]
    config = Config(
        root=root,
        http_port=free_port(),
        tls_port=free_port(),
        search_port=free_port(),
        folder=False,
        admin_token=ADMIN,
        journal_entries=50,
    )
    running = start_in_thread(config)
    yield Live(running)
    running.stop()
    running.stopped.wait(10)


@pytest.fixture
def fresh(live: Live) -> Live:
    """Default personas, empty journal, no faults, clock frozen at 2026-11-23 10:00 JST."""
    assert live.admin("POST", "/admin/reset").status_code == 200
    assert live.admin("POST", "/admin/clock", json={"now": "20261123100000", "running": False}).status_code == 200
    return live


@pytest.fixture
def small_limit(fresh: Live) -> Iterator[int]:
    """A 64 KiB body limit for the test (the setting is read per request)."""
    settings = fresh.running.gateway.settings
    before = settings.max_request_bytes
    settings.max_request_bytes = 64 * 1024
    yield settings.max_request_bytes
    settings.max_request_bytes = before
