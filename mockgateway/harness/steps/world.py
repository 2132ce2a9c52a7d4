"""The scenario's world: a real gateway (SQLite file, real folders watched by inotify) and the client
under test behind its adapter. One gateway per scenario, so scenarios never see each other's state.

Every step that acts as the レセコン goes through `world.act(order)`: the adapter (reference client,
a vendor's folder-watching software, or a vendor command) does it, and the outcome keeps both what
the client reported and what the gateway's journal saw. `world.client` (the reference folder
client itself) remains for steps that have not been ported to orders yet; with any other adapter
it omits the scenario, saying so.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mockgateway.app import build_gateway
from mockgateway.certs.institution_pki import ClientStatus, TestPKI
from mockgateway.client.folder import Exchange, FolderClient
from mockgateway.config import Config
from mockgateway.engine import Gateway
from mockgateway.harness.adapters import ClientAdapter, Environment, cleanup_folders
from mockgateway.harness.orders import Action, Card, Order, yyyymmdd
from mockgateway.harness.outcome import Outcome
from mockgateway.harness.recorder import Recorder, scenario_of
from mockgateway.harness.report import evidence_from_entry
from mockgateway.harness.results import EvidenceItem
from mockgateway.harness.settings import HarnessSettings
from mockgateway.pytest_plugin import omit
from mockgateway.transports.folder import FolderTransport

MAX_EVIDENCE_ENTRIES = 40  # per scenario: keeps the report readable and bounded


@dataclass
class World:
    root: Path
    gateway: Gateway
    folder: FolderTransport
    adapter: ClientAdapter
    settings: HarnessSettings
    scenario_id: str = "scenario"
    scenario_title: str = ""
    medical_institution: str = "1310112345"
    run_token: str = "run"
    http: str | None = None  # base URL of /oqs/{API_ID} and the Web API, when --mg-http-port serves them
    listener: Any = None  # the run's HTTP listener (CatalogueHttp), when it serves this scenario
    webapi: str | None = None  # base URL of the Web API's login host (TLS, client certificate), in `webapi` scenarios
    webapi_search: str | None = None  # … and of its search host (TLS, server certificate only)
    webapi_listener: Any = None  # the catalogue's CatalogueHttp(pki=…), to revoke a certificate mid-scenario
    pki: TestPKI | None = None  # its test PKI: each order gets a client certificate for its 医療機関コード
    certificate_status: ClientStatus = "valid"  # the client certificate the orders hand over
    reuse_certificate: bool = False  # hand over the certificate already issued (e.g. revoked meanwhile)
    last: Outcome | Exchange | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # run at the scenario's end, last first
    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _mark: int = 0

    # -- the client under test -----------------------------------------------------------------

    @property
    def client(self) -> FolderClient:
        """The reference folder client, for steps not yet expressed as orders."""
        if self.adapter.name != "reference":
            omit(f"a step drives the reference folder client directly, not the {self.adapter.name} adapter")
        return FolderClient(self.root)

    def order(
        self,
        action: Action,
        *,
        cards: tuple[Card, ...] = (),
        limit_consent: bool = False,
        on: str | None = None,
        api_id: str = "OQSsiquc01",
        raw: bytes | None = None,
        timeout: float | None = None,
        reception_number: str | None = None,
        medical_institution: str | None = None,
    ) -> Order:
        return Order(
            order_id=f"{self.scenario_id}.{self.run_token}.{next(self._seq)}",
            scenario_id=self.scenario_id,
            scenario_title=self.scenario_title,
            action=action,
            medical_institution=medical_institution or self.medical_institution,
            confirmation_date=on or yyyymmdd(self.gateway.clock.today()),
            cards=cards,
            limit_consent=limit_consent,
            api_id=api_id,
            raw=raw,
            reception_number=reception_number,
            timeout_seconds=timeout if timeout is not None else self.settings.order_timeout,
            gateway={
                "root": str(self.root),
                **({"http": self.http} if self.http else {}),
                **self._webapi_access(medical_institution or self.medical_institution),
            },
        )

    def _webapi_access(self, medical_institution: str) -> dict[str, Any]:
        """Where the TLS Web API is, its CA, and a client certificate for the order's 医療機関コード
        (issued now, so an expired one is expired against real time, as TLS judges it)."""
        if self.webapi is None or self.pki is None:
            return {}
        if self.reuse_certificate:
            cert_path, key_path, p12_path = self.pki.client_paths(medical_institution, self.certificate_status)
        else:
            cert = self.pki.issue_client(medical_institution, self.certificate_status, check_code=False)
            cert_path, key_path, p12_path = cert.cert, cert.key, cert.p12
        access = {
            "url": self.webapi,  # the login host, as before the search host had its own URL
            "login_url": self.webapi,
            "search_url": self.webapi_search,
            "ca": str(self.pki.ca_cert),
            "client_cert": str(cert_path),
            "client_key": str(key_path),
            "client_p12": str(p12_path),
        }
        return {"webapi": access}

    def act(self, order: Order) -> Outcome:
        """Have the client under test carry out the order; keep its report and the journal's view."""
        latest = self.gateway.journal.entries(limit=1)
        self._mark = latest[-1].id if latest else 0
        performed = self.adapter.perform(order)
        if performed.report.status == "unsupported":
            omit(f"the client reported it cannot do this ({order.action}): {performed.report.message}")
        outcome = Outcome(order, performed.report, performed.exchange, self.gateway.journal.entries(since=self._mark))
        self.outcomes.append(outcome)
        self.last = outcome
        return outcome

    def progress(self) -> str:
        """What the gateway saw since the current order, and what lies in the folders (for timeouts)."""
        entries = self.gateway.journal.entries(since=self._mark)
        seen = "; ".join(f"#{e.id} {e.transport} {e.name or e.api_id} → SegmentOfResult {e.segment}" for e in entries)
        listing = {sub: sorted(p.name for p in (self.root / sub).glob("*"))[:5] for sub in ("req", "res")}
        return f"{seen or 'no request'}; req/ holds {listing['req']}, res/ holds {listing['res']}"

    def result(self) -> Outcome | Exchange:
        assert self.last is not None, "no result yet: a もし step must have the client act first"
        return self.last

    # -- evidence --------------------------------------------------------------------------------

    def evidence(self) -> list[EvidenceItem]:
        items: list[EvidenceItem] = []
        for outcome in self.outcomes:
            items.append(EvidenceItem("order", outcome.order.instruction(), {"order": outcome.order.as_json()}))
            report = outcome.report
            items.append(
                EvidenceItem("report", f"{outcome.order.order_id}: {report.status}", {"report": report.as_json()})
            )
        entries = self.gateway.journal.entries()
        for entry in entries[:MAX_EVIDENCE_ENTRIES]:
            items.append(evidence_from_entry(entry))
        if len(entries) > MAX_EVIDENCE_ENTRIES:
            items.append(EvidenceItem("exchange", f"… {len(entries) - MAX_EVIDENCE_ENTRIES} more journal entries"))
        return items


def _scenario_id(request: pytest.FixtureRequest) -> tuple[str, str]:
    info = scenario_of(request.node)
    if info is None:
        return "scenario", request.node.name
    return info.id or request.node.name, info.title


@pytest.fixture
def world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    mockgateway_settings: HarnessSettings,
    mockgateway_adapter: Any,
    mockgateway_recorder: Recorder,
) -> Iterator[World]:
    settings = mockgateway_settings
    root = settings.root if settings.root is not None else tmp_path / "oqs"
    if settings.root is not None:
        root.mkdir(parents=True, exist_ok=True)
        cleanup_folders(root)  # a vendor's fixed root: nothing of the previous scenario stays
    config = Config(root=root, db=tmp_path / "mockgateway.sqlite3", fixtures=[], tls_port=None)
    gateway = build_gateway(config)
    folder = FolderTransport(gateway, config.root)
    folder.start()
    for worker in gateway.workers:
        worker.start()
    scenario_id, title = _scenario_id(request)
    w = World(config.root, gateway, folder, mockgateway_adapter, settings, scenario_id, title)
    w.run_token = mockgateway_recorder.run_token
    serving = contextlib.ExitStack()
    if settings.http_port is not None:  # one listener for the run, answering from this scenario's gateway
        listener = request.getfixturevalue("mockgateway_catalogue_http")
        serving.enter_context(listener.serving(gateway))
        w.http, w.listener = listener.url, listener
    info = scenario_of(request.node)
    if info is not None and "webapi" in info.capabilities:  # the TLS Web API, started for these scenarios only
        secure = request.getfixturevalue("mockgateway_catalogue_webapi")
        serving.enter_context(secure.serving(gateway))
        w.webapi, w.webapi_search, w.pki, w.webapi_listener = secure.url, secure.search_url, secure.pki, secure
    pki_dir = w.pki.directory if w.pki is not None else None
    env = Environment(
        root=config.root, http=w.http, progress=w.progress, webapi=w.webapi, webapi_search=w.webapi_search, pki=pki_dir
    )
    mockgateway_adapter.begin(env)
    try:
        yield w
    finally:
        serving.close()
        try:
            for cleanup in reversed(w.cleanups):
                cleanup()
            mockgateway_recorder.attach(request.node.nodeid, w.evidence())
        finally:
            mockgateway_adapter.end()
            w.folder.stop()  # the world's, which a step may have replaced (a restarted gateway)
            for worker in w.gateway.workers:
                worker.stop()
            w.gateway.store.close()
