"""Run the gateway: engine, folder watcher, feature workers and the HTTP/TLS listeners in one process.

One process keeps one engine, so the clock, fixtures, journal and faults the admin API changes
are exactly what every transport sees. The HTTP listeners are granian's embedded servers,
running in this process's asyncio loop.
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
from mockgateway.transports.admin import AdminApi
from mockgateway.transports.http import HttpApp

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
    servers: list[Any] = field(default_factory=list)
    folder: Any = None
    loop: asyncio.AbstractEventLoop | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        if self.loop is not None:
            for server in self.servers:
                self.loop.call_soon_threadsafe(server.stop)


def _servers(config: Config, app_plain: HttpApp, app_tls: HttpApp | None) -> list[Any]:
    from granian.constants import Interfaces, SSLProtocols
    from granian.log import LogLevels
    from granian.server.embed import Server

    common: dict[str, Any] = {"interface": Interfaces.RSGI, "log_level": LogLevels.warning, "backlog": 1024}
    servers = [Server(app_plain, address=config.host, port=config.http_port, **common)]
    if app_tls is not None and config.tls_port:
        pki = TestPKI.init(config.pki_path)
        servers.append(
            Server(
                app_tls,
                address=config.host,
                port=config.tls_port,
                ssl_cert=pki.server_cert,
                ssl_key=pki.server_key,
                ssl_ca=pki.ca_cert,
                ssl_crl=[pki.crl],
                ssl_client_verify=True,
                ssl_protocol_min=SSLProtocols.tls12,  # older レセコン stacks speak TLS 1.2 only
                **common,
            )
        )
    return servers


def start(config: Config, on_ready: Callable[[Running], None] | None = None) -> Running:
    """Build and run everything; blocks until stopped (SIGINT/SIGTERM or Running.stop())."""
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
    app_plain = HttpApp(gateway, tokens, admin=admin, webapi=config.webapi_plain)
    app_tls = HttpApp(gateway, tokens, admin=None, webapi=True) if config.tls_port else None
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
        running.servers = _servers(config, app_plain, app_tls)
        if replicas is not None:
            running.servers.append(replicas.internal_server(app_plain))
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread (tests)
                running.loop.add_signal_handler(sig, running.stop)
        tasks = [asyncio.create_task(s.serve()) for s in running.servers]
        await asyncio.sleep(0)
        if replicas is not None:
            replicas.start()
        if on_ready is not None:
            running.loop.call_later(0.2, on_ready, running)
        await asyncio.gather(*tasks)

    try:
        asyncio.run(main())
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


def start_in_thread(config: Config, timeout: float = 30) -> Running:
    """For tests and embedding: run `start` in a daemon thread and return once it listens."""
    ready = threading.Event()
    holder: list[Running] = []

    def on_ready(running: Running) -> None:
        holder.append(running)
        ready.set()

    thread = threading.Thread(target=start, args=(config, on_ready), daemon=True, name="mockgateway")
    thread.start()
    if not ready.wait(timeout):
        raise RuntimeError(f"gateway did not start within {timeout} s")
    _wait_listening(config, timeout)
    return holder[0]


def _wait_listening(config: Config, timeout: float) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    ports = [p for p in (config.http_port, config.tls_port) if p]
    for port in ports:
        while True:
            try:
                with socket.create_connection((config.host, port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} not listening after {timeout} s") from None
                time.sleep(0.05)


def write_pid(path: Path) -> None:
    import os

    path.write_text(str(os.getpid()), encoding="ascii")
