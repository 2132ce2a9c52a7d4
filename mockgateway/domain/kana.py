"""Full-width ⇄ half-width katakana. The interface returns NameKana in half-width (§1.4).

The half→full direction is NFKC; the full→half table is derived from it once, so every
voiced and semi-voiced kana (ガ → ｶﾞ, パ → ﾊﾟ) round-trips without a hand-written table.
"""

from __future__ import annotations

import re
import unicodedata

_HALF_KANA = [chr(c) for c in range(0xFF61, 0xFFA0)]
_DAKUTEN, _HANDAKUTEN = "\uff9e", "\uff9f"
_HALF_RUN = re.compile("[\uff61-\uff9f]+")


def _build() -> dict[str, str]:
    table: dict[str, str] = {}
    for half in _HALF_KANA:
        table.setdefault(unicodedata.normalize("NFKC", half), half)
        for mark in (_DAKUTEN, _HANDAKUTEN):
            combined = unicodedata.normalize("NFKC", half + mark)
            if len(combined) == 1:
                table.setdefault(combined, half + mark)
    table["\u3000"] = " "
    table["ヴ"] = "ｳﾞ"
    return table


_FULL_TO_HALF = _build()


def to_half_width_kana(text: str) -> str:
    """Full-width katakana (and hiragana) to half-width katakana; other characters untouched."""
    out: list[str] = []
    for ch in text:
        kata = chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch  # hiragana → katakana first
        out.append(_FULL_TO_HALF.get(kata, kata))
    return "".join(out)


def to_full_width_kana(text: str) -> str:
    """Only runs of half-width kana are normalised: NFKC on everything would also fold digits."""
    return _HALF_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def is_half_width_kana(text: str) -> bool:
    return all(ch == " " or "\uff61" <= ch <= "\uff9f" for ch in text)
