"""The gateway engine: one entry point, `Gateway.process`, for every transport.

A transport hands over the API id (from the file name or the route) and the raw bytes; the
engine parses, applies faults, dispatches to the service registered for that API id, renders
the result in the caller's format and journals the exchange. It never raises for bad input:
every failure becomes a result with SegmentOfResult 9 and an ErrorCode naming the problem.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockgateway.control.answer_memo import AnswerMemo, Remembered, Stamp
from mockgateway.control.consents import ConsentBook
from mockgateway.control.faults import Decision, FaultBook
from mockgateway.control.journal import Journal, JournalEntry
from mockgateway.domain.clock import ClockError, VirtualClock, clock_from_json, clock_to_json
from mockgateway.domain.codes import (
    CharacterCode,
    ReferenceClassification,
    ResultCode,
    ResultCodes,
    SegmentOfResult,
)
from mockgateway.fixtures import Dataset
from mockgateway.settings import Format, Settings
from mockgateway.store.index import PeopleIndex
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire import jsoncodec, xmlcodec
from mockgateway.wire.messages import RequestError, echo_header
from mockgateway.wire.results import result_header
from mockgateway.wire.results import timestamp_memo as timestamp
from mockgateway.wire.xmlcodec import Tree, XmlError

log = logging.getLogger(__name__)

INSTITUTIONS_KEY = "institutions"  # store state: 医療機関コード → InstitutionKind value (registered kinds)


FOLDER = "folder"  # the transport whose answers are files (req → res)


@dataclass(slots=True)
class Reply:
    """What a service returns: the XmlMsg tree plus facts for the journal."""

    tree: Tree
    segment: SegmentOfResult = SegmentOfResult.NORMAL
    validity: str | None = None
    reason: str | None = None
    document: bytes | None = None  # a non-XML result (PDF, ZIP) replacing the rendered tree
    extension: str = ".xml"
    media_type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    memo: bool = False  # a pure function of the request and the state: may be remembered (AnswerMemo)


@dataclass(slots=True)
class Response:
    body: bytes
    media_type: str
    extension: str
    delay: float  # seconds the transport waits before answering (latency faults)
    action: str | None  # None, or a fault the transport acts out: http503 / drop / maintenance
    entry: JournalEntry
    internal: bool = False  # the answer reports a bug (MGW9999), not a problem of the request


@dataclass(frozen=True, slots=True)
class Context:
    gateway: Gateway
    api_id: str
    transport: str
    now: dt.datetime
    name: str | None
    fmt: Format = Format.XML  # what the caller reads back: a service may prefer to answer in it
    institution: str | None = None  # the 医療機関 the transport authenticated (Web API idToken)

    @property
    def codes(self) -> ResultCodes:
        return self.gateway.codes

    @property
    def index(self) -> PeopleIndex:
        return self.gateway.index

    @property
    def character_code(self) -> CharacterCode:
        return self.gateway.settings.character_code


class Service(Protocol):
    @property
    def reference(self) -> ReferenceClassification | None:
        """照会区分 echoed in error results (None where the result has no such element)."""

    def handle(self, ctx: Context, tree: Tree) -> Reply: ...


class Worker(Protocol):
    """A feature's background activity (bulk processing, …), started and stopped with the server."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


__all__ = ["Context", "Format", "Gateway", "Reply", "Response", "Service", "Settings", "Worker"]


class Gateway:
    def __init__(
        self,
        store: SqliteRepository,
        clock: VirtualClock,
        *,
        codes: ResultCodes | None = None,
        settings: Settings | None = None,
        journal: Journal | None = None,
        faults: FaultBook | None = None,
        reset_clock: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.codes = codes or ResultCodes()
        self.settings = settings or Settings()
        self.journal = journal if journal is not None else Journal()  # an empty Journal is falsy (__len__)
        self.faults = faults or FaultBook()
        self.memo: AnswerMemo | None = AnswerMemo()  # None: every answer built afresh
        self.consents = ConsentBook(store)  # 閲覧同意 captured on card readers (durable, in the store)
        self.services: dict[str, Service] = {}
        self.on_reload: list[Callable[[Gateway], None]] = []
        self.workers: list[Worker] = []
        # (method, path) → handler: features add admin routes here (see transports/admin.py)
        self.admin_routes: dict[tuple[str, str], Callable[[Any], tuple[int, Any]]] = {}
        # Transports report what keeps them from working (res/ not writable, …) for /health.
        self.health_checks: list[Callable[[], str | None]] = []
        self._reload_lock = threading.Lock()
        if reset_clock:
            self.save_clock()  # `serve --reset-clock`: the way out of a saved state that cannot run
        saved = store.get_state("clock")
        if saved is not None:
            try:
                clock.restore(clock_from_json(saved))
                clock.now()
            except (ClockError, KeyError, TypeError, ValueError, OverflowError) as exc:
                raise ClockStateError(
                    f"the clock state saved in {store.path} cannot be used ({exc}); "
                    "start once with `mockgateway serve --reset-clock` to go back to real time"
                ) from None
        self.index = PeopleIndex()
        self.reload()

    # -- configuration -------------------------------------------------------------------------

    def register(self, api_id: str, service: Service) -> None:
        self.services[api_id] = service

    def reload(self) -> None:
        """Rebuild the in-memory index from the store and swap it in whole."""
        with self._reload_lock:
            self.index = PeopleIndex.from_store(self.store, self.clock.today())
            for hook in self.on_reload:
                hook(self)
            self.store.touch()

    def load(self, data: Dataset, *, replace: bool = True) -> None:
        insurers = {num: ins.name for num, ins in data.insurers.items()}
        if replace or data.institutions:  # the institution registry (fixtures `institutions:`)
            saved = {} if replace else (self.store.get_state(INSTITUTIONS_KEY) or {})
            self.store.set_state(INSTITUTIONS_KEY, {**saved, **data.institutions})
        if replace:
            self.store.replace_people(insurers, data.documents)
        else:
            self.store.upsert_people(insurers, data.documents)
        self.reload()

    def save_clock(self) -> None:
        """Persist the clock, but only a state whose now() works (a restart must not inherit a broken one)."""
        self.clock.now()
        self.store.set_state("clock", clock_to_json(self.clock.state))

    # -- the one entry point -------------------------------------------------------------------

    def process(
        self,
        api_id: str,
        raw: bytes,
        *,
        fmt: Format,
        transport: str,
        name: str | None = None,
        institution: str | None = None,
        canary: bool = False,
        oversize: int | None = None,
    ) -> Response:
        """`institution`: the 医療機関コード the carrier already knows (the Web API's idToken), used
        when the request's MessageHeader leaves MedicalInstitutionCode out. `canary`: /health's
        probe: no faults, no latency, not journaled. `oversize`: the body was refused unread at this
        many bytes (or more); answer "too large" without it."""
        started = time.perf_counter()
        now = self.clock.now()
        ctx = Context(self, api_id, transport, now, name, fmt, institution)
        tree: Tree = {}
        service = self.services.get(api_id)
        reference = service.reference if service else None
        decision: Decision | None = None
        internal = False
        mic: str | None = None
        memo, key, stamp, hit, decided = self.memo, None, None, None, False
        if memo is not None and oversize is None and not canary:
            key, stamp = (api_id, fmt, transport == FOLDER, institution, raw), self.stamp()
            hit = memo.get(key, stamp)
            if hit is not None:
                decision, decided = self.faults.evaluate(api_id, transport, hit.mic, now), True
                if not memo.verify and (decision is None or decision.action is None):
                    return self._remembered(hit, api_id, raw, transport, name, now, decision, started)
        try:
            size = len(raw) if oversize is None else oversize
            if size > self.settings.max_request_bytes:
                raise XmlError("file.too_large", f"{size} bytes > {self.settings.max_request_bytes}")
            tree = self._parse(raw, fmt)
            mic = echo_header(tree).get("MedicalInstitutionCode") or institution
            if not decided:  # a fault rule counts each request once
                decision = None if canary else self.faults.evaluate(api_id, transport, mic, now)
            if decision is not None and decision.action is not None:
                reply = self._fault_reply(ctx, tree, decision, reference)
            elif service is None:
                known = ", ".join(sorted(self.services))
                raise XmlError("api.unknown", f"{api_id} (対応: {known})")
            else:
                reply = service.handle(ctx, tree)
        except XmlError as exc:
            reply = self.error_reply(ctx, tree, self.codes.get(exc.kind, detail=exc.detail), reference)
            reply.reason = exc.detail
        except RequestError as exc:
            code = self.codes.get(exc.kind, element=exc.element, detail=exc.detail)
            reply = self.error_reply(ctx, tree, code, reference)
            reply.reason = f"{exc.element}: {exc.detail}"
        except Exception as exc:  # a bug must still produce an answer in the interface's terms
            log.exception("internal error handling %s", api_id)
            reply = self.error_reply(ctx, tree, self.codes.get("internal", detail=type(exc).__name__), reference)
            reply.reason = repr(exc)
            internal = True
        # Files look like the terminal's (indented); what HTTP answers stays on one line.
        body, media_type = self._render(reply, fmt, indent=self.settings.indent_files and transport == FOLDER)
        faulted = decision is not None and decision.action is not None
        if hit is not None and reply.memo and body != hit.body(timestamp(now).encode("ascii")):
            log.error("AnswerMemo: a remembered answer differs from a fresh one (%s %r)", api_id, key)
            reply = self.error_reply(ctx, tree, self.codes.get("internal", detail="AnswerMemo"), reference)
            reply.reason, internal = "a remembered answer differed from a fresh one", True
            body, media_type = self._render(reply, fmt)
        elif memo is not None and stamp is not None and reply.memo and not (reply.extra or internal or faulted):
            memo.put(key, raw, body, timestamp(now).encode("ascii"), stamp=stamp, media_type=media_type,
                         extension=reply.extension, mic=mic, segment=reply.segment.value, validity=reply.validity,
                         reason=reply.reason)  # fmt: skip
        delay = decision.delay if decision else 0.0
        if self.settings.latency is not None and not canary:
            realistic = self.settings.latency.sample(transport)
            reply.extra["latency_ms"] = round(realistic * 1000, 1)
            delay += realistic
        entry = JournalEntry(
            id=0,
            at=timestamp(now),
            real_time=time.time(),
            transport=transport,
            api_id=api_id,
            name=name,
            medical_institution=mic,  # read once, after the parse (None when it failed)
            request=raw,
            response=body,
            segment=reply.segment.value,
            validity=reply.validity,
            reason=reply.reason,
            fault=decision.action if decision else None,
            duration_ms=(time.perf_counter() - started) * 1000,
            extra=reply.extra,
        )
        if not canary:
            entry = self.journal.record(entry)
        return Response(
            body=body,
            media_type=media_type,
            extension=reply.extension,
            delay=delay,
            action=decision.action if decision else None,
            entry=entry,
            internal=internal,
        )

    def stamp(self) -> Stamp:
        """What a remembered answer depends on besides the request (control/answer_memo.py)."""
        s = self.settings
        shape = (s.output_encoding, s.max_request_bytes, s.strict_insurer_padding, s.kakunin_classification,
                 s.webapi_zero_padded_insurer, s.webapi_require_institution, s.diseases_layout_xml,
                 s.diseases_layout_json, s.indent_files, s.link_system_code, self.codes)  # fmt: skip
        return Stamp(self.index, self.store.changes, shape)

    def _remembered(
        self, hit: Remembered, api_id: str, raw: bytes, transport: str, name: str | None,
        now: dt.datetime, decision: Decision | None, started: float,
    ) -> Response:  # fmt: skip
        at = timestamp(now)
        body = hit.body(at.encode("ascii"))
        delay, extra = (decision.delay if decision else 0.0), {}
        if self.settings.latency is not None:
            realistic = self.settings.latency.sample(transport)
            extra["latency_ms"] = round(realistic * 1000, 1)
            delay += realistic
        entry = JournalEntry(
            id=0, at=at, real_time=time.time(), transport=transport, api_id=api_id, name=name,
            medical_institution=hit.mic, request=raw, response=body, segment=hit.segment, validity=hit.validity,
            reason=hit.reason, fault=None, duration_ms=(time.perf_counter() - started) * 1000, extra=extra,
        )  # fmt: skip
        return Response(body, hit.media_type, hit.extension, delay, None, self.journal.record(entry))

    def _parse(self, raw: bytes, fmt: Format) -> Tree:
        if fmt is Format.JSON:
            root, tree = jsoncodec.parse(raw)
        else:
            parsed = xmlcodec.parse(raw)
            root, tree = parsed.root, parsed.tree
        if root != "XmlMsg":
            raise XmlError("xml.root", f"ルート要素 {root}")
        return tree

    def _render(self, reply: Reply, fmt: Format, *, indent: bool = False) -> tuple[bytes, str]:
        if reply.document is not None:
            return reply.document, reply.media_type or "application/octet-stream"
        if fmt is Format.JSON:
            return jsoncodec.render("XmlMsg", reply.tree), "application/json;charset=UTF-8"
        encoding = self.settings.output_encoding
        label = "Shift_JIS" if xmlcodec.is_shift_jis(encoding) else "UTF-8"
        return xmlcodec.render("XmlMsg", reply.tree, encoding, indent=indent), f"application/xml; charset={label}"

    def _fault_reply(
        self, ctx: Context, tree: Tree, decision: Decision, reference: ReferenceClassification | None
    ) -> Reply:
        rule = decision.rule
        if decision.action == "maintenance":
            code = self.codes.get("maintenance")
        else:
            base = self.codes.get("fault.injected")
            code = ResultCode(
                (rule.error_code if rule and rule.error_code else None) or base.code,
                (rule.error_message if rule and rule.error_message else None) or base.message,
            )
        reply = self.error_reply(ctx, tree, code, reference)
        reply.reason = f"injected fault {decision.action} (rule {rule.id if rule else '?'})"
        return reply

    def error_reply(
        self, ctx: Context, tree: Tree, code: ResultCode, reference: ReferenceClassification | None
    ) -> Reply:
        """SegmentOfResult 9 with ErrorCode/ErrorMessage, echoing whatever header could be read."""
        echo = echo_header(tree) if tree else {}
        service = self.services.get(ctx.api_id)
        shaper = getattr(service, "error_tree", None)
        if shaper is not None:
            return Reply(shaper(ctx, echo, code), segment=SegmentOfResult.ABNORMAL)
        header = result_header(
            now=ctx.now,
            mic=echo.get("MedicalInstitutionCode") or ctx.institution,
            confirmation_date=echo.get("QualificationConfirmationDate"),
            arbitrary_file_identifier=echo.get("ArbitraryFileIdentifier"),
            reference=reference,
            segment=SegmentOfResult.ABNORMAL,
            error=code,
            character_code=ctx.character_code,
        )
        return Reply({"MessageHeader": header, "MessageBody": {}}, segment=SegmentOfResult.ABNORMAL)


class ClockStateError(RuntimeError):
    """The saved clock state cannot be restored; the message says how to start anyway."""
