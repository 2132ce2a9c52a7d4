"""Reading fixture documents: errors that name file / person / field, and the dates they may hold.

`DocReader` reads one mapping (a person, a qualification, a feature's own key) remembering where it
is; `resolve_date` reads YYYYMMDD or a date relative to the gateway clock's date at load time
(`today-1m`, `month_start+3d`); `resolve_relative` fixes every relative date of a document so the
store keeps what was meant on the day of loading. Used by fixtures.py and by every feature that
reads its own fixture key.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping, Set
from typing import Any, Self


class FixtureError(ValueError):
    def __init__(self, source: str, where: str, field_name: str, detail: str) -> None:
        super().__init__(f"{source}: {where}: {field_name}: {detail}")
        self.source, self.where, self.field, self.detail = source, where, field_name, detail


_RELATIVE = re.compile(r"^(today|month_start|month_end)((?:[+-]\d+[dmy])*)$")
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
    match = _RELATIVE.fullmatch(text.replace(" ", ""))
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


class DocReader:
    """Reads one mapping, remembering where it is so errors can say so (fixture keys of every feature)."""

    def __init__(self, source: str, where: str, doc: object, today: dt.date) -> None:
        if not isinstance(doc, Mapping):
            raise FixtureError(source, where, "-", f"マッピングが必要です: {type(doc).__name__}")
        self.source, self.where, self.doc, self.today = source, where, doc, today

    def fail(self, name: str, detail: str) -> FixtureError:
        return FixtureError(self.source, self.where, name, detail)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.doc.get(name)
        if value is None or value == "":
            if required:
                raise self.fail(name, "必須項目です")
            return None
        if isinstance(value, Mapping | list):
            raise self.fail(name, "文字列が必要です")
        return str(value)

    def required(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.doc.get(name)
        if value is None or value == "":
            if required:
                raise self.fail(name, "必須項目です")
            return None
        try:
            return resolve_date(value, self.today)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def code(self, name: str, table: Mapping[str, str], *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in table:
            raise self.fail(name, f"{value!r} は定義されていない値です (有効: {', '.join(table)})")
        return value

    def ratio(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not re.fullmatch(r"\d{3}", value):
            raise self.fail(name, f"割合は3桁のパーセント表記です (例 030): {value!r}")
        return value

    def children(self, name: str) -> list[Self]:
        value = self.doc.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [type(self)(self.source, f"{self.where}/{name}[{i}]", item, self.today) for i, item in enumerate(items)]

    def known(self, allowed: Set[str]) -> None:
        unknown = sorted(set(self.doc) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"未知の項目です (誤記?): 使える項目 {', '.join(sorted(allowed))}")


def resolve_relative(value: Any, today: dt.date) -> Any:
    """Fix every relative date in a document to an absolute one, so the store keeps what was meant
    on the day of loading rather than re-reading it differently after a restart."""
    if isinstance(value, Mapping):
        return {k: resolve_relative(v, today) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_relative(v, today) for v in value]
    if isinstance(value, str) and _RELATIVE.fullmatch(value.replace(" ", "")):
        return resolve_date(value, today).strftime("%Y%m%d")
    return value
