"""The convenience route and the Web API, against a real server: the login host (TLS with client
certificates) and the search host (server certificate, Authorization header)."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import orjson
import pytest
import requests

from mockgateway.engine import Gateway
from tests.transports.conftest import ADMIN, Live

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


# -- body size (issue 18 item 8): enforced by the app, whatever server carries it ------------------


def raw_exchange(live: Live, head: str, chunks: Iterable[bytes] = ()) -> tuple[int, bytes]:
    """Send a request by hand (a huge Content-Length, or chunks past the limit) and read the answer."""
    with socket.create_connection(("127.0.0.1", live.config.http_port), timeout=10) as sock:
        sock.sendall(head.encode())
        with contextlib.suppress(OSError):  # the server may stop reading (and close) once it has refused
            for chunk in chunks:
                sock.sendall(chunk)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
            more = sock.recv(65536)
            if not more:
                break
            data += more
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            return int(value)
    return 0


@pytest.mark.parametrize("path", ["/oqs/OQSsiquc01", "/admin/status"])
def test_a_huge_content_length_is_refused_before_reading(fresh: Live, small_limit: int, path: str) -> None:
    gib = 1024**3
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Admin-Token: {ADMIN}\r\nContent-Length: {gib}\r\n\r\n"
    status, body = raw_exchange(fresh, head)  # not one byte of the GiB is sent
    assert status == 413
    if path.startswith("/oqs/"):
        assert "<ErrorCode>" in body.decode("cp932")
        assert str(gib) in fresh.admin("GET", "/admin/journal?limit=1").json()["entries"][0]["reason"]


def test_a_chunked_body_is_cut_at_the_limit(fresh: Live, small_limit: int) -> None:
    chunk = b"x" * 16 * 1024
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    head = "POST /oqs/OQSsiquc01 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, body = raw_exchange(fresh, head, [framed] * 64)  # 1 MiB offered, 64 KiB accepted
    assert status == 413
    assert "<SegmentOfResult>9</SegmentOfResult>" in body.decode("cp932")
    ok = requests.post(fresh.base + "/oqs/OQSsiquc01", data=iter([TARO.encode()]), timeout=10)  # chunked, small
    assert ok.status_code == 200
    assert "<SegmentOfResult>1</SegmentOfResult>" in ok.content.decode("cp932")


class FakeProtocol:
    """Any server's side of the app: headers, a body in chunks; counts what the app pulled."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.pulled = 0
        self.status = 0
        self.body = b""

    async def __call__(self) -> bytes:
        # allowed only for a declared Content-Length within the limit (the server reads that much)
        self.pulled += 1
        return b"".join(self.chunks)

    def __aiter__(self) -> Any:
        return self._iterate()

    async def _iterate(self) -> Any:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.body = status, body

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any:
        raise AssertionError("not expected")


class FakeScope:
    proto = "http"
    method = "POST"
    query_string = ""
    client = "127.0.0.1:1"
    scheme = "http"

    def __init__(self, path: str, headers: dict[str, str]) -> None:
        self.path = path
        self.headers = headers


@pytest.mark.parametrize("path", ["/oqs/OQSsiquc01", AUTH, SEARCH])
def test_the_app_itself_stops_reading_at_the_limit(gateway: Gateway, path: str) -> None:
    import asyncio

    from mockgateway.control.tokens import TokenBook
    from mockgateway.transports.http import HttpApp

    gateway.settings.max_request_bytes = 1000
    app = HttpApp(gateway, TokenBook(dt.timedelta(hours=1)), webapi=True)
    endless = FakeProtocol([b"x" * 100] * 1000)
    asyncio.run(app.__rsgi__(FakeScope(path, {}), endless))  # type: ignore[arg-type]
    assert endless.status == 413
    assert endless.pulled == 11  # 1,100 bytes: one chunk past the limit, then no more
    declared = FakeProtocol([b"x"])
    asyncio.run(app.__rsgi__(FakeScope(path, {"content-length": str(2**40)}), declared))  # type: ignore[arg-type]
    assert (declared.status, declared.pulled) == (413, 0)
    small = FakeProtocol([b"<x/>"])
    asyncio.run(app.__rsgi__(FakeScope(path, {"content-length": "4"}), small))  # type: ignore[arg-type]
    assert small.status != 413
