"""Settings of 居宅同意取得型 (docs/home-visit.md): each one is a point the public sources leave open."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockgateway.domain.continuing_consent import DEFAULT_DAYS, ConsentTerms

STATE_KEY = "home_visit.settings"

# Inferred mapping of the single interfaces' API ids ([PS] lists the ids without their meaning).
DEFAULT_API_IDS: Mapping[str, str] = {
    "requery_home_visit": "OQSsihvq",  # 資格確認（訪問診療等） OQS-IF-025/026
    "requery_online": "OQSsionq",  # 資格確認（オンライン診療等） OQS-IF-027/028
    "withdraw": "OQSsihvd",  # 閲覧同意取り消し（訪問診療等） OQS-IF-037/038
    "bulk_home_visit": "OQSmuhvq",  # 同意済資格情報一括取得（訪問診療等） OQS-IF-017…020 ([Y2])
    "bulk_online": "OQSmuonq",  # 同意済資格情報一括取得（オンライン診療等） OQS-IF-021…024 ([Y2])
}


@dataclass(frozen=True, slots=True)
class HomeVisitSettings:
    consent_days: int = DEFAULT_DAYS  # length of a continuing consent (unconfirmed)
    passcode_minutes: int = 10  # lifetime of a 目視確認用パスコード (unconfirmed)
    lapsed_requery: bool = True  # 再照会 after the consent lapsed: 資格 with flags 2 (True) or refused
    api_ids: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_API_IDS))

    @property
    def terms(self) -> ConsentTerms:
        return ConsentTerms(self.consent_days)

    def with_changes(self, changes: Mapping[str, Any]) -> HomeVisitSettings:
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name in {"consent_days", "passcode_minutes"}:
                try:
                    number = int(str(value))
                except ValueError:
                    raise ValueError(f"{name}: a whole number, got {value!r}") from None
                if number < 1:
                    raise ValueError(f"{name}: at least 1, got {number}")
                values[name] = number
            elif name == "lapsed_requery":
                lowered = str(value).strip().lower()
                if lowered not in {"true", "false", "1", "0"}:
                    raise ValueError(f"lapsed_requery: true or false, got {value!r}")
                values[name] = lowered in {"true", "1"}
            elif name == "api_ids":
                if not isinstance(value, Mapping) or set(value) - set(DEFAULT_API_IDS):
                    raise ValueError(f"api_ids: a mapping with keys among {sorted(DEFAULT_API_IDS)}")
                values[name] = {**self.api_ids, **{str(k): str(v) for k, v in value.items()}}
            else:
                known = [f.name for f in dataclasses.fields(self)]
                raise ValueError(f"unknown home-visit setting {name!r}; known: {', '.join(known)}")
        return dataclasses.replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "consent_days": self.consent_days,
            "passcode_minutes": self.passcode_minutes,
            "lapsed_requery": self.lapsed_requery,
            "api_ids": dict(self.api_ids),
        }
