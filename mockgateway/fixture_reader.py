"""Reading fixture documents: errors that name file / person / field.

`DocReader` reads one mapping (a person, a qualification, a feature's own key) remembering where it
is, so every error says file, person and field; dates in it may be relative to the gateway clock's
date at load time (domain/relative_dates.py). Used by fixtures.py and by every feature that reads its
own fixture key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Set
from typing import Self

from mockgateway.domain.relative_dates import resolve_date
from mockgateway.fixture_files import FixtureError as FixtureError  # noqa: PLC0414 - one class, re-exported for feature readers


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
