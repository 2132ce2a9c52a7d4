"""VirtualClock with an injected real-time source; Japan-time formatting and strict parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from mockgateway.domain.clock import (
    JST,
    MAX_INSTANT,
    MAX_RATE,
    ClockError,
    ClockState,
    VirtualClock,
    format_date,
    format_timestamp,
    jst,
    parse_date,
    parse_timestamp,
)


class FakeRealTime:
    """A real-time source the test moves by hand (epoch seconds)."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_jst_is_fixed_plus_nine() -> None:
    value = jst(2025, 1, 1, 9, 0, 0)
    assert value.utcoffset() == dt.timedelta(hours=9)
    assert value.astimezone(dt.UTC) == dt.datetime(2025, 1, 1, 0, 0, tzinfo=dt.UTC)
    # no DST: a summer date has the same offset
    assert jst(2025, 7, 1).utcoffset() == dt.timedelta(hours=9)


def test_format_date_and_timestamp() -> None:
    assert format_date(dt.date(2025, 6, 8)) == "20250608"
    assert format_timestamp(jst(2025, 6, 8, 7, 5, 3)) == "20250608070503"
    # another zone is shown in Japan time
    assert format_timestamp(dt.datetime(2025, 6, 7, 23, 0, 0, tzinfo=dt.UTC)) == "20250608080000"


def test_parse_date() -> None:
    assert parse_date("20240229") == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2025061", "YYYYMMDD の8桁"),
        ("202506180", "YYYYMMDD の8桁"),
        ("2025-6-1", "YYYYMMDD の8桁"),
        ("", "YYYYMMDD の8桁"),
        ("２０２５０６１８", "YYYYMMDD の8桁"),  # full-width digits are not YYYYMMDD
        ("20231301", "存在しない日付"),
        ("20230229", "存在しない日付"),
        ("20250000", "存在しない日付"),
    ],
)
def test_parse_date_errors(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_date(raw)
    assert repr(raw) in str(info.value)


def test_parse_timestamp() -> None:
    assert parse_timestamp("20250618103000") == jst(2025, 6, 18, 10, 30, 0)
    for raw in ("202506181030", "2025061810300０", "20250618 03000"):
        with pytest.raises(ValueError, match="YYYYMMDDHHmmss"):
            parse_timestamp(raw)
    for raw in ("20250618253000", "20250618106000", "20251301000000"):
        with pytest.raises(ValueError, match="存在しない日時です"):
            parse_timestamp(raw)


def test_new_clock_runs_from_real_time() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    assert clock.state.running is True
    assert clock.now() == dt.datetime.fromtimestamp(real.now, JST)
    real.now += 90
    assert clock.now() == dt.datetime.fromtimestamp(real.now, JST)


def test_frozen_clock_stands_still() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    clock.set(jst(2025, 6, 18, 10, 30), running=False)
    real.now += 3600
    assert clock.now() == jst(2025, 6, 18, 10, 30)
    assert clock.today() == dt.date(2025, 6, 18)


def test_running_clock_follows_real_time_from_the_set_point() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    clock.set(jst(2025, 6, 18, 10, 30), running=True)
    real.now += 61
    assert clock.now() == jst(2025, 6, 18, 10, 31, 1)


def test_rate_scales_virtual_time() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    clock.set(jst(2025, 6, 18, 0, 0), running=True, rate=60.0)  # one real second = one virtual minute
    real.now += 10
    assert clock.now() == jst(2025, 6, 18, 0, 10)
    assert clock.state.rate == 60.0


def test_set_keeps_running_and_rate_unless_given() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    clock.set(jst(2025, 1, 1), running=True, rate=2.0)
    clock.set(jst(2025, 2, 1))
    assert clock.state.running is True
    assert clock.state.rate == 2.0
    real.now += 5
    assert clock.now() == jst(2025, 2, 1, 0, 0, 10)


def test_set_naive_datetime_is_japan_time() -> None:
    clock = VirtualClock(FakeRealTime())
    clock.set(dt.datetime(2025, 6, 18, 10, 30), running=False)
    assert clock.now() == jst(2025, 6, 18, 10, 30)
    assert clock.now().utcoffset() == dt.timedelta(hours=9)


def test_set_other_zone_is_converted() -> None:
    clock = VirtualClock(FakeRealTime())
    clock.set(dt.datetime(2025, 6, 17, 16, 0, tzinfo=dt.UTC), running=False)
    assert clock.now() == jst(2025, 6, 18, 1, 0)
    assert clock.today() == dt.date(2025, 6, 18)  # the date is Japan's, not UTC's


def test_advance_frozen_and_running() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    clock.set(jst(2025, 6, 18, 23, 0), running=False)
    clock.advance(dt.timedelta(hours=2))
    assert clock.now() == jst(2025, 6, 19, 1, 0)
    assert clock.state.running is False
    clock.run()
    real.now += 30
    clock.advance(dt.timedelta(days=1))
    assert clock.now() == jst(2025, 6, 20, 1, 0, 30)
    real.now += 30
    assert clock.now() == jst(2025, 6, 20, 1, 1, 0)


def test_freeze_and_run() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    clock.set(jst(2025, 6, 18, 10, 0), running=True)
    real.now += 120
    clock.freeze()
    assert clock.state.running is False
    real.now += 1000
    assert clock.now() == jst(2025, 6, 18, 10, 2)
    clock.run(rate=3.0)
    assert clock.state == ClockState(jst(2025, 6, 18, 10, 2), real.now, running=True, rate=3.0)
    real.now += 20
    assert clock.now() == jst(2025, 6, 18, 10, 3)


def test_restore_state() -> None:
    real = FakeRealTime()
    first = VirtualClock(real)
    first.set(jst(2030, 1, 1), running=False)
    second = VirtualClock(real)
    second.restore(first.state)
    assert second.now() == jst(2030, 1, 1)
    third = VirtualClock(real, state=first.state)
    assert third.now() == jst(2030, 1, 1)


# -- bounds (issue 18 item 1) ----------------------------------------------------------------------


@pytest.mark.parametrize("rate", [1e308, float("inf"), float("nan"), 0.0, -1.0, MAX_RATE * 2])
def test_a_rate_the_clock_cannot_run_at_is_refused_and_nothing_changes(rate: float) -> None:
    clock = VirtualClock(FakeRealTime())
    clock.set(jst(2026, 11, 23, 10), running=True)
    before = clock.state
    with pytest.raises(ClockError, match="rate: "):
        clock.set(jst(2026, 11, 23, 10), rate=rate)
    assert clock.state == before
    clock.now()


@pytest.mark.parametrize("when", [dt.datetime(9999, 12, 31, 23, 59, 59), dt.datetime(1, 1, 1), jst(2200, 1, 1)])
def test_an_instant_outside_the_bounds_is_refused(when: dt.datetime) -> None:
    clock = VirtualClock(FakeRealTime())
    with pytest.raises(ClockError, match="now: must lie between 19000101000000 and 21991231235959"):
        clock.set(when, running=True)


def test_now_saturates_rather_than_raising_however_long_it_runs() -> None:
    real = FakeRealTime()
    clock = VirtualClock(real)
    clock.set(MAX_INSTANT, running=True, rate=MAX_RATE)
    real.now += 1e12  # thirty thousand years of real time at a virtual day per second
    assert clock.now().year == 9999
    assert clock.today().year == 9999


def test_advancing_out_of_range_is_refused() -> None:
    clock = VirtualClock(FakeRealTime())
    clock.set(jst(2026, 11, 23), running=False)
    with pytest.raises(ClockError):
        clock.advance(dt.timedelta(days=10**8))
    assert clock.now() == jst(2026, 11, 23)


def test_restore_checks_the_state_like_a_set() -> None:
    clock = VirtualClock(FakeRealTime())
    with pytest.raises(ClockError, match="rate"):
        clock.restore(ClockState(jst(2026, 1, 1), 0.0, True, 1e308))
    with pytest.raises(ClockError, match="anchor_virtual"):
        clock.restore(ClockState(dt.datetime(9999, 12, 31, tzinfo=JST), 0.0, True, 1.0))
