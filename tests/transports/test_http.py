"""The convenience route and the Web API, against a real server: the login host (TLS with client
certificates) and the search host (server certificate, Authorization header)."""

from __future__ import annotations

import ssl

import orjson
import pytest
import requests

from tests.transports.conftest import Live

TARO = (
    '<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader>'
    "<QualificationConfirmationDate>20261123</QualificationConfirmationDate>"
    "<MedicalInstitutionCode>1310112345</MedicalInstitutionCode>"
    "<ArbitraryFileIdentifier>F001</ArbitraryFileIdentifier></MessageHeader>"
    "<MessageBody><QualificationConfirmSearchInfo><InsurerNumber>01139997</InsurerNumber>"
    "<InsuredCardSymbol>12-34</InsuredCardSymbol><InsuredIdentificationNumber>5678</InsuredIdentificationNumber>"
    "<InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19800401</Birthdate>"
    "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
)
SEARCH_BODY = {
    "XmlMsg": {
        "MessageHeader": {"QualificationConfirmationDate": "20261123", "MedicalInstitutionCode": "1310112345"},
        "MessageBody": {
            "QualificationConfirmSearchInfo": {
                "InsurerNumber": "01139997",
                "InsuredCardSymbol": "12-34",
                "InsuredIdentificationNumber": "5678",
                "InsuredBranchNumber": "00",
                "Birthdate": "19800401",
            }
        },
    }
}
AUTH = "/oqs-api-pro/MSA12020/ILI12020SV01/auth"
SEARCH = "/oqs-api-pro/MSA01030/ILI01030SV01/search"


def client(live: Live, status: str = "valid") -> requests.Session:
    cert, key, _ = live.pki.client_paths("1310112345", status)  # type: ignore[arg-type]
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE silently replaces session.verify
    session.verify = str(live.pki.ca_cert)
    session.cert = (str(cert), str(key))
    return session


def searcher(live: Live) -> requests.Session:
    """What a real client uses on the search host: the server's CA, no client certificate."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(live.pki.ca_cert)
    return session


def login(live: Live, mic: str | None = "1310112345") -> str:
    body = {"MedicalInstitutionCode": mic} if mic else {}
    reply = client(live).post(live.tls + AUTH, json=body, timeout=10)
    assert reply.status_code == 200
    token = reply.json()["result"]["idToken"]
    assert isinstance(token, str)
    assert len(token) > 20
    return token


def test_convenience_route_answers_the_result_file_xml(fresh: Live) -> None:
    reply = requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/xml; charset=Shift_JIS"
    text = reply.content.decode("cp932")
    assert text.startswith('<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>')
    assert "<SegmentOfResult>1</SegmentOfResult>" in text
    assert "<QualificationValidity>1</QualificationValidity>" in text
    assert "<ArbitraryFileIdentifier>F001</ArbitraryFileIdentifier>" in text
    assert "<NameKana>ﾎｹﾝ ﾀﾛｳ</NameKana>" in text


def test_convenience_route_unknown_api_is_an_error_result(fresh: Live) -> None:
    reply = requests.post(fresh.base + "/oqs/NOSUCH01", data=TARO.encode(), timeout=10)
    assert reply.status_code == 200
    text = reply.content.decode("cp932")
    assert "<SegmentOfResult>9</SegmentOfResult>" in text
    assert "<ErrorCode>MGW1007</ErrorCode>" in text


def test_unknown_route_lists_the_routes(fresh: Live) -> None:
    reply = requests.get(fresh.base + "/nothing", timeout=10)
    assert reply.status_code == 404
    assert "POST /oqs/{API_ID}" in reply.json()["routes"]


def test_web_api_login_then_search(fresh: Live) -> None:
    token = login(fresh)
    reply = searcher(fresh).post(fresh.search + SEARCH, json=SEARCH_BODY, headers={"Authorization": token}, timeout=10)
    assert reply.status_code == 200
    doc = reply.json()
    body = doc["XmlMsg"]["MessageBody"]
    assert doc["XmlMsg"]["MessageHeader"]["SegmentOfResult"] == "1"
    assert body["QualificationValidity"] == "1"
    assert isinstance(body["ResultList"], list)
    assert body["ResultList"][0]["ResultOfQualificationConfirmation"]["Name"] == "保険　太郎"


def test_web_api_is_not_on_the_plain_port_by_default(fresh: Live) -> None:
    assert requests.post(fresh.base + AUTH, json={}, timeout=10).status_code == 404


def test_search_without_or_with_a_bad_token_is_refused(fresh: Live) -> None:
    session = searcher(fresh)
    for headers in ({}, {"Authorization": "not-a-token"}):
        reply = session.post(fresh.search + SEARCH, json=SEARCH_BODY, headers=headers, timeout=10)
        assert reply.status_code == 401
        header = reply.json()["XmlMsg"]["MessageHeader"]
        assert header["SegmentOfResult"] == "9"
        assert header["ErrorCode"] == "MGW1101"


def test_token_expires_with_the_virtual_clock(fresh: Live) -> None:
    token = login(fresh)
    session = searcher(fresh)
    ok = session.post(fresh.search + SEARCH, json=SEARCH_BODY, headers={"Authorization": token}, timeout=10)
    assert ok.status_code == 200
    assert fresh.admin("POST", "/admin/clock/advance", json={"minutes": 61}).status_code == 200
    late = session.post(fresh.search + SEARCH, json=SEARCH_BODY, headers={"Authorization": token}, timeout=10)
    assert late.status_code == 401
    entries = fresh.admin("GET", "/admin/journal?transport=webapi").json()["entries"]
    assert "有効期限" in entries[-1]["reason"]


def test_token_is_bound_to_the_institution_it_was_issued_for(fresh: Live) -> None:
    token = login(fresh)
    other = orjson.loads(orjson.dumps(SEARCH_BODY))
    other["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"] = "1340141231"
    reply = searcher(fresh).post(fresh.search + SEARCH, json=other, headers={"Authorization": token}, timeout=10)
    assert reply.status_code == 403
    header = reply.json()["XmlMsg"]["MessageHeader"]
    assert header["ErrorCode"] == "MGW1121"
    assert "1310112345" in header["ErrorMessage"]


@pytest.mark.parametrize("status", ["expired", "revoked"])
def test_expired_or_revoked_client_certificate_cannot_log_in(fresh: Live, status: str) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        client(fresh, status).post(fresh.tls + AUTH, json={}, timeout=10)
    # and the valid one still can
    assert login(fresh)


def test_no_client_certificate_cannot_log_in(fresh: Live) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(fresh.tls + AUTH, json={}, verify=str(fresh.pki.ca_cert), timeout=10)


def test_server_certificate_chains_to_the_test_ca(fresh: Live) -> None:
    context = ssl.create_default_context(cafile=str(fresh.pki.ca_cert))
    cert, key, _ = fresh.pki.client_paths("1310112345", "valid")  # type: ignore[arg-type]
    context.load_cert_chain(str(cert), str(key))
    import socket

    with (
        socket.create_connection(("127.0.0.1", fresh.config.tls_port or 0), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize(
    ("fault", "expect"),
    [({"kind": "http503", "times": 1}, 503), ({"kind": "maintenance"}, 503)],
)
def test_http_faults(fresh: Live, fault: dict[str, object], expect: int) -> None:
    assert fresh.admin("POST", "/admin/faults", json=fault).status_code == 201
    reply = requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
    assert reply.status_code == expect
    assert "<SegmentOfResult>9</SegmentOfResult>" in reply.content.decode("cp932")


def test_dropped_connection(fresh: Live) -> None:
    fresh.admin("POST", "/admin/faults", json={"kind": "drop", "times": 1})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
    # the rule fired once: the next request is answered
    assert requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10).status_code == 200


def test_error_fault_with_a_chosen_code(fresh: Live) -> None:
    spec = {"kind": "error", "error_code": "EXYZ0001", "error_message": "擬似エラー", "api_id": "OQSsiquc01"}
    fresh.admin("POST", "/admin/faults", json=spec)
    text = requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10).content.decode("cp932")
    assert "<ErrorCode>EXYZ0001</ErrorCode>" in text
    assert "<ErrorMessage>擬似エラー</ErrorMessage>" in text


def test_latency_fault_is_journalled(fresh: Live) -> None:
    fresh.admin("POST", "/admin/faults", json={"kind": "latency", "latency_ms": 50, "times": 1})
    requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
    entry = fresh.admin("GET", "/admin/journal?limit=1").json()["entries"][0]
    assert entry["fault"] is None  # latency delays; it does not change the outcome
    assert entry["segment"] == "1"
    faults = fresh.admin("GET", "/admin/faults").json()["faults"]
    assert faults == []  # times=1 retired it
