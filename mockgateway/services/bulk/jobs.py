"""The durable bulk job store and the background worker that processes it at the configured pace.

Durability: an upload's job row and every record are written in one transaction (WAL,
synchronous=FULL) before the upload result is returned. The worker processes records in chunks;
each chunk's results, any side effects (照会番号 registrations) and the job's progress counter
commit together, so after `kill -9` a chunk either has its results or is processed again — never
lost, never twice (results rows are keyed by job and first position, and the progress counter
moves only with them).

Records are stored in blocks of BLOCK per row (orjson arrays of the trees as sent) and results
per processed chunk (the chunk's unit elements as UTF-8 XML): per-record rows cost more in
SQLite than the processing itself.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import orjson

from mockgateway.domain.clock import VirtualClock, format_timestamp
from mockgateway.services.bulk.settings import BulkSettings, Pace
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire.xmlcodec import Node

log = logging.getLogger(__name__)

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
    PRIMARY KEY (job, start)
) WITHOUT ROWID;
"""

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


class JobStore:
    def __init__(self, store: SqliteRepository) -> None:
        self.store = store
        store.ensure_schema(SCHEMA)

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
        with self.store.transaction() as db:
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
        rows = self.store.connection().execute(
            "SELECT block, records FROM bulk_records WHERE job = ? AND block >= ? AND block <= ? ORDER BY block",
            (job.id, start // BLOCK, (stop - 1) // BLOCK),
        )
        out: list[tuple[int, Node]] = []
        for block, blob in rows:
            first = int(block) * BLOCK
            items: list[Node] = orjson.loads(blob)
            lo, hi = max(start - first, 0), min(stop - first, len(items))
            out.extend(zip(range(first + lo, first + hi), items[lo:hi], strict=True))
        return out

    def complete_chunk(self, job: Job, start: int, outcome: ChunkOutcome, finished_real: float) -> int:
        """Store results for records start… and advance the job; returns the new processed count."""
        stop = start + len(outcome.units)
        errors = sum(1 for _, bad in outcome.units if bad)
        with self.store.transaction() as db:
            current = db.execute("SELECT processed FROM bulk_jobs WHERE id = ? AND expired = 0", (job.id,)).fetchone()
            if current is None or int(current[0]) != start:  # expired or changed meanwhile: drop it
                return start
            db.execute(
                "INSERT INTO bulk_results (job, start, units) VALUES (?, ?, ?)",
                (job.id, start, "".join([unit for unit, _ in outcome.units]).encode("utf-8")),
            )
            if outcome.apply is not None:
                outcome.apply(db)
            db.execute(
                "UPDATE bulk_jobs SET processed = ?, errors = errors + ?, "
                "finished_real = CASE WHEN ? >= total THEN ? ELSE finished_real END WHERE id = ?",
                (stop, errors, stop, finished_real, job.id),
            )
        if outcome.after is not None:
            outcome.after()
        return stop

    def results(self, job: Job) -> bytes:
        """Every unit element in request order, as UTF-8 XML."""
        rows = self.store.connection().execute("SELECT units FROM bulk_results WHERE job = ? ORDER BY start", (job.id,))
        return b"".join([bytes(blob) for (blob,) in rows])

    def mark_downloaded(self, job: Job) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE bulk_jobs SET downloads = downloads + 1 WHERE id = ?", (job.id,))

    def expire(self, accepted_before: float) -> int:
        """Retention: drop the records of jobs accepted (virtual time) before the given epoch; the
        job row stays as a tombstone so its 受付番号 answers "expired" rather than "unknown"."""
        with self.store.transaction() as db:
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


class BulkWorker:
    """Processes open jobs at their pace. `start`/`stop` run it as a thread; `run_once` does the
    work that is due now (tests call it directly for determinism)."""

    IDLE_SECONDS = 1.0
    PURGE_EVERY_SECONDS = 60.0

    def __init__(
        self,
        jobs: JobStore,
        processors: dict[str, Processor],
        settings: Callable[[], BulkSettings],
        clock: VirtualClock,
        real_time: Callable[[], float] = time.time,
    ) -> None:
        self.jobs = jobs
        self.processors = processors
        self.settings = settings
        self.clock = clock
        self.real_time = real_time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="bulk-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = self.run_once()
                self.purge_if_due()
            except Exception:  # keep the worker alive; the job is retried on the next round
                log.exception("bulk worker round failed")
                wait = self.IDLE_SECONDS
            self._wake.wait(timeout=self.IDLE_SECONDS if wait is None else min(wait, self.IDLE_SECONDS))

    def run_once(self) -> float | None:
        """Process everything due now; return seconds until more is due (None: nothing open)."""
        next_due: float | None = None
        chunk = self.settings().chunk
        for job in self.jobs.open_jobs():
            processor = self.processors.get(job.family)
            if processor is None:
                continue
            done = job.processed
            while not self._stop.is_set():
                now = self.real_time()
                allowed = job.pace.allowed(now - job.accepted_real, job.total)
                if allowed <= done:
                    wait = job.accepted_real + job.pace.due(done) - now
                    next_due = wait if next_due is None else min(next_due, wait)
                    break
                stop = min(allowed, done + chunk)
                with quiet_gc():
                    records = self.jobs.records(job, done, stop)
                    if not records:  # expired (records purged) while open
                        break
                    advanced = self.jobs.complete_chunk(job, done, processor(job, records), self.real_time())
                if advanced <= done or advanced >= job.total:
                    break
                done = advanced
        return None if next_due is None else max(0.0, next_due)

    def purge_if_due(self) -> int:
        now = self.real_time()
        if now - self._last_purge < self.PURGE_EVERY_SECONDS:
            return 0
        self._last_purge = now
        return self.purge()

    def purge(self) -> int:
        return self.jobs.expire(self.clock.now().timestamp() - self.settings().retention_seconds)
