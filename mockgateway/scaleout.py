"""`serve --workers N`: more processes for the hot path, one gateway as far as clients can tell.

One process holds one GIL, and this stack tops out near 7k requests/s a process
(docs/performance-baseline.md); the target is 10k on two cores. With `--workers N` the primary
(the ordinary server: admin API, folders, TLS Web API, feature workers, the journal clients read)
starts N − 1 replicas that listen on the same plain-HTTP port (SO_REUSEPORT: the kernel spreads
connections) and share the SQLite store.

What a replica answers itself: 資格確認 (OQSsiquc01) on the convenience route, and Web API searches
with a token it has learned. Everything else (admin API, login, bulk, 医療情報, the card reader,
other API ids, unknown tokens) is forwarded to the primary over a private loopback listener, so it
behaves exactly as with one process.

What the admin API changes reaches the replicas through the control state: the primary's
publisher thread looks every 20 ms at the clock, the fault rules, the people generation, the
照会番号 table and new Web API tokens; when something changed it writes a snapshot to the store
(`state` key `scaleout.control`) and bumps a counter in shared memory, which each replica reads
(one memory load) before answering. A replica then restores the clock, rebuilds its fault rules,
reloads its people index and its 照会番号 when they changed. While any fault rule with a `times`
budget exists, replicas forward every request, so the budget is spent exactly once.

Journal: each replica keeps its own (bounded like the primary's); reading the primary's journal
(GET /admin/journal, its size in /admin/status) first pulls the replicas' new entries in and
records them with the primary's ids, so one journal shows every exchange. Nothing is serialised on
the request path. Ids follow arrival in the primary's journal, not the instant of the exchange.

Not shared: the TLS Web API listener and the folders stay with the primary (one process each).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson

from mockgateway.config import Config
from mockgateway.control.faults import FaultBook, rule_from_dict
from mockgateway.control.journal import Journal, JournalEntry
from mockgateway.control.tokens import Token, TokenBook
from mockgateway.domain.clock import clock_from_json, clock_to_json
from mockgateway.engine import Gateway
from mockgateway.store import number_map
from mockgateway.store.index import PeopleIndex
from mockgateway.transports.http import (
    JSON,
    SEARCH_PATH,
    HttpApp,
    HttpProtocol,
    Immediate,
    Scope,
    TooLarge,
    is_loopback,
    read_body,
    too_large,
)
from mockgateway.transports.plainhttp import PlainServer, run

log = logging.getLogger(__name__)

STATE_KEY = "scaleout.control"
TOKENS = """
CREATE TABLE IF NOT EXISTS scaleout_tokens (
    value TEXT PRIMARY KEY, medical_institution TEXT, issued TEXT NOT NULL, expires TEXT NOT NULL
);
"""
LOCAL_API = "OQSsiquc01"
PUBLISH_EVERY = 0.02
SERVE_EVERY = 0.005  # how often a replica looks whether its journal is wanted


# -- tokens ---------------------------------------------------------------------------------------


class SharedTokenBook(TokenBook):
    """The primary's book: remembers what it issued so the publisher can hand it to replicas."""

    def __init__(self, ttl: dt.timedelta, max_tokens: int = 100_000) -> None:
        super().__init__(ttl, max_tokens)
        self.fresh: list[Token] = []

    def issue(self, now: dt.datetime, medical_institution: str | None) -> Token:
        token = super().issue(now, medical_institution)
        with self._lock:
            self.fresh.append(token)
        return token

    def take_fresh(self) -> list[Token]:
        with self._lock:
            out, self.fresh = self.fresh, []
        return out


class ReplicaTokenBook(TokenBook):
    """A replica's book: learns tokens from the store when it meets one it does not know."""

    def __init__(self, ttl: dt.timedelta, gateway: Gateway) -> None:
        super().__init__(ttl)
        self.gateway = gateway

    def learn(self, value: str) -> Token | None:
        row = (
            self.gateway.store.connection()
            .execute("SELECT medical_institution, issued, expires FROM scaleout_tokens WHERE value = ?", (value,))
            .fetchone()
        )
        if row is None:
            return None
        token = Token(value, row[0], dt.datetime.fromisoformat(row[1]), dt.datetime.fromisoformat(row[2]))
        with self._lock:
            self._tokens[value] = token
        return token


# -- the control state ----------------------------------------------------------------------------


def _reference_fingerprint(gateway: Gateway) -> list[int]:
    try:
        row = gateway.store.connection().execute("SELECT count(*), max(rowid) FROM reference_numbers").fetchone()
    except Exception:  # the feature is not installed
        return [0, 0]
    return [int(row[0]), int(row[1] or 0)]


def snapshot(gateway: Gateway) -> dict[str, Any]:
    rules = gateway.faults.rules()
    return {
        "clock": clock_to_json(gateway.clock.state),
        "faults": [r.as_dict() for r in rules],
        "limited_faults": any(r.times is not None for r in rules),
        "people": number_map.generation(gateway.store.connection()),
        "reference_numbers": _reference_fingerprint(gateway),
    }


class Publisher:
    """In the primary: publish the control state when it changes (a thread, every 20 ms)."""

    def __init__(self, gateway: Gateway, tokens: SharedTokenBook, counter: Any) -> None:
        self.gateway, self.tokens, self.counter = gateway, tokens, counter
        self._stop = threading.Event()
        self._last = b""
        self._thread = threading.Thread(target=self._run, name="scaleout-publisher", daemon=True)
        gateway.store.ensure_schema(TOKENS)

    def start(self) -> None:
        self.publish()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(PUBLISH_EVERY):
            try:
                self.publish()
            except Exception:  # never let the publisher die: replicas would drift silently
                log.exception("publishing the control state")

    def publish(self) -> None:
        fresh = self.tokens.take_fresh()
        if fresh:
            with self.gateway.store.transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO scaleout_tokens VALUES (?, ?, ?, ?)",
                    [(t.value, t.medical_institution, t.issued.isoformat(), t.expires.isoformat()) for t in fresh],
                )
        blob = orjson.dumps(snapshot(self.gateway))
        if blob != self._last:
            self.gateway.store.set_state(STATE_KEY, orjson.loads(blob))
            self._last = blob
            self.counter.value += 1


class Follower:
    """In a replica: apply the primary's control state when the shared counter moves."""

    def __init__(self, gateway: Gateway, counter: Any) -> None:
        self.gateway, self.counter = gateway, counter
        self.seen = -1
        self.people = -1
        self.references: list[int] = []
        self.limited_faults = False
        self._lock = threading.Lock()

    def sync(self) -> None:
        if self.counter.value == self.seen:
            return
        with self._lock:
            current = self.counter.value
            if current == self.seen:
                return
            state = self.gateway.store.get_state(STATE_KEY)
            if isinstance(state, dict):
                self._apply(state)
            self.seen = current

    def _apply(self, state: dict[str, Any]) -> None:
        g = self.gateway
        g.clock.restore(clock_from_json(state["clock"]))
        book = FaultBook()
        for spec in state["faults"]:
            book.add(rule_from_dict({k: v for k, v in spec.items() if k not in ("id", "fired")}))
        g.faults = book
        self.limited_faults = bool(state["limited_faults"])
        if state["people"] != self.people:
            g.index = PeopleIndex.from_store(g.store, g.clock.today())
            self.people = state["people"]
        if state["reference_numbers"] != self.references:
            _reload_reference_numbers(g)
            self.references = state["reference_numbers"]
        g.store.touch()  # the primary's writes do not count here: remembered answers start afresh


def _reload_reference_numbers(gateway: Gateway) -> None:
    try:
        from mockgateway.services import eligibility, reference_numbers
    except ImportError:  # pragma: no cover - the feature is part of the package
        return
    service = gateway.services.get(eligibility.API_ID)
    if isinstance(service, eligibility.EligibilityService) and service.reference_numbers is not None:
        service.reference_numbers = reference_numbers.ReferenceNumberRegistry(gateway.store).lookup


# -- the journal ----------------------------------------------------------------------------------


class ReplicaJournal(Journal):
    """A replica keeps its entries like any journal and hands them over only when the primary's
    journal is read: nothing is serialised on the request path."""

    def __init__(
        self, outbox: Any, demand: Any, acks: Any, clears: Any, cleared: Any, slot: int, **bounds: int
    ) -> None:
        super().__init__(**bounds)
        self.outbox, self.demand, self.acks, self.slot = outbox, demand, acks, slot
        self.clears, self.cleared = clears, cleared
        self._shipped = 0
        self._cleared = clears.value
        threading.Thread(target=self._serve, name="journal-replica", daemon=True).start()

    def _serve(self) -> None:
        while True:
            time.sleep(SERVE_EVERY)
            if self.clears.value != self._cleared:
                self._cleared = self.clears.value
                self.clear()
                self.cleared[self.slot] = self._cleared
            wanted = self.demand.value
            if self.acks[self.slot] == wanted:
                continue
            batch = self.entries(since=self._shipped)
            if batch:
                self._shipped = batch[-1].id
            # always answer, even with nothing: the primary waits for one message per replica,
            # since a queue's put reaches the reader later than a shared-memory ack would
            with contextlib.suppress(Exception):
                self.outbox.put((self.slot, wanted, batch))
            self.acks[self.slot] = wanted


class MergingJournal(Journal):
    """The primary's journal: before it is read, the replicas' new entries are pulled in and
    recorded (with the primary's ids), so GET /admin/journal shows every process's exchanges."""

    def __init__(self, inbox: Any, demand: Any, acks: Any, clears: Any, cleared: Any, **bounds: int) -> None:
        super().__init__(**bounds)
        self.inbox, self.demand, self.acks, self.clears, self.cleared = inbox, demand, acks, clears, cleared
        self._pull_lock = threading.Lock()

    def pull(self, timeout: float = 3.0) -> None:
        """Ask every replica for its new entries and wait for each one's answer (a replica that
        does not answer within `timeout` is stuck or gone: its entries come with a later read)."""
        with self._pull_lock:
            self.demand.value += 1
            wanted = self.demand.value
            deadline = time.monotonic() + timeout
            answered: set[int] = set()
            while len(answered) < len(self.acks):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    slot, demand, batch = self.inbox.get(timeout=remaining)
                except (queue.Empty, EOFError, OSError):
                    break
                self._take(batch)
                if demand == wanted:
                    answered.add(slot)
            self._drain()

    def _drain(self) -> None:
        while True:
            try:
                _slot, _demand, batch = self.inbox.get_nowait()
            except (queue.Empty, EOFError, OSError):
                return
            self._take(batch)

    def _take(self, batch: list[JournalEntry]) -> None:
        for entry in batch:
            entry.id = 0
            super().record(entry)

    def entries(self, **filters: Any) -> list[JournalEntry]:
        self.pull()
        return super().entries(**filters)

    def clear(self, timeout: float = 1.0) -> None:
        """Clears every process's journal before returning, so what follows is all kept."""
        with self._pull_lock:
            self.clears.value += 1
            wanted = self.clears.value
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not all(done == wanted for done in self.cleared):
                time.sleep(0.002)
            self._drain()
            super().clear()

    def __len__(self) -> int:
        self.pull()
        return super().__len__()


# -- forwarding to the primary ----------------------------------------------------------------------

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}


async def forward(scope: Scope, protocol: HttpProtocol, body: bytes, port: int) -> None:
    """Send the request to the primary's private listener and relay its answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        target = scope.path + (f"?{scope.query_string}" if scope.query_string else "")
        lines = [f"{scope.method} {target} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in scope.headers.items() if k.lower() not in _HOP]
        lines += ["Connection: close", "", ""]
        writer.write("\r\n".join(lines).encode("latin-1") + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        headers: list[tuple[str, str]] = []
        length = None
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
            elif name.lower() not in _HOP:
                headers.append((name.strip().lower(), value.strip()))
        content = await (reader.readexactly(length) if length is not None else reader.read())
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        detail = orjson.dumps({"error": f"the primary did not answer: {exc}"})
        protocol.response_bytes(502, [("content-type", JSON)], detail)
        return
    finally:
        writer.close()
    protocol.response_bytes(status, headers, content)


class ReplicaApp:
    """A replica's RSGI app: the hot path here, the rest at the primary."""

    def __init__(
        self, gateway: Gateway, tokens: ReplicaTokenBook, follower: Follower, primary_port: int, *, webapi: bool
    ) -> None:
        self.gateway, self.tokens, self.follower, self.port = gateway, tokens, follower, primary_port
        self.webapi = webapi  # the Web API is served on the plain port only with --webapi-plain
        self.http = HttpApp(gateway, tokens, admin=None, webapi=True)

    async def __rsgi__(self, scope: Scope, protocol: HttpProtocol) -> None:
        if scope.proto != "http":
            return
        self.follower.sync()
        path = scope.path
        if self._local(scope):
            await self.http.__rsgi__(scope, protocol)  # the body limit and the answer, as in one process
            return
        try:
            body = await read_body(scope, protocol, self.gateway.settings.max_request_bytes)
        except TooLarge as exc:
            too_large(protocol, exc)
            return
        if path.startswith("/admin") and not is_loopback(scope.client):
            protocol.response_bytes(403, [("content-type", JSON)], b'{"error":"loopback clients only"}')
            return
        await forward(scope, protocol, body, self.port)

    def answer_now(self, scope: Scope, body: bytes) -> Immediate:
        """The local routes without a task (plainhttp); None sends the rest through `__rsgi__`."""
        self.follower.sync()
        return self.http.answer_now(scope, body) if self._local(scope) else None

    def _local(self, scope: Scope) -> bool:
        """What this replica answers itself: 資格確認, and searches with a token it knows."""
        if self.follower.limited_faults or scope.method != "POST":
            return False
        path = scope.path
        return path == "/oqs/" + LOCAL_API or (self.webapi and path == SEARCH_PATH and self._known(scope))

    def _known(self, scope: Scope) -> bool:
        header = scope.headers.get("authorization")
        if not header:
            return False
        value = str(header).removeprefix("Bearer ").strip()
        return value in self.tokens._tokens or self.tokens.learn(value) is not None


# -- processes ------------------------------------------------------------------------------------


class Replicas:
    """Started by the primary (server.start) when config.workers > 1."""

    def __init__(self, config: Config, gateway: Gateway, tokens: SharedTokenBook) -> None:
        ctx = multiprocessing.get_context("spawn")
        count = config.workers - 1
        self.config = config
        self.counter = ctx.RawValue("Q", 0)
        self.demand = ctx.RawValue("Q", 0)
        self.clears = ctx.RawValue("Q", 0)
        self.acks = ctx.RawArray("Q", count)
        self.cleared = ctx.RawArray("Q", count)
        self.inbox = ctx.Queue()
        self.primary_port = _free_port()
        bounds = {
            "max_entries": gateway.journal.max_entries,
            "max_body_bytes": gateway.journal.max_body_bytes,
            "max_total_bytes": gateway.journal.max_total_bytes,
        }
        gateway.journal = MergingJournal(self.inbox, self.demand, self.acks, self.clears, self.cleared, **bounds)
        self.publisher = Publisher(gateway, tokens, self.counter)
        shared = (self.counter, self.inbox, self.demand, self.acks, self.clears, self.cleared)
        self.processes = [
            ctx.Process(
                target=run_replica,
                args=(config, self.primary_port, shared, bounds, slot),
                name=f"mockgateway-replica-{slot + 1}",
                daemon=True,
            )
            for slot in range(count)
        ]

    def start(self) -> None:
        self.publisher.start()
        for process in self.processes:
            process.start()

    def stop(self) -> None:
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.join(10)
        self.publisher.stop()

    def internal_server(self, app: HttpApp) -> PlainServer:
        """The primary's private listener the replicas forward to (loopback, plain HTTP)."""
        limit = app.gateway.settings
        return PlainServer(app, "127.0.0.1", self.primary_port, limit=lambda: limit.max_request_bytes, reuse_port=False)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_replica(config: Config, primary_port: int, shared: tuple[Any, ...], bounds: dict[str, int], slot: int) -> None:
    """A replica process: its own engine on the shared store, the shared plain-HTTP port."""
    from mockgateway.app import build_gateway
    from mockgateway.control.latency import parse_latency
    from mockgateway.gc_pauses import GcPauses

    counter, outbox, demand, acks, clears, cleared = shared
    number = slot + 1
    logging.basicConfig(level=logging.WARNING, format=f"%(levelname)s replica-{number} %(name)s: %(message)s")
    config = replace(config, folder=False, fixtures=[], reset_clock=False)  # the primary did any reset
    gateway = build_gateway(config)
    seed = None if config.fault_seed is None else config.fault_seed + number
    gateway.settings.latency = parse_latency(config.latency, seed)
    gateway.journal = ReplicaJournal(outbox, demand, acks, clears, cleared, slot, **bounds)
    follower = Follower(gateway, counter)
    follower.sync()
    gc.collect()  # as the primary does (server.start): the loaded state leaves the collector's scans
    gc.freeze()
    tokens = ReplicaTokenBook(dt.timedelta(seconds=config.token_ttl_seconds), gateway)
    app = ReplicaApp(gateway, tokens, follower, primary_port, webapi=config.webapi_plain)
    parent = os.getppid()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        settings = gateway.settings
        server = PlainServer(app, config.host, config.http_port, limit=lambda: settings.max_request_bytes)

        def stop() -> None:
            loop.call_soon_threadsafe(server.stop)

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop)
        watch = asyncio.create_task(_watch_parent(parent, stop))
        pauses = asyncio.create_task(GcPauses(full_every=config.gc_full_every).run())  # as the primary's
        loop.call_later(0.2, lambda: print(f"mockgateway replica {number} ready (pid {os.getpid()})", flush=True))
        await server.serve()
        watch.cancel()
        pauses.cancel()

    run(main())
    gateway.store.close()


async def _watch_parent(parent: int, stop: Callable[[], None]) -> None:
    """A replica never outlives its primary."""
    while True:
        await asyncio.sleep(1)
        if os.getppid() != parent:
            stop()
            return
