"""The number map: 被保険者証番号 → rowids of `persons`, and extension key → rowids, kept in the store.

Derived data beside the documents: triggers on `persons` bump a generation counter on every insert,
update and delete; a map saved for the current generation is loaded as one blob, any other is
rebuilt by scanning the documents once. Between a write to `persons` and the next reload, the map is
stale in the way an in-memory index would be: new people are not found yet, and a rowid that now
holds someone else is filtered out because the index re-checks matches against the person's own
qualifications.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable

import orjson

from mockgateway.fixtures import EXTENSION_KEYS
from mockgateway.store.sqlite import SqliteRepository

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
