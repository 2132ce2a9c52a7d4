"""One HTTP listener for a whole catalogue run, answering from whichever scenario's gateway is current.

Every scenario gets a fresh gateway (so none sees another's state), but a vendor's software is
configured once with one URL. `CatalogueHttp` listens on one port for the whole session and hands
each request to the current scenario's `HttpApp`: the convenience route `POST /oqs/{API_ID}` and the
Web API (auth + search) on plain HTTP, without client certificates (`--mg-http-port`).

Given a test PKI, the listener is the Web API as the real one is reached instead: TLS, the
医療機関's client certificate verified at the handshake against the PKI's CA and CRL, and only the
Web API routes (the catalogue's `webapi` scenarios).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from mockgateway.certs.institution_pki import TestPKI
from mockgateway.control.tokens import TokenBook
from mockgateway.engine import Gateway
from mockgateway.transports.http import JSON, HttpApp, HttpProtocol, Scope


class SwitchApp:
    """An RSGI app that forwards to `current`, or answers 503 between scenarios."""

    def __init__(self) -> None:
        self.current: HttpApp | None = None

    async def __rsgi__(self, scope: Scope, protocol: HttpProtocol) -> None:
        app = self.current
        if app is None:
            if scope.proto == "http":
                await protocol()
                body = b'{"error": "no scenario is running: the catalogue serves HTTP only during a scenario"}'
                protocol.response_bytes(503, [("content-type", JSON)], body)
            return
        await app.__rsgi__(scope, protocol)


class CatalogueHttp:
    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, pki: TestPKI | None = None) -> None:
        self.host = host
        self.port = port or _free_port()
        self.pki = pki  # TLS with client certificates, Web API only
        self.app = SwitchApp()
        self._server: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.pki is not None else 'http'}://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> CatalogueHttp:
        from granian.constants import Interfaces
        from granian.log import LogLevels
        from granian.server.embed import Server

        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._server = Server(
                self.app,
                address=self.host,
                port=self.port,
                interface=Interfaces.RSGI,
                log_level=LogLevels.warning,
                **self._tls(),
            )
            task = asyncio.create_task(self._server.serve())
            ready.set()
            await task

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True, name="catalogue-http")
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"the catalogue's HTTP listener did not start within {timeout:g} s")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {self.port} not listening after {timeout:g} s") from None
                time.sleep(0.05)

    def _tls(self) -> dict[str, Any]:
        """Server options for the TLS Web API, as the gateway's own TLS listener sets them (server.py)."""
        if self.pki is None:
            return {}
        from granian.constants import SSLProtocols

        return {
            "ssl_cert": self.pki.server_cert,
            "ssl_key": self.pki.server_key,
            "ssl_ca": self.pki.ca_cert,
            "ssl_crl": [self.pki.crl],  # read once at start: revoke before the listener starts
            "ssl_client_verify": True,
            "ssl_protocol_min": SSLProtocols.tls12,
        }

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._server is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                self._loop.call_soon_threadsafe(self._server.stop)
        if self._thread is not None:
            self._thread.join(timeout)

    @contextlib.contextmanager
    def serving(self, gateway: Gateway, *, token_ttl: dt.timedelta = dt.timedelta(hours=1)) -> Iterator[HttpApp]:
        """Answer from `gateway` inside the block (one scenario)."""
        app = self.switch(gateway, token_ttl=token_ttl)
        try:
            yield app
        finally:
            self.app.current = None

    def switch(self, gateway: Gateway, *, token_ttl: dt.timedelta = dt.timedelta(hours=1)) -> HttpApp:
        """Answer from `gateway` from now on (also when a scenario restarts its gateway)."""
        app = HttpApp(gateway, TokenBook(token_ttl), admin=None, webapi=True, convenience=self.pki is None)
        self.app.current = app
        return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
