"""The console's HTTP handler, mounted at /console on the admin (plain-HTTP, loopback) listener.

Routes
- `GET /console/login`, `POST /console/login` (form field `token`), `POST /console/logout`,
  `GET /console/lang?to=ja|en&back=…`, `GET /console/static/console.css` — served without a session
  (the login page and what it needs).
- `GET /console/{reader,journal,controls,runs}`: the pages.
- `… /console/api/admin/<route>`: the admin API's own routes (transports/admin.py `AdminApi.route`),
  the console's only way to change state; the session cookie stands in for the token.
- `GET /console/api/{people,preview,journal,journal/<id>,bulk}`: read-only views (console/views.py).
- `GET /console/events`: the journal as server-sent events (filters as query parameters).
- `GET /console/reports/<run>/report.html`: a harness report from the reports folder.
"""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson

from mockgateway.console import auth, pages, views
from mockgateway.console.i18n import word
from mockgateway.console.runs import Runs
from mockgateway.control.admin_routes import AdminError, AdminRequest
from mockgateway.domain.clock import format_timestamp
from mockgateway.engine import Gateway
from mockgateway.harness.catalogue import CAPABILITIES
from mockgateway.transports.admin import AdminApi
from mockgateway.transports.http import JSON, HttpProtocol, Scope, is_loopback

HTML = "text/html; charset=utf-8"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox"
STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
SSE_POLL = 0.25  # seconds between looks at the journal
SSE_LIFETIME = 20.0  # then the stream ends and EventSource reconnects (Last-Event-ID): no stream outlives a stop
JOURNAL_FILTERS = ("transport", "api_id", "mic", "outcome")
LOGIN_FIRST = "log in first: open /console/login and enter the admin token"


class Console:
    def __init__(
        self, gateway: Gateway, admin: AdminApi, reports_dir: Path, harness_config: Path | None = None
    ) -> None:
        self.gateway = gateway
        self.admin = admin
        self.reports_dir = reports_dir
        self.sessions = auth.Sessions()
        self._static: dict[str, bytes] = {}
        self.runs = Runs(reports_dir, harness_config, sorted(CAPABILITIES))
        self._add_admin_routes()

    def _add_admin_routes(self) -> None:
        """Harness runs are started through the admin API like every other action (token or console)."""

        def start(request: AdminRequest) -> tuple[int, Any]:
            doc = request.json()
            if not isinstance(doc, dict) or not doc.get("capability"):
                raise AdminError(400, 'a JSON object {"capability": "eligibility"} is expected')
            try:
                return 201, self.runs.start(str(doc["capability"])).as_dict()
            except RuntimeError as exc:
                raise AdminError(409, str(exc)) from None

        def current(request: AdminRequest) -> tuple[int, Any]:
            run = self.runs.current()
            if run is None:
                return 404, {"error": "no run has been started since the gateway started"}
            since = request.query.get("since", "0")
            return 200, run.as_dict(int(since) if since.isdigit() else 0)

        def listing(_: AdminRequest) -> tuple[int, Any]:
            return 200, {"folder": str(self.reports_dir), "reports": views.reports(self.reports_dir)}

        routes = self.gateway.admin_routes
        routes[("POST", "/admin/runs")] = start
        routes[("GET", "/admin/runs/current")] = current
        routes[("GET", "/admin/runs")] = listing

    # -- plumbing ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, protocol: HttpProtocol) -> None:
        headers = {k: scope.headers.get(k) for k in ("cookie", "origin", "host", "sec-fetch-site", "x-csrf-token",
                                                     "content-type", "last-event-id")}  # fmt: skip
        present = {k: v for k, v in headers.items() if v is not None}
        if scope.path == "/console/events" and scope.method == "GET":
            if not is_loopback(scope.client) or self._session(present) is None:
                await protocol()
                self._reply(protocol, 401, JSON, orjson.dumps({"error": LOGIN_FIRST}))
                return
            await self._events(scope, protocol, present)
            return
        body = await protocol()
        status, ctype, payload, extra = self.handle(scope, present, body)
        self._reply(protocol, status, ctype, payload, extra)

    def _reply(
        self,
        protocol: HttpProtocol,
        status: int,
        ctype: str,
        payload: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        extra = extra or []
        headers = [
            ("content-type", ctype),
            ("cache-control", "no-store"),
            *([] if any(k == "content-security-policy" for k, _ in extra) else [("content-security-policy", PAGE_CSP)]),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),  # not no-referrer: Chrome would then send Origin: null
            *extra,
        ]
        protocol.response_bytes(status, headers, payload)

    def _session(self, headers: dict[str, str]) -> auth.Session | None:
        return self.sessions.get(auth.cookies(headers.get("cookie")).get(auth.COOKIE))

    def _lang(self, headers: dict[str, str]) -> str:
        lang = auth.cookies(headers.get("cookie")).get(auth.LANG_COOKIE, "ja")
        return lang if lang in ("ja", "en") else "ja"

    def handle(
        self, scope: Scope, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes, list[tuple[str, str]]]:
        """(status, content type, body, extra headers) for one request; no I/O beyond files read."""
        method, path = scope.method, scope.path.rstrip("/") or "/"
        if not is_loopback(scope.client):
            return _json(403, {"error": "the console answers loopback clients only"})
        lang = self._lang(headers)
        if path == "/console/static/console.css" and method == "GET":
            return self._static_file("console.css")
        if path == "/console/lang" and method == "GET":
            return self._set_lang(scope.query_string)
        if path == "/console/login":
            return self._login(method, headers, body, lang)
        session = self._session(headers)
        if session is None:
            page = path.removeprefix("/console").lstrip("/")
            if method == "GET" and (page in ("", *pages.PAGES) or path.startswith("/console/reports/")):
                return _redirect("/console/login")
            return _json(401, {"error": LOGIN_FIRST})
        if method not in ("GET", "HEAD"):
            refused = self._csrf_refusal(session, headers, body)
            if refused:
                return _json(403, {"error": refused})
        if path == "/console/logout" and method == "POST":
            self.sessions.drop(session.id)
            return _redirect("/console/login", [("set-cookie", auth.expired_cookie())])
        if path.startswith("/console/static/") and method == "GET":
            return self._static_file(path.rsplit("/", 1)[-1])
        if path.startswith("/console/api/admin/"):
            status, doc = self.admin.route(method, path.removeprefix("/console/api"), scope.query_string, body)
            return _json(status, doc)
        if path.startswith("/console/api/") and method == "GET":
            return self._view(path.removeprefix("/console/api/"), _query(scope.query_string))
        if path.startswith("/console/reports/") and path.endswith("/report.html") and method == "GET":
            return self._report(path.removeprefix("/console/reports/").removesuffix("/report.html"))
        if path in ("/console", "/console/") and method == "GET":
            return _redirect("/console/reader")
        page = path.removeprefix("/console/")
        if page in pages.PAGES and method == "GET":
            return 200, HTML, self._page(page, lang, session).encode(), []
        return _json(404, {"error": f"no console route {method} {path}"})

    def _csrf_refusal(self, session: auth.Session, headers: dict[str, str], body: bytes) -> str | None:
        cross = auth.same_origin(headers)
        if cross:
            return f"refused (cross-site request): {cross}"
        sent = headers.get("x-csrf-token")
        if sent is None and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            sent = _query(body.decode("utf-8", "replace")).get("csrf")
        if not auth.token_matches(sent, session.csrf):
            return "refused: CSRF token missing or wrong (header X-CSRF-Token)"
        return None

    # -- login and language ---------------------------------------------------------------------

    def _login(self, method: str, headers: dict[str, str], body: bytes, lang: str) -> tuple[int, str, bytes, Any]:
        if method == "GET":
            if self._session(headers) is not None:
                return _redirect("/console/reader")
            return 200, HTML, pages.login(lang).encode(), []
        if method != "POST":
            return _json(405, {"error": "GET or POST"})
        cross = auth.same_origin(headers)
        if cross:
            return _json(403, {"error": f"refused (cross-site login): {cross}"})
        sent = _query(body.decode("utf-8", "replace")).get("token", "").strip()
        if not auth.token_matches(sent, self.admin.token):
            return 401, HTML, pages.login(lang, word("login.wrong", lang)).encode(), []
        session = self.sessions.create()
        return _redirect("/console/reader", [("set-cookie", auth.session_cookie(session.id))])

    def _set_lang(self, query_string: str) -> tuple[int, str, bytes, Any]:
        q = _query(query_string)
        lang = q.get("to") if q.get("to") in ("ja", "en") else "ja"
        back = q.get("back", "/console/reader")
        if not back.startswith("/console/") or "//" in back or "\\" in back:
            back = "/console/reader"
        cookie = f"{auth.LANG_COOKIE}={lang}; Path=/console; SameSite=Strict; Max-Age=31536000"
        return _redirect(back, [("set-cookie", cookie)])

    def _static_file(self, name: str) -> tuple[int, str, bytes, Any]:
        if name not in STATIC:
            return _json(404, {"error": f"no static file {name}"})
        if name not in self._static:
            self._static[name] = resources.files("mockgateway.console").joinpath("static", name).read_bytes()
        return 200, STATIC[name], self._static[name], []

    # -- pages and views --------------------------------------------------------------------------

    def _page(self, page: str, lang: str, session: auth.Session) -> str:
        g = self.gateway
        now = format_timestamp(g.clock.now())
        if page == "reader":
            status, settings = self.admin.route("GET", "/admin/reader/settings", "", b"")
            mic = str(settings.get("medical_institution", "")) if status == 200 else ""
            body = pages.reader(lang, views.search_people(g, ""), mic)
        elif page == "journal":
            known = {"folder", "http", "webapi", "face", "inprocess"}
            known.update(e.transport for e in g.journal.entries(limit=500))
            body = pages.journal(lang, sorted(known))
        elif page == "controls":
            body = pages.controls(lang, sorted(g.index.people)[:500])
        else:
            body = pages.runs(lang, str(self.reports_dir), views.reports(self.reports_dir), self.runs.capabilities)
        return pages.layout(page, lang, session.csrf, now, body)

    def _view(self, name: str, q: dict[str, str]) -> tuple[int, str, bytes, Any]:
        g = self.gateway
        if name == "people":
            return _json(200, {"people": views.search_people(g, q.get("q", ""))})
        if name in ("person", "preview"):
            person = g.index.people.get(q.get("id", ""))
            if person is None:
                return _json(404, {"error": f"no person {q.get('id')!r}"})
            status, card = self.admin.route("GET", "/admin/cards", urlencode({"id": person.id}), b"")
            out = views.person_detail(g, person)
            out["card"] = card if status == 200 else None
            out["card_problem"] = None if status == 200 else card.get("error")
            out["screens"] = _screens(g, person.id, card if status == 200 else None)
            out["now"] = format_timestamp(g.clock.now())
            return _json(200, out)
        if name == "journal":
            before = int(q["before"]) if q.get("before", "").isdigit() else None
            limit = int(q["limit"]) if q.get("limit", "").isdigit() else 100
            page = views.journal_page(g, {k: q.get(k, "") for k in JOURNAL_FILTERS}, before, limit)
            page["last_id"] = max((e.id for e in g.journal.entries(limit=1)), default=0)
            return _json(200, page)
        if name.startswith("journal/") and name[8:].isdigit():
            entry = views.journal_entry(g, int(name[8:]))
            return _json(200, entry) if entry else _json(404, {"error": f"journal entry {name[8:]} is gone"})
        if name == "bulk":
            return _json(200, {"jobs": _bulk_jobs(g)})
        if name == "clock":
            return _json(*self.admin.route("GET", "/admin/clock", "", b""))
        return _json(404, {"error": f"no console view {name}"})

    def _report(self, name: str) -> tuple[int, str, bytes, Any]:
        path = views.report_file(self.reports_dir, name)
        if path is None:
            return _json(404, {"error": f"no report {name!r} under {self.reports_dir}"})
        return 200, HTML, path.read_bytes(), [("content-security-policy", REPORT_CSP)]

    # -- server-sent events -------------------------------------------------------------------------

    async def _events(self, scope: Scope, protocol: HttpProtocol, headers: dict[str, str]) -> None:
        q = _query(scope.query_string)
        filters = {k: q.get(k, "") for k in JOURNAL_FILTERS}
        last = headers.get("last-event-id") or q.get("since", "")
        since = int(last) if last.isdigit() else max((e.id for e in self.gateway.journal.entries(limit=1)), default=0)
        stream = protocol.response_stream(
            200, [("content-type", "text/event-stream"), ("cache-control", "no-store"), ("x-accel-buffering", "no")]
        )
        deadline = time.monotonic() + SSE_LIFETIME
        clock_sent = ""
        try:
            await stream.send_str("retry: 500\n\n")
            while time.monotonic() < deadline:
                chunks = []
                for entry in self.gateway.journal.entries(since=since):
                    since = entry.id
                    if views.matches(entry, filters):
                        chunks.append(f"id: {entry.id}\ndata: {orjson.dumps(views.row(entry)).decode()}\n\n")
                if not chunks:
                    chunks.append(f"id: {since}\n: idle\n\n")  # moves Last-Event-ID past filtered-out entries
                now = format_timestamp(self.gateway.clock.now())
                if now != clock_sent:
                    clock_sent = now
                    chunks.append(f"event: clock\ndata: {now}\n\n")
                await stream.send_str("".join(chunks))
                await asyncio.sleep(SSE_POLL)
        except (OSError, RuntimeError, ConnectionError):  # the browser went away
            return


def _screens(gateway: Gateway, person_id: str, card: dict[str, Any] | None) -> list[str]:
    """The consent screens the reader would show this person today (none in the grace period)."""
    from mockgateway.card.faceauth import CheckResult
    from mockgateway.services.reader import session as face

    if card is None or card.get("status") in ("grace", "expired", "revoked", "not_yet_valid"):
        return []
    try:
        feature = face.feature(gateway)
    except LookupError:
        return []
    check = CheckResult(person_id, None, None, True, None, "")
    return [k.value for k in feature.consent_screens(check)]


def _bulk_jobs(gateway: Gateway) -> list[dict[str, Any]]:
    from mockgateway.services.bulk import service as bulk

    found = bulk.feature(gateway)
    if found is None:
        return []
    return [
        {
            "reception_number": j.reception_number,
            "family": j.family,
            "mic": j.mic,
            "accepted_at": j.accepted_at,
            "total": j.total,
            "processed": j.processed,
            "errors": j.errors,
            "done": j.done,
            "downloads": j.downloads,
            "expired": j.expired,
        }
        for j in found.jobs.jobs()
    ]


def _query(text: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _json(status: int, doc: Any) -> tuple[int, str, bytes, list[tuple[str, str]]]:
    return status, JSON, orjson.dumps(doc), []


def _redirect(to: str, extra: list[tuple[str, str]] | None = None) -> tuple[int, str, bytes, list[tuple[str, str]]]:
    return 303, HTML, b"", [("location", to), *(extra or [])]
