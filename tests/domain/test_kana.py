"""Full-width ⇄ half-width katakana: NameKana is returned half-width (§1.4)."""

from __future__ import annotations

import pytest

from mockgateway.domain.kana import is_half_width_kana, to_full_width_kana, to_half_width_kana

# Every full-width katakana that has a JIS X 0201 half-width form (ヮヰヱヵヶ have none).
KATAKANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
    "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴ"
    "ァィゥェォッャュョー・「」。、"
)


@pytest.mark.parametrize(
    ("full", "half"),
    [
        ("ホケン　タロウ", "ﾎｹﾝ ﾀﾛｳ"),  # full-width space → ASCII space
        ("ガギグゲゴ", "ｶﾞｷﾞｸﾞｹﾞｺﾞ"),  # voiced: two half-width characters each
        ("ザジズゼゾダヂヅデドバビブベボ", "ｻﾞｼﾞｽﾞｾﾞｿﾞﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ"),
        ("パピプペポ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"),  # semi-voiced
        ("ヴ", "ｳﾞ"),
        ("ァィゥェォッャュョ", "ｧｨｩｪｫｯｬｭｮ"),  # small kana
        ("ラーメン", "ﾗｰﾒﾝ"),  # 長音
        ("・「」。、", "･｢｣｡､"),
        ("ワヲン", "ﾜｦﾝ"),
        ("ゲンド　ケンジ", "ｹﾞﾝﾄﾞ ｹﾝｼﾞ"),
    ],
)
def test_full_to_half(full: str, half: str) -> None:
    assert to_half_width_kana(full) == half
    assert is_half_width_kana(half)


def test_hiragana_becomes_half_width_katakana() -> None:
    assert to_half_width_kana("がっこう") == "ｶﾞｯｺｳ"
    assert to_half_width_kana("ぱぴぷぺぽ") == "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"
    assert to_half_width_kana("ぁぃぅぇぉっゃゅょ") == "ｧｨｩｪｫｯｬｭｮ"
    assert to_half_width_kana("ゔ") == "ｳﾞ"


def test_other_characters_untouched() -> None:
    assert to_half_width_kana("ABC 123 漢字 １２３") == "ABC 123 漢字 １２３"
    assert to_half_width_kana("ﾎｹﾝ") == "ﾎｹﾝ"  # already half-width


def test_round_trip_every_katakana() -> None:
    half = to_half_width_kana(KATAKANA)
    assert is_half_width_kana(half)
    assert to_full_width_kana(half) == KATAKANA


@pytest.mark.parametrize("kana", list(KATAKANA))
def test_round_trip_each_character(kana: str) -> None:
    assert to_full_width_kana(to_half_width_kana(kana)) == kana


def test_full_width_only_touches_half_width_kana_runs() -> None:
    # NFKC on the whole text would also fold these digits and letters; spaces stay ASCII.
    assert to_full_width_kana("ﾎｹﾝ ﾀﾛｳ 123 ＡＢＣ") == "ホケン タロウ 123 ＡＢＣ"
    assert to_full_width_kana("ﾊﾟﾋﾟ") == "パピ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ﾎｹﾝ ﾀﾛｳ", True), ("ｶﾞ", True), ("", True), ("ホケン", False), ("ﾎｹﾝ　ﾀﾛｳ", False),
     ("Hoken", False), ("ﾎｹﾝ1", False)],
)  # fmt: skip
def test_is_half_width_kana(text: str, expected: bool) -> None:
    assert is_half_width_kana(text) is expected
