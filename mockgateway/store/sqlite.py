"""SQLite (WAL) implementation of the repository: the embedded default store.

One connection per thread (sqlite3 objects must not cross threads); writes are serialised by a
lock because WAL allows one writer. `synchronous=FULL`: an accepted request must survive a crash.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS insurers (number TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS persons (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
SCHEMA_VERSION = "1"


class SqliteRepository:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._extra_schemas: list[str] = []
        # Bumped after every committed write (and by `touch`): memos of answers built from what
        # the store holds (engine.AnswerMemo) are valid only for the count they were built at.
        self.changes = 0
        self.ensure_schema(SCHEMA)
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    def transaction(self, *, answers: bool = True) -> _Transaction:
        """`answers=False`: what is written here never changes an answer built from the store
        (bulk job bookkeeping), so remembered answers stay valid (`changes` does not move)."""
        return _Transaction(self.connection(), self._write_lock, self, answers)

    def touch(self) -> None:
        """Say that something answers depend on has changed (an in-memory registry updated after
        its commit): call it after the change is visible, so nothing built before it is kept."""
        self.changes += 1

    def ensure_schema(self, sql: str) -> None:
        """Features (bulk jobs, reference numbers, consents) add their own tables.

        executescript commits on its own, so it runs under the write lock but outside BEGIN."""
        with self._write_lock:
            self.connection().executescript(sql)

    def replace_people(self, insurers: Mapping[str, str], documents: Mapping[str, Mapping[str, Any]]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM persons")
            db.execute("DELETE FROM insurers")
            self._write_people(db, insurers, documents)

    def upsert_people(self, insurers: Mapping[str, str], documents: Mapping[str, Mapping[str, Any]]) -> None:
        with self.transaction() as db:
            self._write_people(db, insurers, documents)

    @staticmethod
    def _write_people(
        db: sqlite3.Connection, insurers: Mapping[str, str], documents: Mapping[str, Mapping[str, Any]]
    ) -> None:
        db.executemany("INSERT OR REPLACE INTO insurers VALUES (?, ?)", insurers.items())
        db.executemany(
            "INSERT OR REPLACE INTO persons VALUES (?, ?)",
            ((pid, orjson.dumps(doc)) for pid, doc in documents.items()),
        )

    def insurers(self) -> dict[str, str]:
        return dict(self.connection().execute("SELECT number, name FROM insurers"))

    def documents(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for pid, blob in self.connection().execute("SELECT id, doc FROM persons ORDER BY rowid"):
            yield pid, orjson.loads(blob)

    def count_people(self) -> int:
        row = self.connection().execute("SELECT count(*) FROM persons").fetchone()
        return int(row[0])

    def get_state(self, key: str) -> Any | None:
        row = self.connection().execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def set_state(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, orjson.dumps(value)))

    def close(self) -> None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT under the process-wide write lock; ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, store: SqliteRepository, answers: bool) -> None:
        self.db, self.lock, self.store, self.answers = db, lock, store, answers

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            if self.answers:
                self.store.changes += 1  # under the lock: writers never lose a count
            self.lock.release()
