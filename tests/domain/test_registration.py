"""domain/registration.py: 保険証利用登録, 解除 effective after 申請受付の翌月末."""

from __future__ import annotations

import datetime as dt

from mockgateway.domain.registration import Registration, cancellation_effective

D = dt.date


def test_cancellation_is_effective_at_the_end_of_the_next_month() -> None:
    assert cancellation_effective(D(2025, 6, 18)) == D(2025, 7, 31)
    assert cancellation_effective(D(2025, 1, 31)) == D(2025, 2, 28)
    assert cancellation_effective(D(2024, 1, 5)) == D(2024, 2, 29)
    assert cancellation_effective(D(2025, 12, 1)) == D(2026, 1, 31)


def test_registered_until_the_effective_day_then_not() -> None:
    r = Registration(initially=True).cancel(D(2025, 6, 18))
    assert r.registered(D(2025, 6, 18))
    assert r.registered(D(2025, 7, 31))  # the 翌月末 itself: still registered
    assert not r.registered(D(2025, 8, 1))
    assert r.cancelled_after == D(2025, 7, 31)


def test_registration_at_the_reader() -> None:
    r = Registration(initially=False)
    assert not r.registered(D(2025, 6, 18))
    r = r.register(D(2025, 6, 18))
    assert r.registered(D(2025, 6, 18))
    assert not r.registered(D(2025, 6, 17))


def test_registering_again_after_a_cancellation() -> None:
    r = Registration(initially=True).cancel(D(2025, 6, 18))
    during = r.register(D(2025, 7, 1))  # registering while the 解除 is pending changes nothing
    assert not during.registered(D(2025, 8, 1))
    again = r.register(D(2025, 8, 5))
    assert not again.registered(D(2025, 8, 4))
    assert again.registered(D(2025, 8, 5))
