"""The Web API's two TLS hosts as granian servers, and restarting one in place.

The real Web API answers on two hosts (docs/pki.md): the login (`…/MSA12020/ILI12020SV01/auth`)
on one that verifies the 医療機関's client certificate at the handshake, the search
(`…/MSA01030/ILI01030SV01/search`) on another that presents a server certificate only and
authorises by the `Authorization` header. `login_tls` and `search_tls` are the granian options for
each, used by the gateway (server.py) and by the catalogue's listener (harness/http.py) alike.

granian reads the CA and the CRL when a worker starts. `Server.reload()` starts a new worker, but
the old one keeps accepting handshakes until the respawn interval (3.5 s, not settable on the
embedded server) has passed, so a revoked certificate still gets in now and then meanwhile
(measured, tests/transports/test_listeners.py). A certificate revoked while the gateway runs is therefore
applied by `Listener.restart()`: the login server is stopped and a new one bound to the same port,
on the same loop (a few milliseconds in which the port refuses connections); the search listener
and the folders never notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockgateway.certs.institution_pki import TestPKI

log = logging.getLogger(__name__)

ServerFactory = Callable[[], Any]  # → granian.server.embed.Server


def login_tls(pki: TestPKI) -> dict[str, Any]:
    """Mutual TLS: a client certificate of the test CA, valid and not in the CRL, is required."""
    from granian.constants import SSLProtocols

    return {
        "ssl_cert": pki.server_cert,
        "ssl_key": pki.server_key,
        "ssl_ca": pki.ca_cert,
        "ssl_crl": [pki.crl],
        "ssl_client_verify": True,
        "ssl_protocol_min": SSLProtocols.tls12,  # older レセコン stacks speak TLS 1.2 only
    }


def search_tls(pki: TestPKI) -> dict[str, Any]:
    """Server certificate only: no CertificateRequest is sent, so no client certificate is asked
    for; a client configured with one simply does not send it, and gets in as any other."""
    from granian.constants import SSLProtocols

    return {"ssl_cert": pki.server_cert, "ssl_key": pki.server_key, "ssl_protocol_min": SSLProtocols.tls12}


def wait_listening(host: str, ports: list[int], timeout: float) -> None:
    """Return once every port accepts a TCP connection; RuntimeError naming the port after `timeout`."""
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                with socket.create_connection((host, port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} not listening after {timeout:g} s") from None
                time.sleep(0.05)


def crl_stamp(path: Path) -> tuple[int, int] | None:
    """What tells a changed CRL file apart (it is replaced atomically, so the inode changes too)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ino)


class Listener:
    """One granian server that can be stopped and rebuilt on the same port, on the running loop.

    `make` builds a fresh `Server` (reading its certificate files anew). All methods but
    `request_stop` run on the listener's event loop.
    """

    def __init__(self, make: ServerFactory, name: str) -> None:
        self.make = make
        self.name = name
        self.server: Any = None
        self.task: asyncio.Task[None] | None = None
        self.restarts = 0
        self._stopping = False
        self._restarting = False
        self._lock: asyncio.Lock | None = None

    async def start(self, server: Any = None, timeout: float = 10.0) -> None:
        """Serve (a fresh server by default) and return once its address is bound, or raise what
        `serve` raised."""
        server = server if server is not None else self.make()
        bound = asyncio.Event()
        server.on_startup(bound.set)  # called on this loop, once the socket is bound
        self.server = server
        self.task = asyncio.create_task(server.serve(), name=f"listener-{self.name}")
        waiter = asyncio.create_task(bound.wait())
        done, _ = await asyncio.wait({self.task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self.task in done:
            self.task.result()  # raises: the address is in use, a file is unreadable, …
            raise RuntimeError(f"the {self.name} listener stopped while starting")
        if not done:
            raise RuntimeError(f"the {self.name} listener did not bind within {timeout:g} s")

    async def restart(self) -> bool:
        """Stop the server and start a new one on the same port; False when already stopping."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._stopping or self.task is None:
                return False
            fresh = self.make()  # before stopping: files that do not load leave the old one serving
            self._restarting = True
            try:
                self.server.stop()
                with contextlib.suppress(Exception):
                    await self.task
                await self.start(fresh)
            finally:
                self._restarting = False
            self.restarts += 1
            log.info("%s listener restarted (%d)", self.name, self.restarts)
            return True

    def request_stop(self) -> None:
        """Stop for good (call on the loop's thread, e.g. through `call_soon_threadsafe`)."""
        self._stopping = True
        if self.server is not None:
            self.server.stop()

    async def wait(self) -> None:
        """Return when the listener has stopped for good (a restart replaces the task meanwhile)."""
        while True:
            task = self.task
            if task is None:
                return
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
            if not self._restarting and self.task is task:
                return  # stopped, or ended by itself
            if self._lock is not None:  # a restart is under way: let it install the new server
                async with self._lock:
                    pass


class CrlWatch:
    """Restarts a listener whenever the CRL file changes; `run()` until cancelled.

    This is what applies `mockgateway pki revoke` run from another process: it only rewrites
    crl.pem, and the gateway notices within `interval` seconds. `applied()` records a change the
    caller has applied itself (the admin API restarts at once), so it is not applied twice.
    """

    def __init__(self, path: Path, listener: Listener, interval: float = 0.5) -> None:
        self.path = path
        self.listener = listener
        self.interval = interval
        self.last = crl_stamp(path)

    def applied(self) -> None:
        self.last = crl_stamp(self.path)

    async def apply(self) -> bool:
        """Restart the listener for the CRL as it is now."""
        stamp = crl_stamp(self.path)
        restarted = await self.listener.restart()
        self.last = stamp
        return restarted

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            now = crl_stamp(self.path)
            if now is None or now == self.last:
                continue
            try:
                await self.apply()
            except Exception:  # a bad CRL must not end the watch: the old listener keeps serving
                self.last = now
                log.exception("restarting the %s listener after a CRL change failed", self.listener.name)
