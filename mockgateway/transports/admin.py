"""The admin API: fixtures, reset, clock, journal, faults. Loopback clients with the token only.

JSON in, JSON out. Not on the hot path, so clarity wins over speed here. Features add their own
routes to `gateway.admin_routes` ((method, path) → handler(AdminRequest) → (status, body)).
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
import yaml

from mockgateway.control.admin_routes import AdminError, AdminHandler, AdminRequest
from mockgateway.control.faults import FaultSpecError, rule_from_dict
from mockgateway.control.tokens import TokenBook
from mockgateway.domain.clock import JST, format_timestamp, parse_timestamp
from mockgateway.engine import Gateway
from mockgateway.fixtures import FixtureError, load_documents, load_paths
from mockgateway.transports.http import JSON, HttpProtocol, Scope


def _is_loopback(client: str) -> bool:
    host = client.rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AdminApi:
    def __init__(
        self,
        gateway: Gateway,
        token: str,
        tokens: TokenBook,
        default_fixtures: list[Any],
        on_reset: list[Callable[[], None]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.token = token
        self.tokens = tokens
        self.default_fixtures = default_fixtures
        self.on_reset = on_reset or []
        routes: dict[tuple[str, str], AdminHandler] = {
            ("GET", "/admin/status"): self.status,
            ("POST", "/admin/fixtures"): self.load_fixtures,
            ("POST", "/admin/reset"): self.reset,
            ("GET", "/admin/clock"): self.get_clock,
            ("POST", "/admin/clock"): self.set_clock,
            ("POST", "/admin/clock/advance"): self.advance_clock,
            ("GET", "/admin/journal"): self.get_journal,
            ("DELETE", "/admin/journal"): self.clear_journal,
            ("PUT", "/admin/journal/size"): self.resize_journal,
            ("GET", "/admin/faults"): self.get_faults,
            ("POST", "/admin/faults"): self.add_fault,
            ("DELETE", "/admin/faults"): self.clear_faults,
            ("GET", "/admin/people"): self.get_people,
        }
        self.routes = routes
        # Routes that wait on the server's own loop (restarting a listener): awaited, not called.
        self.async_routes: dict[tuple[str, str], Callable[[AdminRequest], Awaitable[tuple[int, Any]]]] = {}

    async def __call__(self, scope: Scope, protocol: HttpProtocol) -> None:
        body = await protocol()
        request = self._admitted(scope, body)
        waiting = self.async_routes.get((request.method, request.path)) if isinstance(request, AdminRequest) else None
        if waiting is not None:
            assert isinstance(request, AdminRequest)
            try:
                status, payload = await waiting(request)
            except AdminError as exc:
                status, payload = exc.status, {"error": str(exc)}
        else:
            status, payload = self.dispatch(scope, body)
        protocol.response_bytes(status, [("content-type", JSON)], orjson.dumps(payload))

    def _admitted(self, scope: Scope, body: bytes) -> AdminRequest | tuple[int, Any]:
        """The request, if it comes from loopback with the token; else the refusal."""
        if not _is_loopback(scope.client):
            return 403, {"error": "the admin API answers loopback clients only"}
        sent = scope.headers.get("x-admin-token") or (scope.headers.get("authorization") or "").removeprefix("Bearer ")
        if not sent or not hmac.compare_digest(str(sent), self.token):
            return 401, {"error": "admin token missing or wrong (header X-Admin-Token)"}
        query = {k: v[-1] for k, v in parse_qs(scope.query_string).items()}
        return AdminRequest(scope.method, scope.path.rstrip("/"), query, body)

    def dispatch(self, scope: Scope, body: bytes) -> tuple[int, Any]:
        request = self._admitted(scope, body)
        if not isinstance(request, AdminRequest):
            return request
        return self._run(request)

    def route(self, method: str, path: str, query_string: str, body: bytes) -> tuple[int, Any]:
        """Run one admin route for a caller already let in (the token above, or a console session)."""
        query = {k: v[-1] for k, v in parse_qs(query_string).items()}
        return self._run(AdminRequest(method, path.rstrip("/"), query, body))

    def _run(self, request: AdminRequest) -> tuple[int, Any]:
        handler = self.routes.get((request.method, request.path)) or self.gateway.admin_routes.get(
            (request.method, request.path)
        )
        if handler is None and request.method == "DELETE" and request.path.startswith("/admin/faults/"):
            handler = self.remove_fault
        if handler is None:
            known = sorted(f"{m} {p}" for m, p in [*self.routes, *self.gateway.admin_routes, *self.async_routes])
            return 404, {"error": f"no admin route {request.method} {request.path}", "routes": known}
        try:
            return handler(request)
        except AdminError as exc:
            return exc.status, {"error": str(exc)}
        except (FixtureError, FaultSpecError, ValueError) as exc:
            return 400, {"error": str(exc)}

    # -- handlers ------------------------------------------------------------------------------

    def status(self, _: AdminRequest) -> tuple[int, Any]:
        g = self.gateway
        return 200, {
            "now": format_timestamp(g.clock.now()),
            "clock_running": g.clock.state.running,
            "people": len(g.index),
            "insurers": len(g.index.insurers),
            "journal_entries": len(g.journal),
            "journal_max_entries": g.journal.max_entries,
            "faults": len(g.faults.rules()),
            "apis": sorted(g.services),
        }

    def load_fixtures(self, request: AdminRequest) -> tuple[int, Any]:
        try:
            doc = yaml.load(request.body.decode("utf-8"), Loader=yaml.BaseLoader)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise AdminError(400, f"fixtures body is not YAML/JSON: {exc}") from None
        replace = request.query.get("replace", "true").lower() != "false"
        data = load_documents([("admin:fixtures", doc or {})], self.gateway.clock.today())
        self.gateway.load(data, replace=replace)
        return 200, {"loaded": sorted(data.persons), "people": len(self.gateway.index), "replace": replace}

    def reset(self, _: AdminRequest) -> tuple[int, Any]:
        """Default fixtures, empty journal, no faults, no tokens; the clock is left as it is."""
        g = self.gateway
        g.load(load_paths(self.default_fixtures, g.clock.today()))
        g.journal.clear()
        g.faults.clear()
        self.tokens.clear()
        for hook in self.on_reset:
            hook()
        return 200, {"people": len(g.index)}

    def get_clock(self, _: AdminRequest) -> tuple[int, Any]:
        state = self.gateway.clock.state
        return 200, {
            "now": format_timestamp(self.gateway.clock.now()),
            "running": state.running,
            "rate": state.rate,
        }

    def set_clock(self, request: AdminRequest) -> tuple[int, Any]:
        doc = request.json()
        clock = self.gateway.clock
        when = clock.now()
        if "now" in doc:
            raw = str(doc["now"])
            when = dt.datetime.now(JST) if raw == "real" else parse_timestamp(raw.ljust(14, "0"))
        running = doc.get("running")
        rate = doc.get("rate")
        clock.set(
            when,
            running=None if running is None else bool(running),
            rate=None if rate is None else float(rate),
        )
        self.gateway.save_clock()
        return self.get_clock(request)

    def advance_clock(self, request: AdminRequest) -> tuple[int, Any]:
        doc = request.json()
        allowed = {"days", "hours", "minutes", "seconds"}
        unknown = set(doc) - allowed
        if unknown:
            raise AdminError(400, f"unknown keys {sorted(unknown)}; use {sorted(allowed)}")
        delta = dt.timedelta(**{k: float(v) for k, v in doc.items()})
        self.gateway.clock.advance(delta)
        self.gateway.save_clock()
        return self.get_clock(request)

    def get_journal(self, request: AdminRequest) -> tuple[int, Any]:
        q = request.query
        entries = self.gateway.journal.entries(
            since=int(q.get("since", "0")),
            api_id=q.get("api_id"),
            transport=q.get("transport"),
            medical_institution=q.get("medical_institution"),
            limit=int(q["limit"]) if "limit" in q else None,
        )
        return 200, {
            "entries": [e.as_dict() for e in entries],
            "dropped": self.gateway.journal.dropped,
            "max_entries": self.gateway.journal.max_entries,
        }

    def clear_journal(self, _: AdminRequest) -> tuple[int, Any]:
        self.gateway.journal.clear()
        return 200, {"cleared": True}

    def resize_journal(self, request: AdminRequest) -> tuple[int, Any]:
        size = int(request.json().get("max_entries", 0))
        if size < 1:
            raise AdminError(400, "max_entries must be at least 1")
        self.gateway.journal.resize(size)
        return 200, {"max_entries": size}

    def get_faults(self, _: AdminRequest) -> tuple[int, Any]:
        return 200, {"faults": [r.as_dict() for r in self.gateway.faults.rules()]}

    def add_fault(self, request: AdminRequest) -> tuple[int, Any]:
        doc = request.json()
        if not isinstance(doc, dict):
            raise AdminError(400, 'a fault is a JSON object, e.g. {"kind": "http503", "times": 1}')
        rule = self.gateway.faults.add(rule_from_dict(doc))
        return 201, rule.as_dict()

    def remove_fault(self, request: AdminRequest) -> tuple[int, Any]:
        raw = request.path.rsplit("/", 1)[-1]
        if not raw.isdigit() or not self.gateway.faults.remove(int(raw)):
            raise AdminError(404, f"no fault with id {raw}")
        return 200, {"removed": int(raw)}

    def clear_faults(self, _: AdminRequest) -> tuple[int, Any]:
        self.gateway.faults.clear()
        return 200, {"cleared": True}

    def get_people(self, request: AdminRequest) -> tuple[int, Any]:
        person_id = request.query.get("id")
        if person_id is None:
            return 200, {"people": sorted(self.gateway.index.people)}
        person = self.gateway.index.people.get(person_id)
        if person is None:
            raise AdminError(404, f"no person {person_id}")
        return 200, {
            "id": person.id,
            "name": person.name,
            "qualifications": [
                {
                    "InsurerNumber": q.insurer.number.padded,
                    "InsuredCardSymbol": q.key.symbol,
                    "InsuredIdentificationNumber": q.key.number,
                    "InsuredBranchNumber": q.key.branch,
                    "QualificationDate": q.qualification_date.strftime("%Y%m%d"),
                    "DisqualificationDate": q.disqualification_date.strftime("%Y%m%d")
                    if q.disqualification_date
                    else None,
                }
                for q in person.qualifications
            ],
        }
