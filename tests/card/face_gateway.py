"""A whole gateway (every feature, the default personas, a frozen clock) for the card-reader tests."""

from __future__ import annotations

from pathlib import Path

from mockgateway.app import build_gateway
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.domain.clock import jst
from mockgateway.engine import Gateway
from mockgateway.fixtures import load_paths

FROZEN_AT = jst(2026, 11, 23, 10, 0, 0)
MIC = "1310112345"


def face_gateway(root: Path, *, folder: bool = True) -> Gateway:
    gateway = build_gateway(Config(root=root, fixtures=[], tls_port=None, folder=folder))
    gateway.clock.set(FROZEN_AT, running=False)
    gateway.load(load_paths([DEFAULT_FIXTURES], gateway.clock.today()))
    return gateway
