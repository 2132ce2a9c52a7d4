"""Request trees → typed requests; errors name the element path and the rule."""

from __future__ import annotations

import datetime as dt

import pytest

from mockgateway.domain.model import CardKey
from mockgateway.wire.messages import (
    RequestError,
    child,
    children,
    date,
    echo_header,
    flag,
    message,
    parse_header,
    parse_search_info,
    parse_search_info_memo,
    text,
)
from mockgateway.wire.xmlcodec import Rendered, Tree

P = "XmlMsg/MessageBody/QualificationConfirmSearchInfo"


def info(**changes: str | None) -> Tree:
    base: dict[str, str | None] = {
        "InsurerNumber": "06139992",
        "InsuredCardSymbol": "7001",
        "InsuredIdentificationNumber": "42",
        "InsuredBranchNumber": "00",
        "Birthdate": "19900909",
        "LimitApplicationCertificateRelatedConsFlg": "0",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def refused(tree: Tree, *, strict: bool = True) -> RequestError:
    with pytest.raises(RequestError) as caught:
        parse_search_info(tree, P, strict_padding=strict)
    return caught.value


# --- helpers ------------------------------------------------------------------------------------


def test_child() -> None:
    tree: Tree = {"A": {"x": "1"}, "E": "", "T": "text"}
    assert child(tree, "A", "R") == {"x": "1"}
    assert child(tree, "missing", "R", required=False) == {}
    assert child(tree, "E", "R", required=False) == {}
    with pytest.raises(RequestError) as caught:
        child(tree, "missing", "R")
    assert (caught.value.kind, caught.value.element, caught.value.detail) == (
        "xml.required",
        "R/missing",
        "必須項目です",
    )
    with pytest.raises(RequestError) as caught:
        child(tree, "T", "R")
    assert (caught.value.kind, caught.value.element) == ("xml.format", "R/T")
    assert str(caught.value) == "R/T: 子要素を持つ要素が必要です"


def test_children() -> None:
    assert children({}, "I", "R") == []
    assert children({"I": {"a": "1"}}, "I", "R") == [{"a": "1"}]
    assert children({"I": [{"a": "1"}, {"a": "2"}]}, "I", "R") == [{"a": "1"}, {"a": "2"}]
    with pytest.raises(RequestError) as caught:
        children({"I": [{"a": "1"}, "x"]}, "I", "R")
    assert caught.value.element == "R/I"


def test_text() -> None:
    tree: Tree = {"A": " x ", "B": "  ", "L": ["1", "2"]}
    assert text(tree, "A", "R") == " x "  # as sent
    assert text(tree, "B", "R") is None  # blank is absent
    assert text(tree, "missing", "R") is None
    with pytest.raises(RequestError) as caught:
        text(tree, "B", "R", required=True)
    assert (caught.value.kind, caught.value.element) == ("xml.required", "R/B")
    with pytest.raises(RequestError) as caught:
        text(tree, "L", "R")
    assert (caught.value.kind, caught.value.element, caught.value.detail) == ("xml.format", "R/L", "L が複数あります")


def test_date() -> None:
    assert date({"D": "20250618"}, "D", "R") == dt.date(2025, 6, 18)
    assert date({"D": " 20250618 "}, "D", "R") == dt.date(2025, 6, 18)
    assert date({}, "D", "R") is None
    with pytest.raises(RequestError) as caught:
        date({"D": "20231301"}, "D", "R")
    assert (caught.value.kind, caught.value.element) == ("xml.date", "R/D")
    assert caught.value.detail == "存在しない日付です: '20231301'"
    with pytest.raises(RequestError) as caught:
        date({"D": "２０２５０６１８"}, "D", "R")
    assert caught.value.kind == "xml.date"


def test_flag() -> None:
    assert flag({"F": "1"}, "F", "R") == "1"
    assert flag({"F": " 0 "}, "F", "R") == "0"
    assert flag({}, "F", "R") is None
    assert flag({"F": "3"}, "F", "R", allowed=("0", "1", "2", "3")) == "3"
    with pytest.raises(RequestError) as caught:
        flag({"F": "2"}, "F", "R")
    assert (caught.value.kind, caught.value.element, caught.value.detail) == (
        "xml.format",
        "R/F",
        "'2' は 0/1 のいずれかです",
    )


def test_message() -> None:
    assert message({"MessageHeader": {"a": "1"}, "MessageBody": {"b": "2"}}) == ({"a": "1"}, {"b": "2"})
    assert message({"MessageHeader": {"a": "1"}}) == ({"a": "1"}, {})
    with pytest.raises(RequestError) as caught:
        message({"MessageBody": {"b": "2"}})
    assert caught.value.element == "XmlMsg/MessageHeader"


# --- header -------------------------------------------------------------------------------------


def test_parse_header() -> None:
    header = parse_header(
        {
            "MedicalInstitutionCode": "1311234569",
            "QualificationConfirmationDate": "20250618",
            "ArbitraryFileIdentifier": "f1",
        },
        date_required=True,
    )
    assert header.medical_institution.value == "1311234569"
    assert header.confirmation_date == dt.date(2025, 6, 18)
    assert header.arbitrary_file_identifier == "f1"
    optional = parse_header({"MedicalInstitutionCode": "1311234569"}, date_required=False)
    assert optional.confirmation_date is None
    assert optional.arbitrary_file_identifier is None


@pytest.mark.parametrize(
    ("header", "kind", "element"),
    [
        ({"QualificationConfirmationDate": "20250618"}, "xml.required", "MedicalInstitutionCode"),
        ({"MedicalInstitutionCode": "1311234568", "QualificationConfirmationDate": "20250618"}, "xml.check_digit",
         "MedicalInstitutionCode"),
        ({"MedicalInstitutionCode": "131123456", "QualificationConfirmationDate": "20250618"}, "xml.format",
         "MedicalInstitutionCode"),
        ({"MedicalInstitutionCode": "1321234567", "QualificationConfirmationDate": "20250618"}, "xml.format",
         "MedicalInstitutionCode"),
        ({"MedicalInstitutionCode": "1311234569"}, "xml.required", "QualificationConfirmationDate"),
        ({"MedicalInstitutionCode": "1311234569", "QualificationConfirmationDate": "2025618"}, "xml.date",
         "QualificationConfirmationDate"),
    ],
)  # fmt: skip
def test_parse_header_errors(header: Tree, kind: str, element: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_header(header, date_required=True)
    assert caught.value.kind == kind
    assert caught.value.element == f"XmlMsg/MessageHeader/{element}"


def test_echo_header_never_raises() -> None:
    assert echo_header({}) == {}
    assert echo_header({"MessageHeader": "x"}) == {}
    assert echo_header(
        {"MessageHeader": {"MedicalInstitutionCode": "bad", "ArbitraryFileIdentifier": ["a", "b"], "Other": "o"}}
    ) == {"MedicalInstitutionCode": "bad"}
    full: Tree = {
        "QualificationConfirmationDate": "20250618",
        "MedicalInstitutionCode": "1",
        "ArbitraryFileIdentifier": "f",
    }
    assert echo_header({"MessageHeader": full}) == full


# --- search info --------------------------------------------------------------------------------


def test_parse_search_info() -> None:
    parsed = parse_search_info(info(ArbitraryIdentifier="受付1"), P)
    assert parsed.card == CardKey("06139992", "7001", "42", "00")
    assert parsed.insurer.value == "06139992"
    assert parsed.birthdate == dt.date(1990, 9, 9)
    assert parsed.limit_consent is False
    assert parsed.arbitrary_identifier == "受付1"
    assert parsed.raw == info(ArbitraryIdentifier="受付1")


def test_consent_flag() -> None:
    assert parse_search_info(info(LimitApplicationCertificateRelatedConsFlg="1"), P).limit_consent is True
    assert parse_search_info(info(LimitApplicationCertificateRelatedConsFlg=None), P).limit_consent is False


def test_optional_symbol_and_branch() -> None:
    parsed = parse_search_info(info(InsuredCardSymbol=None, InsuredBranchNumber=None), P)
    assert parsed.card == CardKey("06139992", "", "42", "")


def test_padded_six_digit_insurer() -> None:
    parsed = parse_search_info(info(InsurerNumber="  139998"), P)
    assert parsed.card.insurer_number == "139998"
    assert parsed.insurer.padded == "  139998"
    assert parsed.raw["InsurerNumber"] == "  139998"


def test_strict_padding_refuses_a_bare_six_digit_number() -> None:
    error = refused(info(InsurerNumber="139998"))
    assert (error.kind, error.element) == ("xml.format", f"{P}/InsurerNumber")
    assert error.detail == (
        "8桁に満たない保険者番号は先頭を半角空白で埋めて8桁にします: 送信 '139998'、期待 '  139998'"
    )
    # trailing blanks are not the right padding either
    assert refused(info(InsurerNumber="139998  ")).element == f"{P}/InsurerNumber"


def test_relaxed_padding_accepts_a_bare_six_digit_number() -> None:
    parsed = parse_search_info(info(InsurerNumber="139998"), P, strict_padding=False)
    assert parsed.card.insurer_number == "139998"


@pytest.mark.parametrize(
    ("changes", "kind", "element"),
    [
        ({"InsurerNumber": None}, "xml.required", "InsurerNumber"),
        ({"InsurerNumber": "06139993"}, "xml.check_digit", "InsurerNumber"),
        ({"InsurerNumber": "0613999"}, "xml.format", "InsurerNumber"),
        ({"InsurerNumber": " 139998"}, "xml.format", "InsurerNumber"),
        ({"InsuredCardSymbol": "x" * 21}, "xml.format", "InsuredCardSymbol"),
        ({"InsuredIdentificationNumber": None}, "xml.required", "InsuredIdentificationNumber"),
        ({"InsuredIdentificationNumber": "9" * 21}, "xml.format", "InsuredIdentificationNumber"),
        ({"InsuredBranchNumber": "0"}, "xml.format", "InsuredBranchNumber"),
        ({"Birthdate": None}, "xml.required", "Birthdate"),
        ({"Birthdate": "19900931"}, "xml.date", "Birthdate"),
        ({"LimitApplicationCertificateRelatedConsFlg": "x"}, "xml.format", "LimitApplicationCertificateRelatedConsFlg"),
    ],
)
def test_search_info_errors_name_the_element(changes: dict[str, str | None], kind: str, element: str) -> None:
    error = refused(info(**changes))
    assert error.kind == kind
    assert error.element == f"{P}/{element}"


def test_raw_echo_keeps_only_text_elements() -> None:
    tree = info()
    tree["Nested"] = {"x": "1"}
    assert "Nested" not in parse_search_info(tree, P).raw


def test_memoized_search_info_equals_the_parse_and_shares_a_read_only_echo() -> None:
    first = parse_search_info_memo(info(ArbitraryIdentifier="受付&1"), P)
    assert first == parse_search_info_memo(info(ArbitraryIdentifier="受付&1"), P)
    plain = parse_search_info(info(ArbitraryIdentifier="受付&1"), P)
    assert (first.card, first.birthdate, first.limit_consent, first.arbitrary_identifier) == (
        plain.card,
        plain.birthdate,
        plain.limit_consent,
        plain.arbitrary_identifier,
    )
    assert dict(first.raw) == plain.raw
    assert isinstance(first.raw, Rendered)
    assert "<ArbitraryIdentifier>受付&amp;1</ArbitraryIdentifier>" in first.raw.xml
    with pytest.raises(TypeError):
        first.raw["InsurerNumber"] = "x"  # type: ignore[index]


def test_memoized_search_info_keys_on_every_value_and_the_padding_setting() -> None:
    assert parse_search_info_memo(info(InsuredIdentificationNumber="43"), P).card.number == "43"
    assert parse_search_info_memo(info(InsuredIdentificationNumber="42"), P).card.number == "42"
    relaxed = parse_search_info_memo(info(InsurerNumber="139998"), P, strict_padding=False)
    assert relaxed.card.insurer_number == "139998"
    for _ in range(2):  # the strict setting still refuses it: an accepted value is not reused across settings
        with pytest.raises(RequestError) as caught:
            parse_search_info_memo(info(InsurerNumber="139998"), P)
        assert caught.value.element == f"{P}/InsurerNumber"
    nested = info()
    nested["Nested"] = {"x": "1"}  # unhashable: parsed each time, same answer
    assert "Nested" not in parse_search_info_memo(nested, P).raw
