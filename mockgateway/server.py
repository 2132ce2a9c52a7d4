"""Run the gateway: engine, folder watcher, feature workers and the HTTP/TLS listeners in one process.

One process keeps one engine, so the clock, fixtures, journal and faults the admin API changes
are exactly what every transport sees. The plain-HTTP listener is our own asyncio server
(transports/plainhttp.py), the TLS ones granian's embedded servers, all in this process's loop
(uvloop when installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockgateway.app import build_gateway
from mockgateway.certs.institution_pki import TestPKI
from mockgateway.config import Config
from mockgateway.control.latency import parse_latency
from mockgateway.control.tokens import TokenBook, new_admin_token
from mockgateway.engine import Gateway
from mockgateway.gc_pauses import GcPauses
from mockgateway.transports.admin import AdminApi
from mockgateway.transports.http import HttpApp
from mockgateway.transports.listeners import CrlWatch, Listener, login_tls, search_tls, wait_listening
from mockgateway.transports.plainhttp import PlainServer, run

log = logging.getLogger(__name__)


def admin_token(config: Config) -> str:
    """The configured token, or one generated once and kept in <root>/admin-token (mode 600)."""
    if config.admin_token:
        return config.admin_token
    path = config.root / "admin-token"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = new_admin_token()
    # Created 0600 from the first byte (never world-readable, not even between a write and a chmod).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token


@dataclass
class Running:
    """Handles to a running gateway, for the CLI and for test fixtures."""

    gateway: Gateway
    config: Config
    token: str
    listeners: list[Listener] = field(default_factory=list)
    login: Listener | None = None  # the Web API's login host, restarted in place on a CRL change
    crl_watch: CrlWatch | None = None
    folder: Any = None
    loop: asyncio.AbstractEventLoop | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def servers(self) -> list[Any]:
        """The servers serving now (a restarted listener's new one included)."""
        return [listener.server for listener in self.listeners]

    def stop(self) -> None:
        if self.loop is not None:
            for listener in self.listeners:
                self.loop.call_soon_threadsafe(listener.request_stop)


def _server(app: Any, host: str, port: int, **options: Any) -> Any:
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server

    return Server(
        app, address=host, port=port, interface=Interfaces.RSGI, log_level=LogLevels.warning, backlog=1024, **options
    )


def _listeners(config: Config, app_plain: HttpApp, login: HttpApp | None, search: HttpApp | None) -> list[Listener]:
    """The plain HTTP listener (plainhttp), and with a TLS port the Web API's login and search hosts (granian)."""
    host = config.host
    settings = app_plain.gateway.settings

    def plain() -> PlainServer:
        return PlainServer(app_plain, host, config.http_port, limit=lambda: settings.max_request_bytes)

    listeners = [Listener(plain, "http")]
    if login is not None and search is not None and config.tls_port and config.search_tls_port:
        pki_dir, login_port, search_port = config.pki_path, config.tls_port, config.search_tls_port
        TestPKI.init(pki_dir)
        # TestPKI(dir) on every build: files granian cannot read abort the process, so check first
        listeners.append(Listener(lambda: _server(login, host, login_port, **login_tls(TestPKI(pki_dir))), "login"))
        listeners.append(Listener(lambda: _server(search, host, search_port, **search_tls(TestPKI(pki_dir))), "search"))
    return listeners


def start(config: Config, on_ready: Callable[[Running], None] | None = None, *, own_process: bool = True) -> Running:
    """Build and run everything; blocks until stopped (SIGINT/SIGTERM or Running.stop()).

    `own_process`: the gateway is what this process is for (`serve`), so it also keeps the cycle
    collector's pauses short (mockgateway/gc_pauses.py); False when embedded (tests, a caller's
    process), whose objects are not ours to freeze."""
    gateway = build_gateway(config)
    gateway.settings.latency = parse_latency(config.latency, config.fault_seed)
    # The index and fixtures are long-lived: move them out of the cycle collector's generations,
    # so full collections do not walk a million objects on the request path.
    gc.collect()
    gc.freeze()
    token = admin_token(config)
    tokens = TokenBook(dt.timedelta(seconds=config.token_ttl_seconds))
    replicas = None
    if config.workers > 1:  # more processes for the hot path, sharing state (mockgateway.scaleout)
        from mockgateway.scaleout import Replicas, SharedTokenBook

        tokens = SharedTokenBook(dt.timedelta(seconds=config.token_ttl_seconds))
    running = Running(gateway, config, token)
    admin = AdminApi(gateway, token, tokens, list(config.fixtures))
    from mockgateway.console import Console

    console = Console(gateway, admin, config.reports_path, config.harness_config)
    app_plain = HttpApp(gateway, tokens, admin=admin, console=console, webapi=config.webapi_plain)
    # One token book for both hosts: an idToken issued by the login host is honoured by the search host.
    app_login = HttpApp(gateway, tokens, admin=None, webapi=True, host="login") if config.tls_port else None
    app_search = HttpApp(gateway, tokens, admin=None, webapi=True, host="search") if config.tls_port else None
    if config.workers > 1:
        assert isinstance(tokens, SharedTokenBook)
        replicas = Replicas(config, gateway, tokens)
    if config.folder:
        from mockgateway.transports.folder import FolderTransport

        running.folder = FolderTransport(
            gateway,
            config.root,
            poll_interval=config.poll_interval,
            settle_seconds=config.settle_seconds,
            trash_retention_days=config.trash_retention_days,
        )
        running.folder.start()
    for worker in gateway.workers:
        worker.start()

    async def main() -> None:
        running.loop = asyncio.get_running_loop()
        running.listeners = _listeners(config, app_plain, app_login, app_search)
        if replicas is not None:
            internal = replicas.internal_server(app_plain)
            running.listeners.append(Listener(lambda: internal, "internal"))
        running.login = next((item for item in running.listeners if item.name == "login"), None)
        watcher: asyncio.Task[None] | None = None
        if running.login is not None:
            running.crl_watch = CrlWatch(TestPKI(config.pki_path).crl, running.login)
            admin.async_routes[("POST", "/admin/pki/revoke")] = _revoke_route(config.pki_path, running.crl_watch)
            watcher = asyncio.create_task(running.crl_watch.run())
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests)
                running.loop.add_signal_handler(sig, running.stop)
        for listener in running.listeners:
            await listener.start()
        if replicas is not None:
            replicas.start()
        if on_ready is not None:
            running.loop.call_later(0.2, on_ready, running)
        pauses = asyncio.create_task(GcPauses(full_every=config.gc_full_every).run()) if own_process else None
        await asyncio.gather(*(listener.wait() for listener in running.listeners))
        for task in (watcher, pauses):
            if task is not None:
                task.cancel()

    try:
        run(main())  # on uvloop: the plain listeners' server and granian's TLS ones share it
    finally:
        if replicas is not None:
            replicas.stop()
        if running.folder is not None:
            running.folder.stop()
        for worker in gateway.workers:
            worker.stop()
        gateway.store.close()
        running.stopped.set()
    return running


def _revoke_route(pki_dir: Path, watch: CrlWatch) -> Callable[[Any], Any]:
    """`POST /admin/pki/revoke` {"medical_institution_code": C, "status": "valid"} or {"cert": path}:
    list the certificate in the CRL and restart the login listener before answering, so the next
    handshake is refused. The search listener and the folders keep running."""

    async def revoke(request: Any) -> tuple[int, Any]:
        from mockgateway.certs.institution_pki import PKIError

        doc = request.json()
        if not isinstance(doc, dict):
            return 400, {"error": 'a JSON object: {"medical_institution_code": "1310112345", "status": "valid"}'}
        pki = TestPKI(pki_dir)
        if doc.get("cert"):
            cert = Path(str(doc["cert"]))
        elif doc.get("medical_institution_code"):
            status = str(doc.get("status", "valid"))
            cert = pki.client_paths(str(doc["medical_institution_code"]), status)[0]  # type: ignore[arg-type]
        else:
            return 400, {"error": "give medical_institution_code (and status, default valid) or cert (a PEM path)"}
        if not cert.is_file():
            return 404, {"error": f"no certificate {cert}"}
        try:
            serial = pki.revoke(cert)
        except PKIError as exc:
            return 400, {"error": str(exc)}
        restarted = await watch.apply()
        return 200, {"revoked": f"{serial:x}", "crl": str(pki.crl), "login_listener_restarted": restarted,
                     "restarts": watch.listener.restarts}  # fmt: skip

    return revoke


def start_in_thread(config: Config, timeout: float = 30) -> Running:
    """For tests and embedding: run `start` in a daemon thread and return once it listens."""
    ready = threading.Event()
    holder: list[Running] = []

    def on_ready(running: Running) -> None:
        holder.append(running)
        ready.set()

    thread = threading.Thread(
        target=start, args=(config, on_ready), kwargs={"own_process": False}, daemon=True, name="mockgateway"
    )
    thread.start()
    if not ready.wait(timeout):
        raise RuntimeError(f"gateway did not start within {timeout} s")
    _wait_listening(config, timeout)
    return holder[0]


def _wait_listening(config: Config, timeout: float) -> None:
    ports = [p for p in (config.http_port, config.tls_port, config.search_tls_port) if p]
    wait_listening(config.host, ports, timeout)


def write_pid(path: Path) -> None:
    import os

    path.write_text(str(os.getpid()), encoding="ascii")
