"""The job store with chunks stored out of order: `processed` is the contiguous prefix of stored
chunks, the ranges left to do skip chunks stored beyond it, and an overlapping chunk is dropped;
a gateway restarted with chunks stored beyond the prefix answers every record exactly once."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

from mockgateway.engine import Format, Gateway
from mockgateway.services.bulk.jobs import ChunkOutcome, Job, JobStore, StoredChunk
from mockgateway.services.bulk.layout import CONFIRM, upload_tree
from mockgateway.services.bulk.settings import Pace
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire import xmlcodec
from tests.conftest import FROZEN_AT, MIC, TODAY, GatewayFactory
from tests.services.bulk.test_service import download, ident_of, install, mixed_records, reception_number, units_of


def _job(jobs: JobStore, total: int) -> Job:
    return jobs.create(
        family="OQSmuquc", mic=MIC, file_identifier=None, confirmation_date=TODAY, accepted=FROZEN_AT,
        accepted_real=0.0, pace=Pace(), records=[{"ArbitraryIdentifier": str(i)} for i in range(total)],
    )  # fmt: skip


def _chunk(start: int, stop: int, errors: int = 0) -> StoredChunk:
    units = [(f"<U>{i}</U>", i < start + errors) for i in range(start, stop)]
    return ChunkOutcome(units).stored(start)


def _state(jobs: JobStore, job: Job) -> tuple[int, int, float | None]:
    row = (
        jobs.store.connection()
        .execute("SELECT processed, errors, finished_real FROM bulk_jobs WHERE id = ?", (job.id,))
        .fetchone()
    )
    return int(row[0]), int(row[1]), row[2]


def test_out_of_order_chunks_advance_the_contiguous_prefix(tmp_path: Path) -> None:
    jobs = JobStore(SqliteRepository(tmp_path / "jobs.sqlite3"))
    job = _job(jobs, 10)
    assert jobs.pending(job, 10, 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]

    assert jobs.complete_chunk(job, _chunk(6, 9, errors=1), 1.0) == 0  # stored, beyond the prefix
    assert _state(jobs, job) == (0, 0, None)  # its error counts once the prefix reaches it
    assert jobs.pending(job, 10, 3) == [(0, 3), (3, 6), (9, 10)]  # not to be done again
    assert jobs.complete_chunk(job, _chunk(9, 10), 2.0) == 0
    assert jobs.complete_chunk(job, _chunk(0, 3, errors=2), 3.0) == 3
    assert _state(jobs, job) == (3, 2, None)
    assert jobs.complete_chunk(job, _chunk(3, 6), 4.0) == 10  # closes the gap: runs over 6…9 and 9…10
    assert _state(jobs, job) == (10, 3, 4.0)
    assert jobs.pending(job, 10, 3) == []
    assert jobs.results(job) == b"".join(f"<U>{i}</U>".encode() for i in range(10))


def test_overlapping_or_repeated_chunk_is_dropped(tmp_path: Path) -> None:
    """A chunk that covers any record already stored (a duplicate after a restart, a late worker)
    is not stored: every record is answered once."""
    jobs = JobStore(SqliteRepository(tmp_path / "jobs.sqlite3"))
    job = _job(jobs, 10)
    assert jobs.complete_chunk(job, _chunk(4, 8), 1.0) == 0
    for start, stop in ((4, 8), (2, 5), (7, 9), (5, 6)):
        assert jobs.complete_chunk(job, _chunk(start, stop), 1.0) == 0
    assert jobs.complete_chunk(job, _chunk(0, 4), 1.0) == 8
    assert jobs.complete_chunk(job, _chunk(0, 4), 1.0) == 8  # inside the prefix
    assert jobs.pending(job, 10, 5) == [(8, 10)]
    assert jobs.pending(job, 10, 5, since=9) == [(9, 10)]
    assert jobs.complete_chunk(job, _chunk(8, 10), 1.0) == 10
    assert jobs.results(job) == b"".join(f"<U>{i}</U>".encode() for i in range(10))


def test_after_runs_only_for_a_stored_chunk(tmp_path: Path) -> None:
    jobs = JobStore(SqliteRepository(tmp_path / "jobs.sqlite3"))
    job = _job(jobs, 4)
    ran: list[str] = []
    jobs.complete_chunk(job, _chunk(0, 2), 1.0, lambda db: ran.append("apply"), lambda: ran.append("after"))
    jobs.complete_chunk(job, _chunk(0, 2), 1.0, lambda db: ran.append("apply"), lambda: ran.append("after"))
    assert ran == ["apply", "after"]


def test_chunk_of_an_expired_job_is_dropped(tmp_path: Path) -> None:
    jobs = JobStore(SqliteRepository(tmp_path / "jobs.sqlite3"))
    job = _job(jobs, 4)
    assert jobs.expire(FROZEN_AT.timestamp() + 1) == 1
    assert jobs.complete_chunk(job, _chunk(0, 4), 1.0) is None
    assert jobs.results(job) == b""


def test_results_stored_before_the_upgrade_are_read_and_the_job_goes_on(tmp_path: Path) -> None:
    """A store made before out-of-order chunks: results rows without stop/errors/packed, plain UTF-8."""
    path = tmp_path / "old.sqlite3"
    store = SqliteRepository(path)
    jobs = JobStore(store)
    job = _job(jobs, 4)
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE bulk_results")
        db.execute("CREATE TABLE bulk_results (job INTEGER NOT NULL, start INTEGER NOT NULL, units BLOB NOT NULL, "
                   "PRIMARY KEY (job, start)) WITHOUT ROWID")  # fmt: skip
        db.execute("INSERT INTO bulk_results VALUES (?, 0, ?)", (job.id, b"<U>0</U><U>1</U>"))
        db.execute("UPDATE bulk_jobs SET processed = 2 WHERE id = ?", (job.id,))
    jobs = JobStore(SqliteRepository(path))
    (job,) = jobs.open_jobs()
    assert jobs.pending(job, 4, 10) == [(2, 4)]
    assert jobs.complete_chunk(job, _chunk(2, 4), 1.0) == 4
    assert jobs.results(job) == b"<U>0</U><U>1</U><U>2</U><U>3</U>"


def test_stored_units_are_deflated() -> None:
    chunk = ChunkOutcome([("<U>é</U>", False), ("<U>x</U>", True)]).stored(5)
    assert (chunk.start, chunk.stop, chunk.errors) == (5, 7, 1)
    assert zlib.decompress(chunk.units) == "<U>é</U><U>x</U>".encode()


def upload_mixed(gateway: Gateway) -> str:
    """The hundred mixed records of test_service (one of them text, not elements)."""
    raw = xmlcodec.render("XmlMsg", upload_tree(CONFIRM, MIC, [{}], file_identifier="mixed"), "Shift_JIS")
    tree = xmlcodec.parse(raw).tree
    body = tree["MessageBody"]
    assert isinstance(body, dict)
    body["QualificationConfirmSearchInfo"] = mixed_records()
    raw = xmlcodec.render("XmlMsg", tree, "Shift_JIS")
    return reception_number(gateway.process("OQSmuquc01", raw, fmt=Format.XML, transport="test"))


def _result_idents(gateway: Gateway, number: str) -> list[str | None]:
    tree = xmlcodec.parse(download(gateway, number).body).tree
    return [ident_of(unit) for unit in units_of(tree)]


def test_restart_with_chunks_stored_beyond_the_prefix(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """As after `kill -9` while worker processes had stored chunks 40…59 and 80…99 but not 0…39:
    the restarted gateway processes only the gaps; every record comes back once, in order, and
    the result is the bytes an uninterrupted run gives."""
    db = tmp_path / "restart.sqlite3"
    gateway = make_gateway(db=db)
    feature = install(gateway, chunk=20, processes=1)
    number = upload_mixed(gateway)
    (job,) = feature.jobs.open_jobs()
    processor = feature.worker.processors[job.family]
    for start, stop in ((40, 60), (80, 100)):
        outcome = processor(job, feature.jobs.records(job, start, stop))
        assert feature.jobs.complete_chunk(job, outcome.stored(start), 1.0) == 0
    stored_before = (
        feature.jobs.store.connection()
        .execute("SELECT start, units FROM bulk_results WHERE job = ? ORDER BY start", (job.id,))
        .fetchall()
    )
    gateway.store.close()

    restarted = make_gateway(db=db, personas=False)
    feature = install(restarted, chunk=20, processes=1)
    done: list[tuple[int, int]] = []
    judge = feature.worker.processors[job.family]

    def spy(job: Job, records: list[tuple[int, object]]) -> ChunkOutcome:
        done.append((records[0][0], records[-1][0] + 1))
        return judge(job, records)  # type: ignore[arg-type]

    feature.worker.processors[job.family] = spy
    feature.worker.run_once()
    assert done == [(0, 20), (20, 40), (60, 80)]  # the gaps only
    kept = (
        restarted.store.connection()
        .execute("SELECT start, units FROM bulk_results WHERE job = ? AND start IN (40, 80) ORDER BY start", (job.id,))
        .fetchall()
    )
    assert kept == stored_before  # the chunks stored before the restart are the ones answered
    assert _result_idents(restarted, number) == [None if i == 90 else f"K{i:03d}" for i in range(100)]

    fresh = make_gateway(db=tmp_path / "fresh.sqlite3")
    fresh_feature = install(fresh, chunk=20, processes=1)
    fresh_number = upload_mixed(fresh)
    fresh_feature.worker.run_once()
    assert download(restarted, number).body == download(fresh, fresh_number).body
