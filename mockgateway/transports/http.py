"""The HTTP transport: an RSGI app over the engine, with no framework on the hot path.

Routes
- `POST /oqs/{API_ID}`: our convenience route; the body is exactly what a request file holds,
  the answer exactly what the result file would hold.
- `POST /oqs-api-pro/MSA12020/ILI12020SV01/auth` and `…/MSA01030/ILI01030SV01/search`: the Web
  API as the real one exposes it (oqs-interface.md §1.1), JSON in and out. Like the real one it
  has two hosts (`host`): the login host (client certificate verified at the handshake) serves
  only `auth`, the search host (server certificate, `Authorization` header) only `search`; each
  answers the other's route as the real hosts most plausibly would (transports/webapi.py).
- `/admin/…`: the admin API (loopback and token only), see transports/admin.py.
- `GET /health`.

Served by transports/plainhttp.py on the plain-HTTP port (where `answer_now` answers the hot
routes without a task) and by granian on the TLS hosts; both call `__rsgi__` for everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, Protocol

import orjson

from mockgateway import health
from mockgateway.control.tokens import TokenBook
from mockgateway.engine import Format, Gateway, Response
from mockgateway.transports.webapi import AUTH_PATH, JSON, SEARCH_PATH, Answer, WebApi

__all__ = ["AUTH_PATH", "JSON", "SEARCH_PATH", "AdminHandler", "HttpApp", "HttpProtocol", "Immediate", "Scope"]


class Scope(Protocol):
    proto: str
    method: str
    path: str
    query_string: str
    client: str
    scheme: str

    @property
    def headers(self) -> Any: ...


class HttpProtocol(Protocol):
    def __call__(self) -> Awaitable[bytes]: ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None: ...

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any: ...


AdminHandler = Callable[[Scope, HttpProtocol], Awaitable[None]]
Reply = tuple[int, list[tuple[str, str]], bytes]
# What `answer_now` gives a server: the answer itself, the rest of the work for a task (a delay, a
# cut connection), or None: run `__rsgi__`.
Immediate = Reply | Callable[[HttpProtocol], Awaitable[None]] | None
WebApiHost = Literal["both", "login", "search"]  # which of the Web API's routes a listener serves


def is_loopback(client: str) -> bool:
    """`127.0.0.1:5000`, `[::1]:5000`, `::ffff:127.0.0.1:5000` (how `--host ::` sees IPv4), or a bare address."""
    host, _, port = client.rpartition(":")
    candidates = [host.strip("[]"), client.strip("[]")] if port.isdigit() else [client.strip("[]")]
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        mapped = getattr(address, "ipv4_mapped", None)
        return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))
    return False


class TooLarge(Exception):
    """The body passed the limit: `size` is what Content-Length announced or what arrived so far."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the body has {size} bytes or more; at most {limit} are accepted")
        self.size, self.limit = size, limit


async def read_body(scope: Scope, protocol: HttpProtocol, limit: int) -> bytes:
    """The request body, never more than `limit` bytes in memory, whatever server runs the app:
    refused from Content-Length before reading, and a chunked (or lying) body is cut at the limit."""
    declared = scope.headers.get("content-length")
    if declared is not None:
        text = str(declared).strip()
        if text.isdigit():
            if int(text) > limit:
                raise TooLarge(int(text), limit)
            # HTTP framing: the server hands over at most the declared length; one read (the hot path)
            return await protocol()
    parts: list[bytes] = []
    size = 0
    async for chunk in protocol:
        size += len(chunk)
        if size > limit:
            raise TooLarge(size, limit)
        parts.append(chunk)
    return b"".join(parts)


def too_large(protocol: HttpProtocol, exc: TooLarge) -> None:
    body = orjson.dumps({"error": f"413 Payload Too Large: {exc}"})
    protocol.response_bytes(413, [("content-type", JSON), ("connection", "close")], body)


class HttpApp:
    def __init__(
        self,
        gateway: Gateway,
        tokens: TokenBook,
        *,
        admin: AdminHandler | None = None,
        console: AdminHandler | None = None,
        webapi: bool = True,
        convenience: bool = True,
        host: WebApiHost = "both",
    ) -> None:
        self.gateway = gateway
        self.host = host
        self.tokens = tokens
        self.admin = admin
        self.console = console  # the web console (mockgateway.console), on the admin listener only
        self.webapi = webapi
        self.convenience = convenience
        self.api = WebApi(gateway, tokens, "webapi")

    async def __rsgi__(self, scope: Scope, protocol: HttpProtocol) -> None:
        if scope.proto != "http":
            return
        path, method = scope.path, scope.method
        limit = self.gateway.settings.max_request_bytes
        if self.convenience and path.startswith("/oqs/") and method == "POST":
            try:
                body = await read_body(scope, protocol, limit)
            except TooLarge as exc:  # answered in the interface's terms, as a too-large file would be
                response = self.gateway.process(
                    path[5:], b"", fmt=Format.XML, transport="http", name=path, oversize=exc.size
                )
                headers = [("content-type", response.media_type), ("connection", "close")]
                protocol.response_bytes(413, headers, response.body)
                return
            await self._send(
                protocol, self.gateway.process(path[5:], body, fmt=Format.XML, transport="http", name=path)
            )
        elif self.webapi and path in (SEARCH_PATH, AUTH_PATH) and method == "POST":
            try:
                raw = await read_body(scope, protocol, limit)
            except TooLarge as exc:
                too_large(protocol, exc)
                return
            await self._answer(protocol, self._route_api(scope, path, raw))
        elif path.startswith("/admin") and self.admin is not None:
            await self.admin(scope, protocol)
        elif path.startswith("/console") and self.console is not None:
            await self.console(scope, protocol)
        elif path == "/health" and method == "GET":
            status, doc = health.check(self.gateway)
            protocol.response_bytes(status, [("content-type", JSON)], orjson.dumps(doc))
        else:
            with contextlib.suppress(TooLarge):
                await read_body(scope, protocol, limit)
            known = ["POST /oqs/{API_ID}"] if self.convenience else []
            if self.webapi and self.host != "search":
                known.append(f"POST {AUTH_PATH}")
            if self.webapi and self.host != "login":
                known.append(f"POST {SEARCH_PATH}")
            detail = {"error": f"no route for {method} {path}", "routes": [*known, "GET /health"]}
            protocol.response_bytes(404, [("content-type", JSON)], orjson.dumps(detail))

    def answer_now(self, scope: Scope, body: bytes) -> Immediate:
        """The hot routes answered without awaiting, for a server holding the whole body (within
        the limit): the same answer `__rsgi__` gives, or what is left to await; None for the rest."""
        path = scope.path
        if scope.method != "POST":
            return None
        if self.convenience and path.startswith("/oqs/"):
            return self._reply(self.gateway.process(path[5:], body, fmt=Format.XML, transport="http", name=path))
        if self.webapi and path in (SEARCH_PATH, AUTH_PATH):
            answer = self._route_api(scope, path, body)
            if answer.response is not None:
                return self._reply(answer.response)
            return answer.status, [("content-type", JSON)], answer.body
        return None

    def _route_api(self, scope: Scope, path: str, raw: bytes) -> Answer:
        if self.host != "both" and (path == SEARCH_PATH) != (self.host == "search"):
            return self.api.wrong_host(path, raw)
        if path == AUTH_PATH:
            return self.api.login(raw)
        return self.api.search(raw, scope.headers.get("authorization"))

    def _reply(self, response: Response) -> Immediate:
        if response.delay > 0 or response.action == "drop":
            return lambda protocol: self._send(protocol, response)
        return _status(response), [("content-type", response.media_type)], response.body

    async def _send(self, protocol: HttpProtocol, response: Response) -> None:
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        headers = [("content-type", response.media_type)]
        if response.action == "drop":
            # A cut connection: promise a body, send a little of it, and hang up.
            stream = protocol.response_stream(200, [*headers, ("content-length", str(len(response.body) + 1))])
            await stream.send_bytes(response.body[: max(1, len(response.body) // 3)])
            return
        protocol.response_bytes(_status(response), headers, response.body)

    async def _answer(self, protocol: HttpProtocol, answer: Answer) -> None:
        if answer.response is not None:
            await self._send(protocol, answer.response)
        else:
            protocol.response_bytes(answer.status, [("content-type", JSON)], answer.body)


def _status(response: Response) -> int:
    return 503 if response.action in ("http503", "maintenance") else 200
