"""The catalogue's one HTTP listener: it answers from the current scenario's gateway, and says so
between scenarios."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def test_with_a_pki_it_is_the_web_api_over_tls_with_client_certificates(tmp_path: Path) -> None:
    import requests

    from mockgateway.certs.institution_pki import TestPKI
    from mockgateway.transports.http import AUTH_PATH

    pki = TestPKI.init(tmp_path / "pki")
    secure = CatalogueHttp(pki=pki).start()
    gateway = build_gateway(Config(root=tmp_path / "oqs", tls_port=None, fixtures=[]))
    try:
        assert secure.url.startswith("https://")
        valid = pki.issue_client("1310112345", "valid", check_code=False)
        expired = pki.issue_client("1310112345", "expired", check_code=False)
        with secure.serving(gateway), requests.Session() as session:
            tls: dict[str, Any] = {"cert": valid.requests_cert, "verify": str(pki.ca_cert), "timeout": 5}
            login = session.post(secure.url + AUTH_PATH, json={"MedicalInstitutionCode": "1310112345"}, **tls)
            assert login.status_code == 200
            assert login.json()["result"]["idToken"]
            assert session.post(secure.url + "/oqs/OQSsiquc01", data=b"x", **tls).status_code == 404  # Web API only
            with pytest.raises(requests.exceptions.SSLError):
                session.post(secure.url + AUTH_PATH, json={}, **{**tls, "cert": expired.requests_cert})
        assert [(e.transport, e.api_id) for e in gateway.journal.entries()] == [("webapi", "auth")]
    finally:
        secure.stop()
        gateway.store.close()
