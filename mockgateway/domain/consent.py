"""閲覧同意: consent captured on the card reader, and its 24-hour window (oqs-interface.md §3.4, §7).

"同意情報登録後の 24 時間に限り…閲覧が可能" ([PORTAL-FAQ]); the result's `…AvailableTime` is the
consent time + 24 h. Flags follow OQSCD016: 1 同意あり; 3 同意取得困難 (救急 interface only) also
opens the window, journalled as such by the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from mockgateway.domain.codes import ConsentFlag

WINDOW = dt.timedelta(hours=24)


class ConsentKind(StrEnum):
    """The element-name stem of each consent in 資格確認結果 (…ConsFlg / …ConsTime / …AvailableTime)."""

    CHECKUP = "SpecificHealthCheckupsInfo"  # 特定健診
    DRUG = "PharmacistsInfo"  # 薬剤
    DIAGNOSIS = "DiagnosisInfo"  # 診療
    OPERATION = "OperationInfo"  # 手術

    @classmethod
    def parse(cls, word: str) -> ConsentKind:
        """CLI / scenario words: drug, checkup, diagnosis (or clinical), operation (or surgery)."""
        aliases = {
            "drug": cls.DRUG, "薬剤": cls.DRUG,
            "checkup": cls.CHECKUP, "特定健診": cls.CHECKUP,
            "diagnosis": cls.DIAGNOSIS, "clinical": cls.DIAGNOSIS, "診療": cls.DIAGNOSIS,
            "operation": cls.OPERATION, "surgery": cls.OPERATION, "手術": cls.OPERATION,
        }  # fmt: skip
        try:
            return aliases[word.strip().lower()] if word.strip().lower() in aliases else cls(word.strip())
        except ValueError:
            raise ValueError(f"unknown consent kind {word!r}; use one of {sorted(aliases)}") from None


@dataclass(frozen=True, slots=True)
class Consent:
    person_id: str
    medical_institution: str
    kind: ConsentKind
    flag: ConsentFlag
    given_at: dt.datetime
    until: dt.datetime | None = None  # a 居宅 continuing consent's end (domain/continuing_consent.py)

    @property
    def available_until(self) -> dt.datetime:
        return self.until if self.until is not None else self.given_at + WINDOW

    def open_at(self, now: dt.datetime) -> bool:
        """Viewing allowed: consent given (or unobtainable in an emergency) and within 24 hours."""
        return (
            self.flag in (ConsentFlag.GIVEN, ConsentFlag.UNOBTAINABLE) and self.given_at <= now < self.available_until
        )

    def refusal(self, now: dt.datetime) -> str | None:
        """Why viewing is refused, in words a vendor can act on; None when allowed."""
        if self.flag is ConsentFlag.NONE:
            return f"{self.kind.value} の閲覧同意がありません"
        if now >= self.available_until:
            return f"閲覧同意の有効期限 {self.available_until:%Y%m%d%H%M%S} を過ぎています"
        if now < self.given_at:
            return "閲覧同意の時刻より前です"
        return None
