"""The plain-HTTP server (transports/plainhttp.py) over real sockets: keep-alive, pipelining, the
body limit, Expect: 100-continue, malformed requests, HTTP/1.0, faults that cut or delay, the admin
API and the console's event stream through it, a graceful stop, and two servers on one port."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mockgateway.control.tokens import TokenBook
from mockgateway.engine import Gateway
from mockgateway.transports.http import HttpApp
from mockgateway.transports.plainhttp import PlainServer, run
from tests.transports.conftest import ADMIN, Live, free_port
from tests.transports.test_http import TARO, FakeProtocol, FakeScope

OQS = "/oqs/OQSsiquc01"


def post(path: str, body: bytes, *extra: str, version: str = "1.1") -> bytes:
    head = [f"POST {path} HTTP/{version}", "Host: x", f"Content-Length: {len(body)}", *extra, "", ""]
    return "\r\n".join(head).encode() + body


def get(path: str, *extra: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", "Host: x", *extra, "", ""]).encode()


class Reader:
    """Reads answers off one connection, one at a time (Content-Length or chunked framing)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        more = self.sock.recv(65536)
        self.buffer += more
        return bool(more)

    def head(self) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError(self.buffer)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        return int(status_line.split()[1]), headers

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise EOFError(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        status, headers = self.head()
        return status, headers, self.exactly(int(headers.get("content-length", "0")))

    def closed(self) -> bool:
        """True when the server has closed the connection (after any bytes still buffered)."""
        try:
            return not self._fill()
        except ConnectionResetError:
            return True


@contextlib.contextmanager
def connect(live: Live) -> Iterator[tuple[socket.socket, Reader]]:
    with socket.create_connection(("127.0.0.1", live.config.http_port), timeout=10) as sock:
        yield sock, Reader(sock)


def test_the_gateway_runs_on_uvloop_with_granian_beside(fresh: Live) -> None:
    assert type(fresh.running.loop).__module__.startswith("uvloop")
    assert [type(s).__module__ for s in fresh.running.servers] == [
        "mockgateway.transports.plainhttp",
        "granian.server.embed",
        "granian.server.embed",
    ]


def test_several_requests_on_one_connection(fresh: Live) -> None:
    with connect(fresh) as (sock, reader):
        for _ in range(3):
            sock.sendall(post(OQS, TARO.encode()))
            status, headers, body = reader.answer()
            assert status == 200
            assert "<SegmentOfResult>1</SegmentOfResult>" in body.decode("cp932")
            assert "close" not in headers.get("connection", "")
        sock.sendall(get("/health"))
        assert reader.answer()[0] == 200


def test_pipelined_requests_are_answered_in_order(fresh: Live) -> None:
    # the first is delayed (a task), the others are answered at once: they must still come after it
    fresh.admin("POST", "/admin/faults", json={"kind": "latency", "latency_ms": 200, "times": 1})
    with connect(fresh) as (sock, reader):
        sock.sendall(post(OQS, TARO.encode()) + get("/health") + post("/oqs/OQSnope01", b"<x/>") + get("/nowhere"))
        first, second, third, fourth = (reader.answer() for _ in range(4))
    assert first[0] == 200
    assert "<SegmentOfResult>1</SegmentOfResult>" in first[2].decode("cp932")
    assert second[0] == 200
    assert b'"status":"ok"' in second[2]
    assert third[0] == 200
    assert "<SegmentOfResult>9</SegmentOfResult>" in third[2].decode("cp932")
    assert fourth[0] == 404
    assert b"no route for GET /nowhere" in fourth[2]


def test_answers_are_those_of_the_rsgi_route(gateway: Gateway) -> None:
    """`answer_now` (no task) and `__rsgi__` give the same status, content type and body."""
    gateway.clock.set(dt.datetime(2026, 11, 23, 10, 0), running=False)
    app = HttpApp(gateway, TokenBook(dt.timedelta(hours=1)), webapi=True)
    for path, body in ((OQS, TARO.encode()), ("/oqs/OQSnope01", b"<x/>"), (OQS, b"not xml")):
        scope: Any = FakeScope(path, {"content-length": str(len(body))})
        direct = app.answer_now(scope, body)
        assert isinstance(direct, tuple)
        protocol = FakeProtocol([body])
        asyncio.run(app.__rsgi__(scope, protocol))  # type: ignore[arg-type]
        assert (direct[0], direct[2]) == (protocol.status, protocol.body)
    assert app.answer_now(FakeScope("/admin/status", {}), b"") is None  # type: ignore[arg-type]


def test_a_declared_oversize_body_is_refused_and_the_connection_closed(fresh: Live, small_limit: int) -> None:
    with connect(fresh) as (sock, reader):
        sock.sendall(f"POST {OQS} HTTP/1.1\r\nHost: x\r\nContent-Length: {small_limit + 1}\r\n\r\n".encode())
        status, headers, body = reader.answer()
        assert (status, headers["connection"]) == (413, "close")
        assert "<SegmentOfResult>9</SegmentOfResult>" in body.decode("cp932")
        assert reader.closed()


def test_a_chunked_body_past_the_limit_is_refused_and_the_connection_closed(fresh: Live, small_limit: int) -> None:
    chunk = b"x" * 16 * 1024
    with connect(fresh) as (sock, reader):
        sock.sendall(f"POST {OQS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        with contextlib.suppress(OSError):  # the server stops reading once it has refused
            for _ in range(small_limit // len(chunk) + 2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, headers, _ = reader.answer()
        assert (status, headers["connection"]) == (413, "close")
        assert reader.closed()


def test_a_chunked_body_within_the_limit_is_answered(fresh: Live) -> None:
    body = TARO.encode()
    framed = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:100], body[100:])) + b"0\r\n\r\n"
    with connect(fresh) as (sock, reader):
        sock.sendall(f"POST {OQS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + framed)
        status, _, answer = reader.answer()
    assert status == 200
    assert "<SegmentOfResult>1</SegmentOfResult>" in answer.decode("cp932")


def test_expect_100_continue(fresh: Live) -> None:
    body = TARO.encode()
    with connect(fresh) as (sock, reader):
        sock.sendall(
            f"POST {OQS} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        assert reader.head() == (100, {})  # before a byte of the body is sent
        sock.sendall(body)
        status, _, answer = reader.answer()
    assert status == 200
    assert "<SegmentOfResult>1</SegmentOfResult>" in answer.decode("cp932")


@pytest.mark.parametrize("garbage", [b"GARBAGE\r\n\r\n", b"POST /oqs/X HTTP/1.1\r\nContent-Length: abc\r\n\r\n"])
def test_a_malformed_request_gets_400_and_a_closed_connection(fresh: Live, garbage: bytes) -> None:
    with connect(fresh) as (sock, reader):
        sock.sendall(get("/health") + garbage)  # the good one ahead is still answered
        assert reader.answer()[0] == 200
        status, headers, _ = reader.answer()
        assert (status, headers["connection"]) == (400, "close")
        assert reader.closed()
    assert requests.get(fresh.base + "/health", timeout=10).status_code == 200  # the server lives on


def test_http_1_0_closes_unless_keep_alive(fresh: Live) -> None:
    with connect(fresh) as (sock, reader):
        sock.sendall(post(OQS, TARO.encode(), version="1.0"))
        status, headers, _ = reader.answer()
        assert (status, headers["connection"]) == (200, "close")
        assert reader.closed()
    with connect(fresh) as (sock, reader):
        for _ in range(2):
            sock.sendall(post(OQS, TARO.encode(), "Connection: keep-alive", version="1.0"))
            status, headers, _ = reader.answer()
            assert (status, headers["connection"]) == (200, "keep-alive")


def test_connection_close_is_honoured(fresh: Live) -> None:
    with connect(fresh) as (sock, reader):
        sock.sendall(get("/health", "Connection: close"))
        status, headers, _ = reader.answer()
        assert (status, headers["connection"]) == (200, "close")
        assert reader.closed()


def test_the_drop_fault_sends_a_short_body_and_hangs_up(fresh: Live) -> None:
    fresh.admin("POST", "/admin/faults", json={"kind": "drop", "times": 1})
    with connect(fresh) as (sock, reader):
        sock.sendall(post(OQS, TARO.encode()))
        status, headers = reader.head()
        while not reader.closed():
            pass  # read to the end: the server hangs up
    assert status == 200
    assert 0 < len(reader.buffer) < int(headers["content-length"])


def test_a_delayed_answer_does_not_hold_up_other_connections(fresh: Live) -> None:
    fresh.admin("POST", "/admin/faults", json={"kind": "latency", "latency_ms": 3000, "times": 1})
    with connect(fresh) as (slow, slow_reader), connect(fresh) as (quick, quick_reader):
        slow.sendall(post(OQS, TARO.encode()))
        fresh.admin("GET", "/admin/faults")  # a round trip: the slow request has been taken in by now
        quick.sendall(post(OQS, TARO.encode()))
        assert quick_reader.answer()[0] == 200
        assert select.select([slow], [], [], 0)[0] == []  # still waiting out its delay
        assert slow_reader.answer()[0] == 200


def test_the_admin_api_and_the_console_stream_through_the_server(fresh: Live) -> None:
    with connect(fresh) as (sock, reader):
        sock.sendall(get("/admin/status", f"X-Admin-Token: {ADMIN}"))
        status, _, body = reader.answer()
        assert status == 200
        assert b"journal" in body
    session = requests.Session()
    login = session.post(fresh.base + "/console/login", data={"token": ADMIN}, headers={"Origin": fresh.base},
                         allow_redirects=False, timeout=10)  # fmt: skip
    assert login.status_code == 303
    with session.get(fresh.base + "/console/events?since=0", stream=True, timeout=10) as events:
        assert events.headers["content-type"] == "text/event-stream"
        assert events.headers["transfer-encoding"] == "chunked"
        first = next(events.iter_content(chunk_size=None, decode_unicode=True))
        assert "retry: 500" in first


# -- the server alone: stop and port sharing ---------------------------------------------------------


class SlowApp:
    """Answers its name; `/slow` waits until released, to be in flight when the server stops."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entered = threading.Event()
        self.release: asyncio.Event | None = None

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.path == "/slow":
            self.release = asyncio.Event()
            self.entered.set()
            await self.release.wait()
        protocol.response_bytes(200, [("content-type", "text/plain")], self.name.encode())


class Background:
    def __init__(self, server: PlainServer) -> None:
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        bound = threading.Event()

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            server.on_startup(bound.set)
            await server.serve()

        self.thread = threading.Thread(target=run, args=(main(),), daemon=True)
        self.thread.start()
        assert bound.wait(10)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=10)

    def call(self, fn: Any) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn)


def test_stop_answers_what_is_in_flight_and_closes_idle_connections() -> None:
    app = SlowApp("one")
    port = free_port()
    bg = Background(PlainServer(app, "127.0.0.1", port, limit=lambda: 1000))
    with bg.connect() as idle, bg.connect() as busy:
        idle.sendall(get("/"))
        assert Reader(idle).answer()[2] == b"one"
        busy.sendall(get("/slow"))
        assert app.entered.wait(10)
        bg.call(bg.server.stop)
        assert Reader(idle).closed()  # an idle keep-alive connection is closed at once
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()  # no longer accepting
        assert app.release is not None
        bg.call(app.release.set)
        reader = Reader(busy)
        status, headers, body = reader.answer()  # the request in flight is answered
        assert (status, headers["connection"], body) == (200, "close", b"one")
        assert reader.closed()
    bg.thread.join(10)
    assert not bg.thread.is_alive()  # serve() returned


def test_two_servers_share_one_port() -> None:
    port = free_port()
    servers = [Background(PlainServer(SlowApp(name), "127.0.0.1", port, limit=lambda: 1000)) for name in "ab"]
    seen = set()
    for _ in range(64):
        seen.add(requests.get(f"http://127.0.0.1:{port}/", timeout=10).text)
        if seen == {"a", "b"}:
            break
    assert seen == {"a", "b"}  # the kernel spread the connections over both
    for bg in servers:
        bg.call(bg.server.stop)
        bg.thread.join(10)


def test_silent_connections_are_closed_but_not_those_being_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from mockgateway.transports import plainhttp

    monkeypatch.setattr(plainhttp, "IDLE_AFTER", 0.1)
    app = SlowApp("one")
    port = free_port()
    bg = Background(PlainServer(app, "127.0.0.1", port, limit=lambda: 1000))
    with bg.connect() as idle, bg.connect() as half, bg.connect() as busy:
        half.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        busy.sendall(get("/slow"))
        assert Reader(idle).closed()
        assert Reader(half).closed()
        time.sleep(0.5)  # several sweeps while the slow answer is under way
        assert app.release is not None
        bg.call(app.release.set)
        assert Reader(busy).answer()[2] == b"one"
    bg.call(bg.server.stop)
    bg.thread.join(10)


def test_a_closed_connection_is_freed_without_the_cycle_collector() -> None:
    import gc

    from mockgateway.transports.plainhttp import Connection

    bg = Background(PlainServer(SlowApp("one"), "127.0.0.1", free_port(), limit=lambda: 1000))
    gc.disable()  # what gc_pauses makes rare: only reference counting frees the closed connections
    try:
        for _ in range(20):
            with bg.connect() as sock:
                sock.sendall(get("/", "Connection: close"))
                reader = Reader(sock)
                assert reader.answer()[2] == b"one"
                assert reader.closed()
        bg.call(bg.server.stop)
        bg.thread.join(10)
        left = [o for o in gc.get_objects() if isinstance(o, Connection) and o.server is bg.server]
    finally:
        gc.enable()
    assert left == []
