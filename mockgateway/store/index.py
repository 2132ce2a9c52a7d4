"""The people index the engine answers from.

Two implementations behind one surface (`insurers`, `people`, `candidates`, `add`, `len`):

- `PeopleIndex.build(insurers, documents, today)`: everything in memory, every document parsed
  and validated up front. Used for documents that are not in a store (tests, tools).
- `PeopleIndex.from_store(store, today)` → `StoreIndex`: what `Gateway.reload` uses. It keeps only
  a map 被保険者証番号 → persons rowids in memory and reads a person's document from SQLite the
  first time a request needs it, building the `Person` then (a bounded cache keeps hot people).
  With 1,000,000 people this starts in about a second instead of a minute and stays small
  (docs/performance.md): parsing every document up front costs ~35 µs a person.

The number map is derived data kept in the store beside the documents: triggers on `persons` bump
a generation counter on every insert, update and delete; a map saved for the current generation is
loaded as one blob, any other is rebuilt by scanning the documents once. Between a write to
`persons` and the next reload, the map is stale in the way the old in-memory index was: new people
are not found yet, and a rowid that now holds someone else is filtered out because the matches are
always re-checked against the person's own qualifications.

Documents in the store were validated when they were written (fixture loading, the population
generator); the fast builder trusts their extension keys (`card`, `medical`, …) and falls back to
`fixtures.person_from_doc`, with its errors, for anything it does not recognise.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from mockgateway.domain.codes import (
    INSURED_CARD_CLASSIFICATION,
    LIMIT_CERTIFICATE_CLASSIFICATION,
    LIMIT_CERTIFICATE_FLAG,
    REASON_OF_LOSS,
    PersonalFamily,
    Sex,
)
from mockgateway.domain.eligibility import Match
from mockgateway.domain.kana import is_half_width_kana, to_half_width_kana
from mockgateway.domain.model import (
    CardKey,
    ElderlyRecipientCertificate,
    Insurer,
    LimitCertificate,
    Person,
    Qualification,
)
from mockgateway.domain.numbers import (
    InsurerNumber,
    NumberError,
    normalize_branch,
    normalize_number,
    normalize_symbol,
)
from mockgateway.fixtures import _PERSON_KEYS, _QUAL_KEYS, EXTENSION_KEYS, person_from_doc
from mockgateway.store.sqlite import SqliteRepository

log = logging.getLogger(__name__)

NumberMap = dict[str, int | list[int]]  # 被保険者証番号 → rowid, or rowids in document order
ExtensionMap = dict[str, list[int]]  # extension key (card, medical, …) → rowids of documents that may have it

TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS people_generation_insert AFTER INSERT ON persons
BEGIN UPDATE people_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS people_generation_update AFTER UPDATE ON persons
BEGIN UPDATE people_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS people_generation_delete AFTER DELETE ON persons
BEGIN UPDATE people_generation SET value = value + 1 WHERE id = 1; END;
"""
SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS people_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO people_generation VALUES (1, 0);
CREATE TABLE IF NOT EXISTS people_numbers (generation INTEGER PRIMARY KEY, map BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS people_extensions (generation INTEGER PRIMARY KEY, map BLOB NOT NULL);
"""
    + TRIGGERS
)

_PREFETCH_BATCH = 500  # rowids per IN (…): well under SQLite's bound variables limit
CACHE_PEOPLE = 50_000  # Person objects kept per index (about 1 KB each)


class PeopleIndex:
    """In memory: built from documents, every one parsed and validated up front."""

    def __init__(self) -> None:
        self.insurers: dict[str, Insurer] = {}
        self.people: Mapping[str, Person] = {}
        self.by_number: dict[str, list[Match]] = {}

    @classmethod
    def build(
        cls, insurers: Mapping[str, str], documents: Iterable[tuple[str, Mapping[str, Any]]], today: dt.date
    ) -> PeopleIndex:
        index = cls()
        index.insurers = insurer_objects(insurers)
        for _pid, doc in documents:
            index.add(person_from_doc(doc, index.insurers, today))
        return index

    @classmethod
    def from_store(cls, store: SqliteRepository, today: dt.date, *, cache: int = CACHE_PEOPLE) -> StoreIndex:
        return StoreIndex.load(store, today, cache=cache)

    def add(self, person: Person) -> None:
        people = self.people
        assert isinstance(people, dict)
        old = people.get(person.id)
        if old is not None:
            for q in old.qualifications:
                self.by_number[q.key.number] = [
                    m for m in self.by_number.get(q.key.number, []) if m.person.id != person.id
                ]
        people[person.id] = person
        for q in person.qualifications:
            self.by_number.setdefault(q.key.number, []).append(Match(person, q))

    def candidates(self, number: str) -> list[Match]:
        return self.by_number.get(number, [])

    def prefetch(self, numbers: Iterable[str]) -> None:
        """Hint that the people holding these numbers are about to be asked for (a bulk chunk):
        an index that reads people lazily reads them all at once. In memory: nothing to do."""

    def with_extension(self, key: str) -> Iterator[Person]:
        """People whose document carries the extension `key` (card, medical, reference_numbers).
        Features that look for their own extension should use this, not `people.values()`:
        with a store-backed index of a million people that walks only the few who have it."""
        return (p for p in self.people.values() if key in p.extensions)

    def born_on(self, birthdate: dt.date) -> Iterator[Person]:
        """People born on `birthdate`: the narrowest fact a card-less search (災害時) always has."""
        return (p for p in self.people.values() if p.birthdate == birthdate)

    def __len__(self) -> int:
        return len(self.people)


def insurer_objects(insurers: Mapping[str, str]) -> dict[str, Insurer]:
    return {num: Insurer(InsurerNumber(num), name) for num, name in insurers.items()}


# -- the store-backed index ----------------------------------------------------------------------


class StoreIndex(PeopleIndex):
    """Numbers in memory, documents in SQLite, `Person` objects built on demand and cached."""

    def __init__(
        self,
        store: SqliteRepository,
        today: dt.date,
        numbers: NumberMap,
        count: int,
        cache: int,
        extensions: ExtensionMap | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.today = today
        self.numbers = numbers
        self.extensions = extensions
        self.count = count
        self.cache_size = cache
        self._cache: dict[int, Person] = {}
        self._matches: dict[str, list[Match]] = {}
        self._overlay: dict[str, Person] = {}  # people added with `add` after the load
        self.stored = StorePeople(self)
        self.people = self.stored

    @classmethod
    def load(cls, store: SqliteRepository, today: dt.date, *, cache: int = CACHE_PEOPLE) -> StoreIndex:
        ensure_schema(store)
        insurers = insurer_objects(store.insurers())
        numbers, count, extensions = load_maps(store)
        index = cls(store, today, numbers, count, cache, extensions)
        index.insurers = insurers
        return index

    # -- people --------------------------------------------------------------------------------

    def person_at(self, rowid: int) -> Person | None:
        person = self._cache.get(rowid)
        if person is not None:
            return person
        row = self.store.connection().execute("SELECT doc FROM persons WHERE rowid = ?", (rowid,)).fetchone()
        if row is None:
            return None
        person = self.parse(row[0])
        if person.id in self._overlay:
            return None
        self._remember(rowid, person)
        return person

    def parse(self, blob: bytes) -> Person:
        doc = orjson.loads(blob)
        return fast_person(doc, self.insurers, self.today) or person_from_doc(doc, self.insurers, self.today)

    def prefetch(self, numbers: Iterable[str]) -> None:
        """Read the not-yet-built people holding `numbers` with one query per batch (instead of
        one query per person as `person_at` does), so a bulk chunk of a thousand new people costs
        a handful of statements. Bounded by the cache: a chunk larger than it is read as before."""
        wanted: list[int] = []
        cache, found = self._cache, self.numbers
        for number in numbers:
            rowids = found.get(number)
            if rowids is None:
                continue
            for rowid in (rowids,) if isinstance(rowids, int) else rowids:
                if rowid not in cache:
                    wanted.append(rowid)
        wanted = sorted(set(wanted))[: max(self.cache_size - len(cache), 0)]
        db = self.store.connection()
        for start in range(0, len(wanted), _PREFETCH_BATCH):
            batch = wanted[start : start + _PREFETCH_BATCH]
            marks = ",".join("?" * len(batch))
            for rowid, blob in db.execute(f"SELECT rowid, doc FROM persons WHERE rowid IN ({marks})", batch):
                person = self.parse(blob)
                if person.id not in self._overlay:
                    self._remember(rowid, person)

    def _remember(self, rowid: int, person: Person) -> None:
        if len(self._cache) >= self.cache_size:
            self._cache.clear()  # whole-cache eviction: no bookkeeping, no lock, no race
            self._matches.clear()
        self._cache[rowid] = person

    def candidates(self, number: str) -> list[Match]:
        cached = self._matches.get(number)
        if cached is not None:
            return list(cached)
        found: list[Match] = []
        rowids = self.numbers.get(number)
        if rowids is not None:
            for rowid in (rowids,) if isinstance(rowids, int) else rowids:
                person = self.person_at(rowid)
                if person is not None:
                    found.extend(Match(person, q) for q in person.qualifications if q.key.number == number)
        for person in self._overlay.values():
            found.extend(Match(person, q) for q in person.qualifications if q.key.number == number)
        if len(self._matches) >= self.cache_size:
            self._matches.clear()
        self._matches[number] = found
        return list(found)

    def add(self, person: Person) -> None:
        """Put a person in front of the store's version until the next reload."""
        self._overlay[person.id] = person
        self._matches.clear()

    def born_on(self, birthdate: dt.date) -> Iterator[Person]:
        """SQLite looks for the date's digits in the raw documents (a byte search in C, about a
        second for a million people) and only those few documents are parsed; the birth date
        itself is then compared, so a digit string found in another field costs a parse, no more."""
        yield from (p for p in self._overlay.values() if p.birthdate == birthdate)
        needle = f"{birthdate.year:04d}{birthdate.month:02d}{birthdate.day:02d}".encode()
        rows = self.store.connection().execute("SELECT rowid FROM persons WHERE instr(doc, ?) > 0", (needle,))
        for (rowid,) in rows.fetchall():
            person = self.person_at(rowid)
            if person is not None and person.birthdate == birthdate:
                yield person

    def with_extension(self, key: str) -> Iterator[Person]:
        yield from (p for p in self._overlay.values() if key in p.extensions)
        if self.extensions is not None:  # saved with the number map: only those documents are read
            for rowid in self.extensions.get(key, []):
                person = self.person_at(rowid)
                if person is not None and key in person.extensions:
                    yield person
            return
        rows = self.store.connection().execute(
            "SELECT rowid, doc FROM persons WHERE instr(doc, ?) > 0 ORDER BY rowid", (f'"{key}":'.encode(),)
        )
        for rowid, blob in rows.fetchall():
            person = self.parse(blob)
            if key in person.extensions and person.id not in self._overlay:
                self._remember(rowid, person)
                yield person

    def __len__(self) -> int:
        return self.count + sum(1 for pid in self._overlay if not self.stored.in_store(pid))


class StorePeople(Mapping[str, Person]):
    """`index.people` of a StoreIndex: by id, read from the store on demand."""

    def __init__(self, index: StoreIndex) -> None:
        self.index = index

    def in_store(self, pid: str) -> bool:
        db = self.index.store.connection()
        return db.execute("SELECT 1 FROM persons WHERE id = ?", (pid,)).fetchone() is not None

    def __getitem__(self, pid: str) -> Person:
        overlay = self.index._overlay.get(pid)
        if overlay is not None:
            return overlay
        row = self.index.store.connection().execute("SELECT rowid FROM persons WHERE id = ?", (pid,)).fetchone()
        person = self.index.person_at(int(row[0])) if row is not None else None
        if person is None:
            raise KeyError(pid)
        return person

    def __contains__(self, pid: object) -> bool:
        return isinstance(pid, str) and (pid in self.index._overlay or self.in_store(pid))

    def __iter__(self) -> Iterator[str]:
        rows = self.index.store.connection().execute("SELECT id FROM persons ORDER BY rowid").fetchall()
        overlay = self.index._overlay
        yield from (pid for (pid,) in rows if pid not in overlay)
        yield from overlay

    def __len__(self) -> int:
        return len(self.index)

    def values(self) -> Iterator[Person]:  # type: ignore[override]
        """Every person, building each: fine for fixtures, slow for a population (see with_extension)."""
        if self.index.count > 100_000:
            log.warning("walking all %s people of the index: use index.with_extension(key)", f"{self.index.count:,}")
        overlay = self.index._overlay
        rows = self.index.store.connection().execute("SELECT rowid, doc FROM persons ORDER BY rowid")
        for rowid, blob in rows:
            person = self.index._cache.get(rowid) or self.index.parse(blob)
            if person.id not in overlay:
                yield person
        yield from overlay.values()


# -- the number map ------------------------------------------------------------------------------


def ensure_schema(store: SqliteRepository) -> None:
    store.ensure_schema(SCHEMA)


def bulk_replace(db: sqlite3.Connection) -> Callable[[NumberMap, ExtensionMap], None]:
    """For a writer replacing every person in one transaction (the population generator): drops the
    per-row triggers for the duration (a million trigger runs cost seconds) and returns `finish`,
    which bumps the generation once, saves the writer's own maps for it and restores the triggers.
    Other connections see the change only at COMMIT, triggers and all."""
    for kind in ("insert", "update", "delete"):
        db.execute(f"DROP TRIGGER IF EXISTS people_generation_{kind}")

    def finish(numbers: NumberMap, extensions: ExtensionMap) -> None:
        db.execute("UPDATE people_generation SET value = value + 1 WHERE id = 1")
        save_number_map(db, numbers, generation(db), extensions)
        for statement in TRIGGERS.strip().split("END;"):
            if statement.strip():
                db.execute(statement + "END;")

    return finish


def generation(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM people_generation WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


_EXTENSION_NAMES = tuple(sorted(EXTENSION_KEYS))
_EXTENSION_MARKS = {key: f'"{key}":'.encode() for key in _EXTENSION_NAMES}
_NUMBER = re.compile(rb'"InsuredIdentificationNumber":"((?:[^"\\]|\\.)*)"')


def numbers_in(blob: bytes) -> list[str]:
    """Every 被保険者証番号 in a stored document, normalised as the index compares them.
    A regular expression over orjson's compact output (~1 µs) instead of a parse (~3 µs); the
    odd document (escapes, a number that is not a string) goes through orjson."""
    found = _NUMBER.findall(blob)
    if found and not any(b"\\" in raw for raw in found):
        return [raw.decode("utf-8").strip(" \u3000") for raw in found]
    doc = orjson.loads(blob)
    out: list[str] = []
    quals = doc.get("qualifications") if isinstance(doc, dict) else None
    for q in quals if isinstance(quals, list) else [quals] if isinstance(quals, dict) else []:
        value = q.get("InsuredIdentificationNumber") if isinstance(q, dict) else None
        if value is not None and value != "":
            out.append(str(value).strip(" \u3000"))
    return out


def add_numbers(numbers: NumberMap, rowid: int, found: Iterable[str]) -> None:
    for number in dict.fromkeys(found):  # a person holding the same number twice is listed once
        old = numbers.get(number)
        if old is None:
            numbers[number] = rowid
        elif isinstance(old, int):
            numbers[number] = [old, rowid]
        else:
            old.append(rowid)


def extensions_in(blob: bytes) -> list[str]:
    """Extension keys a stored document may carry (a key name inside some value counts too: the
    index re-checks the parsed person, so a false "maybe" costs a read, never a wrong answer)."""
    return [key for key in _EXTENSION_NAMES if _EXTENSION_MARKS[key] in blob]


def add_extensions(extensions: ExtensionMap, rowid: int, found: Iterable[str]) -> None:
    for key in found:
        extensions.setdefault(key, []).append(rowid)


def scan(db: sqlite3.Connection) -> tuple[NumberMap, ExtensionMap]:
    numbers: NumberMap = {}
    extensions: ExtensionMap = {}
    for rowid, blob in db.execute("SELECT rowid, doc FROM persons ORDER BY rowid"):
        add_numbers(numbers, rowid, numbers_in(blob))
        add_extensions(extensions, rowid, extensions_in(blob))
    return numbers, extensions


def scan_numbers(db: sqlite3.Connection) -> NumberMap:
    return scan(db)[0]


def save_number_map(
    db: sqlite3.Connection, numbers: NumberMap, at_generation: int, extensions: ExtensionMap | None = None
) -> None:
    """Inside a write transaction: keep the maps of `at_generation`, drop older ones."""
    db.execute("DELETE FROM people_numbers")
    db.execute("DELETE FROM people_extensions")
    db.execute("INSERT INTO people_numbers VALUES (?, ?)", (at_generation, orjson.dumps(numbers)))
    if extensions is not None:
        db.execute("INSERT INTO people_extensions VALUES (?, ?)", (at_generation, orjson.dumps(extensions)))


def load_maps(
    store: SqliteRepository, on_rebuild: Callable[[int], None] | None = None
) -> tuple[NumberMap, int, ExtensionMap | None]:
    """The maps for the store's current generation (loaded, or rebuilt by one scan and saved) and
    the number of people. The extension map is None when it was not saved for this generation."""
    db = store.connection()
    db.execute("BEGIN")  # one read snapshot: generation, maps and count agree
    try:
        current = generation(db)
        row = db.execute("SELECT map FROM people_numbers WHERE generation = ?", (current,)).fetchone()
        ext = db.execute("SELECT map FROM people_extensions WHERE generation = ?", (current,)).fetchone()
        count = int(db.execute("SELECT count(*) FROM persons").fetchone()[0])
        extensions: ExtensionMap | None = orjson.loads(ext[0]) if ext is not None else None
        if row is not None:
            numbers: NumberMap = orjson.loads(row[0])
        else:
            numbers, extensions = scan(db)
    finally:
        db.execute("COMMIT")
    if row is None:
        if on_rebuild is not None:
            on_rebuild(count)
        with store.transaction() as tx:
            if generation(tx) == current:  # nobody wrote meanwhile: the maps are this generation's
                save_number_map(tx, numbers, current, extensions)
    return numbers, count, extensions


# -- building a Person fast ----------------------------------------------------------------------

_PERSON_ALLOWED = frozenset(_PERSON_KEYS | EXTENSION_KEYS)
_QUAL_ALLOWED = frozenset(_QUAL_KEYS)
_ELDERLY_KEYS = frozenset(
    {
        "ElderlyRecipientCertificateDate",
        "ElderlyRecipientValidStartDate",
        "ElderlyRecipientValidEndDate",
        "ElderlyRecipientContributionRatio",
    }
)
_LIMIT_KEYS = frozenset(
    f"LimitApplicationCertificate{k}"
    for k in ("Classification", "ClassificationFlag", "Date", "ValidStartDate", "ValidEndDate", "LongTermDate")
)
_SEXES = {s.value: s for s in Sex}
_FAMILY = {p.value: p for p in PersonalFamily}
_RATIOS = frozenset(f"{n:03d}" for n in range(1000))
_dates: dict[str, dt.date] = {}
_kana: dict[str, str] = {}


class _Slow(Exception):
    """The fast builder met something it does not handle: use person_from_doc."""


_QUAL_NESTED = frozenset({"ElderlyRecipientCertificateInfo", "LimitApplicationCertificateRelatedInfo"})
_PERSON_NESTED = frozenset({"qualifications", *EXTENSION_KEYS})


def _plain(doc: Mapping[str, Any], nested: frozenset[str]) -> None:
    """Every value a string (or null), except under `nested` keys: then `doc.get(k) or None` reads
    a field exactly as the fixture reader's text() does ("" and null are both absent)."""
    for key, value in doc.items():
        if value is not None and type(value) is not str and key not in nested:
            raise _Slow


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    day = _dates.get(value)
    if day is None:
        if len(value) != 8 or not (value.isascii() and value.isdigit()):
            raise _Slow  # relative dates and errors: the fixture reader's business
        try:
            day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise _Slow from None
        if len(_dates) < 200_000:
            _dates[value] = day
    return day


def _half_kana(text: str) -> str:
    half = _kana.get(text)
    if half is None:
        half = to_half_width_kana(text)
        if not is_half_width_kana(half):
            raise _Slow
        if len(_kana) < 200_000:
            _kana[text] = half
    return half


def _children(doc: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = doc.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(type(item) is dict for item in items):
        raise _Slow
    return items


def _qualification(q: Mapping[str, Any], insurers: Mapping[str, Insurer]) -> Qualification:
    if not q.keys() <= _QUAL_ALLOWED or "SpecificDiseasesCertificateInfo" in q:
        raise _Slow
    _plain(q, _QUAL_NESTED)
    get = q.get
    insurer = insurers.get(get("InsurerNumber") or "")
    if insurer is None:  # padded, unknown or invalid: the full reader says which
        raise _Slow
    try:
        key = CardKey(
            insurer.number.value,
            normalize_symbol(get("InsuredCardSymbol") or None),
            normalize_number(get("InsuredIdentificationNumber") or None),
            normalize_branch(get("InsuredBranchNumber") or None),
        )
    except NumberError:
        raise _Slow from None
    family = get("PersonalFamilyClassification") or None
    if family is not None and family not in _FAMILY:
        raise _Slow
    elderly = None
    for e in _children(q, "ElderlyRecipientCertificateInfo")[:1]:
        _plain(e, frozenset())
        ratio = e.get("ElderlyRecipientContributionRatio") or None
        if not e.keys() <= _ELDERLY_KEYS or ratio not in _RATIOS:
            raise _Slow
        elderly = ElderlyRecipientCertificate(
            _day(e.get("ElderlyRecipientCertificateDate")),
            _day(e.get("ElderlyRecipientValidStartDate")),
            _day(e.get("ElderlyRecipientValidEndDate")),
            ratio,
        )
    limits = []
    for lim in _children(q, "LimitApplicationCertificateRelatedInfo"):
        _plain(lim, frozenset())
        cls = lim.get("LimitApplicationCertificateClassification") or None
        flag = lim.get("LimitApplicationCertificateClassificationFlag") or None
        if cls is None or flag is None or not lim.keys() <= _LIMIT_KEYS:
            raise _Slow
        if cls not in LIMIT_CERTIFICATE_CLASSIFICATION or flag not in LIMIT_CERTIFICATE_FLAG:
            raise _Slow
        limits.append(
            LimitCertificate(
                cls,
                flag,
                _day(lim.get("LimitApplicationCertificateDate")),
                _day(lim.get("LimitApplicationCertificateValidStartDate")),
                _day(lim.get("LimitApplicationCertificateValidEndDate")),
                _day(lim.get("LimitApplicationCertificateLongTermDate")),
            )
        )
    qualified = _day(get("QualificationDate"))
    lost = _day(get("DisqualificationDate"))
    reason = get("ReasonOfLoss") or None
    classification = get("InsuredCardClassification") or None
    ratio = get("InsuredPartialContributionRatio") or None
    if (
        qualified is None
        or (lost is not None and (lost <= qualified or reason is None))
        or (reason is not None and reason not in REASON_OF_LOSS)
        or (classification is not None and classification not in INSURED_CARD_CLASSIFICATION)
        or (ratio is not None and ratio not in _RATIOS)
    ):
        raise _Slow
    return Qualification(
        insurer=insurer,
        key=key,
        card_classification=classification or "01",
        personal_family=_FAMILY[family] if family else None,
        insured_name=get("InsuredName") or None,
        qualification_date=qualified,
        disqualification_date=lost,
        reason_of_loss=reason,
        card_issuance_date=_day(get("InsuredCertificateIssuanceDate")),
        card_valid_date=_day(get("InsuredCardValidDate")),
        card_expiration_date=_day(get("InsuredCardExpirationDate")),
        partial_contribution_ratio=ratio,
        preschool=get("PreschoolClassification") or None,
        elderly=elderly,
        limits=tuple(limits),
    )


def fast_person(doc: Any, insurers: Mapping[str, Insurer], today: dt.date) -> Person | None:
    """The `Person` that `fixtures.person_from_doc` would build from a stored (absolute-dated,
    already validated) document, about four times faster; None when the document needs the full
    reader (relative dates, padded numbers, 特定疾病, anything unusual or wrong)."""
    del today  # only relative dates need it, and those take the slow path
    try:
        if type(doc) is not dict or not doc.keys() <= _PERSON_ALLOWED:
            return None
        _plain(doc, _PERSON_NESTED)
        get = doc.get
        pid, name, kana = get("id") or None, get("Name") or None, get("NameKana") or None
        sex1, sex2 = get("Sex1") or None, get("Sex2") or None
        birth = _day(get("Birthdate"))
        if not pid or name is None or kana is None or birth is None or sex1 not in _SEXES:
            return None
        if sex2 is not None and sex2 not in _SEXES:
            return None
        quals = tuple(_qualification(q, insurers) for q in _children(doc, "qualifications"))
        if not quals:
            return None
        other_kana = get("NameOfOtherKana") or None
        return Person(
            id=pid,
            name=name,
            name_kana=_half_kana(kana),
            birthdate=birth,
            sex1=_SEXES[sex1],
            sex2=_SEXES[sex2] if sex2 else None,
            qualifications=quals,
            name_of_other=get("NameOfOther") or None,
            name_of_other_kana=to_half_width_kana(other_kana) if other_kana else None,
            address=get("Address") or None,
            post_number=get("PostNumber") or None,
            extensions={k: doc[k] for k in EXTENSION_KEYS if k in doc},
        )
    except _Slow:
        return None
