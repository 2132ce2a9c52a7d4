"""pytest plugin (entry point `mockgateway`): the gateway, its controls and the client under test as
fixtures, plus the certification report.

Fixtures
- `mockgateway_server` (session): `python -m mockgateway serve` in a subprocess on free ports with a
  temporary root; `.root`, `.http`, `.admin` (AdminClient), `.stop()`.
- `mockgateway_admin`, `mockgateway_clock`, `mockgateway_fixtures`, `mockgateway_journal`: the admin
  API of that server, one concept each; `mockgateway_reader`: the card-reader seam (skips until the
  card feature offers it).
- `mockgateway_live` (session): the same gateway in this process (a thread), with direct access to
  its engine (`.gateway`).
- `mockgateway_inprocess`: no server at all: the Web API routes served from an engine inside this
  process through `responses`, for clients that use `requests`.
- `mockgateway_catalogue_webapi` (session): the Web API's login and search hosts over TLS with a
  test PKI, for the catalogue's `webapi` scenarios.
- `mockgateway_settings`, `mockgateway_adapter`: the harness configuration and the client adapter
  (`--mg-adapter reference|folder|command`), `mockgateway_client`: the adapter pointed at the server.
- `mockgateway_docker` (session): the Docker image built and started, when a Docker engine is
  reachable (skips with the reason otherwise).

Options (group "mockgateway"): --mg-config, --mg-adapter, --mg-command, --mg-capabilities,
--mg-root, --mg-orders, --mg-timeout, --mg-report, --mg-expected, --mg-http-port, --mg-select.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import socket
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from mockgateway.config import Config
from mockgateway.harness.catalogue import GATEWAY_APIS
from mockgateway.harness.options import OPTIONS
from mockgateway.harness.recorder import Recorder, scenario_of
from mockgateway.harness.remote import AdminClient, GatewayProcess
from mockgateway.harness.results import OMIT_PREFIX, RunSummary
from mockgateway.harness.settings import HarnessSettings, SettingsError, load
from mockgateway.server import Running, start_in_thread

RECORDER = pytest.StashKey[Recorder]()
SETTINGS = pytest.StashKey[HarnessSettings]()
SERVED = pytest.StashKey[frozenset[str]]()
SUMMARY = pytest.StashKey[RunSummary]()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- options and configuration --------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockgateway", "mockgateway certification harness")
    for option in OPTIONS:
        group.addoption(option.flag, **option.kwargs())


def _settings(config: pytest.Config) -> HarnessSettings:
    path = config.getoption("--mg-config")
    base = load(Path(path)) if path else HarnessSettings()
    return base.with_options(
        adapter=config.getoption("--mg-adapter"),
        command=config.getoption("--mg-command"),
        capabilities=config.getoption("--mg-capabilities"),
        root=config.getoption("--mg-root"),
        orders=config.getoption("--mg-orders"),
        timeout=config.getoption("--mg-timeout"),
        report_dir=config.getoption("--mg-report"),
        expected=config.getoption("--mg-expected"),
        http_port=config.getoption("--mg-http-port"),
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        settings = _settings(config)
    except SettingsError as exc:
        raise pytest.UsageError(f"mockgateway: {exc}") from None
    config.stash[SETTINGS] = settings
    config.stash[RECORDER] = Recorder(
        adapter=settings.adapter, capabilities=sorted(settings.claimed()), expected=settings.expected
    )
    if settings.report_dir is not None:
        # Before junitxml and pytest-bdd configure themselves (tryfirst): default their outputs too.
        settings.report_dir.mkdir(parents=True, exist_ok=True)
        if getattr(config.option, "xmlpath", None) is None:
            config.option.xmlpath = str(settings.report_dir / "junit.xml")
        if getattr(config.option, "cucumber_json_path", None) is None:
            config.option.cucumber_json_path = str(settings.report_dir / "cucumber.json")


def harness_settings(config: pytest.Config) -> HarnessSettings:
    return config.stash[SETTINGS]


def recorder(config: pytest.Config) -> Recorder:
    return config.stash[RECORDER]


def served_apis(config: pytest.Config) -> frozenset[str]:
    """The API ids this gateway build serves (a feature that has not landed serves none)."""
    if SERVED not in config.stash:
        from mockgateway.app import build_gateway

        with tempfile.TemporaryDirectory(prefix="mockgateway-probe-") as tmp:
            gateway = build_gateway(Config(root=Path(tmp), fixtures=[], tls_port=None))
            try:
                config.stash[SERVED] = frozenset(gateway.services)
            finally:
                gateway.store.close()
    return config.stash[SERVED]


def omit(reason: str) -> None:
    """Report the running scenario as omitted (not failed): the client or gateway lacks what it needs."""
    pytest.skip(OMIT_PREFIX + reason)


def omission(config: pytest.Config, capabilities: tuple[str, ...]) -> str | None:
    claimed = harness_settings(config).claimed()
    missing = [c for c in capabilities if c not in claimed]
    if missing:
        return f"the client does not claim capability {', '.join(missing)} (claims: {', '.join(sorted(claimed))})"
    served = served_apis(config)
    for cap in capabilities:
        absent = [api for api in GATEWAY_APIS.get(cap, ()) if api not in served]
        if absent:
            return f"the gateway does not serve {', '.join(absent)} ({cap}) in this build"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--mg-select: keep only the scenarios whose id matches (other tests are left alone)."""
    raw = config.getoption("--mg-select")
    if not raw:
        return
    patterns = [p.strip() for p in str(raw).split(",") if p.strip()]
    keep, drop = [], []
    for item in items:
        info = scenario_of(item)
        if info is None or any(fnmatch.fnmatchcase(info.id or "", p) for p in patterns):
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> bool | None:
    """Catalogue metadata tags (ids, rule/document references, capabilities) are not pytest markers."""
    del function
    if tag.startswith(("OQS-", "rule:", "doc:", "area:", "capability:")):
        return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    info = scenario_of(item)
    if info is None:
        return
    reason = omission(item.config, info.capabilities)
    if reason is not None:
        omit(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after pytest-bdd has annotated the report
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    recorder(item.config).record(item, report, call)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if RECORDER not in config.stash:
        return
    settings = harness_settings(config)
    rec = recorder(config)
    if not rec.results:
        return
    summary = config.stash[SUMMARY] = rec.summary()
    if settings.report_dir is None:
        return
    from mockgateway.harness import report

    summary.write(settings.report_dir / "summary.json")
    report.write(summary, settings.report_dir / "report.html")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """junit.xml is written at session finish by pytest; then it is made to agree with summary.json."""
    xmlpath = getattr(config.option, "xmlpath", None)
    if SUMMARY not in config.stash or not xmlpath or not Path(xmlpath).exists():
        return
    from mockgateway.harness import junit

    junit.rewrite(Path(xmlpath), config.stash[SUMMARY])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if RECORDER not in config.stash:
        return
    rec = recorder(config)
    settings = harness_settings(config)
    if not rec.results or (settings.adapter == "reference" and settings.report_dir is None):
        return
    summary = rec.summary()
    counts = ", ".join(f"{n} {k}" for k, n in summary.counts().items() if n)
    terminalreporter.write_sep("-", f"mockgateway: {counts} (adapter {settings.adapter})")
    for change in summary.changes:
        terminalreporter.write_line(f"  {change.kind}: {change.id} {change.expected} → {change.actual} {change.title}")
    if settings.report_dir is not None:
        terminalreporter.write_line(f"  report: {settings.report_dir / 'report.html'}")


# -- fixtures: the harness ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mockgateway_settings(pytestconfig: pytest.Config) -> HarnessSettings:
    return harness_settings(pytestconfig)


@pytest.fixture(scope="session")
def mockgateway_recorder(pytestconfig: pytest.Config) -> Recorder:
    return recorder(pytestconfig)


@pytest.fixture(scope="session")
def mockgateway_adapter(mockgateway_settings: HarnessSettings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The client adapter selected by --mg-adapter / the TOML file (one per session)."""
    try:
        return mockgateway_settings.make_adapter(orders_fallback=tmp_path_factory.mktemp("orders"))
    except SettingsError as exc:
        raise pytest.UsageError(f"mockgateway: {exc}") from None


@pytest.fixture(scope="session")
def mockgateway_catalogue_http(mockgateway_settings: HarnessSettings) -> Iterator[Any]:
    """One HTTP listener for the catalogue run (--mg-http-port), serving the current scenario's gateway."""
    from mockgateway.harness.http import CatalogueHttp

    if mockgateway_settings.http_port is None:
        pytest.skip("no --mg-http-port: the catalogue serves the folders only")
    listener = CatalogueHttp(mockgateway_settings.http_port).start()
    try:
        yield listener
    finally:
        listener.stop()


@pytest.fixture(scope="session")
def mockgateway_catalogue_webapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Web API over TLS for the catalogue's `webapi` scenarios: a test PKI (`.pki`, client
    certificates issued per order) and its two hosts on free ports (`.url` the login host with client
    certificates, `.search_url` the search host), serving the current scenario."""
    from mockgateway.certs.institution_pki import TestPKI
    from mockgateway.harness.http import CatalogueHttp

    pki = TestPKI.init(tmp_path_factory.mktemp("pki"))
    listener = CatalogueHttp(0, pki=pki).start()
    try:
        yield listener
    finally:
        listener.stop()


# -- fixtures: a gateway --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mockgateway_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """The whole gateway as a subprocess on free ports, with a temporary root and the shipped personas."""
    server = GatewayProcess.start(tmp_path_factory.mktemp("mockgateway-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mockgateway_admin(mockgateway_server: GatewayProcess) -> AdminClient:
    return mockgateway_server.admin


class Clock:
    """The gateway's virtual clock (JST)."""

    def __init__(self, admin: AdminClient) -> None:
        self.admin = admin

    def set(self, when: dt.datetime | str) -> str:
        raw = when if isinstance(when, str) else when.strftime("%Y%m%d%H%M%S")
        return str(self.admin.set_clock(raw)["now"])

    def advance(self, **delta: float) -> str:
        return str(self.admin.advance(**delta)["now"])

    def now(self) -> str:
        return self.admin.now()


@pytest.fixture
def mockgateway_clock(mockgateway_admin: AdminClient) -> Clock:
    return Clock(mockgateway_admin)


@pytest.fixture
def mockgateway_fixtures(mockgateway_admin: AdminClient) -> Iterator[Callable[..., Any]]:
    """`load(document_or_path, replace=True)`; the default personas are restored afterwards."""

    def load_fixtures(document: str | Path | dict[str, Any], *, replace: bool = True) -> Any:
        if isinstance(document, Path):
            document = document.read_text(encoding="utf-8")
        return mockgateway_admin.load_fixtures(document, replace=replace)

    yield load_fixtures
    mockgateway_admin.reset()


class JournalView:
    """What clients sent, from the gateway's journal; `mark()` then `since_mark()` per test step."""

    def __init__(self, admin: AdminClient) -> None:
        self.admin = admin
        self._mark = 0

    def entries(self, **query: Any) -> list[dict[str, Any]]:
        return self.admin.journal(**query)

    def mark(self) -> int:
        entries = self.admin.journal(limit=1)
        self._mark = int(entries[-1]["id"]) if entries else 0
        return self._mark

    def since_mark(self, **query: Any) -> list[dict[str, Any]]:
        return self.admin.journal(since=self._mark, **query)


@pytest.fixture
def mockgateway_journal(mockgateway_admin: AdminClient) -> JournalView:
    view = JournalView(mockgateway_admin)
    view.mark()
    return view


class Reader:
    """The face-authenticating card reader (the card feature's admin routes, docs/card.md)."""

    PLACE = "POST /admin/reader/place"

    def __init__(self, admin: AdminClient) -> None:
        self.admin = admin

    def place(self, person_id: str | None, **options: Any) -> dict[str, Any]:
        """Put a persona's My Number card on the reader (options: mode, pins, face, consents, …)."""
        return dict(self.admin.call("POST", "/admin/reader/place", {"person_id": person_id, **options}))

    def last(self) -> dict[str, Any]:
        return dict(self.admin.call("GET", "/admin/reader/last"))


@pytest.fixture
def mockgateway_reader(mockgateway_admin: AdminClient) -> Reader:
    """The card-reader seam: skips, saying so, when this gateway build serves no reader routes."""
    if Reader.PLACE not in mockgateway_admin.routes():
        pytest.skip(f"the card reader is not served by this gateway build (no {Reader.PLACE})")
    return Reader(mockgateway_admin)


@pytest.fixture(scope="session")
def mockgateway_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The whole gateway (folders, HTTP, TLS Web API, admin API) in this process, on free ports."""
    root = tmp_path_factory.mktemp("mockgateway")
    config = Config(root=root, http_port=_free_port(), tls_port=_free_port(), search_port=_free_port())
    running = start_in_thread(config)
    yield running
    running.stop()
    running.stopped.wait(10)


@pytest.fixture
def mockgateway_client(mockgateway_adapter: Any, mockgateway_server: GatewayProcess) -> Iterator[Any]:
    """The client adapter pointed at the subprocess gateway (its folder root and HTTP base URL)."""
    from mockgateway.harness.adapters import Environment

    mockgateway_adapter.begin(Environment(root=mockgateway_server.root, http=mockgateway_server.http))
    try:
        yield mockgateway_adapter
    finally:
        mockgateway_adapter.end()


@pytest.fixture
def mockgateway_inprocess(tmp_path: Path) -> Iterator[Any]:
    """The Web API and convenience routes served by an in-process engine through `responses`."""
    from mockgateway.app import build_gateway
    from mockgateway.transports.inprocess import serve

    gateway = build_gateway(Config(root=tmp_path / "oqs", tls_port=None))
    try:
        with serve(gateway) as served:
            yield served
    finally:
        gateway.store.close()


@pytest.fixture(scope="session")
def mockgateway_docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Docker image built from this checkout and started with a mounted folder root."""
    from mockgateway.harness.docker import DockerUnavailable, start_container

    try:
        container = start_container(tmp_path_factory.mktemp("docker-root"))
    except DockerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield container
    finally:
        container.stop()
