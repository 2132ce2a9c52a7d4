"""SQLite (WAL) repository: round trip through the file, state, replace vs upsert."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgateway.store.base import Repository
from mockgateway.store.sqlite import SCHEMA_VERSION, SqliteRepository

DOC_A = {"id": "a", "Name": "甲　太郎", "qualifications": [{"InsurerNumber": "06139992", "n": 1}]}
DOC_B = {"id": "b", "Name": "乙　花子", "flag": True, "none": None}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "dir" / "mockgateway.sqlite3"


@pytest.fixture
def repo(db_path: Path) -> Iterator[SqliteRepository]:
    store = SqliteRepository(db_path)
    yield store
    store.close()


def test_creates_parent_directories_and_schema(repo: SqliteRepository, db_path: Path) -> None:
    assert db_path.is_file()
    tables = {row[0] for row in repo.connection().execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "insurers", "persons", "state"} <= tables
    version = repo.connection().execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert version == (SCHEMA_VERSION,)


def test_wal_mode_and_full_sync(repo: SqliteRepository) -> None:
    db = repo.connection()
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)


def test_satisfies_the_repository_protocol(repo: SqliteRepository) -> None:
    store: Repository = repo
    assert store.count_people() == 0


def test_round_trip_through_the_file(db_path: Path) -> None:
    first = SqliteRepository(db_path)
    first.replace_people({"06139992": "模擬商事健康保険組合", "139998": "模擬市国民健康保険"}, {"a": DOC_A, "b": DOC_B})
    first.close()
    second = SqliteRepository(db_path)  # a new process would see the same
    try:
        assert second.insurers() == {"06139992": "模擬商事健康保険組合", "139998": "模擬市国民健康保険"}
        assert list(second.documents()) == [("a", DOC_A), ("b", DOC_B)]
        assert second.count_people() == 2
    finally:
        second.close()


def test_documents_keep_insertion_order(repo: SqliteRepository) -> None:
    docs = {pid: {"id": pid} for pid in ("z", "a", "m")}
    repo.replace_people({}, docs)
    assert [pid for pid, _ in repo.documents()] == ["z", "a", "m"]


def test_state_get_set(repo: SqliteRepository, db_path: Path) -> None:
    assert repo.get_state("clock") is None
    repo.set_state("clock", {"running": False, "rate": 1.5, "anchor": "2025-06-18T10:30:00+09:00"})
    repo.set_state("counter", 3)
    repo.set_state("counter", 4)  # overwrite
    assert repo.get_state("clock") == {"running": False, "rate": 1.5, "anchor": "2025-06-18T10:30:00+09:00"}
    assert repo.get_state("counter") == 4
    other = SqliteRepository(db_path)
    try:
        assert other.get_state("counter") == 4
    finally:
        other.close()


def test_replace_drops_what_is_not_given(repo: SqliteRepository) -> None:
    repo.replace_people({"06139992": "甲"}, {"a": DOC_A, "b": DOC_B})
    repo.replace_people({"139998": "乙"}, {"b": {"id": "b", "v": 2}})
    assert repo.insurers() == {"139998": "乙"}
    assert list(repo.documents()) == [("b", {"id": "b", "v": 2})]


def test_upsert_keeps_others_and_replaces_same_ids(repo: SqliteRepository) -> None:
    repo.replace_people({"06139992": "甲"}, {"a": DOC_A, "b": DOC_B})
    repo.upsert_people({"06139992": "甲改", "139998": "乙"}, {"b": {"id": "b", "v": 2}, "c": {"id": "c"}})
    assert repo.insurers() == {"06139992": "甲改", "139998": "乙"}
    docs = dict(repo.documents())
    assert docs == {"a": DOC_A, "b": {"id": "b", "v": 2}, "c": {"id": "c"}}
    assert repo.count_people() == 3


def test_failed_transaction_rolls_back(repo: SqliteRepository) -> None:
    repo.replace_people({"06139992": "甲"}, {"a": DOC_A})

    def failing_write() -> None:
        with repo.transaction() as db:
            db.execute("DELETE FROM persons")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_write()
    assert repo.count_people() == 1
    # the write lock was released: another write goes through
    repo.set_state("k", 1)
    assert repo.get_state("k") == 1


def test_ensure_schema_adds_feature_tables(repo: SqliteRepository) -> None:
    repo.ensure_schema("CREATE TABLE IF NOT EXISTS extra (k TEXT PRIMARY KEY);")
    repo.ensure_schema("CREATE TABLE IF NOT EXISTS extra (k TEXT PRIMARY KEY);")  # idempotent
    with repo.transaction() as db:
        db.execute("INSERT INTO extra VALUES ('x')")
    assert repo.connection().execute("SELECT k FROM extra").fetchall() == [("x",)]


def test_one_connection_per_thread(repo: SqliteRepository) -> None:
    repo.set_state("k", "main")
    seen: list[object] = []

    def read() -> None:
        seen.append(repo.get_state("k"))
        seen.append(repo.connection() is not None)
        repo.close()

    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    assert seen == ["main", True]
    assert repo.get_state("k") == "main"  # this thread's connection is still open


def test_close_then_reuse_reconnects(repo: SqliteRepository) -> None:
    repo.set_state("k", 1)
    repo.close()
    assert repo.get_state("k") == 1
