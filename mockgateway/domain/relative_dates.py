"""Relative dates of fixtures and scenarios: `today-1m`, `month_start+3d`, `month_end-1y` (pure).

Fixed against the gateway clock's date when a document is loaded, so a shipped persona such as
"changed insurer last month" stays true on any day, and the store keeps what was meant that day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

RELATIVE = re.compile(r"^(today|month_start|month_end)((?:[+-]\d+[dmy])*)$")
_STEP = re.compile(r"([+-])(\d+)([dmy])")


def _add_months(day: dt.date, months: int, *, clamp_end: bool = False) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, last if clamp_end else min(day.day, last))


def resolve_date(raw: object, today: dt.date) -> dt.date:
    """YYYYMMDD (str or int), a YAML date, or a relative expression such as `today-1m`."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    if re.fullmatch(r"[0-9]{8}", text):  # \d would also take full-width digits
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    match = RELATIVE.fullmatch(text.replace(" ", ""))
    if not match:
        raise ValueError(f"日付は YYYYMMDD か today±N(d|m|y) 形式です: {raw!r}")
    anchor, steps = match.groups()
    day = {"today": today, "month_start": today.replace(day=1)}.get(anchor) or _add_months(today, 0, clamp_end=True)
    for sign, amount, unit in _STEP.findall(steps):
        n = int(amount) * (1 if sign == "+" else -1)
        if unit == "d":
            day += dt.timedelta(days=n)
        elif unit == "m":
            day = _add_months(day, n, clamp_end=anchor == "month_end")
        else:
            day = _add_months(day, 12 * n, clamp_end=anchor == "month_end")
    return day


def resolve_relative(value: Any, today: dt.date) -> Any:
    """Fix every relative date in a document to an absolute one, so the store keeps what was meant
    on the day of loading rather than re-reading it differently after a restart."""
    if isinstance(value, Mapping):
        return {k: resolve_relative(v, today) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_relative(v, today) for v in value]
    if isinstance(value, str) and RELATIVE.fullmatch(value.replace(" ", "")):
        return resolve_date(value, today).strftime("%Y%m%d")
    return value
