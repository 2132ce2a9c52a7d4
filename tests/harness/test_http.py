"""The catalogue's one HTTP listener: it answers from the current scenario's gateway, and says so
between scenarios."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.harness.http import CatalogueHttp


@pytest.fixture
def listener() -> Iterator[CatalogueHttp]:
    http = CatalogueHttp().start()
    yield http
    http.stop()


def test_between_scenarios_it_answers_503_with_the_reason(listener: CatalogueHttp) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(listener.url + "/health", timeout=5)
    assert caught.value.code == 503
    assert "no scenario is running" in json.loads(caught.value.read())["error"]


def test_during_a_scenario_it_is_that_scenarios_gateway(listener: CatalogueHttp, tmp_path: Path) -> None:
    gateway = build_gateway(Config(root=tmp_path / "oqs", tls_port=None, fixtures=[]))
    try:
        with listener.serving(gateway):
            post = urllib.request.Request(listener.url + "/oqs/OQSsiquc01", data=b"not xml", method="POST")
            with urllib.request.urlopen(post, timeout=5) as answer:
                assert b"<SegmentOfResult>9</SegmentOfResult>" in answer.read()
        assert [e.transport for e in gateway.journal.entries()] == ["http"]
        assert listener.app.current is None
    finally:
        gateway.store.close()
