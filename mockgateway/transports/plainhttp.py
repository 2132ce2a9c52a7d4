"""The plain-HTTP listeners' server: an asyncio Protocol with httptools parsing, on uvloop.

Why not granian here (docs/design.md): with the real engine behind it, granian spent 267 µs of CPU
per request against 162 µs for this shape, most of the difference being the hand-over from
granian's threads to the GIL-holding handler. The TLS listeners stay on granian (client
certificates against the CA and CRL, restart in place: transports/listeners.py).

It hosts the RSGI apps unchanged (`__rsgi__(scope, protocol)`, only the parts of RSGI they use)
and has the surface `Listener` uses from granian's embedded server: `on_startup`, `serve`, `stop`.
An app may also offer `answer_now(scope, body)`: called synchronously once the whole body is in
hand, it answers the hot routes without a Task (http.py). Requests on one connection are answered
in order (pipelining); a body is never held past the limit plus one chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, cast

import httptools

from mockgateway.transports.http import TooLarge
from mockgateway.transports.rsgi import HeaderMap, Request, Scope

log = logging.getLogger(__name__)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 12\r\nconnection: close\r\n\r\n"
    b"bad request\n"
)
METHODS = {m.encode(): m for m in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")}
MAX_QUEUED = 32  # pipelined requests waiting behind a running one before we stop reading
IDLE_AFTER = 30.0  # seconds: a connection silent for one to two of these, with nothing to answer, is closed
STOP_GRACE = 5.0  # seconds in-flight requests get on stop before their connections are cut


def run(main: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run` on uvloop when it is installed (also off the main thread, as in tests)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency; the stdlib loop works too, slower
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


class Connection(asyncio.Protocol):
    def __init__(self, server: PlainServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)
        self.client = ""
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.current: Request | None = None  # the request being parsed
        self.queue: deque[Request | None] = deque()  # answered in order; None: a malformed request
        self.task: asyncio.Task[None] | None = None  # the app answering the head of the queue
        self.closing = False  # answer what is in hand, then close
        self.discard = False  # past an oversize request or garbage: read nothing more
        self.paused = False  # reading paused (pipelined backlog)
        self.throttled = False  # reading paused (the client does not read its answers)
        self.answering: Request | None = None  # the request `task` answers
        self.continue_due = False  # a 100 Continue to send once the answers ahead are out
        self.reads = 0  # data_received calls, for the idle sweep
        self.reads_seen = -1  # … as the last sweep saw them
        self.waiter: asyncio.Future[None] | None = None  # a stream waiting for the write buffer

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            host, port = peer[0], peer[1]
            self.client = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.parser = None  # it refers back to us: without this, a closed connection waits for the cycle collector
        self.server.connections.discard(self)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        self.server.check_idle()

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        if self.discard or self.parser is None:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.discard = True  # no protocol switch here: answer what was asked, then close
            self.closing = True
        except httptools.HttpParserError:
            self.discard = True
            self.current = None
            self.queue.append(None)
        self.pump()

    def pause_writing(self) -> None:
        self.throttled = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.throttled = False
        if self.transport is not None and not self.paused:
            self.transport.resume_reading()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    # -- httptools callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.declared: bytes | None = None  # Content-Length as sent
        self.expect: bytes | None = None

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if len(name) == 14 and name.lower() == b"content-length":
            self.declared = value
        elif len(name) == 6 and name.lower() == b"expect":
            self.expect = value

    def on_headers_complete(self) -> None:
        parser = self.parser
        assert parser is not None  # the parser is calling
        target = self.url
        if target[:1] == b"/" and b"#" not in target:  # origin form, the usual case
            raw_path, _, raw_query = target.partition(b"?")
        else:
            url = httptools.parse_url(target)
            raw_path, raw_query = url.path or b"/", url.query or b""
        method = parser.get_method()
        scope = Scope(
            METHODS.get(method) or method.decode("latin-1"),
            raw_path.decode("latin-1"),
            raw_query.decode("latin-1"),
            self.client,
            HeaderMap(self.headers),
        )
        http10 = parser.get_http_version() == "1.0"
        request = Request(self, scope, parser.should_keep_alive(), http10, self.server.limit())
        self.current = request
        declared = self.declared
        if declared is not None and declared.strip().isdigit() and int(declared) > request.limit:
            request.overflow, request.size, request.close = True, int(declared), True
            self.finish_request()  # the app refuses from the header alone; no byte of the body is read
            return
        if self.expect is not None and self.expect.lower() == b"100-continue" and not http10:
            if self.task is None and not self.queue:
                self.write(CONTINUE)
            else:  # an interim answer must not come before the answers still owed
                self.continue_due = True

    def on_body(self, body: bytes) -> None:
        request = self.current
        if request is None or request.overflow:
            return
        request.parts.append(body)
        request.size += len(body)
        if request.size > request.limit:
            request.overflow, request.close = True, True
            self.finish_request()

    def on_message_complete(self) -> None:
        if self.current is not None:
            self.finish_request()

    def finish_request(self) -> None:
        request, self.current = self.current, None
        assert request is not None
        if request.overflow:
            self.discard = True
        self.queue.append(request)
        if len(self.queue) > MAX_QUEUED and self.transport is not None and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    # -- answering ----------------------------------------------------------------------------------

    def pump(self) -> None:
        """Answer the queued requests in order: at once when the app can, else one Task at a time."""
        while self.task is None and self.queue and self.transport is not None:
            request = self.queue.popleft()
            if request is None:
                self.write(BAD_REQUEST)
                self.end()
                return
            direct = None
            if not request.overflow:
                try:
                    direct = self.server.answer_now(request.scope, b"".join(request.parts))
                except Exception:
                    log.exception("answering %s %s", request.scope.method, request.scope.path)
                    direct = (500, [("content-type", "text/plain")], b"internal error\n")
            if isinstance(direct, tuple):
                request.response_bytes(*direct)
                if request.close:
                    self.end()
                    return
                continue
            coro = direct(request) if direct is not None else self.server.app.__rsgi__(request.scope, request)
            self.answering = request
            self.task = asyncio.get_running_loop().create_task(self.answer(request, coro))
        if self.continue_due and self.task is None and not self.queue:
            self.continue_due = False
            self.write(CONTINUE)
        if self.paused and len(self.queue) < MAX_QUEUED // 2 and self.transport is not None:
            self.paused = False
            if not self.throttled:
                self.transport.resume_reading()
        if self.closing and self.task is None and not self.queue and self.current is None:
            self.end()

    async def answer(self, request: Request, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            request.close = True
        except Exception as exc:
            if isinstance(exc, TooLarge):
                request.close = True
                status, body = 413, b"payload too large\n"
            else:
                log.exception("answering %s %s", request.scope.method, request.scope.path)
                status, body = 500, b"internal error\n"
            if not request.done:
                request.response_bytes(status, [("content-type", "text/plain"), ("connection", "close")], body)
            request.close = True
        if not request.done:
            request.response_bytes(500, [("content-type", "text/plain")], b"no answer\n")
        elif request.stream is not None and not request.stream.finish():
            request.close = True
        self.task = self.answering = None
        if request.close:
            self.end()
        else:
            self.pump()
        self.server.check_idle()

    def gone(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def drain(self) -> None:
        transport = self.transport
        if transport is not None and transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    def end(self) -> None:
        """Close once what was written has gone out; read nothing more."""
        self.discard = True
        self.queue.clear()
        self.current = None
        if self.transport is not None:
            self.transport.close()

    def idle(self) -> bool:
        return self.task is None and not self.queue and self.current is None

    def shutdown(self) -> None:
        """Stop: an idle connection closes now, a busy one after its answer; a stream ends now."""
        self.closing = True
        answering = self.answering
        if answering is not None and answering.stream is not None and answering.stream.declared is None:
            if self.task is not None:  # an event stream (the console's) has no end of its own
                self.task.cancel()
            self.end()
        elif self.idle():
            self.end()


class PlainServer:
    """What `Listener` drives: `on_startup(callback)`, `await serve()`, `stop()`."""

    def __init__(
        self, app: Any, host: str, port: int, *, limit: Callable[[], int], backlog: int = 1024, reuse_port: bool = True
    ) -> None:
        self.app, self.host, self.port, self.limit = app, host, port, limit
        self.backlog, self.reuse_port = backlog, reuse_port
        self.answer_now = getattr(app, "answer_now", None) or (lambda scope, body: None)
        self.connections: set[Connection] = set()
        self._startup: list[Callable[[], Any]] = []
        self._stop: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._stopping = False

    def on_startup(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        self._startup.append(callback)
        return callback

    def _socket(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self.reuse_port:  # --workers: the replicas share the port, the kernel spreads connections
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # `--host ::` takes IPv4 too, as granian did
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        return sock

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._stop, self._idle = asyncio.Event(), asyncio.Event()
        if self._stopping:
            return
        server = await loop.create_server(lambda: Connection(self), sock=self._socket(), backlog=self.backlog)
        self.port = server.sockets[0].getsockname()[1]
        for callback in self._startup:
            callback()
        sweeper = loop.create_task(self._sweep())
        try:
            await self._stop.wait()
        finally:
            sweeper.cancel()
            server.close()
            for conn in list(self.connections):
                conn.shutdown()
            self.check_idle()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._idle.wait(), STOP_GRACE)
            for conn in list(self.connections):  # past the grace: cut what is left
                if conn.task is not None:
                    conn.task.cancel()
                if conn.transport is not None:
                    conn.transport.abort()
            await server.wait_closed()

    async def _sweep(self) -> None:
        """Close connections that sent nothing for a whole round with no answer under way: idle
        keep-alive connections, and requests that stall half-sent (IDLE_AFTER to twice that)."""
        while True:
            await asyncio.sleep(IDLE_AFTER)
            for conn in list(self.connections):
                if conn.task is None and not conn.queue and conn.reads == conn.reads_seen:
                    conn.end()
                conn.reads_seen = conn.reads

    def stop(self) -> None:
        self._stopping = True
        if self._stop is not None:
            self._stop.set()

    def check_idle(self) -> None:
        if self._stopping and self._idle is not None and not any(not c.idle() for c in self.connections):
            for conn in list(self.connections):
                conn.end()
            self._idle.set()
