"""The durable bulk job store and the background worker that processes it at the configured pace.

Durability: an upload's job row and every record are written in one transaction (WAL,
synchronous=FULL) before the upload result is returned. The worker processes records in chunks,
possibly several at once in worker processes (parallel.py), so chunks may be stored out of order.
Each chunk's results (with the range of records they answer), any side effects (照会番号
registrations) and the job's progress counter commit together. `processed` is the contiguous
prefix: the end of the run of stored chunks that starts at record 0. Chunks stored beyond it are
kept: after `kill -9` only the ranges no stored chunk covers (`pending`) are processed again, and a
chunk overlapping a stored one is dropped at commit — so no record is lost or answered twice.

Records are stored in blocks of BLOCK per row (orjson arrays of the trees as sent) and results
per processed chunk (the chunk's unit elements as UTF-8 XML): per-record rows cost more in
SQLite than the processing itself.
"""

from __future__ import annotations

import datetime as dt
import gc
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import orjson

from mockgateway.domain.clock import format_timestamp
from mockgateway.services.bulk.settings import Pace
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire.xmlcodec import Node

SCHEMA = """
CREATE TABLE IF NOT EXISTS bulk_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reception_number TEXT UNIQUE,
    family TEXT NOT NULL,
    mic TEXT NOT NULL,
    file_identifier TEXT,
    confirmation_date TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    accepted_virtual REAL NOT NULL,
    accepted_real REAL NOT NULL,
    pace_delay REAL NOT NULL,
    pace_rate REAL,
    total INTEGER NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    finished_real REAL,
    downloads INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS bulk_jobs_open ON bulk_jobs (expired, processed, total);
CREATE TABLE IF NOT EXISTS bulk_records (
    job INTEGER NOT NULL,
    block INTEGER NOT NULL,
    records BLOB NOT NULL,
    PRIMARY KEY (job, block)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bulk_results (
    job INTEGER NOT NULL,
    start INTEGER NOT NULL,
    units BLOB NOT NULL,
    stop INTEGER,
    errors INTEGER,
    packed INTEGER,
    PRIMARY KEY (job, start)
) WITHOUT ROWID;
"""
# Stores made before chunks could be stored out of order lack `stop`, `errors` and `packed`; their
# rows all lie inside the job's prefix (stored in order), where the first two are not read, and
# their units are plain UTF-8 (packed NULL).
_RESULT_COLUMNS = (("stop", "INTEGER"), ("errors", "INTEGER"), ("packed", "INTEGER"))

BLOCK = 1_000  # records per stored row

_COLUMNS = (
    "id, reception_number, family, mic, file_identifier, confirmation_date, accepted_at, "
    "accepted_virtual, accepted_real, pace_delay, pace_rate, total, processed, errors, "
    "finished_real, downloads, expired"
)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    reception_number: str
    family: str  # OQSmuquc / OQSmuimm
    mic: str
    file_identifier: str | None
    confirmation_date: str  # YYYYMMDD
    accepted_at: str  # ReceptionDateTime, virtual YYYYMMDDHHmmss
    accepted_virtual: float  # virtual epoch seconds (retention is measured in virtual time)
    accepted_real: float  # real epoch seconds (the pace is measured in real time)
    pace: Pace
    total: int
    processed: int
    errors: int
    finished_real: float | None
    downloads: int
    expired: bool

    @property
    def done(self) -> bool:
        return self.processed >= self.total

    @classmethod
    def from_row(cls, row: Sequence[object]) -> Job:
        (id_, number, family, mic, afi, date, at, virtual, real, delay, rate, total, done, errors,
         finished, downloads, expired) = row  # fmt: skip
        return cls(
            id=int(str(id_)),
            reception_number=str(number),
            family=str(family),
            mic=str(mic),
            file_identifier=None if afi is None else str(afi),
            confirmation_date=str(date),
            accepted_at=str(at),
            accepted_virtual=float(str(virtual)),
            accepted_real=float(str(real)),
            pace=Pace(float(str(delay)), None if rate is None else float(str(rate))),
            total=int(str(total)),
            processed=int(str(done)),
            errors=int(str(errors)),
            finished_real=None if finished is None else float(str(finished)),
            downloads=int(str(downloads)),
            expired=bool(expired),
        )


@dataclass(slots=True)
class ChunkOutcome:
    """What a processor made of a chunk: one (unit as an XML element, is_error) per record, in
    order, and side effects to run inside the chunk's transaction (`apply`) and after its commit
    (`after`). Units are rendered here, once (bulk_render), so a download only joins them."""

    units: list[tuple[str, bool]]
    apply: Callable[[sqlite3.Connection], None] | None = None
    after: Callable[[], None] | None = None

    def stored(self, start: int) -> StoredChunk:
        text = "".join([unit for unit, _ in self.units]).encode("utf-8")
        return StoredChunk(
            start, start + len(self.units), zlib.compress(text, 1), sum(1 for _, bad in self.units if bad)
        )


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """Results of records start…stop-1 as they are stored: the units joined as UTF-8 XML and
    deflated, and how many of them are errors. What a worker process sends back. Deflating (level
    1, a few µs a record where the chunk is made, often in a worker process) makes the results a
    tenth or less of their size: writing them into SQLite's WAL and checkpointing them cost more."""

    start: int
    stop: int
    units: bytes  # zlib
    errors: int


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Hold off the cyclic garbage collector during a burst of short-lived, acyclic trees (a chunk
    being processed, 100,000 units being rendered). With a large people index on the heap, the
    full collections such a burst triggers cost more than the work itself; refcounting still
    frees everything. Re-enables only what it disabled, so nesting and threads are safe."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Processor(Protocol):
    def __call__(self, job: Job, records: list[tuple[int, Node]]) -> ChunkOutcome: ...


class Remote(Protocol):
    """A job's chunks as work for a worker process: picklable, carries everything the answers
    depend on besides the store (which the worker opens itself), and has no side effects. A
    processor offers one with `remote(job)` (None: this job only in the worker thread)."""

    def run(self, start: int, stop: int) -> StoredChunk: ...


def read_records(db: sqlite3.Connection, job_id: int, start: int, stop: int) -> list[tuple[int, Node]]:
    """Records start…stop-1 of a job as (position, record as sent)."""
    rows = db.execute(
        "SELECT block, records FROM bulk_records WHERE job = ? AND block >= ? AND block <= ? ORDER BY block",
        (job_id, start // BLOCK, (stop - 1) // BLOCK),
    )
    out: list[tuple[int, Node]] = []
    for block, blob in rows:
        first = int(block) * BLOCK
        items: list[Node] = orjson.loads(blob)
        lo, hi = max(start - first, 0), min(stop - first, len(items))
        out.extend(zip(range(first + lo, first + hi), items[lo:hi], strict=True))
    return out


class JobStore:
    def __init__(self, store: SqliteRepository) -> None:
        self.store = store
        store.ensure_schema(SCHEMA)
        with store.transaction(answers=False) as db:
            have = {str(row[1]) for row in db.execute("PRAGMA table_info(bulk_results)")}
            for name, kind in _RESULT_COLUMNS:
                if name not in have:
                    db.execute(f"ALTER TABLE bulk_results ADD COLUMN {name} {kind}")

    def create(
        self,
        *,
        family: str,
        mic: str,
        file_identifier: str | None,
        confirmation_date: str,
        accepted: dt.datetime,
        accepted_real: float,
        pace: Pace,
        records: Sequence[Node],
    ) -> Job:
        """Commit the job and all its records; returns only once they are durable."""
        dumps = orjson.dumps
        with self.store.transaction(answers=False) as db:
            cur = db.execute(
                "INSERT INTO bulk_jobs (family, mic, file_identifier, confirmation_date, accepted_at, "
                "accepted_virtual, accepted_real, pace_delay, pace_rate, total) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (family, mic, file_identifier, confirmation_date, format_timestamp(accepted),
                 accepted.timestamp(), accepted_real, pace.delay, pace.per_second, len(records)),
            )  # fmt: skip
            job_id = cur.lastrowid
            assert job_id is not None
            number = f"{format_timestamp(accepted)}{job_id % 1_000_000:06d}"
            db.execute("UPDATE bulk_jobs SET reception_number = ? WHERE id = ?", (number, job_id))
            db.executemany(
                "INSERT INTO bulk_records (job, block, records) VALUES (?, ?, ?)",
                (
                    (job_id, block, dumps(list(records[block * BLOCK : (block + 1) * BLOCK])))
                    for block in range((len(records) + BLOCK - 1) // BLOCK)
                ),
            )
            row = db.execute(f"SELECT {_COLUMNS} FROM bulk_jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row)

    def get(self, reception_number: str) -> Job | None:
        row = (
            self.store.connection()
            .execute(f"SELECT {_COLUMNS} FROM bulk_jobs WHERE reception_number = ?", (reception_number,))
            .fetchone()
        )
        return None if row is None else Job.from_row(row)

    def open_jobs(self) -> list[Job]:
        rows = self.store.connection().execute(
            f"SELECT {_COLUMNS} FROM bulk_jobs WHERE expired = 0 AND processed < total ORDER BY id"
        )
        return [Job.from_row(row) for row in rows]

    def jobs(self) -> list[Job]:
        rows = self.store.connection().execute(f"SELECT {_COLUMNS} FROM bulk_jobs ORDER BY id")
        return [Job.from_row(row) for row in rows]

    def records(self, job: Job, start: int, stop: int) -> list[tuple[int, Node]]:
        """Records start…stop-1 as (position, record as sent)."""
        return read_records(self.store.connection(), job.id, start, stop)

    def pending(self, job: Job, limit: int, chunk: int, since: int = 0) -> list[tuple[int, int]]:
        """The ranges [start, stop) of records max(processed, since)…limit-1 that no stored chunk
        answers, in order, cut to at most `chunk` records: what is left to do (after a restart,
        chunks stored beyond the prefix are kept, not redone)."""
        row = self.store.connection().execute("SELECT processed FROM bulk_jobs WHERE id = ?", (job.id,)).fetchone()
        done = max(job.processed if row is None else int(row[0]), since)
        stored = self.store.connection().execute(
            "SELECT start, stop FROM bulk_results WHERE job = ? AND start >= ? AND start < ? ORDER BY start",
            (job.id, done, limit),
        )
        out: list[tuple[int, int]] = []
        at = done
        for start, stop in [*stored, (limit, limit)]:
            for lo in range(at, min(int(start), limit), chunk):
                out.append((lo, min(lo + chunk, int(start), limit)))
            at = max(at, int(start) + 1 if stop is None else int(stop))
        return out

    def complete_chunk(
        self,
        job: Job,
        chunk: StoredChunk,
        finished_real: float,
        apply: Callable[[sqlite3.Connection], None] | None = None,
        after: Callable[[], None] | None = None,
    ) -> int | None:
        """Store the results of records chunk.start…chunk.stop-1 and advance the job's prefix over
        every chunk now stored contiguously; returns the new processed count, or None when the job
        expired meanwhile. Chunks may come in any order; one that overlaps a stored chunk (a
        duplicate after a restart, a late worker) is dropped, so every record is answered once.
        `apply` runs inside the transaction and `after` once it committed, only for a stored chunk."""
        stored = False
        with self.store.transaction(answers=False) as db:
            current = db.execute("SELECT processed FROM bulk_jobs WHERE id = ? AND expired = 0", (job.id,)).fetchone()
            if current is None:  # expired meanwhile: drop it
                return None
            processed = int(current[0])
            overlap = (
                chunk.start < processed
                or db.execute(
                    "SELECT 1 FROM bulk_results WHERE job = ? AND start < ? AND coalesce(stop, start + 1) > ? LIMIT 1",
                    (job.id, chunk.stop, chunk.start),
                ).fetchone()
            )
            if overlap or chunk.stop <= chunk.start:
                return processed
            stored = True
            db.execute(
                "INSERT INTO bulk_results (job, start, units, stop, errors, packed) VALUES (?, ?, ?, ?, ?, 1)",
                (job.id, chunk.start, chunk.units, chunk.stop, chunk.errors),
            )
            if apply is not None:
                apply(db)
            errors = 0
            while True:
                nxt = db.execute(
                    "SELECT stop, errors FROM bulk_results WHERE job = ? AND start = ?", (job.id, processed)
                ).fetchone()
                if nxt is None or nxt[0] is None:
                    break
                processed, errors = int(nxt[0]), errors + int(nxt[1] or 0)
            db.execute(
                "UPDATE bulk_jobs SET processed = ?, errors = errors + ?, "
                "finished_real = CASE WHEN ? >= total THEN ? ELSE finished_real END WHERE id = ?",
                (processed, errors, processed, finished_real, job.id),
            )
        if stored and after is not None:
            after()
        return processed

    def results(self, job: Job) -> bytes:
        """Every unit element in request order, as UTF-8 XML."""
        return b"".join(self.result_blocks(job))

    def result_blocks(self, job: Job) -> Iterator[bytes]:
        """The stored chunks' units in request order, one chunk at a time (UTF-8 XML)."""
        rows = self.store.connection().execute(
            "SELECT units, packed FROM bulk_results WHERE job = ? ORDER BY start", (job.id,)
        )
        for blob, packed in rows:
            yield zlib.decompress(blob) if packed else bytes(blob)

    def mark_downloaded(self, job: Job) -> None:
        with self.store.transaction(answers=False) as db:
            db.execute("UPDATE bulk_jobs SET downloads = downloads + 1 WHERE id = ?", (job.id,))

    def expire(self, accepted_before: float) -> int:
        """Retention: drop the records of jobs accepted (virtual time) before the given epoch; the
        job row stays as a tombstone so its 受付番号 answers "expired" rather than "unknown"."""
        with self.store.transaction(answers=False) as db:
            ids = [
                int(row[0])
                for row in db.execute(
                    "SELECT id FROM bulk_jobs WHERE expired = 0 AND accepted_virtual < ?", (accepted_before,)
                )
            ]
            for job_id in ids:
                db.execute("DELETE FROM bulk_records WHERE job = ?", (job_id,))
                db.execute("DELETE FROM bulk_results WHERE job = ?", (job_id,))
                db.execute("UPDATE bulk_jobs SET expired = 1 WHERE id = ?", (job_id,))
        return len(ids)
