"""`mockgateway population …`: generate a calibrated population into the store, show its report."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import yaml

from mockgateway.config import Config


def add_parser(sub: Any) -> None:
    """Register `population generate` and `population report` on the top-level subparsers."""
    top = sub.add_parser("population", help="synthetic national-scale population (docs/population.md)")
    pop = top.add_subparsers(dest="population_command", required=True)

    gen = pop.add_parser("generate", help="generate people, insurers and 医療機関 into the store (replaces them)")
    gen.add_argument("--size", type=int, required=True, help="number of people")
    gen.add_argument("--seed", type=int, default=1, help="same seed, size, as-of, era and config: same population")
    gen.add_argument("--db", help="SQLite file (default: ROOT/mockgateway.sqlite3, as `serve`)")
    gen.add_argument("--root", default="var/oqs", help="gateway root, for the default --db")
    gen.add_argument("--as-of", help="YYYYMMDD the population is true on (default: today, Japan time)")
    gen.add_argument(
        "--era",
        default="2022-01",
        help="calibration period: 2022-01 (the seeds), 2024-04, or 2025-12 (every 被保険者証 lapsed: 資格確認書)",
    )
    gen.add_argument("--config", help="YAML merged over data/assumptions.yaml (edge-case shares, 限度額, …)")
    gen.add_argument("--workers", type=int, default=0, help="generator processes (default: one per core, ≤ 4)")
    gen.add_argument("--with-personas", action="store_true", help="also keep the shipped personas")
    gen.add_argument("--facilities-scale", type=float, default=1.0, help="医療機関 registry size (1.0 = 211,052)")
    gen.add_argument("--report", help="also write the full calibration report to this file (.json or text)")
    gen.add_argument("--all", action="store_true", help="print every stratum, not only those outside tolerance")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=_generate)

    rep = pop.add_parser("report", help="print the calibration report stored with the population")
    rep.add_argument("--db", help="SQLite file (default: ROOT/mockgateway.sqlite3)")
    rep.add_argument("--root", default="var/oqs")
    rep.add_argument("--json", action="store_true")
    rep.add_argument("--all", action="store_true", help="every stratum (default: summary and failures)")
    rep.set_defaults(func=_report)


def _db_path(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else Config(root=Path(args.root)).db_path


def _generate(args: argparse.Namespace) -> int:
    from mockgateway.population.generate import PopulationConfig, Progress, generate
    from mockgateway.store.sqlite import SqliteRepository

    if args.size < 1:
        raise SystemExit("--size must be at least 1")
    overrides: dict[str, Any] = {}
    if args.config:
        loaded = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise SystemExit(f"{args.config}: a mapping is expected")
        overrides = loaded
    as_of = dt.datetime.strptime(args.as_of, "%Y%m%d").date() if args.as_of else None
    config = PopulationConfig(
        size=args.size,
        seed=args.seed,
        as_of=as_of,
        era=args.era,
        overrides=overrides,
        workers=args.workers,
        with_personas=args.with_personas,
        facilities_scale=args.facilities_scale,
    )
    db = _db_path(args)
    store = SqliteRepository(db)
    progress = None if args.quiet or args.size < 50_000 else Progress(args.size)
    try:
        report = generate(store, config, progress=progress)
    finally:
        store.close()
    print(report.to_text(all_rows=args.all))
    print(f"db {db}")
    if args.report:
        _write_report(Path(args.report), report)
    return 0 if report.ok_or_granular else 1


def _write_report(path: Path, report: Any) -> None:
    import orjson

    if path.suffix == ".json":
        path.write_bytes(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2))
    else:
        path.write_text(report.to_text() + "\n", encoding="utf-8")


def _report(args: argparse.Namespace) -> int:
    import orjson

    from mockgateway.population.generate import stored_report
    from mockgateway.store.sqlite import SqliteRepository

    store = SqliteRepository(_db_path(args))
    try:
        report = stored_report(store)
    finally:
        store.close()
    if report is None:
        print(f"no population in {_db_path(args)}: run `mockgateway population generate`", file=sys.stderr)
        return 2
    if args.json:
        print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(report.to_text(all_rows=args.all))
    return 0 if report.ok_or_granular else 1
