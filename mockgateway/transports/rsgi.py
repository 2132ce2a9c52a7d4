"""What an RSGI app sees of a request the plain-HTTP server (plainhttp.py) carries: the scope
(method, path, query, client, headers) and the protocol (the body, and the answer as bytes or a
stream). Only the parts of RSGI the package's apps use; the body is whole (or cut past the limit)
before the app runs, so reading it never waits.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Protocol

from mockgateway.transports.http import TooLarge

Headers = list[tuple[str, str]]
STATUS = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus}
HEADS: dict[tuple[int, str, str], bytes] = {}  # status line + the one header, for the hot path's answers


class Sink(Protocol):
    """The connection a request answers on."""

    closing: bool

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def gone(self) -> bool: ...


class HeaderMap:
    """The request headers as RSGI gives them: lower-case names, `.get()` and `.items()`; decoded
    only when asked (the hot path reads one header, or none)."""

    __slots__ = ("_items", "_raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._items: Headers | None = None

    def _decoded(self) -> Headers:
        if self._items is None:
            self._items = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self._raw]
        return self._items

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self._decoded():
            if key == name:
                return value
        return default

    def items(self) -> Headers:
        return list(self._decoded())


class Scope:
    __slots__ = ("client", "headers", "method", "path", "query_string")
    proto = "http"
    scheme = "http"

    def __init__(self, method: str, path: str, query: str, client: str, headers: HeaderMap) -> None:
        self.method, self.path, self.query_string, self.client, self.headers = method, path, query, client, headers


class Request:
    """One request and the app's side of it (RSGI's HTTPProtocol): the body, and the answer."""

    __slots__ = ("close", "conn", "done", "head_only", "http10", "keep_alive", "limit", "overflow", "parts", "scope",
                 "size", "stream")  # fmt: skip

    def __init__(self, conn: Sink, scope: Scope, keep_alive: bool, http10: bool, limit: int) -> None:
        self.conn, self.scope, self.keep_alive, self.http10, self.limit = conn, scope, keep_alive, http10, limit
        self.parts: list[bytes] = []
        self.size = 0
        self.overflow = False  # the body passed the limit: the app sees what came so far and refuses
        self.done = False  # an answer was started
        self.stream: Stream | None = None
        self.head_only = scope.method == "HEAD"
        self.close = not keep_alive  # the connection ends after this answer

    async def __call__(self) -> bytes:
        if self.overflow:
            raise TooLarge(self.size, self.limit)
        return b"".join(self.parts)

    def __aiter__(self) -> Any:
        return self._chunks()

    async def _chunks(self) -> Any:
        for part in self.parts:
            yield part

    def _head(self, status: int, headers: Headers, length: int | None) -> bytearray:
        head = bytearray(STATUS.get(status) or f"HTTP/1.1 {status} Unknown\r\n".encode())
        for key, value in headers:
            low = key.lower()
            if low == "connection" and value.strip().lower() == "close":
                self.close = True
            elif low in ("content-length", "transfer-encoding", "connection"):
                continue
            head += f"{key}: {value}\r\n".encode("latin-1", "replace")
        if length is None:
            head += b"transfer-encoding: chunked\r\n"
        else:
            head += b"content-length: %d\r\n" % length
        if self.close or self.conn.closing:
            self.close = True
            head += b"connection: close\r\n"
        elif self.http10:
            head += b"connection: keep-alive\r\n"
        return head + b"\r\n"

    def response_bytes(self, status: int, headers: Headers, body: bytes) -> None:
        if self.done:
            raise RuntimeError("the answer was already started")
        self.done = True
        if len(headers) == 1 and not (self.close or self.http10 or self.conn.closing):  # the hot path's shape
            key = (status, *headers[0])
            start = HEADS.get(key)
            if start is None:
                start = bytes(self._head(status, headers, None)).removesuffix(b"transfer-encoding: chunked\r\n\r\n")
                if len(HEADS) < 256 and not self.close:
                    HEADS[key] = start
            if not self.close:
                self.conn.write(start + b"content-length: %d\r\n\r\n%b" % (len(body), b"" if self.head_only else body))
                return
        head = self._head(status, headers, len(body))
        self.conn.write(bytes(head) if self.head_only else bytes(head + body))

    def response_stream(self, status: int, headers: Headers) -> Stream:
        if self.done:
            raise RuntimeError("the answer was already started")
        self.done = True
        declared = next((int(v) for k, v in headers if k.lower() == "content-length" and v.strip().isdigit()), None)
        self.stream = Stream(self.conn, declared)
        self.conn.write(bytes(self._head(status, headers, declared)))
        return self.stream


class Stream:
    """A streamed answer: chunked, or raw up to a declared Content-Length (the connection is cut
    when fewer bytes were sent, as the `drop` fault wants)."""

    def __init__(self, conn: Sink, declared: int | None) -> None:
        self.conn, self.declared, self.sent = conn, declared, 0

    async def send_bytes(self, data: bytes) -> None:
        if self.conn.gone():
            raise ConnectionError("the client went away")
        self.sent += len(data)
        if self.declared is not None:
            self.conn.write(data)
        elif data:
            self.conn.write(b"%x\r\n%b\r\n" % (len(data), data))
        await self.conn.drain()

    async def send_str(self, data: str) -> None:
        await self.send_bytes(data.encode())

    def finish(self) -> bool:
        """End the answer; False when the connection must be closed (a short body)."""
        if self.declared is None:
            self.conn.write(b"0\r\n\r\n")
            return True
        return self.sent == self.declared
