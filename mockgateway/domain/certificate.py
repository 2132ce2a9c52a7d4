"""The 利用者証明用電子証明書 as of a date: valid, expiring soon, in its grace period, expired (pure).

oqs-interface.md §5:
- the certificate is valid until the end of its expiry day (the 5th birthday after issue);
- the reader warns from 3 months before expiry ("証明書の有効期限が3か月以内となっています"), and
  the result is a normal one with the notice in ProcessingResultCode / ProcessingResultMessage;
- after expiry the card can still be used for 資格確認 for a grace period, during which only 資格情報
  are given (no consent screens, no 医療情報). Two sources say "有効期限満了日が属する月の末日から
  3か月間" (3 months from the end of the expiry month: `GraceRule.MONTH_END`, the default); one
  says "有効期限が切れた日から3か月間" (`GraceRule.EXPIRY_DAY`). Both are selectable.
- after the grace period, and for a revoked certificate at any time, the reader shows error 006.

Inferred here (no official text): "3か月以内" starts on the day three calendar months before the
expiry day (clamped to the month's end: expiry 05-31 → from 02-28) and includes the expiry day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class GraceRule(StrEnum):
    MONTH_END = "month_end"  # until the end of the 3rd month after the month of expiry
    EXPIRY_DAY = "expiry_day"  # until the same day 3 months after the expiry day


class CertificateStatus(StrEnum):
    NOT_YET_VALID = "not_yet_valid"
    VALID = "valid"
    EXPIRING = "expiring"  # valid, and expiry is within the notice window
    GRACE = "grace"  # expired, but still usable for 資格確認 (資格情報 only)
    EXPIRED = "expired"  # past the grace period
    REVOKED = "revoked"


USABLE = frozenset({CertificateStatus.VALID, CertificateStatus.EXPIRING, CertificateStatus.GRACE})


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (or earlier), clamped to that month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True, slots=True)
class CertificateRules:
    grace_rule: GraceRule = GraceRule.MONTH_END
    grace_months: int = 3
    notice_months: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.grace_months <= 24:
            raise ValueError(f"grace_months: expected 0..24, got {self.grace_months}")
        if not 0 <= self.notice_months <= 24:
            raise ValueError(f"notice_months: expected 0..24, got {self.notice_months}")

    def grace_until(self, expires: dt.date) -> dt.date:
        """The last day the expired certificate is still accepted (== `expires` when there is no grace)."""
        if self.grace_months == 0:
            return expires
        if self.grace_rule is GraceRule.MONTH_END:
            return month_end(add_months(expires.replace(day=1), self.grace_months))
        return add_months(expires, self.grace_months)

    def notice_from(self, expires: dt.date) -> dt.date:
        """The first day the "expiring within 3 months" notice is given."""
        if self.notice_months == 0:
            return expires + dt.timedelta(days=1)
        return add_months(expires, -self.notice_months)


@dataclass(frozen=True, slots=True)
class Assessment:
    status: CertificateStatus
    on: dt.date
    valid_from: dt.date
    expires: dt.date  # the last valid day
    grace_until: dt.date  # the last day of the grace period
    notice_from: dt.date

    @property
    def usable(self) -> bool:
        """資格確認 can go ahead (valid, expiring soon, or within the grace period)."""
        return self.status in USABLE

    @property
    def in_grace(self) -> bool:
        return self.status is CertificateStatus.GRACE

    def describe(self) -> str:
        """Why, in words for the journal."""
        e, g = f"{self.expires:%Y%m%d}", f"{self.grace_until:%Y%m%d}"
        return {
            CertificateStatus.NOT_YET_VALID: f"有効期間の開始 {self.valid_from:%Y%m%d} より前です",
            CertificateStatus.VALID: f"有効 (有効期限 {e})",
            CertificateStatus.EXPIRING: f"有効期限 {e} まで3か月以内 ({self.notice_from:%Y%m%d} から通知)",
            CertificateStatus.GRACE: f"有効期限 {e} 切れ、猶予期間中 ({g} まで): 資格情報のみ提供",
            CertificateStatus.EXPIRED: f"有効期限 {e} 切れ、猶予期間 ({g} まで) も過ぎています",
            CertificateStatus.REVOKED: f"失効しています (有効期限 {e})",
        }[self.status]


def assess(
    *,
    valid_from: dt.date,
    expires: dt.date,
    on: dt.date,
    revoked: bool = False,
    rules: CertificateRules | None = None,
) -> Assessment:
    """The certificate's status on `on` (a revoked certificate is revoked whatever the date)."""
    r = rules or CertificateRules()
    grace_until = r.grace_until(expires)
    notice_from = r.notice_from(expires)
    if revoked:
        status = CertificateStatus.REVOKED
    elif on < valid_from:
        status = CertificateStatus.NOT_YET_VALID
    elif on <= expires:
        status = CertificateStatus.EXPIRING if on >= notice_from else CertificateStatus.VALID
    elif on <= grace_until:
        status = CertificateStatus.GRACE
    else:
        status = CertificateStatus.EXPIRED
    return Assessment(status, on, valid_from, expires, grace_until, notice_from)


def nth_birthday_after(birthdate: dt.date, day: dt.date, n: int) -> dt.date:
    """The n-th birthday strictly after `day` (a birthday on `day` itself does not count).

    A 29 February birthday falls on 28 February in common years (a simplification; the
    real rule for leap-day births was not checked).
    """
    if n < 1:
        raise ValueError(f"n: expected >= 1, got {n}")
    if birthdate > day:
        raise ValueError(f"birthdate {birthdate} is after {day}")
    year = day.year
    first = _birthday_in(birthdate, year)
    if first <= day:
        year += 1
    return _birthday_in(birthdate, year + n - 1)


def _birthday_in(birthdate: dt.date, year: int) -> dt.date:
    try:
        return birthdate.replace(year=year)
    except ValueError:  # 29 February in a common year
        return dt.date(year, 2, 28)
