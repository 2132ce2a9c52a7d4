"""The background worker that processes open bulk jobs at their pace: chunk after chunk in its
thread, or a job's chunks spread over worker processes (parallel.py) and committed here as they
come back, in any order (the job store keeps `processed` as the contiguous prefix, jobs.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool

from mockgateway.domain.clock import VirtualClock
from mockgateway.services.bulk.jobs import Job, JobStore, Processor, Remote, StoredChunk, quiet_gc
from mockgateway.services.bulk.parallel import WorkerPool
from mockgateway.services.bulk.settings import BulkSettings

log = logging.getLogger(__name__)


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
        self._workers: WorkerPool | None = None

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
        self._close_pool()

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
        settings = self.settings()
        for job in self.jobs.open_jobs():
            processor = self.processors.get(job.family)
            if processor is None:
                continue
            remote = self._remote(processor, job, settings)
            if remote is not None:
                wait = self._run_parallel(job, remote, settings.processes, settings.chunk)
            else:
                wait = self._run_here(job, processor, settings.chunk)
            if wait is not None:
                next_due = wait if next_due is None else min(next_due, wait)
            if self._stop.is_set():
                break
        return None if next_due is None else max(0.0, next_due)

    @staticmethod
    def _remote(processor: Processor, job: Job, settings: BulkSettings) -> Remote | None:
        """Worker processes pay only for a job of two chunks or more (a job smaller than that, as
        most tests upload, stays in this thread and starts no process)."""
        if settings.processes < 2 or job.total < 2 * settings.chunk:
            return None
        remote = getattr(processor, "remote", None)
        return None if remote is None else remote(job)

    def _due(self, job: Job, limit: int, now: float) -> float | None:
        """Seconds until record `limit` may be processed; None when the job has no more."""
        return None if limit >= job.total else job.accepted_real + job.pace.due(limit) - now

    def _run_here(self, job: Job, processor: Processor, chunk: int) -> float | None:
        """In this thread, chunk after chunk in order (the ranges no stored chunk answers)."""
        while not self._stop.is_set():
            now = self.real_time()
            allowed = job.pace.allowed(now - job.accepted_real, job.total)
            pieces = self.jobs.pending(job, allowed, chunk)
            if not pieces:
                return self._due(job, allowed, now)
            for start, stop in pieces:
                with quiet_gc():
                    records = self.jobs.records(job, start, stop)
                    if not records:  # expired (records purged) while open
                        return None
                    outcome = processor(job, records)
                    done = self.jobs.complete_chunk(
                        job, outcome.stored(start), self.real_time(), outcome.apply, outcome.after
                    )
                if done is None or self._stop.is_set():
                    return None
        return None

    def _run_parallel(self, job: Job, remote: Remote, processes: int, chunk: int) -> float | None:
        """Chunks judged in worker processes, at most two per process in flight, committed here
        as they come back (in any order: jobs.complete_chunk keeps the prefix)."""
        pool = self._pool(processes)
        in_flight: dict[Future[StoredChunk], tuple[int, int]] = {}
        queued: deque[tuple[int, int]] = deque()
        limit = 0  # records up to here are queued, in flight or stored
        try:
            while not self._stop.is_set():
                now = self.real_time()
                allowed = job.pace.allowed(now - job.accepted_real, job.total)
                if allowed > limit:
                    queued.extend(self.jobs.pending(job, allowed, chunk, since=limit))
                    limit = allowed
                while queued and len(in_flight) < 2 * processes:
                    start, stop = queued.popleft()
                    in_flight[pool.submit(remote, start, stop)] = (start, stop)
                due = self._due(job, limit, now)
                if not in_flight:
                    return due
                timeout = self.IDLE_SECONDS if due is None else min(max(due, 0.001), self.IDLE_SECONDS)
                finished, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
                for future in finished:
                    del in_flight[future]
                    done = self.jobs.complete_chunk(job, future.result(), self.real_time())
                    if done is None:  # expired meanwhile
                        return None
            return None
        except BrokenProcessPool:
            self._close_pool()  # a worker died: new processes next round; stored chunks stay
            raise
        finally:
            for future in in_flight:  # their ranges stay pending and are sent again next round
                future.cancel()

    def _pool(self, processes: int) -> WorkerPool:
        if self._workers is not None and self._workers.processes != processes:
            self._close_pool()
        if self._workers is None:
            preload = tuple(sorted({type(p).__module__ for p in self.processors.values()}))
            self._workers = WorkerPool(processes, preload)
        return self._workers

    def warm(self) -> None:
        """Start the worker processes now rather than with the first large job."""
        processes = self.settings().processes
        if processes >= 2:
            self._pool(processes).warm()

    def worker_pids(self) -> list[int]:
        return [] if self._workers is None else self._workers.pids()

    def _close_pool(self) -> None:
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.close()

    def purge_if_due(self) -> int:
        now = self.real_time()
        if now - self._last_purge < self.PURGE_EVERY_SECONDS:
            return 0
        self._last_purge = now
        return self.purge()

    def purge(self) -> int:
        return self.jobs.expire(self.clock.now().timestamp() - self.settings().retention_seconds)
