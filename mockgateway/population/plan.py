"""The sampling plan: how many people fall in each calibrated cell, before anyone is generated.

A cell is (age band, sex, prefecture, card holder, scheme, 保険証利用登録). Counts are fixed by
controlled rounding of the targets, so every published marginal is met to within a person or
two at any size (1,000,000 or 2,000), instead of within the sampling error of independent draws:

1. age band × sex: largest remainder over the population table (004_…, section 4);
2. × prefecture: population shares (section 3), a running carry per prefecture column keeping each
   prefecture's total exact while each row's total stays exact;
3. × card holder: each age × sex row gets its published issuance rate exactly; within the row,
   prefectures are weighted by their own rate relative to the national one (rate_band × rate_pref ÷
   rate_national, capped at the row size), again with a carry per prefecture;
4. × scheme: 75 and over → 後期高齢者; under 75 by a propensity table raked (IPF) to the published
   scheme shares and age distribution (assumptions.yaml), a carry per scheme column;
5. × 保険証利用登録 among card holders, so that registered ÷ insured per scheme meets the
   published figure (004_…, 保険者制度別 紐付け完了数).

Age and prefecture are independent here, as are scheme and prefecture (no data on either).
The label array (one cell id per person) is then shuffled with the seed.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from mockgateway.population.tables import SCHEMES, Tables

KOUKI = SCHEMES.index("kouki")


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Largest remainder: integers proportional to `weights`, summing to `total`."""
    wsum = sum(weights)
    if total == 0 or wsum <= 0:
        return [0] * len(weights)
    ideal = [total * w / wsum for w in weights]
    out = [math.floor(x) for x in ideal]
    order = sorted(range(len(ideal)), key=lambda i: (out[i] - ideal[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


class CarrySplitter:
    """Splits row totals over columns so that both every row and every column's running total
    stay within about one unit of the ideal (a carry of the rounding error per column)."""

    def __init__(self, columns: int) -> None:
        self.carry = [0.0] * columns

    def split(self, n: int, weights: Sequence[float], caps: Sequence[int] | None = None) -> list[int]:
        cols = len(weights)
        wsum = sum(weights)
        if n == 0 or wsum <= 0:
            return [0] * cols
        ideal = [n * w / wsum + (self.carry[j] if w > 0 else 0.0) for j, w in enumerate(weights)]
        out = [max(0, math.floor(x)) if weights[j] > 0 else 0 for j, x in enumerate(ideal)]
        if caps is not None:
            out = [min(o, c) for o, c in zip(out, caps, strict=True)]
        live = [j for j in range(cols) if weights[j] > 0]
        while sum(out) < n:
            room = [j for j in live if caps is None or out[j] < caps[j]]
            if not room:
                break
            j = max(room, key=lambda j: (ideal[j] - out[j], -j))
            out[j] += 1
        while sum(out) > n:
            j = min((j for j in live if out[j] > 0), key=lambda j: (ideal[j] - out[j], j))
            out[j] -= 1
        for j in live:
            self.carry[j] = max(-1.0, min(1.0, ideal[j] - out[j]))
        return out


def scheme_weights(tables: Tables) -> list[list[float]]:
    """Per age band, the share of each scheme (rows sum to 1): IPF of the propensity table to the
    age distribution (rows) and the published scheme shares (columns), 後期 fixed by age."""
    a = tables.assumptions
    kouki_from = int(a.get("kouki_from_age", 75))
    prop = a["scheme_age_propensity"]
    starts = [int(x) for x in prop["band_starts"]]
    under = [i for i, b in enumerate(tables.bands) if b.start < kouki_from]
    others = [k for k in SCHEMES if k != "kouki"]

    def propensity(scheme: str, age: int) -> float:
        pos = max(i for i, s in enumerate(starts) if s <= age)
        return float(prop[scheme][pos])

    matrix = [[propensity(k, tables.bands[b].start) for k in others] for b in under]
    row_t = [float(sum(tables.bands[b].population)) for b in under]
    shares = tables.scheme_share()
    col_raw = [shares[k] for k in others]
    col_t = [c / sum(col_raw) * sum(row_t) for c in col_raw]
    for _ in range(500):
        for i, row in enumerate(matrix):
            s = sum(row)
            matrix[i] = [v * row_t[i] / s for v in row]
        for j in range(len(others)):
            s = sum(matrix[i][j] for i in range(len(matrix)))
            for i in range(len(matrix)):
                matrix[i][j] *= col_t[j] / s
    out: list[list[float]] = []
    for b, band in enumerate(tables.bands):
        if band.start >= kouki_from:
            out.append([1.0 if k == "kouki" else 0.0 for k in SCHEMES])
            continue
        row = matrix[under.index(b)]
        total = sum(row)
        weights = dict(zip(others, (v / total for v in row), strict=True))
        out.append([weights.get(k, 0.0) for k in SCHEMES])
    return out


@dataclass(frozen=True, slots=True)
class Cell:
    band: int
    sex: int  # 0 male, 1 female
    pref: int  # 0-based index into tables.prefectures
    card: bool
    scheme: int  # index into SCHEMES
    registered: bool


@dataclass
class Plan:
    size: int
    cells: list[Cell]
    counts: list[int]

    def labels(self, seed: int) -> array[int]:
        """One cell id per person, shuffled reproducibly."""
        ids: list[int] = []
        for cid, n in enumerate(self.counts):
            ids.extend([cid] * n)
        random.Random(f"plan:{seed}").shuffle(ids)
        return array("I", ids)


def build_plan(tables: Tables, size: int) -> Plan:
    bands = tables.bands
    prefs = tables.prefectures
    pref_w = [float(p.population) for p in prefs]
    national = tables.national_card_rate
    # 1. age band × sex
    bx = [(b, x) for b in range(len(bands)) for x in (0, 1)]
    n_bx = apportion(size, [float(bands[b].population[x]) for b, x in bx])
    # 2. × prefecture
    by_pref = CarrySplitter(len(prefs))
    n_bxp = {key: by_pref.split(n, pref_w) for key, n in zip(bx, n_bx, strict=True)}
    # 3. × card holder: exact per band × sex row, carried per prefecture
    cards_by_pref = CarrySplitter(len(prefs))
    row_carry = 0.0
    n_card: dict[tuple[int, int], list[int]] = {}
    for (b, x), n in zip(bx, n_bx, strict=True):
        rate = tables.card_rate_band[b][x]
        ideal = n * rate + row_carry
        c = min(n, max(0, round(ideal)))
        row_carry = ideal - c
        row = n_bxp[(b, x)]
        weights = [row[p] * min(1.0, rate * tables.card_rate_pref[p] / national) for p in range(len(prefs))]
        n_card[(b, x)] = cards_by_pref.split(c, weights, caps=row)
    # 4. × scheme (same weights for card holders and others: no data on a difference)
    weights_b = scheme_weights(tables)
    by_scheme = CarrySplitter(len(SCHEMES))
    rows: list[tuple[int, int, int, bool, list[int]]] = []
    for b, x in bx:
        for p in range(len(prefs)):
            holders = n_card[(b, x)][p]
            for card, n in ((True, holders), (False, n_bxp[(b, x)][p] - holders)):
                if n:
                    rows.append((b, x, p, card, by_scheme.split(n, weights_b[b])))
    # 5. × 保険証利用登録: registered ÷ insured per scheme as published
    total_s = [0] * len(SCHEMES)
    holders_s = [0] * len(SCHEMES)
    for _b, _x, _p, card, split in rows:
        for s, n in enumerate(split):
            total_s[s] += n
            holders_s[s] += n if card else 0
    rho = [
        min(1.0, tables.registration_rate[k] * total_s[s] / holders_s[s]) if holders_s[s] else 0.0
        for s, k in enumerate(SCHEMES)
    ]
    reg_carry = [0.0] * len(SCHEMES)
    cells: list[Cell] = []
    counts: list[int] = []
    for b, x, p, card, split in rows:
        for s, n in enumerate(split):
            if not n:
                continue
            registered = 0
            if card:
                ideal = n * rho[s] + reg_carry[s]
                registered = min(n, max(0, round(ideal)))
                reg_carry[s] = ideal - registered
            for reg, m in ((True, registered), (False, n - registered)):
                if m:
                    cells.append(Cell(b, x, p, card, s, reg))
                    counts.append(m)
    return Plan(size, cells, counts)
