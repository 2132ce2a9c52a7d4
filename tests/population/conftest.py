"""A small generated population shared by the population tests (generated once per session)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockgateway.population.calibration import CalibrationReport
from mockgateway.population.generate import PopulationConfig, generate
from mockgateway.store.sqlite import SqliteRepository

AS_OF = dt.date(2025, 6, 18)  # tests/conftest.py FROZEN_AT
SIZE = 2_000


@dataclass
class Generated:
    db: Path
    config: PopulationConfig
    report: CalibrationReport
    docs: list[dict[str, Any]]
    insurers: dict[str, str]


def small_config(**changes: Any) -> PopulationConfig:
    base: dict[str, Any] = {"size": SIZE, "seed": 7, "as_of": AS_OF, "workers": 1, "facilities_scale": 0.005}
    base.update(changes)
    return PopulationConfig(**base)


def read_docs(db: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    store = SqliteRepository(db)
    try:
        docs = [orjson.loads(blob) for (blob,) in store.connection().execute("SELECT doc FROM persons ORDER BY rowid")]
        return docs, store.insurers()
    finally:
        store.close()


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    db = tmp_path_factory.mktemp("population") / "population.sqlite3"
    config = small_config()
    store = SqliteRepository(db)
    try:
        report = generate(store, config)
    finally:
        store.close()
    docs, insurers = read_docs(db)
    return Generated(db, config, report, docs, insurers)
