"""The gateway's controllable "now", in Japan time.

The clock is pure: it is given a real-time source (a callable) and derives virtual time from
it. It can stand still (tests) or run (load tests, manual sessions), and can be set or advanced.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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


# What the clock accepts (docs/admin.md). The bounds keep now() representable for the gateway's
# lifetime: from MAX_INSTANT at MAX_RATE, datetime's year 9999 is centuries of real time away, and
# now() saturates there rather than raising (a clock that raises bricks every transport).
MIN_INSTANT = dt.datetime(1900, 1, 1, tzinfo=JST)
MAX_INSTANT = dt.datetime(2199, 12, 31, 23, 59, 59, tzinfo=JST)
MAX_RATE = 86_400.0  # a virtual day per real second
_CEILING = dt.datetime(9999, 12, 30, tzinfo=JST)
_FLOOR = dt.datetime(1, 1, 2, tzinfo=JST)


class ClockError(ValueError):
    """A clock setting outside what the clock can represent; the message names field and rule."""


def check_instant(when: dt.datetime, field: str = "now") -> dt.datetime:
    if when.tzinfo is None:
        when = when.replace(tzinfo=JST)
    if not MIN_INSTANT <= when <= MAX_INSTANT:
        raise ClockError(
            f"{field}: must lie between {format_timestamp(MIN_INSTANT)} and {format_timestamp(MAX_INSTANT)}, "
            f"got {format_timestamp(when)}"
        )
    return when.astimezone(JST)


def check_rate(rate: float) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < float(rate) <= MAX_RATE:
        raise ClockError(f"rate: a number of virtual seconds per real second, 0 < rate <= {MAX_RATE:g}, got {rate!r}")
    return float(rate)


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
        return _shifted(s.anchor_virtual, (self._real() - s.anchor_real) * s.rate)

    def today(self) -> dt.date:
        return self.now().date()

    def set(self, when: dt.datetime, *, running: bool | None = None, rate: float | None = None) -> None:
        """Validated before anything changes: a ClockError leaves the clock as it was."""
        when = check_instant(when)
        s = self._state
        self._state = ClockState(
            anchor_virtual=when,
            anchor_real=self._real(),
            running=s.running if running is None else bool(running),
            rate=s.rate if rate is None else check_rate(rate),
        )

    def advance(self, delta: dt.timedelta) -> None:
        try:
            target = self.now() + delta
        except OverflowError:
            raise ClockError(f"advance: {delta} leaves the representable range") from None
        self.set(target)

    def freeze(self) -> None:
        self.set(self.now(), running=False)

    def run(self, rate: float = 1.0) -> None:
        self.set(self.now(), running=True, rate=rate)

    def restore(self, state: ClockState) -> None:
        """Install a saved state, checked as strictly as a set (ClockError when unusable)."""
        check_state(state)
        self._state = state


def check_state(state: ClockState) -> None:
    if not isinstance(state.anchor_virtual, dt.datetime) or state.anchor_virtual.tzinfo is None:
        raise ClockError(f"anchor_virtual: an aware datetime, got {state.anchor_virtual!r}")
    check_instant(state.anchor_virtual, "anchor_virtual")
    check_rate(state.rate)
    if not math.isfinite(state.anchor_real):
        raise ClockError(f"anchor_real: a finite epoch time, got {state.anchor_real!r}")


def _shifted(anchor: dt.datetime, seconds: float) -> dt.datetime:
    """anchor + seconds, saturating at the ends of datetime's range instead of raising."""
    if not math.isfinite(seconds):
        return _CEILING if seconds > 0 else _FLOOR
    try:
        return anchor + dt.timedelta(seconds=seconds)
    except OverflowError:
        return _CEILING if seconds > 0 else _FLOOR


def clock_to_json(state: ClockState) -> dict[str, Any]:
    """The clock's state as stored (the store's `clock` key) and shared with replicas."""
    return {
        "anchor_virtual": state.anchor_virtual.isoformat(),
        "anchor_real": state.anchor_real,
        "running": state.running,
        "rate": state.rate,
    }


def clock_from_json(doc: dict[str, Any]) -> ClockState:
    if not isinstance(doc, dict):
        raise TypeError(f"a JSON object is expected, got {type(doc).__name__}")
    return ClockState(
        anchor_virtual=dt.datetime.fromisoformat(doc["anchor_virtual"]),
        anchor_real=float(doc["anchor_real"]),
        running=bool(doc["running"]),
        rate=float(doc.get("rate", 1.0)),
    )
