"""`mockgateway population generate`: plan → batches (in parallel) → the store, with a report.

Reproducible: the same size, seed, as-of date, era and overrides give the same documents, whatever
the number of worker processes (each batch is seeded by (seed, batch index) and takes a fixed
slice of the shuffled plan). Everything is written in one transaction: a reader never sees half
a population, and an interrupted run leaves the previous one in place.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import orjson

from mockgateway.domain.clock import JST
from mockgateway.population.calibration import CalibrationReport, build_report
from mockgateway.population.people import BatchResult, PeopleGenerator
from mockgateway.population.plan import Cell, build_plan
from mockgateway.population.registry import build_facilities, build_registry
from mockgateway.population.tables import Tables, load_tables
from mockgateway.store import number_map
from mockgateway.store.sqlite import SqliteRepository

BATCH_SIZE = 10_000  # part of the reproducibility key: changing it changes the population

SCHEMA = """
CREATE TABLE IF NOT EXISTS population_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS population_edges (id TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (id, kind));
CREATE INDEX IF NOT EXISTS population_edges_kind ON population_edges(kind);
CREATE TABLE IF NOT EXISTS population_facilities (
    code TEXT PRIMARY KEY, type TEXT NOT NULL, prefecture INTEGER NOT NULL, name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS population_facilities_type ON population_facilities(type, prefecture);
"""


@dataclass
class PopulationConfig:
    size: int
    seed: int = 1
    as_of: dt.date | None = None  # default: today in Japan time
    era: str = "2022-01"
    overrides: dict[str, Any] = field(default_factory=dict)  # merged over assumptions.yaml
    workers: int = 0  # 0: one per core (at most 4); 1: no child processes
    with_personas: bool = False  # also load the shipped personas (mockgateway/data/personas)
    facilities_scale: float = 1.0  # 1.0 = the 211,052 facilities operating in April 2024

    def resolved_as_of(self) -> dt.date:
        return self.as_of or dt.datetime.now(JST).date()

    def resolved_workers(self) -> int:
        if self.workers > 0:
            return self.workers
        return max(1, min(4, os.cpu_count() or 1))


class Progress:
    """A one-line progress bar on a terminal stream (updates at most 5 times a second)."""

    def __init__(self, total: int, stream: TextIO | None = None, label: str = "people") -> None:
        self.total, self.label = total, label
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.last = 0.0
        self.done = 0

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last < 0.2 and done < self.total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate else 0.0
        filled = int(30 * done / self.total) if self.total else 30
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(
            f"\r[{bar}] {done / max(self.total, 1):4.0%} {done:,}/{self.total:,} {self.label} "
            f"{rate:,.0f}/s ETA {eta:4.0f} s"
        )
        self.stream.flush()

    def close(self) -> None:
        self.update(self.done)
        self.stream.write("\n")
        self.stream.flush()


# -- batches, in this process or in workers ------------------------------------------------------

_process: dict[str, Any] = {}  # this process's generator and labels (set by _init_worker)


def _init_worker(tables: Tables, seed: int, as_of: dt.date, size: int, cells: list[Cell], labels: Any) -> None:
    registry = build_registry(tables, seed)
    _process["generator"] = PeopleGenerator(tables, registry, cells, as_of, seed, id_width(size))
    _process["labels"] = labels


def _run_batch(index: int) -> BatchResult:
    generator: PeopleGenerator = _process["generator"]
    start = index * BATCH_SIZE
    return generator.batch(index, _process["labels"][start : start + BATCH_SIZE], start)


def id_width(size: int) -> int:
    return max(7, len(str(size)))


def _batches(tables: Tables, config: PopulationConfig, cells: list[Cell], labels: Any) -> Iterator[BatchResult]:
    count = -(-config.size // BATCH_SIZE)
    as_of = config.resolved_as_of()
    workers = min(config.resolved_workers(), count)
    args = (tables, config.seed, as_of, config.size, cells, labels)
    if workers <= 1:
        _init_worker(*args)
        for k in range(count):
            yield _run_batch(k)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=args) as pool:
        yield from pool.map(_run_batch, range(count))


# -- the whole run -------------------------------------------------------------------------------


def generate(
    store: SqliteRepository,
    config: PopulationConfig,
    *,
    progress: Progress | None = None,
    tables: Tables | None = None,
    log: Callable[[str], None] | None = None,
) -> CalibrationReport:
    started = time.perf_counter()
    tables = tables or load_tables(config.overrides, config.era)
    as_of = config.resolved_as_of()
    plan = build_plan(tables, config.size)
    labels = plan.labels(config.seed)
    registry = build_registry(tables, config.seed)
    store.ensure_schema(SCHEMA)
    number_map.ensure_schema(store)
    counts: Counter[tuple[Any, ...]] = Counter()
    numbers: number_map.NumberMap = {}
    extensions: number_map.ExtensionMap = {}
    done = 0
    facilities = 0
    with store.transaction() as db:
        finish_index = number_map.bulk_replace(db)
        for table in ("persons", "insurers", "population_edges", "population_facilities", "population_meta"):
            db.execute(f"DELETE FROM {table}")
        db.executemany("INSERT INTO insurers VALUES (?, ?)", ((i.number, i.name) for i in registry.insurers))
        for result in _batches(tables, config, plan.cells, labels):
            db.executemany("INSERT INTO persons(rowid, id, doc) VALUES (?, ?, ?)", result.rows)
            db.executemany("INSERT OR IGNORE INTO population_edges VALUES (?, ?)", result.edges)
            _merge_numbers(numbers, result.numbers)
            extensions.setdefault("card", []).extend(result.card_holders)
            counts.update(result.counts)
            done += len(result.rows)
            if progress is not None:
                progress.update(done)
        if config.with_personas:
            _write_personas(db, as_of, numbers, extensions)
        finish_index(numbers, extensions)
        rows = [
            (f.code, f.type, f.prefecture, f.name)
            for f in build_facilities(tables, config.seed, config.facilities_scale)
        ]
        db.executemany("INSERT INTO population_facilities VALUES (?, ?, ?, ?)", rows)
        facilities = len(rows)
        report = build_report(tables, counts, size=config.size, seed=config.seed, as_of=as_of.strftime("%Y%m%d"))
        elapsed = time.perf_counter() - started
        report.notes["insurers"] = f"{len(registry.insurers):,}; 医療機関 {facilities:,}"
        report.notes["generated in"] = f"{elapsed:.1f} s ({config.size / max(elapsed, 1e-9):,.0f} people/s)"
        meta = {
            "config": _config_json(config, as_of),
            "report": report.as_dict(),
            "generated_at": dt.datetime.now(JST).isoformat(timespec="seconds"),
        }
        db.executemany("INSERT INTO population_meta VALUES (?, ?)", ((k, orjson.dumps(v)) for k, v in meta.items()))
    if progress is not None:
        progress.close()
    store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if log is not None:
        log(report.notes["generated in"])
    return report


def _merge_numbers(numbers: number_map.NumberMap, batch: number_map.NumberMap) -> None:
    """A batch's map into the whole: one C-level update, then the few numbers both hold."""
    clashes = batch.keys() & numbers.keys()
    numbers.update({k: v for k, v in batch.items() if k not in clashes} if clashes else batch)
    for number in clashes:
        rowids = batch[number]
        for rowid in [rowids] if isinstance(rowids, int) else rowids:
            number_map.add_numbers(numbers, rowid, [number])


def _write_personas(
    db: Any, as_of: dt.date, numbers: number_map.NumberMap, extensions: number_map.ExtensionMap
) -> None:
    """The shipped personas after the population (rowids continue), so scenarios still find them."""
    from mockgateway.config import DEFAULT_FIXTURES
    from mockgateway.fixtures import load_paths

    data = load_paths([DEFAULT_FIXTURES], as_of)
    db.executemany("INSERT OR REPLACE INTO insurers VALUES (?, ?)", ((k, v.name) for k, v in data.insurers.items()))
    for pid, doc in data.documents.items():
        blob = orjson.dumps(doc)
        cursor = db.execute("INSERT INTO persons(id, doc) VALUES (?, ?)", (pid, blob))
        number_map.add_numbers(numbers, int(cursor.lastrowid), number_map.numbers_in(blob))
        number_map.add_extensions(extensions, int(cursor.lastrowid), number_map.extensions_in(blob))


def _config_json(config: PopulationConfig, as_of: dt.date) -> dict[str, Any]:
    out = asdict(config)
    out["as_of"] = as_of.strftime("%Y%m%d")
    out["batch_size"] = BATCH_SIZE
    return out


def stored_report(store: SqliteRepository) -> CalibrationReport | None:
    store.ensure_schema(SCHEMA)
    row = store.connection().execute("SELECT value FROM population_meta WHERE key = 'report'").fetchone()
    return None if row is None else CalibrationReport.from_dict(orjson.loads(row[0]))


def stored_config(store: SqliteRepository) -> Mapping[str, Any] | None:
    store.ensure_schema(SCHEMA)
    row = store.connection().execute("SELECT value FROM population_meta WHERE key = 'config'").fetchone()
    return None if row is None else dict(orjson.loads(row[0]))
