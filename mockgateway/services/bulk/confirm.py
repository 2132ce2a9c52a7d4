"""資格確認一括照会 processing: one QualificationConfirmSearchInfo → one BulkConfirmUnit.

Each record is validated with the single query's parser (`parse_search_info`) and judged with the
same rule (`domain.eligibility.confirm`) as of the job's 資格確認日. A record that fails
validation becomes ProcessingResultStatus 2 with `record.invalid` naming the element; the other
records are unaffected.

BulkConfirmUnit layout ([S] QCBIDXmlMsgResponse): QualificationConfirmSearchInfo (echo),
ProcessingResultStatus, ProcessingResultCode, ProcessingResultMessage, QualificationValidity,
ResultOfQualificationConfirmation (a subset of the single result), ReferenceNumber. The subset is
[S]'s list plus 資格取得/喪失年月日 (which a bulk pre-check exists to report; inferred).
`LimitApplicationCertificateChanged` is left out: its meaning is unconfirmed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from mockgateway.domain.clock import parse_date
from mockgateway.domain.codes import ProcessingResultStatus, ResultCodes
from mockgateway.domain.eligibility import Match, SearchKey, confirm
from mockgateway.domain.kakunin import classification
from mockgateway.domain.model import CardKey, Person
from mockgateway.domain.numbers import NumberError, normalize_number
from mockgateway.engine import Gateway
from mockgateway.services.bulk import parallel
from mockgateway.services.bulk import render as bulk_render
from mockgateway.services.bulk.jobs import ChunkOutcome, Job, StoredChunk, quiet_gc, read_records
from mockgateway.services.bulk.layout import CONFIRM, record_path
from mockgateway.store.index import PeopleIndex, StoreIndex
from mockgateway.store.number_map import generation
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire.messages import RequestError, parse_search_info
from mockgateway.wire.xmlcodec import Node, Tree

RESULT_FIELDS = (
    "InsuredCardClassification", "InsurerNumber", "InsuredCardSymbol", "InsuredIdentificationNumber",
    "InsuredBranchNumber", "PersonalFamilyClassification", "InsuredName", "Name", "NameOfOther",
    "NameKana", "NameOfOtherKana", "Sex1", "Sex2", "Birthdate", "Address", "PostNumber",
    "QualificationDate", "DisqualificationDate", "InsuredCertificateIssuanceDate", "InsuredCardValidDate",
    "InsuredCardExpirationDate", "InsuredPartialContributionRatio", "PreschoolClassification",
    "ReasonOfLoss", "InsurerName", "ElderlyRecipientCertificateInfo",
)  # fmt: skip

ReferenceLookup = Callable[[str, CardKey], str | None]
ReferenceSnapshot = Callable[[str], dict[CardKey, str]]  # a 医療機関's 照会番号 by qualification
# Rendered results kept (about 2 KB each with the Person they belong to). A hit needs the very
# Person object, which the index keeps only while it is in its cache: more than a file's worth
# (max_records 10,000) buys nothing but memory in every worker process.
SUBSET_CACHE = 20_000


def _d(value: dt.date | None) -> str | None:
    return None if value is None else f"{value.year:04d}{value.month:02d}{value.day:02d}"


def result_subset(match: Match, kakunin_classification: str | None = None) -> Tree:
    """ResultOfQualificationConfirmation of a bulk unit: `RESULT_FIELDS` of the single result
    (`results.qualification_tree`), built directly because it is the hot path of a 100,000-record
    job; tests/services/bulk/test_confirm.py checks the two agree for every default persona."""
    person, q = match.person, match.qualification
    elderly = q.elderly
    tree: dict[str, Node] = {
        "InsuredCardClassification": classification(q.card_classification, q.document, kakunin_classification),
        "InsurerNumber": q.insurer.number.padded,
        "InsuredCardSymbol": q.key.symbol or None,
        "InsuredIdentificationNumber": q.key.number,
        "InsuredBranchNumber": q.key.branch or None,
        "PersonalFamilyClassification": q.personal_family.value if q.personal_family else None,
        "InsuredName": q.insured_name,
        "Name": person.name,
        "NameOfOther": person.name_of_other,
        "NameKana": person.name_kana,
        "NameOfOtherKana": person.name_of_other_kana,
        "Sex1": person.sex1.value,
        "Sex2": person.sex2.value if person.sex2 else None,
        "Birthdate": _d(person.birthdate),
        "Address": person.address,
        "PostNumber": person.post_number,
        "QualificationDate": _d(q.qualification_date),
        "DisqualificationDate": _d(q.disqualification_date),
        "InsuredCertificateIssuanceDate": _d(q.card_issuance_date),
        "InsuredCardValidDate": _d(q.card_valid_date),
        "InsuredCardExpirationDate": _d(q.card_expiration_date),
        "InsuredPartialContributionRatio": q.partial_contribution_ratio,
        "PreschoolClassification": q.preschool,
        "ReasonOfLoss": q.reason_of_loss,
        "InsurerName": q.insurer.name,
        "ElderlyRecipientCertificateInfo": None
        if elderly is None
        else {
            k: v
            for k, v in (
                ("ElderlyRecipientCertificateDate", _d(elderly.issued)),
                ("ElderlyRecipientValidStartDate", _d(elderly.valid_start)),
                ("ElderlyRecipientValidEndDate", _d(elderly.valid_end)),
                ("ElderlyRecipientContributionRatio", elderly.contribution_ratio),
            )
            if v is not None
        },
    }
    return {k: v for k, v in tree.items() if v is not None}


_FLAT_FIELDS = RESULT_FIELDS[:-1]  # all but ElderlyRecipientCertificateInfo, the last one
_ELDERLY_FIELDS = (
    "ElderlyRecipientCertificateDate", "ElderlyRecipientValidStartDate", "ElderlyRecipientValidEndDate",
    "ElderlyRecipientContributionRatio",
)  # fmt: skip


_DAYS: dict[dt.date, str] = {}  # YYYYMMDD of dates met (birth dates, card dates: they repeat)


def _day(value: dt.date | None) -> str | None:
    if value is None:
        return None
    text = _DAYS.get(value)
    if text is None:
        if len(_DAYS) >= 100_000:
            _DAYS.clear()
        text = _DAYS[value] = f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return text


def subset_xml(match: Match, kakunin_classification: str | None = None) -> str:
    """`<ResultOfQualificationConfirmation>` + `children(result_subset(match))` + its end tag, the
    same text made in one pass, without the intermediate tree (a tenth of the cost of a record
    met for the first time); tests/services/bulk/test_confirm.py checks both agree."""
    person, q = match.person, match.qualification
    key, family, sex2, elderly = q.key, q.personal_family, person.sex2, q.elderly
    values: tuple[str | None, ...] = (
        classification(q.card_classification, q.document, kakunin_classification),
        q.insurer.number.padded,
        key.symbol or None,
        key.number,
        key.branch or None,
        family._value_ if family else None,
        q.insured_name,
        person.name,
        person.name_of_other,
        person.name_kana,
        person.name_of_other_kana,
        person.sex1._value_,
        sex2._value_ if sex2 else None,
        _day(person.birthdate),
        person.address,
        person.post_number,
        _day(q.qualification_date),
        _day(q.disqualification_date),
        _day(q.card_issuance_date),
        _day(q.card_valid_date),
        _day(q.card_expiration_date),
        q.partial_contribution_ratio,
        q.preschool,
        q.reason_of_loss,
        q.insurer.name,
    )
    texts = "".join([v for v in values if v is not None])
    if "&" in texts or "<" in texts or ">" in texts:  # rare: escape each value (as `children` does)
        values = tuple(None if v is None else bulk_render.escape(v) for v in values)
    parts = [f"<{n}>{v}</{n}>" for n, v in zip(_FLAT_FIELDS, values, strict=True) if v is not None]
    if elderly is not None:
        escape = bulk_render.escape
        inner = (_day(elderly.issued), _day(elderly.valid_start), _day(elderly.valid_end), elderly.contribution_ratio)
        parts.append("<ElderlyRecipientCertificateInfo>")
        parts.extend(f"<{n}>{escape(v)}</{n}>" for n, v in zip(_ELDERLY_FIELDS, inner, strict=True) if v is not None)
        parts.append("</ElderlyRecipientCertificateInfo>")
    return f"<{_RESULT}>{''.join(parts)}</{_RESULT}>"


_RESULT = "ResultOfQualificationConfirmation"
_OPEN = f"<{CONFIRM.unit}><{CONFIRM.record}>"
_STATUS = (
    f"</{CONFIRM.record}><ProcessingResultStatus>{ProcessingResultStatus.NORMAL.value}</ProcessingResultStatus>"
    "<QualificationValidity>"
)
_VALIDITY_END = "</QualificationValidity>"
_CLOSE = f"</{CONFIRM.unit}>"
_ERROR = ProcessingResultStatus.ERROR.value


class Judge:
    """Validates, judges and renders a chunk's records. Each unit is rendered to XML here. A
    qualification's ResultOfQualificationConfirmation is rendered once and kept for as long as the
    index that holds it — none of its fields depends on the date or the request — so a clinic's
    daily re-check of the same patients reuses it. One per process (the gateway's thread, or a
    worker process: parallel.py)."""

    def __init__(self) -> None:
        self._subsets: dict[tuple[str, CardKey], tuple[Person, str]] = {}
        self._index: object = None
        self._kakunin: str | None = None

    def chunk(
        self,
        job: Job,
        records: list[tuple[int, Node]],
        index: PeopleIndex,
        codes: ResultCodes,
        *,
        strict: bool,
        kakunin: str | None,
        lookup: ReferenceLookup | None,
    ) -> ChunkOutcome:
        on = parse_date(job.confirmation_date)
        if index is not self._index or kakunin != self._kakunin:
            self._subsets, self._index, self._kakunin = {}, index, kakunin
        subsets = self._subsets
        children, escape = bulk_render.children, bulk_render.escape

        def subset(match: Match) -> str:
            # Keyed by person and card, and valid only for the very Person object it was made
            # from: a store-backed index may rebuild or replace people between chunks.
            key = (match.person.id, match.qualification.key)
            found = subsets.get(key)
            if found is not None and found[0] is match.person:
                return found[1]
            if len(subsets) >= SUBSET_CACHE:
                subsets.clear()
            xml = subset_xml(match, kakunin)
            subsets[key] = (match.person, xml)
            return xml

        index.prefetch(_numbers(records))  # the chunk's people in a few queries, not one each
        units: list[tuple[str, bool]] = []
        for seq, raw in records:
            path = record_path(CONFIRM, seq)
            try:
                if not isinstance(raw, dict):
                    raise RequestError("xml.format", path, "子要素を持つ要素が必要です")
                info = parse_search_info(raw, path, strict_padding=strict)
            except RequestError as exc:
                code = codes.get("record.invalid", element=exc.element, detail=exc.detail)
                echo: Tree = {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}
                error: Tree = {
                    CONFIRM.record: echo,
                    "ProcessingResultStatus": _ERROR,
                    "ProcessingResultCode": code.code,
                    "ProcessingResultMessage": code.message,
                }
                units.append((bulk_render.element(CONFIRM.unit, error), True))
                continue
            outcome = confirm(index.candidates(info.card.number), SearchKey(info.card, info.birthdate), on)
            parts = [
                _OPEN,
                children(info.raw),
                _STATUS,
                outcome.validity.value,
                _VALIDITY_END,
                *[subset(m) for m in outcome.matches],
            ]
            single = outcome.match
            if lookup is not None and single is not None:
                number = lookup(job.mic, single.qualification.key)
                if number is not None:
                    parts.append(f"<ReferenceNumber>{escape(number)}</ReferenceNumber>")
            parts.append(_CLOSE)
            units.append(("".join(parts), False))
        return ChunkOutcome(units)


class ConfirmProcessor:
    """The gateway's OQSmuquc processor: in its worker thread (`__call__`), or as work for worker
    processes (`remote`) when everything the answers depend on can be had from the store file."""

    def __init__(
        self,
        gateway: Gateway,
        reference_numbers: ReferenceLookup | None = None,
        references: ReferenceSnapshot | None = None,
    ) -> None:
        self.gateway = gateway
        self.reference_numbers = reference_numbers
        self.references = references
        self.judge = Judge()

    def __call__(self, job: Job, records: list[tuple[int, Node]]) -> ChunkOutcome:
        gateway = self.gateway
        settings = gateway.settings
        return self.judge.chunk(
            job,
            records,
            gateway.index,
            gateway.codes,
            strict=settings.strict_insurer_padding,
            kakunin=settings.kakunin_classification,
            lookup=self.reference_numbers,
        )

    def remote(self, job: Job) -> ConfirmRemote | None:
        """Worker processes build the same index from the same store file (people generation and
        date), and get the settings, result codes and this 医療機関's 照会番号 as they are now.
        Not possible for an in-memory index or store, or with people added in memory."""
        gateway = self.gateway
        index, store = gateway.index, gateway.store
        if not isinstance(index, StoreIndex) or index.store is not store or not index.store_only:
            return None
        if str(store.path) == ":memory:":
            return None
        if self.reference_numbers is not None and self.references is None:
            return None  # a lookup this process alone can answer
        settings = gateway.settings
        return ConfirmRemote(
            db=str(store.path),
            people=(generation(store.connection()), index.today, index.cache_size),
            job=job,
            codes=gateway.codes,
            strict=settings.strict_insurer_padding,
            kakunin=settings.kakunin_classification,
            references=None if self.references is None else self.references(job.mic),
        )


@dataclass(frozen=True, slots=True)
class ConfirmRemote:
    """A job's chunks judged in a worker process (jobs.Remote)."""

    db: str
    people: tuple[int, dt.date, int]  # people generation, the index's date, its cache size
    job: Job
    codes: ResultCodes
    strict: bool
    kakunin: str | None
    references: dict[CardKey, str] | None

    def run(self, start: int, stop: int) -> StoredChunk:
        store = parallel.cached("store", self.db, lambda: SqliteRepository(self.db))
        _generation, today, cache = self.people
        index = parallel.cached("index", (self.db, *self.people), lambda: StoreIndex.load(store, today, cache=cache))
        judge = parallel.cached("judge", None, Judge)
        references = self.references
        lookup = None if references is None else lambda _mic, key: references.get(key)
        with quiet_gc():
            records = read_records(store.connection(), self.job.id, start, stop)
            outcome = judge.chunk(
                self.job, records, index, self.codes, strict=self.strict, kakunin=self.kakunin, lookup=lookup
            )
            return outcome.stored(start)


def _numbers(records: list[tuple[int, Node]]) -> list[str]:
    """The 被保険者番号 of the records, as the index keys them (a best-effort read: a record whose
    number is malformed is refused later, when it is judged, with the interface's error)."""
    out: list[str] = []
    for _seq, raw in records:
        if isinstance(raw, dict):
            number = raw.get("InsuredIdentificationNumber")
            if isinstance(number, str):
                try:  # not contextlib.suppress: a context manager per record costs more than the rest
                    normalized = normalize_number(number)
                except NumberError:
                    continue
                out.append(normalized)
    return out
