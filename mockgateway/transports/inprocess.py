"""In-process mode: the Web API routes served from the engine inside the test process, no server.

For vendors whose client uses `requests`: inside `serve(gateway)`, `requests` calls to

- `POST …/oqs-api-pro/MSA12020/ILI12020SV01/auth` (login: an idToken),
- `POST …/oqs-api-pro/MSA01030/ILI01030SV01/search` (資格確認, JSON, `Authorization: <idToken>`),
- `POST …/oqs/{API_ID}` (our convenience route: request-file XML in, result-file XML out)

on any host (or only `base_url`'s) are answered by `Gateway.process`, through `responses`.
Nothing listens on a socket; the journal records the exchanges like any other transport's
(transport `inprocess` for the Web API, `http` for the convenience route), and faults act as on
the real listener: latency sleeps, `http503` / `maintenance` answer 503, `drop` raises
`requests.ConnectionError`. Client certificates are not checked here (no TLS happens).

    from mockgateway.transports.inprocess import serve

    with serve(gateway) as oqs:
        token = requests.post("https://oqs.test" + AUTH_PATH, json={...}).json()["result"]["idToken"]
        ...
        assert oqs.gateway.journal.entries()[-1].validity == "1"
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import requests
import responses

from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ResultCode
from mockgateway.engine import Format, Gateway, Response
from mockgateway.journal import JournalEntry
from mockgateway.services.eligibility import API_ID as ELIGIBILITY
from mockgateway.tokens import TokenBook
from mockgateway.transports.http import AUTH_PATH, JSON, SEARCH_PATH

TRANSPORT = "inprocess"
Answer = tuple[int, dict[str, str], bytes]


@dataclass(slots=True)
class InProcess:
    gateway: Gateway
    tokens: TokenBook
    mock: responses.RequestsMock
    base_url: str | None

    @property
    def calls(self) -> Any:
        """Every request `requests` made inside the block (responses' call list)."""
        return self.mock.calls


def _host_pattern(base_url: str | None, path: str) -> re.Pattern[str]:
    prefix = re.escape(base_url.rstrip("/")) if base_url else r"https?://[^/]+"
    return re.compile(prefix + path + r"(\?.*)?$")


def _body(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


class _Routes:
    def __init__(self, gateway: Gateway, tokens: TokenBook) -> None:
        self.gateway = gateway
        self.tokens = tokens

    def convenience(self, request: Any) -> Answer:
        path = request.path_url.split("?", 1)[0]
        api_id = path.rsplit("/oqs/", 1)[-1]
        response = self.gateway.process(api_id, _body(request), fmt=Format.XML, transport="http", name=path)
        return self._answer(response)

    def auth(self, request: Any) -> Answer:
        raw = _body(request)
        now = self.gateway.clock.now()
        try:
            doc = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict):
            code = self.gateway.codes.get("auth.login", detail="本文はJSONオブジェクトです")
            return self._refuse(400, code, raw, AUTH_PATH, now)
        mic = doc.get("MedicalInstitutionCode") or doc.get("medicalInstitutionCode")
        token = self.tokens.issue(now, str(mic) if mic else None)
        body = orjson.dumps({"result": {"idToken": token.value, "expiresAt": format_timestamp(token.expires)}})
        self._journal("auth", AUTH_PATH, token.medical_institution, raw, body, "1", None, now)
        return 200, {"Content-Type": JSON}, body

    def search(self, request: Any) -> Answer:
        raw = _body(request)
        now = self.gateway.clock.now()
        token, why = self.tokens.check(request.headers.get("Authorization"), now)
        if token is None:
            return self._refuse(401, self.gateway.codes.get("auth.token"), raw, SEARCH_PATH, now, why)
        if token.medical_institution is not None:
            sent = _json_mic(raw)
            if sent is not None and sent != token.medical_institution:
                why = f"トークンは医療機関コード {token.medical_institution} に発行されています (送信 {sent})"
                return self._refuse(403, self.gateway.codes.get("auth.login", detail=why), raw, SEARCH_PATH, now, why)
        response = self.gateway.process(ELIGIBILITY, raw, fmt=Format.JSON, transport=TRANSPORT, name=SEARCH_PATH)
        return self._answer(response)

    def _answer(self, response: Response) -> Answer:
        if response.delay > 0:
            time.sleep(response.delay)
        if response.action == "drop":
            raise requests.ConnectionError(f"mockgateway: drop fault (journal #{response.entry.id}): connection cut")
        status = 503 if response.action in ("http503", "maintenance") else 200
        return status, {"Content-Type": response.media_type}, response.body

    def _refuse(
        self, status: int, code: ResultCode, raw: bytes, name: str, now: dt.datetime, reason: str | None = None
    ) -> Answer:
        header = {
            "ProcessExecutionTime": format_timestamp(now),
            "SegmentOfResult": "9",
            "ErrorCode": code.code,
            "ErrorMessage": code.message,
        }
        body = orjson.dumps({"XmlMsg": {"MessageHeader": header}})
        self._journal("webapi", name, _json_mic(raw), raw, body, "9", reason or code.message, now)
        return status, {"Content-Type": JSON}, body

    def _journal(
        self, api_id: str, name: str, mic: str | None, raw: bytes, body: bytes, segment: str,
        reason: str | None, now: dt.datetime,
    ) -> None:  # fmt: skip
        self.gateway.journal.record(
            JournalEntry(
                id=0,
                at=format_timestamp(now),
                real_time=time.time(),
                transport=TRANSPORT,
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
        value = orjson.loads(raw)["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return str(value) if value is not None else None


@contextmanager
def serve(
    gateway: Gateway,
    *,
    base_url: str | None = None,
    tokens: TokenBook | None = None,
    token_ttl: dt.timedelta = dt.timedelta(hours=1),
    mock: responses.RequestsMock | None = None,
) -> Iterator[InProcess]:
    """Answer the gateway's routes from `gateway` for every `requests` call inside the block.

    `base_url` limits it to one host (default: any host). Pass your own `mock` to combine with
    other `responses` registrations; otherwise one is made, and requests to any other URL fail
    with responses' explanation of what did not match.
    """
    routes = _Routes(gateway, tokens or TokenBook(token_ttl))
    owned = mock is None
    rsps = mock or responses.RequestsMock(assert_all_requests_are_fired=False)
    rsps.add_callback(responses.POST, _host_pattern(base_url, re.escape(AUTH_PATH)), callback=routes.auth)
    rsps.add_callback(responses.POST, _host_pattern(base_url, re.escape(SEARCH_PATH)), callback=routes.search)
    rsps.add_callback(responses.POST, _host_pattern(base_url, r"/oqs/[A-Za-z0-9]+"), callback=routes.convenience)
    if owned:
        with rsps:
            yield InProcess(gateway, routes.tokens, rsps, base_url)
    else:
        yield InProcess(gateway, routes.tokens, rsps, base_url)
