"""The published figures the population is calibrated to, and the assumptions beside them.

`data/*.csv` hold tables extracted from the seeds (each file cites its source in its header);
`data/assumptions.yaml` holds what the seeds do not give, each value named as an assumption.
Everything here is plain data: loading, merging overrides, and the targets derived from them.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

SCHEMES = ("kyokai", "kumiai", "kyosai", "kokuho", "kokuho_kumiai", "kouki")
SCHEME_NAMES = {
    "kyokai": "協会けんぽ・船員保険",
    "kumiai": "健康保険組合",
    "kyosai": "共済組合",
    "kokuho": "市町村国保",
    "kokuho_kumiai": "国保組合",
    "kouki": "後期高齢者医療",
}
SEXES = ("1", "2")  # Sex1: 1 男, 2 女
SEX_NAMES = {"1": "男", "2": "女"}
FACILITY_TYPES = ("hospital", "clinic", "dental", "pharmacy")


class TableError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Prefecture:
    code: int  # JIS X 0401, also the 都道府県番号 of insurer numbers and 医療機関コード
    name: str
    population: int
    cards: int

    @property
    def short(self) -> str:
        """東京都 → 東京, 北海道 stays 北海道 (as in 全国健康保険協会東京支部)."""
        return self.name if self.name == "北海道" else self.name[:-1]


@dataclass(frozen=True, slots=True)
class AgeBand:
    start: int
    end: int  # inclusive
    population: tuple[int, int]  # (male, female)
    cards: tuple[int, int]

    @property
    def label(self) -> str:
        return f"{self.start}歳以上" if self.start >= 100 else f"{self.start}–{self.end}歳"


@dataclass(frozen=True, slots=True)
class SchemeRow:
    key: str
    name: str
    insured: int
    registered: int


@dataclass(frozen=True, slots=True)
class FacilityType:
    key: str
    name: str
    score_table: str
    operating_2024_04: int
    all_2022_01: int
    operating_2022_01: int


def _csv_rows(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("mockgateway.population").joinpath("data", name).read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if line and not line.startswith("#"))
    yield from csv.DictReader(io.StringIO(body))


def _yaml(name: str) -> dict[str, Any]:
    text = resources.files("mockgateway.population").joinpath("data", name).read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise TableError(f"{name}: a mapping is expected")
    return doc


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def shift_to(rates: list[float], weights: list[float], target: float) -> list[float]:
    """A common logit shift of `rates` so that their weighted mean becomes `target` (bisection)."""
    total = sum(weights)
    lo, hi = -20.0, 20.0
    for _ in range(100):
        mid = (lo + hi) / 2
        mean = sum(w * expit(logit(r) + mid) for r, w in zip(rates, weights, strict=True)) / total
        lo, hi = (mid, hi) if mean < target else (lo, mid)
    delta = (lo + hi) / 2
    return [expit(logit(r) + delta) for r in rates]


@dataclass
class Tables:
    prefectures: list[Prefecture]
    bands: list[AgeBand]
    schemes: list[SchemeRow]
    facilities: list[FacilityType]
    assumptions: dict[str, Any]
    era: str = "2022-01"
    # derived rates (after an era's shift); filled by __post_init__
    card_rate_band: list[tuple[float, float]] = field(default_factory=list)  # per band: (male, female)
    card_rate_pref: list[float] = field(default_factory=list)
    registration_rate: dict[str, float] = field(default_factory=dict)  # registered ÷ insured, per scheme

    def __post_init__(self) -> None:
        bands = [(b.cards[i] / b.population[i]) for b in self.bands for i in (0, 1)]
        band_w = [float(b.population[i]) for b in self.bands for i in (0, 1)]
        prefs = [p.cards / p.population for p in self.prefectures]
        pref_w = [float(p.population) for p in self.prefectures]
        regs = [s.registered / s.insured for s in self.schemes]
        reg_w = [float(s.insured) for s in self.schemes]
        era = self.era_settings
        if "card_rate" in era:
            bands = shift_to(bands, band_w, float(era["card_rate"]))
            prefs = shift_to(prefs, pref_w, float(era["card_rate"]))
        if "registration_rate" in era:
            regs = shift_to(regs, reg_w, float(era["registration_rate"]))
        self.card_rate_band = [(bands[2 * i], bands[2 * i + 1]) for i in range(len(self.bands))]
        self.card_rate_pref = prefs
        self.registration_rate = {s.key: r for s, r in zip(self.schemes, regs, strict=True)}

    @property
    def era_settings(self) -> dict[str, Any]:
        eras = self.assumptions.get("eras") or {}
        if self.era not in eras:
            raise TableError(f"unknown era {self.era!r} (known: {', '.join(sorted(eras))})")
        return dict(eras[self.era] or {})

    # -- published targets ---------------------------------------------------------------------

    @property
    def population_total(self) -> int:
        return sum(sum(b.population) for b in self.bands)

    @property
    def national_card_rate(self) -> float:
        total = sum(p.population for p in self.prefectures)
        return sum(r * p.population for r, p in zip(self.card_rate_pref, self.prefectures, strict=True)) / total

    def scheme_share(self) -> dict[str, float]:
        total = sum(s.insured for s in self.schemes)
        return {s.key: s.insured / total for s in self.schemes}

    def scheme(self, key: str) -> SchemeRow:
        for s in self.schemes:
            if s.key == key:
                return s
        raise KeyError(key)

    def band_of(self, age: int) -> int:
        for i, band in enumerate(self.bands):
            if band.start <= age <= band.end:
                return i
        return len(self.bands) - 1


def load_tables(overrides: Mapping[str, Any] | None = None, era: str = "2022-01") -> Tables:
    prefectures = [
        Prefecture(int(r["code"]), r["name"], int(r["population"]), int(r["cards_issued"]))
        for r in _csv_rows("prefectures.csv")
    ]
    if [p.code for p in prefectures] != list(range(1, 48)):
        raise TableError("prefectures.csv: codes 01–47 in order are expected")
    bands = [
        AgeBand(
            int(r["age_from"]),
            int(r["age_to"]),
            (int(r["population_male"]), int(r["population_female"])),
            (int(r["cards_male"]), int(r["cards_female"])),
        )
        for r in _csv_rows("age_sex.csv")
    ]
    schemes = [
        SchemeRow(r["key"], r["name"], int(r["insured"]), int(r["registered"])) for r in _csv_rows("schemes.csv")
    ]
    if tuple(s.key for s in schemes) != SCHEMES:
        raise TableError(f"schemes.csv: keys {SCHEMES} in order are expected")
    facilities = [
        FacilityType(
            r["type"],
            r["name"],
            r["score_table"],
            int(r["operating_2024_04"]),
            int(r["all_2022_01"]),
            int(r["operating_2022_01"]),
        )
        for r in _csv_rows("facilities.csv")
    ]
    assumptions = merge(_yaml("assumptions.yaml"), overrides or {})
    return Tables(prefectures, bands, schemes, facilities, assumptions, era)
