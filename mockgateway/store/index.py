"""The people index the engine answers from.

Two implementations behind one surface (`insurers`, `people`, `candidates`, `add`, `len`):

- `PeopleIndex.build(insurers, documents, today)`: everything in memory, every document parsed
  and validated up front. Used for documents that are not in a store (tests, tools).
- `PeopleIndex.from_store(store, today)` → `StoreIndex`: what `Gateway.reload` uses. It keeps only
  a map 被保険者証番号 → persons rowids in memory and reads a person's document from SQLite the
  first time a request needs it, building the `Person` then (a bounded cache keeps hot people).
  With 1,000,000 people this starts in about a second instead of a minute and stays small
  (docs/performance.md): parsing every document up front costs ~35 µs a person.

The number map is derived data kept in the store beside the documents (number_map.py). Documents
are turned into `Person`s by the fast builder (fast_person.py), or by `fixtures.person_from_doc`,
with its errors, for anything the fast builder does not recognise.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from mockgateway.domain.eligibility import Match
from mockgateway.domain.model import (
    Insurer,
    Person,
)
from mockgateway.domain.numbers import (
    InsurerNumber,
)
from mockgateway.fixtures import person_from_doc
from mockgateway.store.fast_person import fast_person
from mockgateway.store.number_map import ExtensionMap, NumberMap, ensure_schema, load_maps
from mockgateway.store.sqlite import SqliteRepository

log = logging.getLogger(__name__)

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

    @property
    def store_only(self) -> bool:
        """Every person answered comes from the store (none added in memory): another process
        loading the same store file, generation and date answers the same."""
        return not self._overlay

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
