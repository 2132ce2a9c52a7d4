"""Patients for the load: a sample of the generated population, read straight from its SQLite file.

Pure Python (sqlite3 + orjson, no locust, no gateway import). What a reception clerk types comes
from a person's card; the answer the gateway must give is known from the population's own record
(edge cases are listed in `population_edges`), so every response can be checked, not only counted.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


class PopulationMissing(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class CardKeys:
    insurer: str  # as sent: right-aligned to 8 with spaces
    symbol: str | None
    number: str
    branch: str | None


@dataclass(frozen=True, slots=True)
class Patient:
    id: str
    birthdate: str  # YYYYMMDD
    keys: CardKeys  # the card in use today
    validity: str  # what OQSsiquc01 must answer for `keys`: 1 有効, 2 無効 (lost this month)
    old_keys: CardKeys | None = None  # changed insurer: the old card, which must answer 3
    card: str = "none"  # none / unregistered / valid / expiring / grace / expired / revoked


@dataclass
class Sample:
    as_of: str  # the population's date: what QualificationConfirmationDate carries
    patients: list[Patient]
    by_card: dict[str, list[Patient]] = field(default_factory=dict)
    lost: list[Patient] = field(default_factory=list)
    changed: list[Patient] = field(default_factory=list)
    facilities: dict[str, list[str]] = field(default_factory=dict)  # type → 医療機関コード

    def __post_init__(self) -> None:
        for p in self.patients:
            self.by_card.setdefault(p.card, []).append(p)
            if p.validity == "2":
                self.lost.append(p)
            if p.old_keys is not None:
                self.changed.append(p)


def _keys(q: dict[str, Any]) -> CardKeys:
    return CardKeys(
        str(q["InsurerNumber"]).rjust(8),
        q.get("InsuredCardSymbol") or None,
        str(q["InsuredIdentificationNumber"]),
        q.get("InsuredBranchNumber") or None,
    )


def patient(doc: dict[str, Any], edges: Sequence[str]) -> Patient:
    quals = doc["qualifications"]
    current = quals[-1]
    old = _keys(quals[0]) if "changed_insurer" in edges and len(quals) > 1 else None
    card = "none"
    raw = doc.get("card")
    if isinstance(raw, dict):
        card = "valid" if raw.get("registered") in (True, "true") else "unregistered"
        for state in ("expired", "grace", "expiring", "revoked"):
            if f"cert_{state}" in edges:
                card = state
    return Patient(
        id=str(doc["id"]),
        birthdate=str(doc["Birthdate"]),
        keys=_keys(current),
        validity="2" if current.get("DisqualificationDate") else "1",
        old_keys=old,
        card=card,
    )


def load_sample(db: Path | str, size: int = 20_000, *, seed: int | None = None, facilities: int = 2_000) -> Sample:
    """`size` people drawn uniformly (plus every edge case up to `size` // 10 of each kind) and
    `facilities` 医療機関 of each type."""
    path = Path(db)
    if not path.exists():
        raise PopulationMissing(f"{path}: no such file (mockgateway population generate --db {path})")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            meta = dict(con.execute("SELECT key, value FROM population_meta").fetchall())
        except sqlite3.OperationalError:
            raise PopulationMissing(f"{path}: not a generated population (no population_meta)") from None
        config = orjson.loads(meta["config"])
        rng = random.Random(seed)
        top = int(con.execute("SELECT max(rowid) FROM persons").fetchone()[0] or 0)
        rowids = {rng.randint(1, top) for _ in range(size)} if top else set()
        edges: dict[str, list[str]] = {}
        for pid, kind in con.execute("SELECT id, kind FROM population_edges"):
            edges.setdefault(pid, []).append(kind)
        by_kind: dict[str, list[str]] = {}
        for pid, kinds in edges.items():
            for kind in kinds:
                by_kind.setdefault(kind, []).append(pid)
        extra_ids = [pid for ids in by_kind.values() for pid in rng.sample(ids, min(len(ids), size // 10))]
        docs: list[dict[str, Any]] = []
        ordered = sorted(rowids)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            marks = ",".join("?" * len(chunk))
            docs += [
                orjson.loads(b) for (b,) in con.execute(f"SELECT doc FROM persons WHERE rowid IN ({marks})", chunk)
            ]
        for i in range(0, len(extra_ids), 500):
            chunk = extra_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            docs += [orjson.loads(b) for (b,) in con.execute(f"SELECT doc FROM persons WHERE id IN ({marks})", chunk)]
        seen: set[str] = set()
        patients = []
        for doc in docs:
            if doc["id"] in seen:
                continue
            seen.add(doc["id"])
            patients.append(patient(doc, edges.get(doc["id"], ())))
        rng.shuffle(patients)
        codes: dict[str, list[str]] = {}
        for ftype in ("hospital", "clinic", "dental", "pharmacy"):
            rows = con.execute(
                "SELECT code FROM population_facilities WHERE type = ? ORDER BY random() LIMIT ?", (ftype, facilities)
            ).fetchall()
            codes[ftype] = [c for (c,) in rows]
    finally:
        con.close()
    if not patients:
        raise PopulationMissing(f"{path}: the population is empty")
    return Sample(str(config["as_of"]), patients, facilities=codes)


def card_pool(db: Path | str, size: int) -> list[Patient]:
    """The first `size` registered card holders with a valid certificate, by rowid: every load process
    picks the same ones, so the cards issued at warm-up are the ones placed on the reader."""
    con = sqlite3.connect(f"file:{Path(db)}?mode=ro", uri=True)
    try:
        edged = {pid for (pid,) in con.execute("SELECT id FROM population_edges")}
        out: list[Patient] = []
        rows = con.execute("SELECT doc FROM persons WHERE instr(doc, '\"registered\":true') > 0 ORDER BY rowid")
        for (blob,) in rows:
            doc = orjson.loads(blob)
            if doc["id"] in edged:
                continue
            out.append(patient(doc, ()))
            if len(out) >= size:
                break
        return out
    finally:
        con.close()
