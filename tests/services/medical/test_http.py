"""The 医療情報 and 災害時 interfaces over HTTP (convenience route) and their admin routes, on a real server."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from mockgateway.config import Config
from mockgateway.server import Running, start_in_thread
from mockgateway.services.medical.client import disaster_request, medical_request

TOKEN = "medical-admin-token"
MIC = "1310112345"
TARO = {"InsurerNumber": "01139997", "InsuranceCardSymbol": "12-34", "InsuredPersonIdentificationNumber": "5678",
        "BranchNumber": "00"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root: Path = tmp_path_factory.mktemp("oqs")
    config = Config(root=root, http_port=free_port(), tls_port=None, folder=False, admin_token=TOKEN)
    running = start_in_thread(config)
    yield running
    running.stop()
    running.stopped.wait(10)


class Http:
    def __init__(self, running: Running) -> None:
        self.base = f"http://127.0.0.1:{running.config.http_port}"

    def admin(self, method: str, path: str, doc: Any = None) -> requests.Response:
        return requests.request(method, self.base + path, json=doc, headers={"X-Admin-Token": TOKEN}, timeout=10)

    def post(self, api_id: str, body: bytes) -> requests.Response:
        return requests.post(f"{self.base}/oqs/{api_id}", data=body, timeout=30)


@pytest.fixture
def http(server: Running) -> Http:
    """Clock frozen at 2026-11-23 10:00, then the default personas (relative dates fixed on that day); no
    consents, no disasters."""
    h = Http(server)
    assert h.admin("POST", "/admin/clock", {"now": "20261123100000", "running": False}).status_code == 200
    assert h.admin("POST", "/admin/reset").status_code == 200
    assert h.admin("DELETE", "/admin/disasters").status_code == 200
    assert h.admin("DELETE", "/admin/medical/consents").status_code == 200
    return h


def test_drug_information_over_http_after_an_admin_consent(http: Http) -> None:
    refused = http.post("YZKsiquc01", medical_request(TARO, medical_institution=MIC))
    assert "<ResultCode>2</ResultCode>" in refused.content.decode("cp932")
    given = http.admin("POST", "/admin/medical/consents",
                       {"person_id": "hoken-taro", "medical_institution": MIC, "kinds": ["drug"]})  # fmt: skip
    assert given.status_code == 201
    assert given.json()["recorded"][0]["available_until"] == "20261124100000"
    xml = http.post("YZKsiquc01", medical_request(TARO, medical_institution=MIC)).content.decode("cp932")
    assert "<ResultCode>1</ResultCode>" in xml
    assert "カンデサルタン錠８ｍｇ「模擬」" in xml
    pdf = http.post("YZKsiquc01", medical_request(TARO, medical_institution=MIC, file_category="1"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert "保険　太郎" in (PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text() or "")
    views = http.admin("GET", "/admin/medical/views").json()["views"]
    assert [v["segment"] for v in views] == ["9", "1", "1"]
    assert views[-1]["medical"]["person"] == "hoken-taro"
    assert views[-1]["transport"] == "http"


def test_grace_period_consent_over_the_admin_api(http: Http) -> None:
    consent = {"person_id": "hoken-taro", "medical_institution": MIC, "kinds": "all", "grace_period": True}
    assert http.admin("POST", "/admin/medical/consents", consent).status_code == 201
    xml = http.post("YZKsiquc01", medical_request(TARO, medical_institution=MIC)).content.decode("cp932")
    assert "MGW2505" in xml


def test_settings_and_records_routes(http: Http) -> None:
    settings = http.admin("GET", "/admin/medical/settings").json()
    assert (settings["drug_years"], settings["checkup_years"], settings["viewer_role_element"]) == (3, 5, "ViewerRole")
    changed = http.admin("PUT", "/admin/medical/settings", {"drug_years": 5})
    assert changed.json()["drug_years"] == 5
    records = http.admin("GET", "/admin/medical/records?id=hoken-taro").json()
    assert len(records["stored"]["drugs"]) == 6
    assert len(records["viewable"]["drugs"]) == 6  # 5 years: the 37-month-old record is back
    assert http.admin("PUT", "/admin/medical/settings", {"drug_years": 3}).status_code == 200
    assert len(http.admin("GET", "/admin/medical/records?id=hoken-taro").json()["viewable"]["drugs"]) == 5
    bad = http.admin("PUT", "/admin/medical/settings", {"drug_years": 0})
    assert bad.status_code == 400
    assert "drug_years" in bad.json()["error"]
    assert http.admin("GET", "/admin/medical/records?id=nobody").status_code == 404


def test_disaster_declared_over_the_admin_api_and_searched_over_http(http: Http) -> None:
    search = {"Name": "保険　太郎", "Birthdate": "19800401", "Sex": "1", "Address": "霞が関"}
    doc = {"name": "模擬地震", "prefectures": ["石川県"], "start": "20261120", "end": "20261130"}
    declared = http.admin("POST", "/admin/disasters", doc)
    assert declared.status_code == 201, declared.text
    pdf = http.post("MGWdsquc01", disaster_request(search, medical_institution="1710110014"))
    assert pdf.headers["content-type"] == "application/pdf"
    outside = http.post("MGWdsquc01", disaster_request(search, medical_institution=MIC)).content.decode("cp932")
    assert "MGW2602" in outside
    assert http.admin("POST", "/admin/disasters/close", {"id": declared.json()["id"]}).status_code == 200
    closed = http.post("MGWdsquc01", disaster_request(search, medical_institution="1710110014"))
    assert "MGW2604" in closed.content.decode("cp932")
    views = http.admin("GET", "/admin/medical/views").json()["views"]
    assert [(v["disaster"]["declaration"] or {}).get("id") for v in views] == ["D0001", None, "D0001"]
    assert views[1]["disaster"]["declarations_considered"] == ["D0001"]  # outside its area: relied on none
    assert http.admin("POST", "/admin/disasters", {"name": "x", "prefectures": ["石川県"]}).status_code == 400
