"""How granian's embedded server (RSGI) behaves as the Web API's mutual-TLS listener.

These tests pin down granian's behaviour, not ours: if an upgrade changes what a client sees,
or starts exposing the peer certificate, they fail and docs/pki.md needs updating.

Findings (granian 2.8.7, rustls 0.23, client: CPython ssl / OpenSSL 3):
- a rejected client never reaches the app; the server sends a TLS alert and closes;
- with TLS 1.3 the client's handshake completes first, and the alert arrives on the first read;
  a client that writes its request first (requests does) usually sees SSLEOFError instead;
- the CRL is read once, when the worker starts;
- the RSGI scope carries nothing about the peer certificate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from granian.constants import Interfaces, SSLProtocols
from granian.server.embed import Server

from mockgateway.certs.institution_pki import ClientCertificate, TestPKI

pytestmark = pytest.mark.timeout(60)

CODE = "1310000011"  # 東京 医科, check digit 1
AUTH_PATH = "/oqs-api-pro/MSA12020/ILI12020SV01/auth"
# granian configures logging on every Server(): route its records to the root logger so pytest
# captures them, instead of a handler bound to whatever sys.stdout was at that moment.
GRANIAN_LOG: dict[str, Any] = {
    "handlers": {},
    "loggers": {"_granian": {"propagate": True}, "granian.access": {"propagate": True}},
}
SCOPE_ATTRIBUTES = {
    "authority",
    "client",
    "headers",
    "http_version",
    "method",
    "path",
    "proto",
    "query_string",
    "rsgi_version",
    "scheme",
    "server",
}


# -- the background-thread pattern (also in docs/pki.md) ---------------------------------------


def free_port() -> int:
    """A port that was free a moment ago. granian cannot report the port it bound for port=0."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class BackgroundServers:
    """Embedded granian servers sharing one asyncio loop in a daemon thread."""

    def __init__(self, *servers: Server) -> None:
        self.servers = servers
        self.errors: list[BaseException] = []
        # granian calls startup hooks once it has bound the address; a bare connect probe could
        # be answered by whoever else holds the port
        self._bound = [threading.Event() for _ in servers]
        for server, bound in zip(servers, self._bound, strict=True):
            server.on_startup(bound.set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            tasks = [loop.create_task(s.serve()) for s in self.servers]
            for task in tasks:
                task.add_done_callback(self._record)
            # wait, not gather: one failed server must not orphan the others' tasks
            loop.run_until_complete(asyncio.wait(tasks))
        finally:
            loop.close()

    def _record(self, task: asyncio.Task[None]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self.errors.append(error)

    def start(self, timeout: float = 10) -> BackgroundServers:
        # created here, run in the thread: stop() can reach it however early it is called
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(self._loop,), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        pending = {s.bind_port for s in self.servers}
        while pending:
            if self.errors:
                self.stop()
                raise RuntimeError(f"granian failed to start: {self.errors[0]!r}") from self.errors[0]
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ports {sorted(pending)} not listening after {timeout} s")
            if all(bound.is_set() for bound in self._bound):
                pending = {port for port in pending if not _accepts(port)}
            if pending:
                time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and not loop.is_closed():
            for server in self.servers:
                try:
                    # Server.stop sets an asyncio.Event: only safe from the loop's own thread
                    loop.call_soon_threadsafe(server.stop)
                except RuntimeError:  # the loop closed meanwhile: the servers are done already
                    break
        if thread is not None:
            thread.join(timeout)
            assert not thread.is_alive(), f"granian did not stop within {timeout} s"


# -- an RSGI app that records what it was given --------------------------------------------------


@dataclass
class RecordingApp:
    scopes: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Any, proto: Any) -> None:
        body = await proto()
        self.scopes.append(
            {
                "attributes": {a for a in dir(scope) if not a.startswith("_")},
                "values": {a: getattr(scope, a) for a in SCOPE_ATTRIBUTES - {"headers"}},
                "headers": dict(scope.headers.items()),
                "body": body,
            }
        )
        proto.response_str(200, [("content-type", "text/plain")], f"{scope.scheme} {scope.path}")


def tls_server(app: RecordingApp, pki: TestPKI, port: int, **options: Any) -> Server:
    kwargs: dict[str, Any] = {
        "ssl_cert": pki.server_cert,
        "ssl_key": pki.server_key,
        "ssl_ca": pki.ca_cert,
        "ssl_crl": [pki.crl],
        "ssl_client_verify": True,
        "log_dictconfig": GRANIAN_LOG,
    }
    kwargs.update(options)
    return Server(app, address="127.0.0.1", port=port, interface=Interfaces.RSGI, **kwargs)


# -- clients ------------------------------------------------------------------------------------


def _client_context(ca: Path, cert: ClientCertificate | None, max_version: ssl.TLSVersion | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if max_version is not None:
        ctx.maximum_version = max_version
    if cert is not None:
        ctx.load_cert_chain(*cert.requests_cert)
    return ctx


def tls_request(port: int, ca: Path, cert: ClientCertificate | None, max_version: ssl.TLSVersion | None = None) -> str:
    """One GET over a raw TLS socket: the negotiated version if answered 200, else the ssl error."""
    ctx = _client_context(ca, cert, max_version)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
            ctx.wrap_socket(sock, server_hostname="localhost") as tls,
        ):
            tls.sendall(b"GET /probe HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            response = tls.recv(4096)
            assert response.startswith(b"HTTP/1.1 200"), response
            return tls.version() or "?"
    except ssl.SSLError as e:
        return str(e.reason)


def tls_refusal(port: int, ca: Path, cert: ClientCertificate | None, max_version: ssl.TLSVersion | None = None) -> str:
    """The alert a refused client reads: handshake, then read without writing anything.

    Writing first (as HTTP clients do) races the server's close: unread request bytes make the
    server's kernel reset the connection, and the client often loses the alert. A server that
    wrongly accepts leaves the read waiting; after the timeout that is reported as "accepted".
    """
    ctx = _client_context(ca, cert, max_version)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
            ctx.wrap_socket(sock, server_hostname="localhost") as tls,
        ):
            tls.recv(1)  # TLS 1.3: the server validates our certificate only now
    except ssl.SSLError as e:
        return str(e.reason)
    except TimeoutError:
        pass
    return "accepted"


def session() -> requests.Session:
    s = requests.Session()
    # REQUESTS_CA_BUNDLE in the environment would override Session.verify; proxies must not apply
    s.trust_env = False
    return s


# -- fixtures -----------------------------------------------------------------------------------


@dataclass
class Certs:
    pki: TestPKI
    valid: ClientCertificate
    expired: ClientCertificate
    not_yet_valid: ClientCertificate
    revoked: ClientCertificate
    same_named_foreign: ClientCertificate  # another `pki init`: same CA name, different key
    foreign: ClientCertificate  # a CA with another name


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    pki = TestPKI.init(tmp_path_factory.mktemp("pki"))
    same_named = TestPKI.init(tmp_path_factory.mktemp("pki-same-name"))
    foreign = TestPKI.init(tmp_path_factory.mktemp("pki-foreign"), ca_common_name="Foreign TEST CA")
    # all issued before the server starts: granian reads the CRL only then
    return Certs(
        pki=pki,
        valid=pki.issue_client(CODE, "valid"),
        expired=pki.issue_client(CODE, "expired"),
        not_yet_valid=pki.issue_client(CODE, "not_yet_valid"),
        revoked=pki.issue_client(CODE, "revoked"),
        same_named_foreign=same_named.issue_client(CODE, "valid"),
        foreign=foreign.issue_client(CODE, "valid"),
    )


@dataclass
class Listeners:
    app: RecordingApp
    plain_port: int
    tls_port: int  # ssl_protocol_min tls1.2, so both protocol versions can be probed
    ca: Path


@pytest.fixture(scope="module")
def listeners(certs: Certs) -> Iterator[Listeners]:
    """A plain HTTP and a mutual-TLS server on one asyncio loop in one background thread."""
    app = RecordingApp()
    plain_port, tls_port = free_port(), free_port()
    servers = BackgroundServers(
        Server(app, address="127.0.0.1", port=plain_port, log_dictconfig=GRANIAN_LOG),
        tls_server(app, certs.pki, tls_port, ssl_protocol_min=SSLProtocols.tls12),
    ).start()
    try:
        yield Listeners(app, plain_port, tls_port, certs.pki.ca_cert)
    finally:
        servers.stop()


# -- accepted -----------------------------------------------------------------------------------


def test_valid_client_certificate_gets_a_response(certs: Certs, listeners: Listeners) -> None:
    with session() as s:
        r = s.post(
            f"https://localhost:{listeners.tls_port}{AUTH_PATH}",
            data=b"{}",
            cert=certs.valid.requests_cert,
            verify=str(listeners.ca),
            timeout=5,
        )
    assert r.status_code == 200
    assert r.text == f"https {AUTH_PATH}"


@pytest.mark.parametrize(("max_version", "negotiated"), [(None, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")])
def test_valid_client_certificate_over_each_tls_version(
    certs: Certs, listeners: Listeners, max_version: ssl.TLSVersion | None, negotiated: str
) -> None:
    assert tls_request(listeners.tls_port, listeners.ca, certs.valid, max_version) == negotiated


def test_server_certificate_is_valid_for_ip_addresses(certs: Certs, listeners: Listeners) -> None:
    with session() as s:
        r = s.get(
            f"https://127.0.0.1:{listeners.tls_port}/",
            cert=certs.valid.requests_cert,
            verify=str(listeners.ca),
            timeout=5,
        )
    assert r.status_code == 200


# -- refused ------------------------------------------------------------------------------------

REFUSALS = [
    # (which certificate, the alert the client reads: the same under TLS 1.2 and 1.3)
    (None, "TLSV13_ALERT_CERTIFICATE_REQUIRED"),
    ("expired", "SSLV3_ALERT_CERTIFICATE_EXPIRED"),
    ("not_yet_valid", "SSLV3_ALERT_CERTIFICATE_EXPIRED"),  # rustls maps NotValidYet to this alert
    ("revoked", "SSLV3_ALERT_CERTIFICATE_REVOKED"),
    ("same_named_foreign", "TLSV1_ALERT_DECRYPT_ERROR"),  # found an issuer by name; bad signature
    ("foreign", "TLSV1_ALERT_UNKNOWN_CA"),
]


def _cert(certs: Certs, which: str | None) -> ClientCertificate | None:
    if which is None:
        return None
    found: ClientCertificate = getattr(certs, which)
    return found


@pytest.mark.parametrize("max_version", [None, ssl.TLSVersion.TLSv1_2], ids=["tls1.3", "tls1.2"])
@pytest.mark.parametrize(("which", "alert"), REFUSALS, ids=[str(w) for w, _ in REFUSALS])
def test_refused_client_reads_a_tls_alert(
    certs: Certs, listeners: Listeners, which: str | None, alert: str, max_version: ssl.TLSVersion | None
) -> None:
    before = len(listeners.app.scopes)
    assert tls_refusal(listeners.tls_port, listeners.ca, _cert(certs, which), max_version) == alert
    assert len(listeners.app.scopes) == before, "a refused client must never reach the app"


@pytest.mark.parametrize(("which", "alert"), REFUSALS, ids=[str(w) for w, _ in REFUSALS])
def test_refused_client_login_raises_ssl_error(
    certs: Certs, listeners: Listeners, which: str | None, alert: str
) -> None:
    """requests writes the request before reading: under TLS 1.3 it sees either the alert or,
    mostly, `SSLEOFError: EOF occurred in violation of protocol` — always an SSLError."""
    cert = _cert(certs, which)
    before = len(listeners.app.scopes)
    with session() as s, pytest.raises(requests.exceptions.SSLError) as raised:
        s.post(
            f"https://localhost:{listeners.tls_port}{AUTH_PATH}",
            data=b'{"medicalInstitutionCode": "1310000011"}',
            cert=None if cert is None else cert.requests_cert,
            verify=str(listeners.ca),
            timeout=5,
        )
    message = str(raised.value)
    assert alert in message or "EOF occurred in violation of protocol" in message, message
    assert len(listeners.app.scopes) == before


def test_plain_http_to_the_tls_port_gets_a_tls_alert_not_http(listeners: Listeners) -> None:
    with session() as s, pytest.raises(requests.exceptions.ConnectionError, match="BadStatusLine"):
        s.get(f"http://127.0.0.1:{listeners.tls_port}/", timeout=5)


def test_tls13_minimum_refuses_a_tls12_client(certs: Certs) -> None:
    """granian's default ssl_protocol_min is tls1.3."""
    port = free_port()
    servers = BackgroundServers(tls_server(RecordingApp(), certs.pki, port)).start()
    try:
        alert = tls_refusal(port, certs.pki.ca_cert, certs.valid, ssl.TLSVersion.TLSv1_2)
        assert alert == "TLSV1_ALERT_PROTOCOL_VERSION"
        assert tls_request(port, certs.pki.ca_cert, certs.valid) == "TLSv1.3"
    finally:
        servers.stop()


def test_ca_without_client_verify_makes_the_certificate_optional(certs: Certs) -> None:
    """ssl_ca alone: a certificate is requested and checked if sent, but none gets in too."""
    port = free_port()
    servers = BackgroundServers(tls_server(RecordingApp(), certs.pki, port, ssl_client_verify=False)).start()
    try:
        assert tls_request(port, certs.pki.ca_cert, None) == "TLSv1.3"
        assert tls_request(port, certs.pki.ca_cert, certs.valid) == "TLSv1.3"
        assert tls_refusal(port, certs.pki.ca_cert, certs.foreign) == "TLSV1_ALERT_UNKNOWN_CA"
    finally:
        servers.stop()


def test_a_ca_without_its_crl_is_refused_once_crls_are_configured(certs: Certs, tmp_path: Path) -> None:
    """rustls treats an unknown revocation status as a failure (alert: unknown CA)."""
    someone_elses_crl = TestPKI.init(tmp_path, ca_common_name="Other TEST CA").crl
    port = free_port()
    servers = BackgroundServers(tls_server(RecordingApp(), certs.pki, port, ssl_crl=[someone_elses_crl])).start()
    try:
        assert tls_refusal(port, certs.pki.ca_cert, certs.valid) == "TLSV1_ALERT_UNKNOWN_CA"
    finally:
        servers.stop()


# -- what the app sees --------------------------------------------------------------------------


def test_rsgi_scope_says_nothing_about_the_peer_certificate(certs: Certs, listeners: Listeners) -> None:
    with session() as s:
        s.post(
            f"https://localhost:{listeners.tls_port}{AUTH_PATH}?x=1",
            data=b"body",
            headers={"Content-Type": "application/json"},
            cert=certs.valid.requests_cert,
            verify=str(listeners.ca),
            timeout=5,
        ).raise_for_status()
    seen = listeners.app.scopes[-1]
    assert seen["attributes"] == SCOPE_ATTRIBUTES
    values = seen["values"]
    assert values["proto"] == "http"
    assert values["scheme"] == "https"
    assert values["http_version"] == "1.1"
    assert values["authority"] is None  # only set from HTTP/2's :authority
    assert values["method"] == "POST"
    assert values["path"] == AUTH_PATH
    assert values["query_string"] == "x=1"
    assert values["server"] == f"127.0.0.1:{listeners.tls_port}"
    assert values["client"].startswith("127.0.0.1:")
    assert values["rsgi_version"] == "1.6"
    # no header is injected either: exactly what requests sent
    assert set(seen["headers"]) == {
        "host",
        "user-agent",
        "accept-encoding",
        "accept",
        "connection",
        "content-type",
        "content-length",
    }
    assert CODE not in repr(seen)
    assert seen["body"] == b"body"


def test_plain_and_tls_servers_share_one_loop(certs: Certs, listeners: Listeners) -> None:
    with session() as s:
        plain = s.get(f"http://127.0.0.1:{listeners.plain_port}/plain", timeout=5)
        tls = s.get(
            f"https://localhost:{listeners.tls_port}/tls",
            cert=certs.valid.requests_cert,
            verify=str(listeners.ca),
            timeout=5,
        )
    assert (plain.text, tls.text) == ("http /plain", "https /tls")


# -- lifecycle ----------------------------------------------------------------------------------


def test_crl_is_read_when_the_server_starts(tmp_path: Path) -> None:
    pki = TestPKI.init(tmp_path)
    client = pki.issue_client(CODE, "valid")
    port = free_port()
    servers = BackgroundServers(tls_server(RecordingApp(), pki, port)).start()
    try:
        assert tls_request(port, pki.ca_cert, client) == "TLSv1.3"
        pki.revoke(client.cert)
        assert tls_request(port, pki.ca_cert, client) == "TLSv1.3", "the running server saw the new CRL"
    finally:
        servers.stop()
    # the same port is free again at once: a restart picks up the new CRL
    servers = BackgroundServers(tls_server(RecordingApp(), pki, port)).start()
    try:
        assert tls_refusal(port, pki.ca_cert, client) == "SSLV3_ALERT_CERTIFICATE_REVOKED"
    finally:
        servers.stop()


def test_stop_returns_with_an_idle_keep_alive_connection_open(certs: Certs) -> None:
    port = free_port()
    servers = BackgroundServers(tls_server(RecordingApp(), certs.pki, port)).start()
    with session() as s:
        try:
            kwargs: dict[str, Any] = {"cert": certs.valid.requests_cert, "verify": str(certs.pki.ca_cert)}
            assert s.get(f"https://localhost:{port}/", timeout=5, **kwargs).status_code == 200
        finally:
            servers.stop(timeout=10)  # fails the test if the open connection held it up
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(f"https://localhost:{port}/", timeout=5, **kwargs)


def test_port_in_use_makes_serve_raise(certs: Certs) -> None:
    with socket.socket() as hog:
        hog.bind(("127.0.0.1", 0))
        hog.listen()
        servers = BackgroundServers(tls_server(RecordingApp(), certs.pki, hog.getsockname()[1]))
        with pytest.raises(RuntimeError, match="Address already in use"):
            servers.start()


def test_missing_crl_file_aborts_the_process(certs: Certs, tmp_path: Path) -> None:
    """Not an exception: a Rust panic that kills the interpreter. Check files before serving."""
    script = f"""
import asyncio
from pathlib import Path
from granian.server.embed import Server

async def app(scope, proto):
    proto.response_str(200, [], "")

server = Server(app, address="127.0.0.1", port={free_port()}, ssl_cert=Path({str(certs.pki.server_cert)!r}),
    ssl_key=Path({str(certs.pki.server_key)!r}), ssl_ca=Path({str(certs.pki.ca_cert)!r}),
    ssl_crl=[Path({str(tmp_path / "missing-crl.pem")!r})], ssl_client_verify=True)
try:
    asyncio.run(server.serve())
except BaseException as e:
    print("raised", repr(e))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode < 0, (done.returncode, done.stdout, done.stderr)  # killed by SIGABRT
    assert "cannot read CRL file" in done.stderr


def test_certificates_are_checked_against_real_time_not_the_virtual_clock(tmp_path: Path) -> None:
    """A certificate valid on a virtual date years ago is expired for TLS today."""
    pki = TestPKI.init(tmp_path)
    virtual_now = dt.datetime.now(dt.UTC) - dt.timedelta(days=5 * 365)
    client = pki.issue_client(CODE, "valid", now=virtual_now)
    port = free_port()
    servers = BackgroundServers(tls_server(RecordingApp(), pki, port)).start()
    try:
        assert tls_refusal(port, pki.ca_cert, client) == "SSLV3_ALERT_CERTIFICATE_EXPIRED"
    finally:
        servers.stop()
