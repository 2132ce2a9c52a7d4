"""The Web API as real client software meets it: two hosts, the login answer, the search body as
clients send it, and a client certificate revoked while the gateway runs (docs/webapi.md)."""

from __future__ import annotations

import subprocess
import time

import orjson
import pytest
import requests

from mockgateway.certs.institution_pki import cli_revoke
from tests.transports.conftest import Live
from tests.transports.test_http import AUTH, SEARCH, SEARCH_BODY, client, login, searcher

MIC = "1310112345"


def _search(live: Live, body: object, token: str) -> requests.Response:
    return searcher(live).post(live.search + SEARCH, json=body, headers={"Authorization": token}, timeout=10)


def _kokuho(insurer: str) -> dict[str, object]:
    return {
        "XmlMsg": {
            "MessageHeader": {"QualificationConfirmationDate": "20261123", "MedicalInstitutionCode": MIC},
            "MessageBody": {
                "QualificationConfirmSearchInfo": {
                    "InsurerNumber": insurer,
                    "InsuredCardSymbol": "模擬市",
                    "InsuredIdentificationNumber": "100234",
                    "InsuredBranchNumber": "00",
                    "Birthdate": "19650203",
                }
            },
        }
    }


# -- two hosts ------------------------------------------------------------------------------------


def test_login_with_a_certificate_then_search_with_only_the_authorization_header(fresh: Live) -> None:
    """The real flow: `requests` with cert= on the login port, nothing but Authorization on search."""
    with requests.Session() as session:
        session.trust_env = False
        cert, key, _ = fresh.pki.client_paths(MIC, "valid")
        login_reply = session.post(
            fresh.tls + AUTH,
            json={"MedicalInstitutionCode": MIC},
            cert=(str(cert), str(key)),
            verify=str(fresh.pki.ca_cert),
            timeout=10,
        )
        token = login_reply.json()["result"]["idToken"]
        found = session.post(
            fresh.search + SEARCH,
            data=orjson.dumps(SEARCH_BODY),
            headers={"Authorization": token, "Content-Type": "application/json;charset=UTF-8"},
            verify=str(fresh.pki.ca_cert),
            timeout=10,
        )
    assert found.status_code == 200, found.text
    assert found.json()["XmlMsg"]["MessageBody"]["QualificationValidity"] == "1"
    assert fresh.config.search_tls_port != fresh.config.tls_port


def test_a_client_certificate_offered_to_the_search_host_is_accepted_and_ignored(fresh: Live) -> None:
    token = login(fresh)
    reply = client(fresh).post(fresh.search + SEARCH, json=SEARCH_BODY, headers={"Authorization": token}, timeout=10)
    assert reply.status_code == 200
    expired = client(fresh, "expired").post(
        fresh.search + SEARCH, json=SEARCH_BODY, headers={"Authorization": token}, timeout=10
    )
    assert expired.status_code == 200  # never asked for, so never checked


def test_the_search_host_needs_no_client_certificate_to_log_in_but_refuses_the_login_route(fresh: Live) -> None:
    reply = searcher(fresh).post(fresh.search + AUTH, json={"MedicalInstitutionCode": MIC}, timeout=10)
    assert reply.status_code == 401
    header = reply.json()["XmlMsg"]["MessageHeader"]
    assert (header["SegmentOfResult"], header["ErrorCode"]) == ("9", "MGW1123")


def test_a_search_sent_to_the_login_host_is_not_found_there(fresh: Live) -> None:
    token = login(fresh)
    reply = client(fresh).post(fresh.tls + SEARCH, json=SEARCH_BODY, headers={"Authorization": token}, timeout=10)
    assert reply.status_code == 404
    header = reply.json()["XmlMsg"]["MessageHeader"]
    assert (header["SegmentOfResult"], header["ErrorCode"]) == ("9", "MGW1122")


def _s_client(port: int, ca: str, *extra: str) -> str:
    done = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", "-CAfile", ca, *extra],
        input=b"",
        capture_output=True,
        timeout=30,
        check=False,
    )
    return (done.stdout + done.stderr).decode("utf-8", "replace")


def test_openssl_sees_a_certificate_request_on_the_login_host_only(fresh: Live) -> None:
    ca = str(fresh.pki.ca_cert)
    login_host = _s_client(fresh.config.tls_port or 0, ca)
    search_host = _s_client(fresh.config.search_tls_port or 0, ca)
    assert "Acceptable client certificate CA names" in login_host
    assert "mockgateway TEST CA" in login_host.split("Acceptable client certificate CA names", 1)[1]
    assert "No client certificate CA names sent" in search_host
    assert "Verify return code: 0 (ok)" in search_host
    cert, key, _ = fresh.pki.client_paths(MIC, "valid")
    offered = _s_client(fresh.config.search_tls_port or 0, ca, "-cert", str(cert), "-key", str(key))
    assert "Verify return code: 0 (ok)" in offered


# -- the login answer and the search body -------------------------------------------------------------


def test_the_login_answer_carries_what_public_clients_read(fresh: Live) -> None:
    reply = client(fresh).post(fresh.tls + AUTH, json={"MedicalInstitutionCode": MIC}, timeout=10)
    doc = reply.json()
    assert (doc["status"], doc["msg"]) == ("0", "")
    result = doc["result"]
    assert set(result) == {"idToken", "accessToken", "refreshToken", "linkSysCharCd", "expiresAt"}
    assert len({result["idToken"], result["accessToken"], result["refreshToken"]}) == 3
    assert result["linkSysCharCd"] == "0"
    assert result["expiresAt"] == "20261123110000"  # one hour on the frozen virtual clock


def test_a_refused_login_has_the_same_keys(fresh: Live) -> None:
    reply = client(fresh).post(fresh.tls + AUTH, data=b"[1]", timeout=10)
    assert reply.status_code == 400
    doc = reply.json()
    assert doc["status"] == "1"
    assert doc["msg"].startswith("ログインできません")
    assert all(v == "" for v in doc["result"].values())
    assert doc["XmlMsg"]["MessageHeader"]["ErrorCode"] == "MGW1102"


def test_a_search_without_medical_institution_code_is_answered_for_the_token_s_institution(fresh: Live) -> None:
    body = orjson.loads(orjson.dumps(SEARCH_BODY))
    del body["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"]
    reply = _search(fresh, body, login(fresh))
    assert reply.status_code == 200
    doc = reply.json()["XmlMsg"]
    assert doc["MessageBody"]["QualificationValidity"] == "1"
    assert doc["MessageHeader"]["MedicalInstitutionCode"] == MIC
    entry = fresh.admin("GET", "/admin/journal?api_id=OQSsiquc01").json()["entries"][-1]
    assert entry["medical_institution"] == MIC


def test_a_zero_padded_six_digit_insurer_number_is_accepted_and_echoed_as_sent(fresh: Live) -> None:
    reply = _search(fresh, _kokuho("00139998"), login(fresh))
    body = reply.json()["XmlMsg"]["MessageBody"]
    assert body["QualificationValidity"] == "1"
    assert body["QualificationConfirmSearchInfo"]["InsurerNumber"] == "00139998"
    assert body["ResultList"][0]["ResultOfQualificationConfirmation"]["InsurerNumber"] == "  139998"


# -- revocation while running ---------------------------------------------------------------------------


def _can_log_in(live: Live, code: str) -> bool:
    cert, key, _ = live.pki.client_paths(code, "valid")
    try:
        requests.post(
            live.tls + AUTH,
            json={"MedicalInstitutionCode": code},
            cert=(str(cert), str(key)),
            verify=str(live.pki.ca_cert),
            timeout=10,
        )
    except requests.exceptions.SSLError:
        return False
    return True


def test_a_certificate_revoked_through_the_admin_api_is_refused_from_the_next_handshake(fresh: Live) -> None:
    code = "1310000011"
    fresh.pki.issue_client(code, "valid")
    assert _can_log_in(fresh, code)
    token = login(fresh)
    revoked = fresh.admin("POST", "/admin/pki/revoke", json={"medical_institution_code": code})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["login_listener_restarted"] is True
    assert not _can_log_in(fresh, code)
    assert login(fresh)  # other certificates still log in
    assert _search(fresh, SEARCH_BODY, token).status_code == 200  # the search host was not touched


def test_a_certificate_revoked_with_the_cli_is_applied_without_a_restart(fresh: Live) -> None:
    code = "1340141231"
    fresh.pki.issue_client(code, "valid")
    assert _can_log_in(fresh, code)
    cli_revoke(fresh.pki.directory, code)
    deadline = time.monotonic() + 20  # the gateway polls crl.pem twice a second
    while _can_log_in(fresh, code):
        if time.monotonic() > deadline:
            pytest.fail("the revoked certificate still logs in")
        time.sleep(0.2)
    assert login(fresh)


def test_revoking_an_unknown_certificate_is_an_admin_error(fresh: Live) -> None:
    reply = fresh.admin("POST", "/admin/pki/revoke", json={"medical_institution_code": "1319999999"})
    assert reply.status_code == 404
    assert fresh.admin("POST", "/admin/pki/revoke", json={}).status_code == 400
