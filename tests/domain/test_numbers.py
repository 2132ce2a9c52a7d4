"""保険者番号 / 医療機関コード check digits, padding, schemes; 記号・番号・枝番 normalisation."""

from __future__ import annotations

import pytest

from mockgateway.domain.numbers import (
    NUMBER_MAX,
    SYMBOL_MAX,
    InsurerNumber,
    MedicalInstitutionCode,
    NumberError,
    Scheme,
    ScoreTable,
    check_digit,
    normalize_branch,
    normalize_number,
    normalize_symbol,
    with_check_digit,
)

# --- check digits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("0613048", 8),  # MHLW 別添２ worked example: sum 22 → 8
        ("341071236", 2),  # 医療機関コード example 34,1,07,1236 → 2
        ("13805", 7),  # ORCA sample 国保 138057
        ("0113999", 7),
        ("0613999", 2),
        ("13999", 8),
        ("131123456", 9),
        ("0000000", 0),
    ],
)
def test_check_digit_examples(body: str, expected: int) -> None:
    assert check_digit(body) == expected


def test_check_digit_of_a_product_of_ten_or_more_adds_its_digits() -> None:
    # rightmost 9 ×2 = 18 → 1+8 = 9; 10 − 9 = 1
    assert check_digit("9") == 1
    # 5×2 = 10 → 1; then 5×1 = 5; sum 6 → 4
    assert check_digit("55") == 4


def test_with_check_digit_appends() -> None:
    assert with_check_digit("0613048") == "06130488"
    assert with_check_digit("341071236") == "3410712362"


@pytest.mark.parametrize("body", ["", "12a4", "１２３", "12 34"])
def test_check_digit_refuses_non_digits(body: str) -> None:
    with pytest.raises(NumberError) as info:
        check_digit(body)
    assert info.value.rule == "digits"


# --- 保険者番号 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["06130488", "01139997", "06139992", "31139991", "39139993"])
def test_eight_digit_insurer_numbers_accepted(number: str) -> None:
    parsed = InsurerNumber.parse(number)
    assert parsed.value == number
    assert parsed.padded == number


@pytest.mark.parametrize(
    ("number", "right"),
    [("06130488", "8"), ("01139997", "7"), ("138057", "7"), ("139998", "8")],
)
def test_every_wrong_insurer_check_digit_is_rejected(number: str, right: str) -> None:
    assert InsurerNumber.parse(number).value == number
    for digit in "0123456789":
        if digit == right:
            continue
        wrong = number[:-1] + digit
        with pytest.raises(NumberError) as info:
            InsurerNumber.parse(wrong)
        assert info.value.rule == "check_digit"
        assert wrong in info.value.detail
        assert f"期待値 {right}" in info.value.detail


def test_six_digit_number_accepted_bare_and_padded() -> None:
    bare = InsurerNumber.parse("139998")
    padded = InsurerNumber.parse("  139998")
    assert bare == padded
    assert bare.value == "139998"
    assert bare.padded == "  139998"
    assert len(bare.padded) == 8


def test_zero_padding_is_refused() -> None:
    # 00 + a 6-digit number keeps a valid check digit (leading zeros add nothing), so it would
    # otherwise pass as an 8-digit number of 法別番号 00
    assert check_digit("0013999") == check_digit("13999")
    with pytest.raises(NumberError) as info:
        InsurerNumber.parse("00139998")
    assert info.value.rule == "padding"
    assert "ゼロではなく先頭空白" in info.value.detail


def test_full_width_space_padding_is_stripped() -> None:
    assert InsurerNumber.parse("\u3000\u3000139998").value == "139998"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "required"),
        ("   ", "required"),
        ("0113999A", "digits"),
        ("０１１３９９９７", "digits"),
        ("1399981", "length"),  # 7 digits
        ("13999", "length"),
        ("011399970", "length"),
        (" 139998", "padding"),  # padded, but not to 8
        ("   139998", "padding"),
        ("  01139997", "padding"),
    ],
)
def test_insurer_number_refusals(raw: str, rule: str) -> None:
    with pytest.raises(NumberError) as info:
        InsurerNumber.parse(raw)
    assert info.value.rule == rule
    assert str(info.value) == info.value.detail


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ("0100999", False),  # 都道府県 00
        ("0101999", True),
        ("0147999", True),
        ("0148999", False),
        ("0150999", False),
        ("0151999", True),  # alternates 51–97 = primary + 50
        ("0197999", True),
        ("0198999", False),
        ("00999", False),  # 6-digit: prefecture is the first two digits
        ("01999", True),
        ("47999", True),
        ("48999", False),
        ("51999", True),
        ("98999", False),
    ],
)
def test_insurer_prefecture_range(body: str, accepted: bool) -> None:
    number = with_check_digit(body)
    if accepted:
        assert InsurerNumber.parse(number).value == number
    else:
        with pytest.raises(NumberError) as info:
            InsurerNumber.parse(number)
        assert info.value.rule == "prefecture"


def test_insurer_prefecture_folds_alternates() -> None:
    assert InsurerNumber.parse("01139997").prefecture == 13
    assert InsurerNumber.parse(with_check_digit("0163999")).prefecture == 13
    assert InsurerNumber.parse("139998").prefecture == 13
    assert InsurerNumber.parse(with_check_digit("63999")).prefecture == 13


@pytest.mark.parametrize(
    ("body", "scheme", "houbetsu"),
    [
        ("0113999", Scheme.KYOKAI, "01"),
        ("0213999", Scheme.SENIN, "02"),
        ("0313999", Scheme.KYOKAI, "03"),
        ("0413999", Scheme.KYOKAI, "04"),
        ("0613999", Scheme.KUMIAI, "06"),
        ("0713999", Scheme.JIEIKAN, "07"),
        ("3113999", Scheme.KYOSAI, "31"),
        ("3213999", Scheme.KYOSAI, "32"),
        ("3913999", Scheme.KOUKI, "39"),
        ("6313999", Scheme.KUMIAI, "63"),
        ("6713999", Scheme.TAISHOKU, "67"),
        ("7213999", Scheme.KYOSAI, "72"),
        ("1213999", Scheme.OTHER, "12"),
        ("13999", Scheme.KOKUHO, None),
        ("13399", Scheme.KOKUHO_KUMIAI, None),
    ],
)
def test_scheme_by_houbetsu(body: str, scheme: Scheme, houbetsu: str | None) -> None:
    number = InsurerNumber.parse(with_check_digit(body))
    assert number.scheme is scheme
    assert number.houbetsu == houbetsu


# --- 医療機関コード ----------------------------------------------------------------------------------


def test_medical_institution_code_example() -> None:
    code = MedicalInstitutionCode.parse("3410712362")
    assert code.value == "3410712362"
    assert code.prefecture == 34
    assert code.score_table is ScoreTable.IKA
    assert code.is_pharmacy is False


def test_every_wrong_medical_institution_check_digit_is_rejected() -> None:
    for digit in "013456789":
        wrong = "341071236" + digit
        with pytest.raises(NumberError) as info:
            MedicalInstitutionCode.parse(wrong)
        assert info.value.rule == "check_digit"
        assert "期待値 2" in info.value.detail


@pytest.mark.parametrize(
    ("table", "expected", "pharmacy"),
    [("1", ScoreTable.IKA, False), ("3", ScoreTable.SHIKA, False), ("4", ScoreTable.YAKKYOKU, True)],
)
def test_score_tables_accepted(table: str, expected: ScoreTable, pharmacy: bool) -> None:
    code = MedicalInstitutionCode.parse(with_check_digit(f"13{table}123456"))
    assert code.score_table is expected
    assert code.is_pharmacy is pharmacy


@pytest.mark.parametrize("table", ["0", "2", "5"])
def test_other_score_tables_refused(table: str) -> None:
    with pytest.raises(NumberError) as info:
        MedicalInstitutionCode.parse(with_check_digit(f"13{table}123456"))
    assert info.value.rule == "score_table"
    assert f"点数表番号 {table}" in info.value.detail


@pytest.mark.parametrize(
    ("pref", "accepted"),
    [("00", False), ("01", True), ("47", True), ("48", False), ("50", False), ("51", True), ("97", True),
     ("98", False), ("99", False)],
)  # fmt: skip
def test_medical_institution_prefecture_range(pref: str, accepted: bool) -> None:
    code = with_check_digit(f"{pref}1123456")
    if accepted:
        assert MedicalInstitutionCode.parse(code).value == code
    else:
        with pytest.raises(NumberError) as info:
            MedicalInstitutionCode.parse(code)
        assert info.value.rule == "prefecture"


def test_medical_institution_alternate_prefecture_folds() -> None:
    assert MedicalInstitutionCode.parse(with_check_digit("631123456")).prefecture == 13


@pytest.mark.parametrize(
    ("raw", "rule"),
    [("", "required"), ("  ", "required"), ("131123456", "length"), ("13112345690", "length"),
     ("13112345６9", "length"), ("131-123456", "length")],
)  # fmt: skip
def test_medical_institution_code_refusals(raw: str, rule: str) -> None:
    with pytest.raises(NumberError) as info:
        MedicalInstitutionCode.parse(raw)
    assert info.value.rule == rule


def test_medical_institution_code_surrounding_blanks_ignored() -> None:
    assert MedicalInstitutionCode.parse(" 1311234569 ").value == "1311234569"


# --- 記号・番号・枝番 -------------------------------------------------------------------------------


def test_symbol_normalisation() -> None:
    assert normalize_symbol(None) == ""
    assert normalize_symbol("") == ""
    assert normalize_symbol(" 12-34\u3000") == "12-34"
    assert normalize_symbol("模擬市") == "模擬市"
    assert normalize_symbol("x" * SYMBOL_MAX) == "x" * SYMBOL_MAX
    with pytest.raises(NumberError) as info:
        normalize_symbol("x" * (SYMBOL_MAX + 1))
    assert info.value.rule == "length"


def test_number_normalisation() -> None:
    assert normalize_number(" 5678 ") == "5678"
    assert normalize_number("9" * NUMBER_MAX) == "9" * NUMBER_MAX
    for missing in (None, "", " \u3000"):
        with pytest.raises(NumberError) as info:
            normalize_number(missing)
        assert info.value.rule == "required"
    with pytest.raises(NumberError) as info:
        normalize_number("9" * (NUMBER_MAX + 1))
    assert info.value.rule == "length"


@pytest.mark.parametrize(("raw", "expected"), [(None, ""), ("", ""), ("00", "00"), (" 01 ", "01")])
def test_branch_normalisation(raw: str | None, expected: str) -> None:
    assert normalize_branch(raw) == expected


@pytest.mark.parametrize("raw", ["0", "001", "a1", "０１"])
def test_branch_must_be_two_digits(raw: str) -> None:
    with pytest.raises(NumberError) as info:
        normalize_branch(raw)
    assert info.value.rule == "format"
