"""Institution kinds: the 点数表番号 default coding, the registry, who is 資格確認限定型."""

from __future__ import annotations

import pytest

from mockgateway.domain.institutions import InstitutionCoding, InstitutionKind


@pytest.mark.parametrize(
    ("code", "kind", "limited"),
    [
        ("1310112345", InstitutionKind.MEDICAL, False),
        ("1340112349", InstitutionKind.PHARMACY, False),
        ("1360000010", InstitutionKind.HOME_NURSING, False),
        ("1370000018", InstitutionKind.THERAPY, True),
        ("1380000016", InstitutionKind.CHECKUP, True),
        ("1390000014", InstitutionKind.MIDWIFERY, True),
    ],
)
def test_default_coding(code: str, kind: InstitutionKind, limited: bool) -> None:
    assert InstitutionCoding().kind_of(code) is kind
    assert kind.limited is limited


def test_registry_wins_and_digits_are_a_setting() -> None:
    coding = InstitutionCoding(registered={"1310112345": InstitutionKind.THERAPY})
    assert coding.kind_of("1310112345") is InstitutionKind.THERAPY
    assert InstitutionCoding(digits={"7": InstitutionKind.MEDICAL}).kind_of("1370000018") is InstitutionKind.MEDICAL


def test_parse_words() -> None:
    assert InstitutionKind.parse("therapy") is InstitutionKind.THERAPY
    assert InstitutionKind.parse("助産所") is InstitutionKind.MIDWIFERY
    with pytest.raises(ValueError, match="unknown institution kind"):
        InstitutionKind.parse("病院x")
