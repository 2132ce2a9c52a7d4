"""照会番号 (ReferenceNumber): registered per 医療機関 against a person's current qualification.

Single registration OQSsiimm01req → OQSsiimm01res (OQS-IF-003/004); bulk registration OQSmuimm
(OQS-IF-009…012) goes through the two-step bulk machinery with `RegistrationProcessor` below.
oqs-interface.md §7: the number is tied to 保険者番号+記号+番号+枝番, is at most 50 characters,
and comes back in single, face and bulk results — only to the 医療機関 that registered it.

Rules here (inferred where the spec is not public, docs/bulk.md):
- The key must match a qualification in force on the gateway clock's date (bulk: on the upload's
  date). 枝番 may be left out when it picks out one qualification; otherwise it is ambiguous.
- Registering again for the same (医療機関, qualification) replaces the number.
- The number is registered against that qualification: after an insurer change the new
  qualification carries no number until the clinic registers again (as real clinics must).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from mockgateway.domain.clock import format_timestamp, parse_date
from mockgateway.domain.codes import ProcessingResultStatus, ResultCode, ResultCodes, SegmentOfResult
from mockgateway.domain.eligibility import Match
from mockgateway.domain.model import CardKey
from mockgateway.domain.numbers import (
    MedicalInstitutionCode,
    NumberError,
)
from mockgateway.engine import Context, Gateway, Reply
from mockgateway.services import eligibility
from mockgateway.services.bulk import render as bulk_render
from mockgateway.services.bulk.jobs import ChunkOutcome, Job
from mockgateway.services.bulk.layout import REGISTRATION, record_path
from mockgateway.store.index import PeopleIndex
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire.messages import RequestError, child, message, parse_card, parse_header, text
from mockgateway.wire.results import result_header
from mockgateway.wire.xmlcodec import Node, Tree

log = logging.getLogger(__name__)

API_ID = "OQSsiimm01"
RECORD = "ReferenceNumberRegistrationInfo"
MAX_LENGTH = 50  # [M]; the source of the limit is not stated

SCHEMA = """
CREATE TABLE IF NOT EXISTS reference_numbers (
    mic TEXT NOT NULL,
    insurer TEXT NOT NULL,
    symbol TEXT NOT NULL,
    number TEXT NOT NULL,
    branch TEXT NOT NULL,
    reference_number TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (mic, insurer, symbol, number, branch)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Registration:
    """One ReferenceNumberRegistrationInfo as sent (for the echo) and normalised."""

    raw: Tree
    reference_number: str
    card: CardKey  # branch "" = not sent


def parse_registration(info: Mapping[str, Node], path: str, *, strict_padding: bool = True) -> Registration:
    number = text(info, "ReferenceNumber", path, required=True)
    assert number is not None
    number = number.strip(" \u3000")
    if len(number) > MAX_LENGTH:
        raise RequestError(
            "xml.format", f"{path}/ReferenceNumber", f"照会番号は{MAX_LENGTH}文字以内です ({len(number)}文字)"
        )
    if any(ord(ch) < 0x20 for ch in number):
        raise RequestError("xml.format", f"{path}/ReferenceNumber", "制御文字は使えません")
    card = parse_card(info, path, strict_padding=strict_padding)
    return Registration(
        raw={k: v for k, v in info.items() if isinstance(v, str)},
        reference_number=number,
        card=card,
    )


def resolve(index: PeopleIndex, card: CardKey, on: dt.date) -> tuple[Match | None, str, str]:
    """The qualification in force on `on` that the key names: (match, "", "") or (None, code name, why)."""
    found = {
        m.qualification.key: m
        for m in index.candidates(card.number)
        if m.qualification.key.insurer_number == card.insurer_number
        and m.qualification.key.symbol == card.symbol
        and (not card.branch or m.qualification.key.branch == card.branch)
        and m.qualification.in_force(on)
    }
    if not found:
        return None, "reference.not_found", f"{on:%Y%m%d} 時点で有効な資格に一致しません"
    if len(found) > 1:
        branches = ", ".join(sorted(k.branch for k in found))
        return None, "reference.multiple", f"枝番を指定してください (該当する枝番: {branches})"
    return next(iter(found.values())), "", ""


class ReferenceNumberRegistry:
    """The registrations: SQLite for durability, a dict for lookups on the hot path."""

    def __init__(self, store: SqliteRepository) -> None:
        self.store = store
        store.ensure_schema(SCHEMA)
        self._lock = threading.Lock()
        self._numbers: dict[tuple[str, CardKey], str] = {}
        for mic, insurer, symbol, number, branch, ref in store.connection().execute(
            "SELECT mic, insurer, symbol, number, branch, reference_number FROM reference_numbers"
        ):
            self._numbers[(mic, CardKey(insurer, symbol, number, branch))] = ref

    def lookup(self, mic: str, key: CardKey) -> str | None:
        return self._numbers.get((mic, key))

    def write(self, db: sqlite3.Connection, mic: str, key: CardKey, number: str, at: dt.datetime, source: str) -> None:
        """Inside the caller's transaction; call `remember` after it commits."""
        db.execute(
            "INSERT OR REPLACE INTO reference_numbers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (mic, key.insurer_number, key.symbol, key.number, key.branch, number, format_timestamp(at), source),
        )

    def remember(self, mic: str, key: CardKey, number: str) -> None:
        with self._lock:
            self._numbers[(mic, key)] = number
        self.store.touch()  # after the dict changed: answers remembered before it are not used

    def register(self, mic: str, key: CardKey, number: str, at: dt.datetime, source: str = "api") -> None:
        with self.store.transaction() as db:
            self.write(db, mic, key, number, at, source)
        self.remember(mic, key, number)

    def entries(self, mic: str | None = None) -> list[tuple[str, CardKey, str]]:
        with self._lock:
            items = list(self._numbers.items())
        return sorted((m, k, n) for (m, k), n in items if mic is None or m == mic)

    def seed(self, index: PeopleIndex, on: dt.date, at: dt.datetime) -> int:
        """Fixture extension `reference_numbers: {医療機関コード: 照会番号}` on a person: registered
        against the person's qualifications in force on `on`, unless that key already has a number."""
        rows: list[tuple[str, CardKey, str]] = []
        with_extension = getattr(index, "with_extension", None)  # a store-backed index walks only these
        people = with_extension("reference_numbers") if with_extension else index.people.values()
        for person in people:
            wanted = person.extensions.get("reference_numbers")
            if not isinstance(wanted, Mapping):
                continue
            for mic, number in wanted.items():
                try:
                    MedicalInstitutionCode.parse(str(mic))
                except NumberError as exc:
                    log.warning("person %s: reference_numbers: %s", person.id, exc.detail)
                    continue
                rows.extend((str(mic), q.key, str(number)[:MAX_LENGTH]) for q in person.in_force(on))
        added = 0
        with self.store.transaction() as db:
            for mic, key, number in rows:
                if self.lookup(mic, key) is None:
                    self.write(db, mic, key, number, at, "fixture")
                    added += 1
        for mic, key, number in rows:
            if self.lookup(mic, key) is None:
                self.remember(mic, key, number)
        return added


def _status_fields(code: ResultCode | None) -> Tree:
    status = ProcessingResultStatus.ERROR if code else ProcessingResultStatus.NORMAL
    out: Tree = {"ProcessingResultStatus": status.value}
    if code is not None:
        out["ProcessingResultCode"] = code.code
        out["ProcessingResultMessage"] = code.message
    return out


def check(index: PeopleIndex, codes: ResultCodes, card: CardKey, on: dt.date) -> tuple[Match | None, ResultCode | None]:
    """`resolve` with the failure as a ProcessingResultCode."""
    match, kind, detail = resolve(index, card, on)
    return (match, None) if match is not None else (None, codes.get(kind, detail=detail))


class RegistrationService:
    """OQSsiimm01: one ReferenceNumberRegistrationInfo; a bad element fails the file (SegmentOfResult
    9, as in 資格確認); a key that matches no current qualification fails the person (status 2)."""

    reference = None

    def __init__(self, registry: ReferenceNumberRegistry) -> None:
        self.registry = registry

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        header_tree, body_tree = message(tree)
        header = parse_header(header_tree, date_required=False)
        path = "XmlMsg/MessageBody"
        info = child(body_tree, RECORD, path)
        request = parse_registration(
            info, f"{path}/{RECORD}", strict_padding=ctx.gateway.settings.strict_insurer_padding
        )
        mic = header.medical_institution.value
        match, error = check(ctx.index, ctx.codes, request.card, ctx.now.date())
        if match is not None:
            self.registry.register(mic, match.qualification.key, request.reference_number, ctx.now)
        body: Tree = {RECORD: request.raw, **_status_fields(error)}
        result: Tree = {
            "MessageHeader": result_header(
                now=ctx.now,
                mic=mic,
                confirmation_date=None,
                arbitrary_file_identifier=header.arbitrary_file_identifier,
                reference=None,
                segment=SegmentOfResult.NORMAL,
                error=None,
                character_code=ctx.character_code,
            ),
            "MessageBody": body,
        }
        reason = f"照会番号 {request.reference_number} 登録" if error is None else error.message
        return Reply(result, reason=reason, extra={"reference_number": request.reference_number})


class RegistrationProcessor:
    """Bulk registration (OQSmuimm): one BulkRegistrationUnit per record; registrations of a chunk
    commit in the same transaction as its results."""

    def __init__(self, gateway: Gateway, registry: ReferenceNumberRegistry) -> None:
        self.gateway = gateway
        self.registry = registry

    def __call__(self, job: Job, records: list[tuple[int, Node]]) -> ChunkOutcome:
        gateway = self.gateway
        index, codes = gateway.index, gateway.codes
        on = parse_date(job.confirmation_date)
        at = gateway.clock.now()
        strict = gateway.settings.strict_insurer_padding
        units: list[tuple[str, bool]] = []
        unit = REGISTRATION.unit
        writes: list[tuple[CardKey, str]] = []
        for seq, raw in records:
            echo: Tree = {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}
            try:
                if not isinstance(raw, dict):
                    raise RequestError("xml.format", record_path(REGISTRATION, seq), "子要素を持つ要素が必要です")
                request = parse_registration(raw, record_path(REGISTRATION, seq), strict_padding=strict)
            except RequestError as exc:
                code = codes.get("reference.invalid", element=exc.element, detail=exc.detail)
                units.append((bulk_render.element(unit, {RECORD: echo, **_status_fields(code)}), True))
                continue
            match, error = check(index, codes, request.card, on)
            if match is not None:
                writes.append((match.qualification.key, request.reference_number))
            result = {RECORD: request.raw, **_status_fields(error)}
            units.append((bulk_render.element(unit, result), error is not None))

        def apply(db: sqlite3.Connection) -> None:
            for key, number in writes:
                self.registry.write(db, job.mic, key, number, at, f"bulk {job.reception_number}")

        def after() -> None:
            for key, number in writes:
                self.registry.remember(job.mic, key, number)

        return ChunkOutcome(units, apply, after)


def registry(gateway: Gateway) -> ReferenceNumberRegistry | None:
    service = gateway.services.get(API_ID)
    return service.registry if isinstance(service, RegistrationService) else None


def reference_number_for(gateway: Gateway, mic: str, card_key: CardKey) -> str | None:
    """The 照会番号 that 医療機関 `mic` registered for this qualification, or None — never another's."""
    found = registry(gateway)
    return found.lookup(mic, card_key) if found is not None else None


def install(gateway: Gateway) -> None:
    """Register OQSsiimm01 and make 資格確認 results carry the number (install after eligibility)."""
    reg = ReferenceNumberRegistry(gateway.store)
    gateway.register(API_ID, RegistrationService(reg))
    single = gateway.services.get(eligibility.API_ID)
    if isinstance(single, eligibility.EligibilityService):
        single.reference_numbers = reg.lookup

    def seed(gw: Gateway) -> None:
        reg.seed(gw.index, gw.clock.today(), gw.clock.now())

    seed(gateway)
    gateway.on_reload.append(seed)
