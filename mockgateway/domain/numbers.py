"""保険者番号, 医療機関コード and 被保険者証 記号・番号・枝番 (oqs-interface.md §8).

Check digits follow 別添２ (MHLW): over the body, from the rightmost digit multiply alternately
by 2, 1, 2, 1 …; a product of 10 or more contributes the sum of its digits; the check digit is
(10 − sum mod 10) mod 10. The same rule serves 8-digit and 6-digit (市町村国保) insurer numbers
and the 10-digit 医療機関コード.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

_DIGITS = re.compile(r"[0-9]+")


class NumberError(ValueError):
    """A number that breaks an interface rule; `rule` names the rule, `detail` what came."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def check_digit(body: str) -> int:
    if not body or not _DIGITS.fullmatch(body):
        raise NumberError("digits", f"数字以外を含みます: {body!r}")
    total = 0
    for i, ch in enumerate(reversed(body)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))


class Scheme(Enum):
    """Insurance schemes, keyed by what the 法別番号 says (6-digit numbers are 市町村国保)."""

    KYOKAI = "協会けんぽ"
    SENIN = "船員保険"
    KUMIAI = "健康保険組合"
    KYOSAI = "共済組合"
    JIEIKAN = "自衛官等"
    KOKUHO = "市町村国保"
    KOKUHO_KUMIAI = "国保組合"
    KOUKI = "後期高齢者医療"
    TAISHOKU = "退職者医療"
    OTHER = "その他"


# 法別番号 → scheme. 国保組合 numbers are 6 digits like 市町村国保 in the printed layout but
# carry a 保険者別番号 in the 300s; we classify by length first, then by this table.
_HOUBETSU: dict[str, Scheme] = {
    "01": Scheme.KYOKAI,
    "02": Scheme.SENIN,
    "03": Scheme.KYOKAI,  # 日雇特例
    "04": Scheme.KYOKAI,
    "06": Scheme.KUMIAI,
    "07": Scheme.JIEIKAN,
    "31": Scheme.KYOSAI,
    "32": Scheme.KYOSAI,
    "33": Scheme.KYOSAI,
    "34": Scheme.KYOSAI,
    "39": Scheme.KOUKI,
    "63": Scheme.KUMIAI,  # 特例退職
    "67": Scheme.TAISHOKU,
    "72": Scheme.KYOSAI,
    "73": Scheme.KYOSAI,
    "74": Scheme.KYOSAI,
    "75": Scheme.KYOSAI,
}


@dataclass(frozen=True, slots=True)
class InsurerNumber:
    """A 保険者番号 of 8 digits, or 6 digits for 国民健康保険."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> InsurerNumber:
        """Accept the interface form (right-aligned to 8 with leading spaces) or the bare number."""
        return _parse_insurer(raw) if cls is InsurerNumber else cls._parse(raw)

    @classmethod
    def _parse(cls, raw: str) -> InsurerNumber:
        stripped = raw.strip(" \u3000")
        if not stripped:
            raise NumberError("required", "保険者番号がありません")
        if not _DIGITS.fullmatch(stripped):
            raise NumberError("digits", f"保険者番号は数字のみです: {raw!r}")
        if len(stripped) not in (6, 8):
            raise NumberError("length", f"保険者番号は6桁または8桁です: {raw!r} ({len(stripped)}桁)")
        if len(raw) != len(stripped) and len(raw) != 8:
            raise NumberError("padding", f"保険者番号は8桁に右詰め(先頭空白)で指定します: {raw!r}")
        if len(stripped) == 8 and stripped.startswith("00"):
            # Zero-padding a 6-digit number keeps its check digit valid, so say so here (§1.3).
            raise NumberError(
                "padding", f"法別番号 00 はありません: 6桁の保険者番号はゼロではなく先頭空白で8桁にします: {raw!r}"
            )
        expected = check_digit(stripped[:-1])
        if int(stripped[-1]) != expected:
            raise NumberError("check_digit", f"保険者番号 {stripped} の検証番号が正しくありません(期待値 {expected})")
        pref = int(stripped[:2] if len(stripped) == 6 else stripped[2:4])
        if not (1 <= pref <= 47 or 51 <= pref <= 97):
            raise NumberError("prefecture", f"保険者番号 {stripped} の都道府県番号 {pref:02d} が範囲外です")
        return cls(stripped)

    @property
    def padded(self) -> str:
        """The interface form: right-aligned to 8 characters with leading spaces."""
        return self.value.rjust(8, " ")

    @property
    def houbetsu(self) -> str | None:
        return self.value[:2] if len(self.value) == 8 else None

    @property
    def prefecture(self) -> int:
        code = int(self.value[:2] if len(self.value) == 6 else self.value[2:4])
        return code - 50 if code > 50 else code

    @property
    def scheme(self) -> Scheme:
        if len(self.value) == 6:
            return Scheme.KOKUHO_KUMIAI if self.value[2] == "3" else Scheme.KOKUHO
        return _HOUBETSU.get(self.value[:2], Scheme.OTHER)


class ScoreTable(Enum):
    """点数表番号: the 3rd digit of a 医療機関コード."""

    IKA = "1"  # 医科
    SHIKA = "3"  # 歯科
    YAKKYOKU = "4"  # 薬局
    # The institutions of 居宅同意取得型 / 資格確認限定型 (docs/limited.md): 6 is the 訪問看護
    # 点数表番号; 7/8/9 are ours for 施術所 / 健診実施機関等 / 助産所 (unconfirmed; which kind each
    # digit means is a setting, domain/institutions.py).
    HOMON_KANGO = "6"
    SEJUTSU = "7"
    KENSHIN = "8"
    JOSAN = "9"


@dataclass(frozen=True, slots=True)
class MedicalInstitutionCode:
    value: str

    @classmethod
    def parse(cls, raw: str) -> MedicalInstitutionCode:
        return _parse_institution(raw) if cls is MedicalInstitutionCode else cls._parse(raw)

    @classmethod
    def _parse(cls, raw: str) -> MedicalInstitutionCode:
        code = raw.strip()
        if not code:
            raise NumberError("required", "医療機関コードがありません")
        if not _DIGITS.fullmatch(code) or len(code) != 10:
            raise NumberError("length", f"医療機関コードは10桁の数字です: {raw!r}")
        if code[2] not in _SCORE_TABLES:
            raise NumberError(
                "score_table", f"医療機関コード {code} の点数表番号 {code[2]} は 1/3/4/6/7/8/9 のいずれかです"
            )
        pref = int(code[:2])
        if not (1 <= pref <= 47 or 51 <= pref <= 97):
            raise NumberError("prefecture", f"医療機関コード {code} の都道府県番号 {pref:02d} が範囲外です")
        expected = check_digit(code[:9])
        if int(code[9]) != expected:
            raise NumberError("check_digit", f"医療機関コード {code} の検証番号が正しくありません(期待値 {expected})")
        return cls(code)

    @property
    def score_table(self) -> ScoreTable:
        return ScoreTable(self.value[2])

    @property
    def is_pharmacy(self) -> bool:
        return self.score_table is ScoreTable.YAKKYOKU

    @property
    def prefecture(self) -> int:
        code = int(self.value[:2])
        return code - 50 if code > 50 else code


_SCORE_TABLES = frozenset(t.value for t in ScoreTable)

# The checks are pure and the same few codes come again and again (one clinic sends all its
# requests with its own 医療機関コード, a patient's 保険者番号 recurs): remember the valid ones.
# An invalid value raises, and lru_cache does not remember exceptions, so errors are re-checked.
_parse_insurer = lru_cache(maxsize=8192)(InsurerNumber._parse)
_parse_institution = lru_cache(maxsize=8192)(MedicalInstitutionCode._parse)

SYMBOL_MAX = 20  # [M]: 記号 max 20 characters in the OQS XML (source of the number not given)
NUMBER_MAX = 20
_BRANCH = re.compile(r"[0-9]{2}")


def normalize_symbol(raw: str | None) -> str:
    """記号 may be absent; compare without surrounding blanks. Hyphens are part of the value."""
    if raw is None:
        return ""
    value = raw.strip(" \u3000")
    if len(value) > SYMBOL_MAX:
        raise NumberError("length", f"被保険者証記号は{SYMBOL_MAX}文字以内です: {raw!r}")
    return value


def normalize_number(raw: str | None) -> str:
    value = (raw or "").strip(" \u3000")
    if not value:
        raise NumberError("required", "被保険者証番号がありません")
    if len(value) > NUMBER_MAX:
        raise NumberError("length", f"被保険者証番号は{NUMBER_MAX}文字以内です: {raw!r}")
    return value


def normalize_branch(raw: str | None) -> str:
    """枝番: two digits, or empty when the card has none (後期高齢者, older cards)."""
    value = (raw or "").strip(" \u3000")
    if value and not _BRANCH.fullmatch(value):
        raise NumberError("format", f"被保険者証枝番は2桁の数字です: {raw!r}")
    return value
