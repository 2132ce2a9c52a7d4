"""In-force rules of qualifications and certificates (資格喪失年月日 is the first day not covered)."""

from __future__ import annotations

import datetime as dt

from mockgateway.domain.codes import PersonalFamily, Sex
from mockgateway.domain.model import (
    CardKey,
    Insurer,
    LimitCertificate,
    Person,
    Qualification,
    SpecificDiseaseCertificate,
)
from mockgateway.domain.numbers import InsurerNumber

INSURER = Insurer(InsurerNumber("06139992"), "模擬商事健康保険組合")


def qualification(start: dt.date, end: dt.date | None = None, number: str = "1") -> Qualification:
    return Qualification(
        insurer=INSURER,
        key=CardKey("06139992", "7001", number, "00"),
        card_classification="01",
        personal_family=PersonalFamily.INSURED,
        insured_name=None,
        qualification_date=start,
        disqualification_date=end,
        reason_of_loss="99" if end else None,
    )


def test_qualification_in_force_from_start_to_the_day_before_loss() -> None:
    q = qualification(dt.date(2025, 4, 1), dt.date(2025, 6, 8))
    assert not q.in_force(dt.date(2025, 3, 31))
    assert q.in_force(dt.date(2025, 4, 1))
    assert q.in_force(dt.date(2025, 6, 7))
    assert not q.in_force(dt.date(2025, 6, 8))
    assert not q.lost_by(dt.date(2025, 6, 7))
    assert q.lost_by(dt.date(2025, 6, 8))
    assert q.lost_by(dt.date(2025, 6, 9))


def test_open_ended_qualification() -> None:
    q = qualification(dt.date(2025, 4, 1))
    assert q.in_force(dt.date(2099, 12, 31))
    assert not q.lost_by(dt.date(2099, 12, 31))


def test_certificates_in_force_inclusive_bounds() -> None:
    limit = LimitCertificate("01", "A03", None, dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    assert not limit.in_force(dt.date(2025, 3, 31))
    assert limit.in_force(dt.date(2025, 4, 1))
    assert limit.in_force(dt.date(2026, 3, 31))
    assert not limit.in_force(dt.date(2026, 4, 1))
    open_limit = LimitCertificate("01", "A03", None, None, None)
    assert open_limit.in_force(dt.date(2000, 1, 1))
    disease = SpecificDiseaseCertificate("1", None, dt.date(2023, 4, 1), None, "10000")
    assert not disease.in_force(dt.date(2023, 3, 31))
    assert disease.in_force(dt.date(2099, 1, 1))


def test_person_in_force_lists_current_qualifications() -> None:
    old = qualification(dt.date(2007, 4, 1), dt.date(2025, 5, 16), number="33")
    new = qualification(dt.date(2025, 5, 16), number="3301")
    person = Person("p", "転職　三郎", "ﾃﾝｼｮｸ ｻﾌﾞﾛｳ", dt.date(1985, 1, 1), Sex.MALE, (old, new))
    assert person.in_force(dt.date(2025, 5, 15)) == [old]
    assert person.in_force(dt.date(2025, 5, 16)) == [new]


def test_person_extensions_do_not_take_part_in_equality() -> None:
    q = qualification(dt.date(2025, 4, 1))
    a = Person("p", "n", "ﾅ", dt.date(2000, 1, 1), Sex.MALE, (q,), extensions={"card": {}})
    b = Person("p", "n", "ﾅ", dt.date(2000, 1, 1), Sex.MALE, (q,))
    assert a == b
