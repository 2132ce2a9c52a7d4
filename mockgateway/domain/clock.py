"""The gateway's controllable "now", in Japan time.

The clock is pure: it is given a real-time source (a callable) and derives virtual time from
it. It can stand still (tests) or run (load tests, manual sessions), and can be set or advanced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

JST = dt.timezone(dt.timedelta(hours=9), "JST")  # Japan has no DST: a fixed offset is exact


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=JST)


def format_date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def format_timestamp(value: dt.datetime) -> str:
    return value.astimezone(JST).strftime("%Y%m%d%H%M%S")


@lru_cache(maxsize=65536)  # pure; birthdates and as-of dates recur (a date is ~100 bytes)
def parse_date(raw: str) -> dt.date:
    """YYYYMMDD, strictly (8 digits, a real calendar date)."""
    if len(raw) != 8 or not (raw.isascii() and raw.isdigit()):  # "１９９０…" is not YYYYMMDD
        raise ValueError(f"日付は YYYYMMDD の8桁です: {raw!r}")
    try:
        return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise ValueError(f"存在しない日付です: {raw!r}") from None


def parse_timestamp(raw: str) -> dt.datetime:
    if len(raw) != 14 or not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"日時は YYYYMMDDHHmmss の14桁です: {raw!r}")
    try:
        return dt.datetime.strptime(raw, "%Y%m%d%H%M%S").replace(tzinfo=JST)
    except ValueError:
        raise ValueError(f"存在しない日時です: {raw!r}") from None


@dataclass(frozen=True, slots=True)
class ClockState:
    """Everything needed to reproduce the clock: persisted so a restart keeps virtual time."""

    anchor_virtual: dt.datetime  # virtual time at anchor_real
    anchor_real: float  # real epoch seconds when the anchor was taken
    running: bool
    rate: float = 1.0  # virtual seconds per real second while running


class VirtualClock:
    def __init__(self, real_time: Callable[[], float], state: ClockState | None = None) -> None:
        self._real = real_time
        self._state = state or ClockState(
            anchor_virtual=dt.datetime.fromtimestamp(real_time(), JST), anchor_real=real_time(), running=True
        )

    @property
    def state(self) -> ClockState:
        return self._state

    def now(self) -> dt.datetime:
        s = self._state
        if not s.running:
            return s.anchor_virtual
        return s.anchor_virtual + dt.timedelta(seconds=(self._real() - s.anchor_real) * s.rate)

    def today(self) -> dt.date:
        return self.now().date()

    def set(self, when: dt.datetime, *, running: bool | None = None, rate: float | None = None) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=JST)
        s = self._state
        self._state = ClockState(
            anchor_virtual=when.astimezone(JST),
            anchor_real=self._real(),
            running=s.running if running is None else running,
            rate=s.rate if rate is None else rate,
        )

    def advance(self, delta: dt.timedelta) -> None:
        self.set(self.now() + delta)

    def freeze(self) -> None:
        self.set(self.now(), running=False)

    def run(self, rate: float = 1.0) -> None:
        self.set(self.now(), running=True, rate=rate)

    def restore(self, state: ClockState) -> None:
        self._state = state
