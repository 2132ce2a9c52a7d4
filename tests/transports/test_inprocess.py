"""In-process mode: a `requests`-based client talks to the engine through `responses`, no server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.control.faults import rule_from_dict
from mockgateway.domain.clock import JST
from mockgateway.engine import Gateway
from mockgateway.transports.http import AUTH_PATH, SEARCH_PATH
from mockgateway.transports.inprocess import serve

BASE = "https://oqs.test"
MIC = "1310112345"
SEARCH = {
    "XmlMsg": {
        "MessageHeader": {"QualificationConfirmationDate": "20261123", "MedicalInstitutionCode": MIC},
        "MessageBody": {
            "QualificationConfirmSearchInfo": {
                "InsurerNumber": "  139998",
                "InsuredCardSymbol": "模擬市",
                "InsuredIdentificationNumber": "100234",
                "InsuredBranchNumber": "00",
                "Birthdate": "19650203",
                "LimitApplicationCertificateRelatedConsFlg": "0",
            }
        },
    }
}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = build_gateway(Config(root=tmp_path / "oqs", tls_port=None))
    gw.clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=JST), running=False)
    yield gw
    gw.store.close()


def login(session: requests.Session) -> str:
    answer = session.post(BASE + AUTH_PATH, json={"MedicalInstitutionCode": MIC}, timeout=5)
    assert answer.status_code == 200
    token: str = answer.json()["result"]["idToken"]
    return token


def test_auth_then_search_answers_from_the_engine(gateway: Gateway) -> None:
    with serve(gateway) as oqs, requests.Session() as s:
        token = login(s)
        answer = s.post(BASE + SEARCH_PATH, json=SEARCH, headers={"Authorization": token}, timeout=5)
        assert len(oqs.calls) == 2  # responses forgets its calls when the block ends
    assert answer.status_code == 200
    body = answer.json()["XmlMsg"]["MessageBody"]
    assert body["QualificationValidity"] == "1"
    entries = gateway.journal.entries()
    assert [(e.transport, e.api_id) for e in entries] == [("inprocess", "auth"), ("inprocess", "OQSsiquc01")]
    assert entries[-1].medical_institution == MIC


def test_convenience_route_takes_and_gives_request_file_xml(gateway: Gateway) -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader><QualificationConfirmationDate>20261123'
        f"</QualificationConfirmationDate><MedicalInstitutionCode>{MIC}</MedicalInstitutionCode></MessageHeader>"
        "<MessageBody><QualificationConfirmSearchInfo><InsurerNumber>  139998</InsurerNumber>"
        "<InsuredCardSymbol>模擬市</InsuredCardSymbol><InsuredIdentificationNumber>100234</InsuredIdentificationNumber>"
        "<InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19650203</Birthdate>"
        "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
    with serve(gateway, base_url="http://gw.local"):
        answer = requests.post("http://gw.local/oqs/OQSsiquc01", data=xml.encode("utf-8"), timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/xml")
    assert "<QualificationValidity>1</QualificationValidity>" in answer.content.decode("cp932")


def test_search_without_a_token_is_refused_in_interface_terms(gateway: Gateway) -> None:
    with serve(gateway):
        answer = requests.post(BASE + SEARCH_PATH, json=SEARCH, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["XmlMsg"]["MessageHeader"]["SegmentOfResult"] == "9"
    assert gateway.journal.entries()[-1].segment == "9"


def test_a_token_of_another_institution_is_refused(gateway: Gateway) -> None:
    with serve(gateway), requests.Session() as s:
        token = s.post(BASE + AUTH_PATH, json={"MedicalInstitutionCode": "1310199995"}, timeout=5).json()
        answer = s.post(
            BASE + SEARCH_PATH, json=SEARCH, headers={"Authorization": token["result"]["idToken"]}, timeout=5
        )
    assert answer.status_code == 403
    assert "1310199995" in (gateway.journal.entries()[-1].reason or "")


@pytest.mark.parametrize(("kind", "status"), [("http503", 503), ("maintenance", 503), ("error", 200)])
def test_faults_act_as_on_the_listener(gateway: Gateway, kind: str, status: int) -> None:
    gateway.faults.add(rule_from_dict({"kind": kind, "api_id": "OQSsiquc01"}))
    with serve(gateway), requests.Session() as s:
        token = login(s)
        answer = s.post(BASE + SEARCH_PATH, json=SEARCH, headers={"Authorization": token}, timeout=5)
    assert answer.status_code == status
    assert answer.json()["XmlMsg"]["MessageHeader"]["SegmentOfResult"] == "9"


def test_a_drop_fault_cuts_the_connection(gateway: Gateway) -> None:
    gateway.faults.add(rule_from_dict({"kind": "drop", "api_id": "OQSsiquc01", "times": 1}))
    with serve(gateway), requests.Session() as s:
        token = login(s)
        with pytest.raises(requests.ConnectionError, match="drop fault"):
            s.post(BASE + SEARCH_PATH, json=SEARCH, headers={"Authorization": token}, timeout=5)
        again = s.post(BASE + SEARCH_PATH, json=SEARCH, headers={"Authorization": token}, timeout=5)
    assert again.status_code == 200
    assert gateway.journal.entries()[-2].fault == "drop"


def test_other_hosts_are_not_answered_when_a_base_url_is_given(gateway: Gateway) -> None:
    with serve(gateway, base_url=BASE), pytest.raises(requests.ConnectionError):
        requests.post("https://elsewhere.test" + AUTH_PATH, json={}, timeout=5)


def test_the_plugin_fixture_serves_the_default_personas(mockgateway_inprocess: object) -> None:
    from mockgateway.transports.inprocess import InProcess

    assert isinstance(mockgateway_inprocess, InProcess)
    with requests.Session() as s:
        assert s.post(BASE + AUTH_PATH, json={"MedicalInstitutionCode": MIC}, timeout=5).status_code == 200
    assert "hoken-taro" in mockgateway_inprocess.gateway.index.people
