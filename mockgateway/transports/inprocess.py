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

import requests
import responses

from mockgateway.control.tokens import TokenBook
from mockgateway.engine import Format, Gateway, Response
from mockgateway.transports.webapi import AUTH_PATH, JSON, SEARCH_PATH, Answer, WebApi

TRANSPORT = "inprocess"
Reply = tuple[int, dict[str, str], bytes]  # what a responses callback returns


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
        self.api = WebApi(gateway, tokens, TRANSPORT)

    def convenience(self, request: Any) -> Reply:
        path = request.path_url.split("?", 1)[0]
        api_id = path.rsplit("/oqs/", 1)[-1]
        return self._engine(self.gateway.process(api_id, _body(request), fmt=Format.XML, transport="http", name=path))

    def auth(self, request: Any) -> Reply:
        return self._reply(self.api.login(_body(request)))

    def search(self, request: Any) -> Reply:
        return self._reply(self.api.search(_body(request), request.headers.get("Authorization")))

    def _reply(self, answer: Answer) -> Reply:
        if answer.response is not None:
            return self._engine(answer.response)
        return answer.status, {"Content-Type": JSON}, answer.body

    def _engine(self, response: Response) -> Reply:
        if response.delay > 0:
            time.sleep(response.delay)
        if response.action == "drop":
            raise requests.ConnectionError(f"mockgateway: drop fault (journal #{response.entry.id}): connection cut")
        status = 503 if response.action in ("http503", "maintenance") else 200
        return status, {"Content-Type": response.media_type}, response.body


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
