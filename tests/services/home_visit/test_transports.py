"""居宅 / 限定型 on a real server: the convenience route (/oqs/{API_ID}), the folders, the admin routes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgateway.config import Config
from mockgateway.domain.continuing_consent import Family
from mockgateway.harness.remote import free_port
from mockgateway.server import Running, start_in_thread
from mockgateway.services.bulk.layout import download_tree
from mockgateway.services.home_visit.layout import consented_query_tree, patient_query_tree
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree

TOKEN = "home-visit-admin-token"
MIC = "1310112345"
UME = {"InsurerNumber": "39139993", "InsuredIdentificationNumber": "70000101", "Birthdate": "19400310"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root: Path = tmp_path_factory.mktemp("oqs")
    config = Config(root=root, http_port=free_port(), tls_port=None, admin_token=TOKEN)
    running = start_in_thread(config)
    yield running
    running.stop()
    running.stopped.wait(10)


class Http:
    def __init__(self, running: Running) -> None:
        self.base = f"http://127.0.0.1:{running.config.http_port}"
        self.root = running.config.root

    def admin(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
        answer = requests.request(method, self.base + path, json=doc, headers={"X-Admin-Token": TOKEN}, timeout=10)
        return answer.status_code, answer.json()

    def post(self, api_id: str, tree: Tree) -> Tree:
        answer = requests.post(
            f"{self.base}/oqs/{api_id}", data=xmlcodec.render("XmlMsg", tree, "Shift_JIS"), timeout=30
        )
        return xmlcodec.parse(answer.content).tree


@pytest.fixture
def http(server: Running) -> Http:
    h = Http(server)
    assert h.admin("POST", "/admin/clock", {"now": "20261123100000", "running": False})[0] == 200
    assert h.admin("POST", "/admin/reset")[0] == 200
    assert h.admin("DELETE", "/admin/home-visit/consents")[0] == 200
    return h


def test_requery_and_withdrawal_on_the_convenience_route(http: Http) -> None:
    found = http.post("OQSsihvq01", patient_query_tree(MIC, Family.HOME_VISIT, UME))
    assert found["MessageBody"]["QualificationValidity"] == "1"  # type: ignore[index]
    status, listed = http.admin("GET", f"/admin/home-visit/consents?mic={MIC}&person=kyotaku-ume")
    assert status == 200
    assert [c["status"] for c in listed["consents"]] == ["valid"]
    gone = http.post("OQSsihvd01", patient_query_tree(MIC, Family.HOME_VISIT, UME))
    assert gone["MessageBody"]["ProcessingResultStatus"] == "1"  # type: ignore[index]
    again = http.post("OQSsihvq01", patient_query_tree(MIC, Family.HOME_VISIT, UME))
    assert again["MessageBody"]["ProcessingResultCode"] == "MGW2702"  # type: ignore[index]


def test_consented_bulk_on_the_convenience_route_and_a_bad_request(http: Http) -> None:
    http.admin("PUT", "/admin/bulk/settings", {"pace": "instant"})
    up = http.post("OQSmuhvq01", consented_query_tree(MIC, Family.HOME_VISIT, consent_from="20250101",
                                                       consent_to="20261123"))  # fmt: skip
    number = str(up["MessageBody"]["ReceptionNumber"])  # type: ignore[index]
    for _ in range(100):
        down = http.post("OQSmuhvq02", download_tree(MIC, number))
        if down["MessageHeader"]["SegmentOfResult"] != "2":  # type: ignore[index]
            break
        time.sleep(0.1)
    assert down["MessageHeader"]["NumberOfProcessingResult"] == "2"  # type: ignore[index]
    bad = http.post("OQSmuhvq01", consented_query_tree(MIC, Family.HOME_VISIT))
    assert bad["MessageHeader"]["SegmentOfResult"] == "9"  # type: ignore[index]
    assert "ConsentDateFrom" in str(bad["MessageHeader"]["ErrorMessage"])  # type: ignore[index]


def test_first_visit_through_the_admin_api_and_the_face_folder(http: Http) -> None:
    status, issued = http.admin("POST", "/admin/home-visit/passcode", {"medical_institution": MIC})
    assert status == 200
    status, result = http.admin("POST", "/admin/reader/place", {
        "person_id": "hoken-taro", "channel": "online", "mode": "visual", "passcode": issued["passcode"],
        "consents": ["drug"], "medical_institution": MIC,
    })  # fmt: skip
    assert status == 200
    assert result["outcome"] == "confirmed", result
    assert (http.root / "face" / result["face_file"]).exists()
    assert "<PharmacistsInfoAvailableTime>20271123100000</PharmacistsInfoAvailableTime>" in result["face_xml"]


def test_reader_fault_and_institutions_admin(http: Http) -> None:
    assert http.admin("POST", "/admin/home-visit/reader-fault", {"medical_institution": MIC})[1] == {"faulted": [MIC]}
    _, result = http.admin("POST", "/admin/reader/place", {"person_id": "hoken-taro", "mode": "face",
                                                           "medical_institution": MIC})  # fmt: skip
    assert result["error"]["id"] == "M09"
    assert http.admin("POST", "/admin/home-visit/reader-fault", {"medical_institution": MIC, "faulted": False})[1] == {
        "faulted": []
    }
    status, doc = http.admin("GET", "/admin/institutions")
    assert status == 200
    assert doc["registered"]["1370000018"] == "施術所"
    assert doc["digits"]["7"] == "施術所"
    status, doc = http.admin("PUT", "/admin/institutions", {"registered": {"1390000014": None}})
    assert "1390000014" not in doc["registered"]
    assert http.admin("PUT", "/admin/institutions", {"nonsense": 1})[0] == 400
    status, settings = http.admin("PUT", "/admin/home-visit/settings", {"consent_days": 30})
    assert settings["consent_days"] == 30
    assert http.admin("PUT", "/admin/home-visit/settings", {"consent_days": 0})[0] == 400
    http.admin("PUT", "/admin/home-visit/settings", {"consent_days": 365})


def test_the_cli_places_a_card_on_a_channel(http: Http, capsys: pytest.CaptureFixture[str]) -> None:
    from mockgateway.cli import main

    argv = ["reader", "place", "hoken-taro", "--channel", "home-visit", "--mode", "pin", "--pin", "1234",
            "--consent", "drug", "--mic", MIC, "--url", http.base, "--token", TOKEN]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr()
    _, listed = http.admin("GET", f"/admin/home-visit/consents?mic={MIC}&person=hoken-taro")
    assert [(c["channel"], c["kinds"], c["status"]) for c in listed["consents"]] == [
        ("home-visit", ["PharmacistsInfo"], "valid")
    ]
    refused = ["reader", "place", "hoken-taro", "--channel", "online", "--mode", "visual", "--passcode", "000000",
               "--mic", MIC, "--url", http.base, "--token", TOKEN]  # fmt: skip
    assert main(refused) == 1  # the reader refused the card (docs/card.md exit codes): M07
    assert "M07" in capsys.readouterr().out
