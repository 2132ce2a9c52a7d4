"""利用者証明用電子証明書 validity as of a date: notice window, grace period boundaries, both rules."""

from __future__ import annotations

import datetime as dt

import pytest

from mockgateway.domain.certificate import (
    CertificateRules,
    CertificateStatus,
    GraceRule,
    add_months,
    assess,
    month_end,
    nth_birthday_after,
)

D = dt.date
ISSUED = D(2021, 3, 1)
MONTH_END = CertificateRules()
EXPIRY_DAY = CertificateRules(grace_rule=GraceRule.EXPIRY_DAY)


def status(expires: dt.date, on: dt.date, rules: CertificateRules = MONTH_END, **kw: bool) -> CertificateStatus:
    return assess(valid_from=ISSUED, expires=expires, on=on, rules=rules, **kw).status


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2025, 1, 15), 3, D(2025, 4, 15)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
        (D(2023, 11, 29), 3, D(2024, 2, 29)),
        (D(2025, 5, 31), -3, D(2025, 2, 28)),
        (D(2025, 1, 31), -1, D(2024, 12, 31)),
        (D(2025, 12, 1), 1, D(2026, 1, 1)),
    ],
)
def test_add_months_clamps_to_the_month_end(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_month_end() -> None:
    assert month_end(D(2024, 2, 3)) == D(2024, 2, 29)
    assert month_end(D(2025, 12, 31)) == D(2025, 12, 31)


# --- the grace period: month-end rule (default) ----------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "grace_until"),
    [
        (D(2025, 1, 15), D(2025, 4, 30)),  # 有効期限満了日が属する月の末日 (01-31) から3か月間
        (D(2025, 1, 31), D(2025, 4, 30)),
        (D(2025, 1, 1), D(2025, 4, 30)),
        (D(2025, 11, 20), D(2026, 2, 28)),
        (D(2023, 11, 20), D(2024, 2, 29)),  # leap year
        (D(2025, 10, 31), D(2026, 1, 31)),  # over the year end
    ],
)
def test_month_end_rule_grace_until(expires: dt.date, grace_until: dt.date) -> None:
    assert MONTH_END.grace_until(expires) == grace_until


@pytest.mark.parametrize(
    ("expires", "grace_until"),
    [
        (D(2025, 1, 15), D(2025, 4, 15)),  # 有効期限が切れた日から3か月間
        (D(2025, 11, 30), D(2026, 2, 28)),
        (D(2025, 1, 31), D(2025, 4, 30)),
    ],
)
def test_expiry_day_rule_grace_until(expires: dt.date, grace_until: dt.date) -> None:
    assert EXPIRY_DAY.grace_until(expires) == grace_until


def test_month_end_boundaries() -> None:
    expires = D(2025, 1, 15)
    assert status(expires, D(2025, 1, 15)) is CertificateStatus.EXPIRING  # last valid day
    assert status(expires, D(2025, 1, 16)) is CertificateStatus.GRACE  # first day of grace
    assert status(expires, D(2025, 4, 30)) is CertificateStatus.GRACE  # last day of grace
    assert status(expires, D(2025, 5, 1)) is CertificateStatus.EXPIRED  # first day after


def test_expiry_day_boundaries() -> None:
    expires = D(2025, 1, 15)
    assert status(expires, D(2025, 1, 16), EXPIRY_DAY) is CertificateStatus.GRACE
    assert status(expires, D(2025, 4, 15), EXPIRY_DAY) is CertificateStatus.GRACE
    assert status(expires, D(2025, 4, 16), EXPIRY_DAY) is CertificateStatus.EXPIRED
    assert status(expires, D(2025, 4, 16)) is CertificateStatus.GRACE  # still in grace by month-end


def test_no_grace_period() -> None:
    rules = CertificateRules(grace_months=0)
    assert status(D(2025, 1, 15), D(2025, 1, 16), rules) is CertificateStatus.EXPIRED


# --- the "expiring within 3 months" notice --------------------------------------------------------------


def test_notice_window() -> None:
    expires = D(2025, 9, 30)
    assert MONTH_END.notice_from(expires) == D(2025, 6, 30)
    assert status(expires, D(2025, 6, 29)) is CertificateStatus.VALID
    assert status(expires, D(2025, 6, 30)) is CertificateStatus.EXPIRING
    assert status(expires, D(2025, 9, 30)) is CertificateStatus.EXPIRING
    assert MONTH_END.notice_from(D(2025, 5, 31)) == D(2025, 2, 28)


def test_no_notice() -> None:
    rules = CertificateRules(notice_months=0)
    assert status(D(2025, 9, 30), D(2025, 9, 30), rules) is CertificateStatus.VALID


# --- the rest --------------------------------------------------------------------------------------------


def test_revoked_wins_whatever_the_date() -> None:
    assert status(D(2029, 1, 1), D(2025, 6, 18), revoked=True) is CertificateStatus.REVOKED
    assert status(D(2025, 1, 1), D(2025, 2, 1), revoked=True) is CertificateStatus.REVOKED


def test_not_yet_valid() -> None:
    assert status(D(2029, 1, 1), D(2021, 2, 28)) is CertificateStatus.NOT_YET_VALID
    assert status(D(2029, 1, 1), ISSUED) is CertificateStatus.VALID


def test_usable_and_describe() -> None:
    a = assess(valid_from=ISSUED, expires=D(2025, 1, 15), on=D(2025, 2, 1))
    assert a.usable
    assert a.in_grace
    assert a.grace_until == D(2025, 4, 30)
    assert "20250430" in a.describe()
    assert "猶予期間中" in a.describe()
    expired = assess(valid_from=ISSUED, expires=D(2025, 1, 15), on=D(2025, 5, 1))
    assert not expired.usable
    assert "猶予期間" in expired.describe()
    for s in CertificateStatus:
        fake = assess(valid_from=ISSUED, expires=D(2025, 1, 15), on=D(2025, 1, 1))
        assert isinstance(
            type(fake)(s, fake.on, ISSUED, fake.expires, fake.grace_until, fake.notice_from).describe(), str
        )


def test_rules_refuse_silly_values() -> None:
    with pytest.raises(ValueError, match="grace_months"):
        CertificateRules(grace_months=-1)
    with pytest.raises(ValueError, match="notice_months"):
        CertificateRules(notice_months=99)


@pytest.mark.parametrize(
    ("birth", "day", "fifth"),
    [
        (dt.date(1980, 6, 15), dt.date(2024, 6, 15), dt.date(2029, 6, 15)),  # on the birthday: not counted
        (dt.date(1980, 6, 15), dt.date(2024, 6, 14), dt.date(2028, 6, 15)),
        (dt.date(2000, 2, 29), dt.date(2024, 3, 1), dt.date(2029, 2, 28)),
    ],
)
def test_nth_birthday_after(birth: dt.date, day: dt.date, fifth: dt.date) -> None:
    assert nth_birthday_after(birth, day, 5) == fifth
