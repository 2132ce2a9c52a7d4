"""The sampling plan: controlled rounding makes the published marginals exact to a person."""

from __future__ import annotations

from collections import Counter

import pytest

from mockgateway.population.plan import CarrySplitter, apportion, build_plan, scheme_weights
from mockgateway.population.tables import SCHEMES, load_tables


def test_apportion_sums_and_stays_within_one() -> None:
    weights = [3.0, 1.0, 1.0, 0.0, 2.5]
    out = apportion(101, weights)
    assert sum(out) == 101
    assert out[3] == 0
    for got, w in zip(out, weights, strict=True):
        assert abs(got - 101 * w / sum(weights)) < 1


def test_carry_splitter_keeps_rows_exact_and_columns_within_one() -> None:
    splitter = CarrySplitter(3)
    weights = [0.5, 0.3, 0.2]
    column = [0, 0, 0]
    for n in [7, 3, 11, 1, 1, 1, 5, 9, 2, 13] * 10:
        row = splitter.split(n, weights)
        assert sum(row) == n
        column = [c + r for c, r in zip(column, row, strict=True)]
    total = sum(column)
    for got, w in zip(column, weights, strict=True):
        assert abs(got - total * w) <= 1.0


def test_carry_splitter_respects_caps_and_structural_zeros() -> None:
    splitter = CarrySplitter(3)
    assert splitter.split(5, [1.0, 1.0, 0.0], caps=[1, 10, 10]) == [1, 4, 0]


def test_scheme_weights_put_75_and_over_in_kouki_only() -> None:
    t = load_tables()
    weights = scheme_weights(t)
    kouki = SCHEMES.index("kouki")
    for band, row in zip(t.bands, weights, strict=True):
        assert sum(row) == pytest.approx(1.0)
        assert (row[kouki] == 1.0) == (band.start >= 75)
    assert weights[14][SCHEMES.index("kokuho")] > weights[5][SCHEMES.index("kokuho")]  # 70–74 more in 国保


@pytest.mark.parametrize("size", [2_000, 100_000])
def test_plan_meets_every_published_marginal_to_within_a_person_or_two(size: int) -> None:
    t = load_tables()
    plan = build_plan(t, size)
    assert sum(plan.counts) == size
    by_band_sex: Counter[tuple[int, int]] = Counter()
    cards_band_sex: Counter[tuple[int, int]] = Counter()
    by_pref: Counter[int] = Counter()
    by_scheme: Counter[int] = Counter()
    reg_scheme: Counter[int] = Counter()
    for cell, n in zip(plan.cells, plan.counts, strict=True):
        assert not cell.registered or cell.card  # 保険証利用登録 needs a card
        by_band_sex[(cell.band, cell.sex)] += n
        by_pref[cell.pref] += n
        by_scheme[cell.scheme] += n
        if cell.card:
            cards_band_sex[(cell.band, cell.sex)] += n
        if cell.registered:
            reg_scheme[cell.scheme] += n
    total_pop = t.population_total
    for b, band in enumerate(t.bands):
        for x in (0, 1):
            assert abs(by_band_sex[(b, x)] - size * band.population[x] / total_pop) < 1
            n = by_band_sex[(b, x)]
            assert abs(cards_band_sex[(b, x)] - n * t.card_rate_band[b][x]) <= 1.0
    pref_total = sum(p.population for p in t.prefectures)
    for p, pref in enumerate(t.prefectures):
        assert abs(by_pref[p] - size * pref.population / pref_total) <= 1.0
    for s, key in enumerate(SCHEMES):
        assert abs(reg_scheme[s] - by_scheme[s] * t.registration_rate[key]) <= 1.0


def test_labels_are_a_reproducible_shuffle_of_the_plan() -> None:
    plan = build_plan(load_tables(), 2_000)
    first, again, other = plan.labels(1), plan.labels(1), plan.labels(2)
    assert list(first) == list(again)
    assert list(first) != list(other)
    assert Counter(first) == Counter({cid: n for cid, n in enumerate(plan.counts)})
