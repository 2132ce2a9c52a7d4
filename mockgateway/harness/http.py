"""One HTTP listener for a whole catalogue run, answering from whichever scenario's gateway is current.

Every scenario gets a fresh gateway (so none sees another's state), but a vendor's software is
configured once with one URL. `CatalogueHttp` listens on one port for the whole session and hands
each request to the current scenario's `HttpApp`: the convenience route `POST /oqs/{API_ID}` and the
Web API (auth + search) on plain HTTP, without client certificates (`--mg-http-port`), served like
the gateway's own plain port (transports/plainhttp.py).

Given a test PKI, it is the Web API as the real one is reached instead (the catalogue's `webapi`
scenarios): two TLS listeners, as the real Web API has two hosts — the login host on `port`, which
verifies the 医療機関's client certificate at the handshake against the PKI's CA and CRL, and the
search host on `search_port`, with a server certificate only (mockgateway.listeners). `revoke`
lists a certificate in the CRL and restarts the login listener, as the gateway does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mockgateway.certs.institution_pki import TestPKI
from mockgateway.control.tokens import TokenBook
from mockgateway.engine import Gateway
from mockgateway.settings import Settings
from mockgateway.transports.http import JSON, HttpApp, HttpProtocol, Immediate, Scope, WebApiHost
from mockgateway.transports.listeners import Listener, login_tls, search_tls, wait_listening
from mockgateway.transports.plainhttp import PlainServer, run

DEFAULTS = Settings()


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

    def answer_now(self, scope: Scope, body: bytes) -> Immediate:
        app = self.current
        return None if app is None else app.answer_now(scope, body)

    def limit(self) -> int:
        """The current scenario's body limit (the engine's default between scenarios)."""
        app = self.current
        return (app.gateway.settings if app is not None else DEFAULTS).max_request_bytes


class CatalogueHttp:
    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, pki: TestPKI | None = None, search_port: int = 0
    ) -> None:
        self.host = host
        self.port = port or _free_port()
        self.pki = pki  # TLS: the Web API's login host here, its search host on search_port
        self.search_port = (search_port or _free_port()) if pki is not None else None
        self.app = SwitchApp()
        self.search_app = SwitchApp()
        self._listeners: list[Listener] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The convenience route and admin API, or with a PKI the Web API's login host."""
        return f"{'https' if self.pki is not None else 'http'}://{self.host}:{self.port}"

    @property
    def search_url(self) -> str | None:
        """The Web API's search host (with a PKI only)."""
        return f"https://{self.host}:{self.search_port}" if self.search_port else None

    def start(self, timeout: float = 30.0) -> CatalogueHttp:
        from granian.constants import Interfaces
        from granian.log import LogLevels
        from granian.server.embed import Server

        def server(app: SwitchApp, port: int, tls: dict[str, Any]) -> Any:
            return Server(
                app, address=self.host, port=port, interface=Interfaces.RSGI, log_level=LogLevels.warning, **tls
            )

        pki = self.pki
        if pki is None:
            plain = PlainServer(self.app, self.host, self.port, limit=self.app.limit, reuse_port=False)
            self._listeners = [Listener(lambda: plain, "http")]
        else:
            search_port = self.search_port
            assert search_port is not None
            directory = pki.directory
            # TestPKI(dir) at every build: a CRL granian cannot read would abort the process
            self._listeners = [
                Listener(lambda: server(self.app, self.port, login_tls(TestPKI(directory))), "login"),
                Listener(lambda: server(self.search_app, search_port, search_tls(TestPKI(directory))), "search"),
            ]
        ready = threading.Event()
        failed: list[BaseException] = []

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            try:
                for listener in self._listeners:
                    await listener.start(timeout=timeout)
            except BaseException as exc:
                failed.append(exc)
                raise
            finally:
                ready.set()
            await asyncio.gather(*(listener.wait() for listener in self._listeners))

        self._thread = threading.Thread(target=run, args=(main(),), daemon=True, name="catalogue-http")
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"the catalogue's HTTP listener did not start within {timeout:g} s")
        if failed:
            raise RuntimeError(f"the catalogue's HTTP listener did not start: {failed[0]!r}") from failed[0]
        wait_listening(self.host, [self.port, *([self.search_port] if self.search_port else [])], timeout)
        return self

    def revoke(self, cert: Path, timeout: float = 30.0) -> int:
        """List a client certificate in the CRL and restart the login listener; its serial."""
        if self.pki is None or self._loop is None:
            raise RuntimeError("revoke needs a running TLS listener (CatalogueHttp(pki=…).start())")
        serial = self.pki.revoke(cert)
        login = self._listeners[0]
        asyncio.run_coroutine_threadsafe(login.restart(), self._loop).result(timeout)
        return serial

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None:
            for listener in self._listeners:
                with contextlib.suppress(RuntimeError):  # the loop already closed
                    self._loop.call_soon_threadsafe(listener.request_stop)
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
            self.search_app.current = None

    def switch(self, gateway: Gateway, *, token_ttl: dt.timedelta = dt.timedelta(hours=1)) -> HttpApp:
        """Answer from `gateway` from now on (also when a scenario restarts its gateway)."""
        tokens = TokenBook(token_ttl)  # shared by both hosts: the login host's idToken opens the search host
        login: WebApiHost = "login" if self.pki is not None else "both"
        app = HttpApp(gateway, tokens, admin=None, webapi=True, convenience=self.pki is None, host=login)
        self.app.current = app
        if self.pki is not None:
            self.search_app.current = HttpApp(
                gateway, tokens, admin=None, webapi=True, convenience=False, host="search"
            )
        return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
