"""domain/kakunin.py: the 資格確認書's 5-year limit and the classification setting."""

from __future__ import annotations

import datetime as dt

from mockgateway.domain.kakunin import KAKUNIN, classification, validity_problem

D = dt.date


def test_validity_period_is_under_five_years() -> None:
    assert validity_problem(D(2024, 12, 2), D(2029, 11, 30)) is None  # 私学事業団: 2024-12-02 → 2029-11-30
    assert validity_problem(D(2024, 12, 2), D(2029, 12, 1)) is None
    assert "5年以内" in str(validity_problem(D(2024, 12, 2), D(2029, 12, 2)))
    assert "より前" in str(validity_problem(D(2025, 1, 1), D(2024, 12, 31)))
    assert validity_problem(D(2024, 2, 29), D(2029, 2, 28)) is None
    assert validity_problem(None, D(2029, 1, 1)) is None


def test_classification_setting_applies_to_kakunin_only() -> None:
    assert classification("01", KAKUNIN, "08") == "08"
    assert classification("01", KAKUNIN, None) == "01"
    assert classification("01", None, "08") == "01"
    assert classification("A1", None, "08") == "A1"
