"""Worker processes for bulk chunks: records are independent, so a job's chunks are judged in
several processes at once and committed by the gateway's bulk worker thread as they come back
(jobs.py stores them out of order and keeps `processed` as the contiguous prefix).

Processes are started with `spawn` (the gateway has threads and open SQLite connections; a forked
copy of either is unsafe), once, and kept until the worker stops: a process imports the package
and loads the people index from the store file itself (`cached`), which costs about half a second
the first time and nothing for later chunks of the same people generation. A process exits when
the gateway process is gone, even after `kill -9` (nothing of it is stored: chunks are stored by
the gateway only).
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_CACHE: dict[str, tuple[Hashable, Any]] = {}


def cached(name: str, key: Hashable, build: Callable[[], T]) -> T:
    """One value per name in this worker process, rebuilt when its key changes (a new people
    generation, another date): a worker keeps its index and caches across chunks and jobs."""
    found = _CACHE.get(name)
    if found is not None and found[0] == key:
        value: T = found[1]
        return value
    _CACHE.pop(name, None)  # let the old value go before the new one is built
    value = build()
    _CACHE[name] = (key, value)
    return value


def _init_worker(parent: int, preload: tuple[str, ...]) -> None:
    for module in preload:  # the code the chunks will run, imported before the first one arrives
        importlib.import_module(module)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="bulk-parent-watch", daemon=True).start()


_SWEEP_EVERY = 64  # chunks between full collections in a worker process


def _run(remote: Any, start: int, stop: int) -> Any:
    """One chunk. What it leaves behind (people, rendered results: long-lived and acyclic) is then
    frozen out of the collector's scans, which would otherwise walk every cached person again after
    each chunk; a full collection every `_SWEEP_EVERY` chunks still frees any cycle among them."""
    try:
        return remote.run(start, stop)
    finally:
        _CHUNKS[0] += 1
        if _CHUNKS[0] % _SWEEP_EVERY == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()


_CHUNKS = [0]


class WorkerPool:
    """`processes` spawned worker processes, started on first use."""

    def __init__(self, processes: int, preload: tuple[str, ...] = ()) -> None:
        self.processes = processes
        self.preload = preload
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, remote: Any, start: int, stop: int) -> Future[Any]:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(os.getpid(), self.preload),
            )
        return self._executor.submit(_run, remote, start, stop)

    def warm(self) -> None:
        """Start every process now and wait until each has run a task (its imports done): a
        benchmark measures work, not interpreter start-up."""
        seen: set[int] = set()
        while len(seen) < self.processes:
            futures = [self.submit(_Nothing(), 0, 0) for _ in range(self.processes)]
            seen.update(future.result() for future in futures)

    def pids(self) -> list[int]:
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


class _Nothing:
    def run(self, start: int, stop: int) -> int:
        time.sleep(0.05)  # long enough that the tasks spread over the processes
        return os.getpid()
