"""医療扶助 (生活保護): 公費負担者番号, 受給者番号, 医療券・調剤券 and the 資格有効性 they give.

Facts (oqs-interface.md §1.4/§1.5, docs/fujo.md): people under 医療扶助 hold a 公費負担者番号 whose
法別番号 is `12` and a 受給者番号 instead of 保険者番号 and 記号・番号; results carry
InsuredCardClassification `A1`, the 医療券・調剤券 in PublicExpenseResultList/MedicalTicketInfo and
QualificationValidity `6` 有効（未登録） when the 福祉事務所 has not (yet) registered the 医療券.

The 公費負担者番号 is 法別番号(2) + 都道府県番号(2) + 実施機関番号(3) + 検証番号(1), with the same check
digit rule as the 保険者番号 (別添２; `numbers.check_digit`). The 受給者番号 is 7 digits; its own
検証番号 is not checked (the rule for 医療扶助 受給者番号 is not public — docs/fujo.md).

Inferred (docs/fujo.md): a 医療券 belongs to the 医療機関 it designates
(DesignatedMedicalInstitutionCode; a ticket without one is valid anywhere) and to one 診療年月; a
recipient in force with no such ticket for the month asked about is `6`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mockgateway.domain.codes import Validity
from mockgateway.domain.eligibility import Match, Outcome
from mockgateway.domain.model import TICKET_ELEMENTS, MedicalTicket
from mockgateway.domain.numbers import NumberError, check_digit

HOUBETSU = "12"  # 法別番号 of 生活保護法による医療扶助
CARD_CLASSIFICATION = "A1"  # OQSCD010 医療扶助

TICKET_DATES = ("MedicalTicketValidDate", "MedicalTicketExpirationDate")

_MONTH = re.compile(r"[0-9]{6}")
_DIGITS = re.compile(r"[0-9]+")


def parse_public_expense_number(raw: str) -> str:
    """8 digits, 法別 12, valid 検証番号 (NumberError names the rule broken)."""
    text = raw.strip()
    if not text:
        raise NumberError("required", "公費負担者番号がありません")
    if not (len(text) == 8 and _DIGITS.fullmatch(text)):
        raise NumberError("format", f"公費負担者番号は半角数字8桁です: {raw!r}")
    if text[:2] != HOUBETSU:
        raise NumberError("format", f"医療扶助の公費負担者番号は法別番号 {HOUBETSU} で始まります: {raw!r}")
    expected = check_digit(text[:7])
    if int(text[7]) != expected:
        raise NumberError("check_digit", f"{text} の検証番号は {expected} です (送信 {text[7]})")
    return text


def parse_beneficiary_number(raw: str) -> str:
    """受給者番号: 7 half-width digits."""
    text = raw.strip()
    if not text:
        raise NumberError("required", "受給者番号がありません")
    if not (len(text) == 7 and _DIGITS.fullmatch(text)):
        raise NumberError("format", f"受給者番号は半角数字7桁です: {raw!r}")
    return text


def is_public_expense_number(raw: str) -> bool:
    """Whether an 8-digit number sent as 保険者番号 is in fact a 医療扶助 公費負担者番号."""
    text = raw.strip()
    return len(text) == 8 and text.startswith(HOUBETSU)


def parse_month(raw: str) -> tuple[int, int]:
    """診療年月 YYYYMM → (year, month); ValueError with the reason."""
    text = raw.strip()
    if not _MONTH.fullmatch(text):
        raise ValueError(f"診療年月は YYYYMM の6桁です: {raw!r}")
    year, month = int(text[:4]), int(text[4:])
    if not 1 <= month <= 12:
        raise ValueError(f"月が 01〜12 ではありません: {raw!r}")
    return year, month


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}"


def check_month(raw: str, today: dt.date) -> str:
    """A 診療年月 a query may ask about: well-formed and not after the current month."""
    year, month = parse_month(raw)
    if (year, month) > (today.year, today.month):
        raise ValueError(f"未来の診療年月です: {raw.strip()} (現在 {month_of(today)})")
    return f"{year:04d}{month:02d}"


def make_ticket(values: Mapping[str, str]) -> MedicalTicket:
    """A 医療券 from element → value: only MedicalTicketInfo elements, a valid 診療年月 (ValueError)."""
    unknown = set(values) - set(TICKET_ELEMENTS)
    if unknown:
        raise ValueError(f"MedicalTicketInfo にない項目です: {sorted(unknown)}")
    if "MedicalTreatmentMonth" not in values:
        raise ValueError("MedicalTicketInfo/MedicalTreatmentMonth は必須です")
    parse_month(values["MedicalTreatmentMonth"])
    return MedicalTicket(tuple((k, values[k]) for k in TICKET_ELEMENTS if values.get(k) not in (None, "")))


@dataclass(frozen=True, slots=True)
class FujoOutcome:
    """`Outcome` with 6 where it applies, and the tickets the result lists."""

    outcome: Outcome
    tickets: tuple[MedicalTicket, ...]


def refine(outcome: Outcome, month: str, mic: str | None) -> FujoOutcome:
    """1 有効 becomes 6 有効（未登録） for a 医療扶助 recipient without a 医療券 for `month` at `mic`;
    every other outcome is kept (2 ended, 3 ended with a newer 資格 such as 国保, 4, 5)."""
    match = outcome.match
    assistance = match.qualification.public_assistance if match is not None else None
    if match is None or assistance is None:
        return FujoOutcome(outcome, ())
    tickets = assistance.tickets_for(month, mic)
    if outcome.validity is not Validity.VALID or tickets:
        return FujoOutcome(outcome, tickets)
    where = f" (医療機関 {mic})" if mic else ""
    reason = f"医療扶助は有効ですが {month} の医療券・調剤券が福祉事務所で未登録です{where}"
    return FujoOutcome(Outcome(Validity.VALID_UNREGISTERED, (match,), reason), ())


def recipients(matches: list[Match], month: str, mic: str) -> list[Match]:
    """OQSmutic: the recipients with a 医療券 for `month` designating `mic` (inferred selection)."""
    out = []
    for m in matches:
        assistance = m.qualification.public_assistance
        if assistance is not None and assistance.tickets_for(month, mic):
            out.append(m)
    return out
