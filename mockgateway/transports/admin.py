"""The admin API: fixtures, reset, clock, journal, faults. Loopback clients with the token only.

JSON in, JSON out. Not on the hot path, so clarity wins over speed here. Features add their own
routes to `gateway.admin_routes` ((method, path) → handler(AdminRequest) → (status, body)).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson

from mockgateway.control.admin_routes import AdminError, AdminHandler, AdminRequest
from mockgateway.control.faults import FaultSpecError, rule_from_dict
from mockgateway.control.journal import MAX_JOURNAL_BYTES, MAX_JOURNAL_ENTRIES, safe_text
from mockgateway.control.tokens import TokenBook
from mockgateway.domain.clock import JST, MAX_RATE, ClockError, format_timestamp, parse_timestamp
from mockgateway.engine import Gateway
from mockgateway.fixture_files import parse_yaml
from mockgateway.fixtures import FixtureError, load_documents, load_paths
from mockgateway.transports.http import JSON, HttpProtocol, Scope, TooLarge, is_loopback, read_body, too_large

log = logging.getLogger(__name__)


class Fields:
    """An admin body validated field by field: every refusal is a 400 naming the field and the rule."""

    def __init__(self, doc: Any, route: str, allowed: set[str]) -> None:
        if not isinstance(doc, dict):
            raise AdminError(400, f"{route}: the body must be a JSON object, got {type(doc).__name__}")
        unknown = sorted(set(doc) - allowed)
        if unknown:
            raise AdminError(400, f"{route}: unknown keys {unknown}; allowed: {sorted(allowed)}")
        self.doc: dict[str, Any] = doc

    def _given(self, name: str, rule: str) -> Any:
        """The value, or None when the key is absent; an explicit null is refused, never guessed at."""
        if name in self.doc and self.doc[name] is None:
            raise AdminError(400, f"{name}: {rule}, got null (leave the key out instead)")
        return self.doc.get(name)

    def number(self, name: str, *, low: float, high: float, integer: bool = False) -> float | None:
        value = self._given(name, f"{'an integer' if integer else 'a number'} from {low:g} to {high:g}")
        if value is None:
            return None
        kind = "an integer" if integer else "a number"
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok and integer and float(value) != int(value):
            ok = False
        if not ok or not low <= value <= high:
            raise AdminError(400, f"{name}: {kind} from {low:g} to {high:g}, got {_shown(value)}")
        return int(value) if integer else float(value)

    def boolean(self, name: str) -> bool | None:
        value = self._given(name, "true or false")
        if value is None or isinstance(value, bool):
            return value
        raise AdminError(400, f"{name}: true or false, got {_shown(value)}")

    def text(self, name: str, *, max_length: int = 64) -> str | None:
        value = self._given(name, f"a string of at most {max_length} characters")
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or len(value) > max_length:
            raise AdminError(400, f"{name}: a string of at most {max_length} characters, got {_shown(value)}")
        return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def query_int(query: dict[str, str], name: str, default: int | None, high: int = 2**53) -> int | None:
    raw = query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) > high:
        raise AdminError(400, f"{name}: a whole number from 0 to {high}, got {_shown(raw)}")
    return int(raw)


def dumps(payload: Any) -> bytes:
    """JSON of an admin answer; text no JSON encoder takes (a lone surrogate) is shown escaped."""
    try:
        return orjson.dumps(payload)
    except (orjson.JSONEncodeError, TypeError):
        return orjson.dumps(_plain(payload))


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return safe_text(str(value))


OFF_LOOP = ("/admin/card/",)  # routes that wait on other processes (pcscd, vpcd)


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
        try:
            body = await read_body(scope, protocol, self.gateway.settings.max_request_bytes)
        except TooLarge as exc:
            too_large(protocol, exc)
            return
        request = self._admitted(scope, body)
        waiting = self.async_routes.get((request.method, request.path)) if isinstance(request, AdminRequest) else None
        if not isinstance(request, AdminRequest):
            status, payload = request
        elif waiting is not None:
            try:
                status, payload = await waiting(request)
            except AdminError as exc:
                status, payload = exc.status, {"error": str(exc)}
        elif request.path.startswith(OFF_LOOP):
            # Starting pcscd or waiting for it to see a card takes seconds: on a thread, so the
            # listener keeps answering meanwhile (the card service serialises itself with a lock).
            status, payload = await asyncio.to_thread(self._run, request)
        else:
            status, payload = self._run(request)
        protocol.response_bytes(status, [("content-type", JSON)], dumps(payload))

    def _admitted(self, scope: Scope, body: bytes) -> AdminRequest | tuple[int, Any]:
        """The request, if it comes from loopback with the token; else the refusal."""
        if not is_loopback(scope.client):
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
        except (TypeError, KeyError, AttributeError, ArithmeticError, RecursionError) as exc:
            # A feature route met a body of a shape it did not expect: the caller's mistake, said so.
            log.info("admin %s %s: body refused (%r)", request.method, request.path, exc)
            return 400, {"error": f"{request.method} {request.path}: the body does not fit this route ({exc!r})"[:500]}
        except Exception as exc:  # never a traceback to the caller; the log has it
            log.exception("admin %s %s failed", request.method, request.path)
            return 500, {"error": f"{request.method} {request.path} failed: {type(exc).__name__}"}

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
            # this process's (with --workers, each replica keeps its own)
            "answer_memo": g.memo.as_json() if g.memo is not None else None,
        }

    def load_fixtures(self, request: AdminRequest) -> tuple[int, Any]:
        doc = parse_yaml(request.body, "admin:fixtures")  # aliases, depth and size refused as FixtureError
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
        body = Fields(request.json(), "POST /admin/clock", {"now", "running", "rate"})
        clock = self.gateway.clock
        raw = body.text("now", max_length=14)
        rate = body.number("rate", low=0, high=MAX_RATE)
        if rate == 0:
            raise AdminError(400, f"rate: a number above 0 and at most {MAX_RATE:g}, got 0")
        running = body.boolean("running")
        try:
            if raw is None:
                when = clock.now()
            elif raw == "real":
                when = dt.datetime.now(JST)
            else:
                when = parse_timestamp(raw.ljust(14, "0"))
            self._apply_clock(lambda: clock.set(when, running=running, rate=rate))
        except ValueError as exc:  # ClockError included: the field and its bounds
            raise AdminError(400, str(exc) if isinstance(exc, ClockError) else f"now: {exc}") from None
        return self.get_clock(request)

    def advance_clock(self, request: AdminRequest) -> tuple[int, Any]:
        units = ("days", "hours", "minutes", "seconds")
        body = Fields(request.json(), "POST /admin/clock/advance", set(units))
        limit = {"days": 366 * 300, "hours": 24 * 366 * 300, "minutes": 1440 * 366 * 300, "seconds": 86400 * 366 * 300}
        amounts = {k: body.number(k, low=-limit[k], high=limit[k]) for k in units}
        delta = dt.timedelta(**{k: v for k, v in amounts.items() if v is not None})
        clock = self.gateway.clock
        try:
            self._apply_clock(lambda: clock.advance(delta))
        except ValueError as exc:
            raise AdminError(400, str(exc)) from None
        return self.get_clock(request)

    def _apply_clock(self, change: Callable[[], None]) -> None:
        """Change, check now() works, persist; on any failure the previous state stays (and is saved)."""
        clock = self.gateway.clock
        before = clock.state
        try:
            change()
            clock.now()
            self.gateway.save_clock()
        except Exception:
            clock.restore(before)
            raise

    def get_journal(self, request: AdminRequest) -> tuple[int, Any]:
        q = request.query
        entries = self.gateway.journal.entries(
            since=query_int(q, "since", 0) or 0,
            api_id=q.get("api_id"),
            transport=q.get("transport"),
            medical_institution=q.get("medical_institution"),
            limit=query_int(q, "limit", None),
        )
        return 200, {
            "entries": [e.as_dict() for e in entries],
            "dropped": self.gateway.journal.dropped,
            "max_entries": self.gateway.journal.max_entries,
            "max_total_bytes": self.gateway.journal.max_total_bytes,
        }

    def clear_journal(self, _: AdminRequest) -> tuple[int, Any]:
        self.gateway.journal.clear()
        return 200, {"cleared": True}

    def resize_journal(self, request: AdminRequest) -> tuple[int, Any]:
        body = Fields(request.json(), "PUT /admin/journal/size", {"max_entries", "max_total_bytes"})
        size = body.number("max_entries", low=1, high=MAX_JOURNAL_ENTRIES, integer=True)
        total = body.number("max_total_bytes", low=64 * 1024, high=MAX_JOURNAL_BYTES, integer=True)
        if size is None and total is None:
            raise AdminError(400, "max_entries: required (or max_total_bytes)")
        journal = self.gateway.journal
        journal.resize(int(size) if size is not None else journal.max_entries, None if total is None else int(total))
        return 200, {"max_entries": journal.max_entries, "max_total_bytes": journal.max_total_bytes}

    def get_faults(self, _: AdminRequest) -> tuple[int, Any]:
        return 200, {"faults": [r.as_dict() for r in self.gateway.faults.rules()]}

    def add_fault(self, request: AdminRequest) -> tuple[int, Any]:
        doc = request.json()
        if not isinstance(doc, dict):
            raise AdminError(400, 'POST /admin/faults: a fault is a JSON object, e.g. {"kind": "http503", "times": 1}')
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
