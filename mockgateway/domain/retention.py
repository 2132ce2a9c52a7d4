"""How long 薬剤・診療・特定健診 information stays viewable, as of the gateway clock's date.

oqs-interface.md §3.4: 特定健診情報 5 years, 薬剤情報 3 years (MHLW WG 2023-03-29); a move of every
non-資格 kind to 5 years was proposed in 2023 and whether it happened is unconfirmed, so each
window is a setting. 診療情報 has no confirmed window; it follows the 薬剤 window by default.

Rule (inferred): a record dated D is kept on day T when D >= T − N years (same calendar day; a
29 February start falls back to 28 February). Records dated after T are not yet there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class InformationKind(StrEnum):
    DRUG = "drug"  # 薬剤情報 (レセプト・電子処方箋・調剤結果)
    CLINICAL = "clinical"  # 診療情報 (診療行為)
    CHECKUP = "checkup"  # 特定健診情報

    @property
    def label(self) -> str:
        return {"drug": "薬剤情報", "clinical": "診療情報", "checkup": "特定健診情報"}[self.value]


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    drug_years: int = 3
    clinical_years: int = 3
    checkup_years: int = 5

    def __post_init__(self) -> None:
        for name in ("drug_years", "clinical_years", "checkup_years"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
                raise ValueError(f"{name} {value!r}: a whole number of years, 1 to 100")

    def years(self, kind: InformationKind) -> int:
        return {
            InformationKind.DRUG: self.drug_years,
            InformationKind.CLINICAL: self.clinical_years,
            InformationKind.CHECKUP: self.checkup_years,
        }[kind]

    def kept_since(self, kind: InformationKind, today: dt.date) -> dt.date:
        """The earliest date still viewable on `today`."""
        return years_before(today, self.years(kind))

    def keeps(self, kind: InformationKind, dated: dt.date, today: dt.date) -> bool:
        return self.kept_since(kind, today) <= dated <= today


@dataclass(frozen=True, slots=True)
class Window:
    """The dates a request may see: its StartDate/EndDate clipped to what retention keeps."""

    start: dt.date
    end: dt.date
    clipped: bool  # the requested start lay before the retention window

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def viewing_window(
    policy: RetentionPolicy,
    kind: InformationKind,
    today: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Window:
    """Requested range (either end optional) ∩ retention window; `start > end` is the caller's error."""
    kept = policy.kept_since(kind, today)
    first = kept if start is None else max(start, kept)
    last = today if end is None else min(end, today)
    return Window(first, last, clipped=start is not None and start < kept)
