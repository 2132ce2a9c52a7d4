"""Institution kinds: who may use which オン資 functions (pure).

医療機関・薬局 use every function. 訪問看護ステーション use 資格確認 and 医療情報 through 居宅同意取得型
(seed 002: 「訪問看護等におけるオンライン資格確認（居宅同意取得型）」). 施術所 (柔道整復・あん摩マッサージ指圧・
はり・きゅう), 健診実施機関等 (from 2024-04) and 助産所 (from 2024-07) use 資格確認限定型: "患者の資格情報
のみを確認できる簡素な仕組み" (seed 002) — no 医療情報, no 災害時 search.

How these are coded is partly unconfirmed. A 医療機関コード's 3rd digit is the 点数表番号 (1 医科,
3 歯科, 4 薬局; oqs-interface.md §8). For the others the gateway uses a setting
(`InstitutionCoding`, default `DEFAULT_DIGITS`: 6 訪問看護ステーション as used on 訪問看護療養費 claims;
7 施術所, 8 健診実施機関等, 9 助産所 — ours, docs/limited.md) and an explicit registry that wins over
the digit (fixtures `institutions:`, `PUT /admin/institutions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError


class InstitutionKind(StrEnum):
    MEDICAL = "医療機関"
    PHARMACY = "薬局"
    HOME_NURSING = "訪問看護ステーション"
    THERAPY = "施術所"  # 柔道整復・あん摩マッサージ指圧・はり・きゅう
    CHECKUP = "健診実施機関"
    MIDWIFERY = "助産所"

    @property
    def limited(self) -> bool:
        """資格確認限定型: eligibility only (seed 002)."""
        return self in LIMITED

    @classmethod
    def parse(cls, word: str) -> InstitutionKind:
        cleaned = word.strip()
        aliases = {
            "medical": cls.MEDICAL, "hospital": cls.MEDICAL, "clinic": cls.MEDICAL, "pharmacy": cls.PHARMACY,
            "home-nursing": cls.HOME_NURSING, "訪問看護": cls.HOME_NURSING, "therapy": cls.THERAPY,
            "柔道整復": cls.THERAPY, "あはき": cls.THERAPY, "checkup": cls.CHECKUP, "健診実施機関等": cls.CHECKUP,
            "midwifery": cls.MIDWIFERY,
        }  # fmt: skip
        if cleaned.lower() in aliases:
            return aliases[cleaned.lower()]
        try:
            return cls(cleaned)
        except ValueError:
            known = [k.value for k in cls] + sorted(aliases)
            raise ValueError(f"unknown institution kind {word!r}; use one of {known}") from None


LIMITED = frozenset({InstitutionKind.THERAPY, InstitutionKind.CHECKUP, InstitutionKind.MIDWIFERY})

DEFAULT_DIGITS: Mapping[str, InstitutionKind] = MappingProxyType(
    {
        "1": InstitutionKind.MEDICAL,  # 医科
        "3": InstitutionKind.MEDICAL,  # 歯科
        "4": InstitutionKind.PHARMACY,
        "6": InstitutionKind.HOME_NURSING,  # 訪問看護 (点数表番号 6 on 訪問看護療養費 claims; not from an OQS source)
        "7": InstitutionKind.THERAPY,  # ours (unconfirmed)
        "8": InstitutionKind.CHECKUP,  # ours (unconfirmed)
        "9": InstitutionKind.MIDWIFERY,  # ours (unconfirmed)
    }
)


@dataclass(frozen=True, slots=True)
class InstitutionCoding:
    """3rd digit → kind, and explicit registrations (code → kind) that win over the digit."""

    digits: Mapping[str, InstitutionKind] = field(default_factory=lambda: dict(DEFAULT_DIGITS))
    registered: Mapping[str, InstitutionKind] = field(default_factory=dict)

    def kind_of(self, code: str) -> InstitutionKind:
        found = self.registered.get(code)
        if found is not None:
            return found
        return self.digits.get(code[2:3], InstitutionKind.MEDICAL)


class RegistrationError(ValueError):
    """An `institutions:` entry that cannot be read; `field` names the key."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


REGISTRATION_KEYS = frozenset({"MedicalInstitutionCode", "kind", "name", "comment"})


def registration(entry: object) -> tuple[str, InstitutionKind]:
    """One `institutions:` entry of a fixture: {MedicalInstitutionCode, kind, name?} (docs/limited.md)."""
    if not isinstance(entry, Mapping):
        raise RegistrationError("-", "マッピング {MedicalInstitutionCode, kind, name} で書きます")
    unknown = sorted(set(entry) - REGISTRATION_KEYS)
    if unknown:
        raise RegistrationError(unknown[0], f"未知の項目です: 使える項目 {', '.join(sorted(REGISTRATION_KEYS))}")
    try:
        code = MedicalInstitutionCode.parse(str(entry.get("MedicalInstitutionCode") or "")).value
    except NumberError as exc:
        raise RegistrationError("MedicalInstitutionCode", exc.detail) from None
    try:
        return code, InstitutionKind.parse(str(entry.get("kind") or ""))
    except ValueError as exc:
        raise RegistrationError("kind", str(exc)) from None
