"""The scenario's world: a real gateway (SQLite file, real folders watched by inotify) and the
client under test. One per scenario, so scenarios never see each other's state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mockgateway.app import build_gateway
from mockgateway.client.folder import Exchange, FolderClient
from mockgateway.config import Config
from mockgateway.engine import Gateway
from mockgateway.transports.folder import FolderTransport


@dataclass
class World:
    root: Path
    gateway: Gateway
    folder: FolderTransport
    client: FolderClient
    medical_institution: str = "1310112345"
    last: Exchange | None = None
    notes: dict[str, object] = field(default_factory=dict)

    def result(self) -> Exchange:
        assert self.last is not None, "no result yet: a もし step must send a request first"
        return self.last


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    config = Config(root=tmp_path / "oqs", fixtures=[], tls_port=None)
    gateway = build_gateway(config)
    folder = FolderTransport(gateway, config.root)
    folder.start()
    try:
        yield World(config.root, gateway, folder, FolderClient(config.root))
    finally:
        folder.stop()
        gateway.store.close()
