"""Request layouts of 医療扶助 queries. The single-query elements are INFERRED (docs/fujo.md).

Observed: the 医療扶助 result elements PublicExpenseNumber / BeneficiaryNumber / WelfareOfficeName
and PublicExpenseResultList/MedicalTicketInfo ([Y2], [RW]; oqs-interface.md §1.4), and the body of
the 医療扶助 bulk request OQSmutic01req, `MessageBody/QualificationConfirmSearchInfo/MedicalTreatmentMonth`
(YYYYMM, [Y2] CreateRequestAsync; oqs-interface.md §2).

Not public: how a single 資格確認 (OQSsiquc01req) carries the 公費 numbers. We accept, inside
`QualificationConfirmSearchInfo` **(inferred)**:

    PublicExpenseNumber   公費負担者番号 (8 digits, 法別 12, 検証番号)
    BeneficiaryNumber     受給者番号 (7 digits)
    Birthdate             生年月日 YYYYMMDD
    MedicalTreatmentMonth 診療年月 YYYYMM (optional; default: the month of QualificationConfirmationDate)
    ArbitraryIdentifier   (optional, echoed)

and, because [Y2] labels the result's InsurerNumber 「保険者番号/公費負担者番号」 and
InsuredIdentificationNumber 「番号/受給者番号」, the same query written with the card elements:
an InsurerNumber whose 法別番号 is 12 and InsuredIdentificationNumber as the 受給者番号.

This module is the only place that knows these element names: when the real 別紙3-1 layout is
known, change it here and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from mockgateway.domain.fujo import (
    check_month,
    is_public_expense_number,
    month_of,
    parse_beneficiary_number,
    parse_public_expense_number,
)
from mockgateway.domain.numbers import NumberError
from mockgateway.wire.messages import RequestError, date, number_error, text
from mockgateway.wire.xmlcodec import Node, Tree

INFO = "QualificationConfirmSearchInfo"
PUBLIC_EXPENSE = "PublicExpenseNumber"  # inferred request element
BENEFICIARY = "BeneficiaryNumber"  # inferred request element
MONTH = "MedicalTreatmentMonth"  # observed in OQSmutic01req ([Y2]); inferred in the single query
CARD_NUMBERS = ("InsurerNumber", "InsuredIdentificationNumber")  # the alternative spelling

MUTIC = "OQSmutic"  # 医療扶助の一括照会 (two-step, like OQSmuquc)
MUTIC_TITLE = "医療扶助一括照会"


@dataclass(frozen=True, slots=True)
class FujoSearch:
    raw: Tree  # as sent, for the echo
    public_expense_number: str
    beneficiary_number: str
    birthdate: dt.date | None
    month: str  # YYYYMM
    arbitrary_identifier: str | None
    beneficiary_element: str  # the element path that named the 受給者番号 (errors name it)


def claims(info: Mapping[str, Node]) -> bool:
    """Whether a QualificationConfirmSearchInfo is a 医療扶助 query (either spelling)."""
    if PUBLIC_EXPENSE in info or BENEFICIARY in info:
        return True
    insurer = info.get("InsurerNumber")
    return isinstance(insurer, str) and is_public_expense_number(insurer)


def parse_month_element(info: Mapping[str, Node], path: str, today: dt.date, *, required: bool) -> str | None:
    raw = text(info, MONTH, path, required=required)
    if raw is None:
        return None
    try:
        return check_month(raw, today)
    except ValueError as exc:
        raise RequestError("fujo.month", f"{path}/{MONTH}", str(exc)) from None


def parse_single(info: Mapping[str, Node], path: str, *, on: dt.date, today: dt.date) -> FujoSearch:
    """RequestError (→ SegmentOfResult 9) naming the element for a malformed number, a wrong
    検証番号 or a 診療年月 in the future."""
    names = (PUBLIC_EXPENSE, BENEFICIARY) if PUBLIC_EXPENSE in info or BENEFICIARY in info else CARD_NUMBERS
    pen_name, ben_name = names
    pen_raw = text(info, pen_name, path, required=True)
    ben_raw = text(info, ben_name, path, required=True)
    assert pen_raw is not None
    assert ben_raw is not None
    try:
        pen = parse_public_expense_number(pen_raw)
    except NumberError as exc:
        raise number_error(f"{path}/{pen_name}", exc) from None
    try:
        ben = parse_beneficiary_number(ben_raw)
    except NumberError as exc:
        raise number_error(f"{path}/{ben_name}", exc) from None
    month = parse_month_element(info, path, today, required=False) or month_of(on)
    return FujoSearch(
        raw={k: v for k, v in info.items() if isinstance(v, str)},
        public_expense_number=pen,
        beneficiary_number=ben,
        birthdate=date(info, "Birthdate", path, required=True),
        month=month,
        arbitrary_identifier=text(info, "ArbitraryIdentifier", path),
        beneficiary_element=f"{path}/{ben_name}",
    )


def single_request(
    mic: str, confirmation_date: str, public_expense_number: str, beneficiary_number: str, birthdate: str,
    *, month: str | None = None, file_identifier: str | None = None,
) -> Tree:  # fmt: skip
    """The client side of the inferred single query (tests, the reference client)."""
    info: dict[str, Node] = {
        PUBLIC_EXPENSE: public_expense_number,
        BENEFICIARY: beneficiary_number,
        "Birthdate": birthdate,
        MONTH: month,
    }
    header: dict[str, Node] = {
        "QualificationConfirmationDate": confirmation_date,
        "MedicalInstitutionCode": mic,
        "ArbitraryFileIdentifier": file_identifier,
    }
    return {
        "MessageHeader": {k: v for k, v in header.items() if v is not None},
        "MessageBody": {INFO: {k: v for k, v in info.items() if v is not None}},
    }


def mutic_upload(mic: str, month: str | None, *, file_identifier: str | None = None) -> Tree:
    """OQSmutic01req as [Y2] writes it: MessageHeader{MedicalInstitutionCode, ArbitraryFileIdentifier},
    MessageBody/QualificationConfirmSearchInfo/MedicalTreatmentMonth."""
    header: dict[str, Node] = {"MedicalInstitutionCode": mic, "ArbitraryFileIdentifier": file_identifier}
    info: Tree = {MONTH: month} if month is not None else {}
    return {"MessageHeader": {k: v for k, v in header.items() if v is not None}, "MessageBody": {INFO: info}}
