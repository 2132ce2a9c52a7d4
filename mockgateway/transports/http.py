"""The HTTP transport: an RSGI app (granian) over the engine, with no framework on the hot path.

Routes
- `POST /oqs/{API_ID}`: our convenience route; the body is exactly what a request file holds,
  the answer exactly what the result file would hold.
- `POST /oqs-api-pro/MSA12020/ILI12020SV01/auth` and `…/MSA01030/ILI01030SV01/search`: the Web
  API as the real one exposes it (oqs-interface.md §1.1), JSON in and out; served on the TLS
  listener, which verifies the 医療機関's client certificate at the handshake.
- `/admin/…`: the admin API (loopback and token only), see transports/admin.py.
- `GET /health`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ResultCode
from mockgateway.engine import Format, Gateway, Response
from mockgateway.journal import JournalEntry
from mockgateway.services.eligibility import API_ID as ELIGIBILITY
from mockgateway.tokens import TokenBook

AUTH_PATH = "/oqs-api-pro/MSA12020/ILI12020SV01/auth"
SEARCH_PATH = "/oqs-api-pro/MSA01030/ILI01030SV01/search"
JSON = "application/json;charset=UTF-8"


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

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None: ...

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any: ...


AdminHandler = Callable[[Scope, HttpProtocol], Awaitable[None]]


class HttpApp:
    def __init__(
        self,
        gateway: Gateway,
        tokens: TokenBook,
        *,
        admin: AdminHandler | None = None,
        webapi: bool = True,
        convenience: bool = True,
    ) -> None:
        self.gateway = gateway
        self.tokens = tokens
        self.admin = admin
        self.webapi = webapi
        self.convenience = convenience

    async def __rsgi__(self, scope: Scope, protocol: HttpProtocol) -> None:
        if scope.proto != "http":
            return
        path, method = scope.path, scope.method
        if self.convenience and path.startswith("/oqs/") and method == "POST":
            body = await protocol()
            await self._send(
                protocol, self.gateway.process(path[5:], body, fmt=Format.XML, transport="http", name=path)
            )
        elif self.webapi and path == SEARCH_PATH and method == "POST":
            await self._search(scope, protocol)
        elif self.webapi and path == AUTH_PATH and method == "POST":
            await self._auth(protocol)
        elif path.startswith("/admin") and self.admin is not None:
            await self.admin(scope, protocol)
        elif path == "/health" and method == "GET":
            protocol.response_bytes(200, [("content-type", JSON)], orjson.dumps({"status": "ok"}))
        else:
            await protocol()
            known = ["POST /oqs/{API_ID}"] if self.convenience else []
            if self.webapi:
                known += [f"POST {AUTH_PATH}", f"POST {SEARCH_PATH}"]
            detail = {"error": f"no route for {method} {path}", "routes": [*known, "GET /health"]}
            protocol.response_bytes(404, [("content-type", JSON)], orjson.dumps(detail))

    async def _send(self, protocol: HttpProtocol, response: Response) -> None:
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        headers = [("content-type", response.media_type)]
        if response.action == "drop":
            # A cut connection: promise a body, send a little of it, and hang up.
            stream = protocol.response_stream(200, [*headers, ("content-length", str(len(response.body) + 1))])
            await stream.send_bytes(response.body[: max(1, len(response.body) // 3)])
            return
        status = 503 if response.action in ("http503", "maintenance") else 200
        protocol.response_bytes(status, headers, response.body)

    async def _auth(self, protocol: HttpProtocol) -> None:
        raw = await protocol()
        now = self.gateway.clock.now()
        try:
            doc = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict):
            code = self.gateway.codes.get("auth.login", detail="本文はJSONオブジェクトです")
            self._refuse(protocol, 400, code, raw, AUTH_PATH, now)
            return
        mic = doc.get("MedicalInstitutionCode") or doc.get("medicalInstitutionCode")
        token = self.tokens.issue(now, str(mic) if mic else None)
        body = orjson.dumps({"result": {"idToken": token.value, "expiresAt": format_timestamp(token.expires)}})
        self._journal("auth", AUTH_PATH, token.medical_institution, raw, body, "1", None, now)
        protocol.response_bytes(200, [("content-type", JSON)], body)

    async def _search(self, scope: Scope, protocol: HttpProtocol) -> None:
        raw = await protocol()
        now = self.gateway.clock.now()
        token, why = self.tokens.check(scope.headers.get("authorization"), now)
        if token is None:
            self._refuse(protocol, 401, self.gateway.codes.get("auth.token"), raw, SEARCH_PATH, now, why)
            return
        if token.medical_institution is not None:
            sent = _json_mic(raw)
            if sent is not None and sent != token.medical_institution:
                why = f"トークンは医療機関コード {token.medical_institution} に発行されています (送信 {sent})"
                code = self.gateway.codes.get("auth.login", detail=why)
                self._refuse(protocol, 403, code, raw, SEARCH_PATH, now, why)
                return
        response = self.gateway.process(ELIGIBILITY, raw, fmt=Format.JSON, transport="webapi", name=SEARCH_PATH)
        await self._send(protocol, response)

    def _refuse(
        self,
        protocol: HttpProtocol,
        status: int,
        code: ResultCode,
        raw: bytes,
        name: str,
        now: dt.datetime,
        reason: str | None = None,
    ) -> None:
        """An HTTP-level refusal still answers in the interface's own terms."""
        tree = {
            "XmlMsg": {
                "MessageHeader": {
                    "ProcessExecutionTime": format_timestamp(now),
                    "SegmentOfResult": "9",
                    "ErrorCode": code.code,
                    "ErrorMessage": code.message,
                }
            }
        }
        body = orjson.dumps(tree)
        self._journal("webapi", name, _json_mic(raw), raw, body, "9", reason or code.message, now)
        protocol.response_bytes(status, [("content-type", JSON)], body)

    def _journal(
        self,
        api_id: str,
        name: str,
        mic: str | None,
        raw: bytes,
        body: bytes,
        segment: str,
        reason: str | None,
        now: dt.datetime,
    ) -> None:
        self.gateway.journal.record(
            JournalEntry(
                id=0,
                at=format_timestamp(now),
                real_time=time.time(),
                transport="webapi",
                api_id=api_id,
                name=name,
                medical_institution=mic,
                request=raw,
                response=body,
                segment=segment,
                reason=reason,
            )
        )


def _json_mic(raw: bytes) -> str | None:
    try:
        doc = orjson.loads(raw)
        value = doc["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return str(value) if value is not None else None
