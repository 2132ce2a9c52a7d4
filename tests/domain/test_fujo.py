"""domain/fujo.py: 公費負担者番号 / 受給者番号 rules, 診療年月, 医療券 and validity 6."""

from __future__ import annotations

import datetime as dt

import pytest

from mockgateway.domain.codes import Sex, Validity
from mockgateway.domain.eligibility import Match, Outcome
from mockgateway.domain.fujo import (
    check_month,
    is_public_expense_number,
    make_ticket,
    parse_beneficiary_number,
    parse_public_expense_number,
    refine,
)
from mockgateway.domain.model import (
    TICKET_ELEMENTS,
    CardKey,
    Insurer,
    MedicalTicket,
    Person,
    PublicAssistance,
    Qualification,
)
from mockgateway.domain.numbers import InsurerNumber, NumberError

MIC = "1310112345"
TODAY = dt.date(2025, 6, 18)


def test_public_expense_number_rules() -> None:
    assert parse_public_expense_number("12139994") == "12139994"
    assert parse_public_expense_number(" 12139994 ") == "12139994"
    with pytest.raises(NumberError) as wrong:
        parse_public_expense_number("12139995")
    assert wrong.value.rule == "check_digit"
    assert "検証番号は 4" in wrong.value.detail
    with pytest.raises(NumberError) as other_law:
        parse_public_expense_number("01139997")  # a valid 協会けんぽ number, not 法別 12
    assert other_law.value.rule == "format"
    assert "法別番号 12" in other_law.value.detail
    for bad in ("1213999", "121399940", "12１39994", ""):
        with pytest.raises(NumberError):
            parse_public_expense_number(bad)
    assert is_public_expense_number("12139994")
    assert not is_public_expense_number("  139998")


def test_beneficiary_number_is_seven_digits() -> None:
    assert parse_beneficiary_number("1000017") == "1000017"
    for bad in ("100001", "10000170", "10000a7", " "):
        with pytest.raises(NumberError):
            parse_beneficiary_number(bad)


def test_treatment_month_not_in_the_future() -> None:
    assert check_month("202506", TODAY) == "202506"
    assert check_month("202412", TODAY) == "202412"
    with pytest.raises(ValueError, match="未来"):
        check_month("202507", TODAY)
    for bad in ("2025-06", "20250618", "202513", "202500"):
        with pytest.raises(ValueError, match=r"YYYYMM|月が"):
            check_month(bad, TODAY)


def test_ticket_keeps_the_element_order_and_refuses_strangers() -> None:
    ticket = make_ticket({"SelfPayAmount": "0", "MedicalTreatmentMonth": "202506", "TicketType": "1"})
    assert [k for k, _ in ticket.values] == ["TicketType", "MedicalTreatmentMonth", "SelfPayAmount"]
    assert len(TICKET_ELEMENTS) == 26
    with pytest.raises(ValueError, match="MedicalTicketInfo にない"):
        make_ticket({"MedicalTreatmentMonth": "202506", "InsurerNumber": "1"})
    with pytest.raises(ValueError, match="必須"):
        make_ticket({"TicketType": "1"})


def _recipient(*tickets: MedicalTicket, lost: dt.date | None = None) -> Match:
    q = Qualification(
        insurer=Insurer(InsurerNumber("12139994"), "模擬市福祉事務所"),
        key=CardKey("12139994", "", "1000017", ""),
        card_classification="A1",
        personal_family=None,
        insured_name=None,
        qualification_date=dt.date(2023, 4, 1),
        disqualification_date=lost,
        reason_of_loss="99" if lost else None,
        public_assistance=PublicAssistance("模擬市福祉事務所", tickets),
    )
    person = Person("p", "扶助　一郎", "ﾌｼﾞｮ ｲﾁﾛｳ", dt.date(1960, 1, 1), Sex.MALE, (q,))
    return Match(person, q)


def test_refine_gives_six_without_a_ticket_for_the_month_and_institution() -> None:
    here = make_ticket({"MedicalTreatmentMonth": "202506", "DesignatedMedicalInstitutionCode": MIC})
    elsewhere = make_ticket({"MedicalTreatmentMonth": "202506", "DesignatedMedicalInstitutionCode": "1311234569"})
    anywhere = make_ticket({"MedicalTreatmentMonth": "202505"})
    m = _recipient(here, elsewhere, anywhere)
    valid = Outcome(Validity.VALID, (m,), "有効")
    assert refine(valid, "202506", MIC).outcome.validity is Validity.VALID
    assert refine(valid, "202506", MIC).tickets == (here,)
    assert refine(valid, "202505", MIC).tickets == (anywhere,)  # no designated institution: anywhere
    six = refine(valid, "202504", MIC)
    assert six.outcome.validity is Validity.VALID_UNREGISTERED
    assert "202504" in six.outcome.reason
    assert six.tickets == ()
    assert refine(valid, "202506", "1311234577").outcome.validity is Validity.VALID_UNREGISTERED


def test_refine_keeps_what_is_not_one() -> None:
    m = _recipient(lost=dt.date(2025, 6, 1))
    lost = Outcome(Validity.INVALID, (m,), "資格喪失")
    assert refine(lost, "202506", MIC).outcome is lost
    nothing = Outcome(Validity.NOT_FOUND, (), "なし")
    assert refine(nothing, "202506", MIC).outcome is nothing
