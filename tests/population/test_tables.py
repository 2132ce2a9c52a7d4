"""The published tables extracted from the seeds, and the era shift."""

from __future__ import annotations

import pytest

from mockgateway.population.tables import SCHEMES, TableError, load_tables, merge, shift_to


def test_prefecture_table_matches_the_seed_totals() -> None:
    t = load_tables()
    assert len(t.prefectures) == 47
    assert t.prefectures[12].name == "東京都"
    assert t.prefectures[12].code == 13
    assert sum(p.population for p in t.prefectures) == 126_654_244  # 004_…, 合計
    assert sum(p.cards for p in t.prefectures) == 51_871_720
    assert t.prefectures[44].cards / t.prefectures[44].population == pytest.approx(0.537, abs=5e-4)  # 宮崎県 53.7%


def test_age_sex_table_matches_the_seed_totals() -> None:
    t = load_tables()
    assert [b.start for b in t.bands] == list(range(0, 105, 5))
    assert sum(b.cards[0] for b in t.bands) == 25_672_382  # 男, 交付枚数
    assert sum(b.cards[1] for b in t.bands) == 26_199_338
    assert sum(b.population[0] for b in t.bands) == 61_797_907 - 15  # 全体 less those of unknown age
    assert t.bands[-1].label == "100歳以上"


def test_scheme_table_matches_the_seed_totals() -> None:
    t = load_tables()
    assert tuple(s.key for s in t.schemes) == SCHEMES
    assert sum(s.insured for s in t.schemes) == 125_609_000
    assert sum(s.registered for s in t.schemes) == 6_886_743
    assert t.registration_rate["kyosai"] == pytest.approx(0.0844, abs=5e-5)  # 8.44%
    assert sum(t.scheme_share().values()) == pytest.approx(1.0)


def test_the_2024_era_shifts_rates_to_its_national_figures_and_keeps_the_pattern() -> None:
    early, late = load_tables(), load_tables(era="2024-04")
    assert early.national_card_rate == pytest.approx(0.4096, abs=1e-4)
    assert late.national_card_rate == pytest.approx(0.737, abs=1e-4)
    order = sorted(range(47), key=lambda i: early.card_rate_pref[i])
    assert order == sorted(range(47), key=lambda i: late.card_rate_pref[i])  # a logit shift keeps the ranking
    insured = sum(s.insured for s in late.schemes)
    national = sum(late.registration_rate[s.key] * s.insured for s in late.schemes) / insured
    assert national == pytest.approx(0.578, abs=1e-4)


def test_an_unknown_era_is_refused_with_the_known_ones() -> None:
    with pytest.raises(TableError, match="2022-01"):
        load_tables(era="1999-01")


def test_overrides_merge_key_by_key() -> None:
    merged = merge({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}})
    assert merged == {"a": {"x": 1, "y": 3}, "b": 1}
    t = load_tables({"edge_cases": {"cert_revoked": 0.5}})
    assert t.assumptions["edge_cases"]["cert_revoked"] == 0.5
    assert t.assumptions["edge_cases"]["lost_this_month"] == 0.01


def test_shift_to_meets_the_weighted_target() -> None:
    rates = shift_to([0.1, 0.2, 0.4], [1.0, 2.0, 1.0], 0.5)
    assert (rates[0] + 2 * rates[1] + rates[2]) / 4 == pytest.approx(0.5, abs=1e-9)
    assert rates[0] < rates[1] < rates[2]
