"""The 資格有効性 rule (OQSCD006) as of a date, with the default personas and hand-built edges."""

from __future__ import annotations

import datetime as dt

import pytest

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.codes import PersonalFamily, Sex, Validity
from mockgateway.domain.eligibility import Match, Outcome, SearchKey, confirm, current_qualifications
from mockgateway.domain.model import CardKey, Insurer, Person, Qualification
from mockgateway.domain.numbers import InsurerNumber
from mockgateway.fixtures import Dataset, load_paths

TODAY = dt.date(2025, 6, 18)


@pytest.fixture(scope="module")
def personas() -> Dataset:
    return load_paths([DEFAULT_FIXTURES], TODAY)


def query(
    data: Dataset,
    insurer: str,
    symbol: str,
    number: str,
    branch: str,
    birthdate: str,
    on: dt.date = TODAY,
) -> Outcome:
    candidates = [
        Match(person, q) for person in data.persons.values() for q in person.qualifications if q.key.number == number
    ]
    key = SearchKey(CardKey(insurer, symbol, number, branch), dt.datetime.strptime(birthdate, "%Y%m%d").date())
    return confirm(candidates, key, on)


def ids(outcome: Outcome) -> list[str]:
    return [m.person.id for m in outcome.matches]


# --- every validity code with the personas --------------------------------------------------


def test_valid(personas: Dataset) -> None:
    outcome = query(personas, "01139997", "12-34", "5678", "00", "19800401")
    assert outcome.validity is Validity.VALID
    assert ids(outcome) == ["hoken-taro"]
    assert outcome.match is not None
    assert outcome.match.qualification.insurer.number.value == "01139997"
    assert outcome.reason == "有効"


def test_family_member_is_told_apart_by_branch(personas: Dataset) -> None:
    outcome = query(personas, "01139997", "12-34", "5678", "01", "19820715")
    assert outcome.validity is Validity.VALID
    assert ids(outcome) == ["hoken-hanako"]


def test_no_branch_sent_matches_by_birthdate(personas: Dataset) -> None:
    outcome = query(personas, "01139997", "12-34", "5678", "", "19820715")
    assert outcome.validity is Validity.VALID
    assert ids(outcome) == ["hoken-hanako"]


def test_kouki_without_symbol_and_branch(personas: Dataset) -> None:
    outcome = query(personas, "39139993", "", "12345678", "", "19400110")
    assert outcome.validity is Validity.VALID
    assert ids(outcome) == ["kouki-ume"]


def test_invalid_after_loss(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "7001", "88", "00", "19880808")
    assert outcome.validity is Validity.INVALID
    assert ids(outcome) == ["soushitsu-jiro"]
    assert outcome.reason == "資格喪失 20250608"


def test_invalid_loss_by_welfare(personas: Dataset) -> None:
    outcome = query(personas, "139998", "模擬市", "100444", "00", "19700303")
    assert outcome.validity is Validity.INVALID
    assert outcome.match is not None
    assert outcome.match.qualification.reason_of_loss == "02"
    assert outcome.match.qualification.disqualification_date == dt.date(2025, 6, 1)


def test_old_card_of_the_insurer_changer_is_3(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "7001", "33", "00", "19850101")
    assert outcome.validity is Validity.INVALID_NEWER_EXISTS
    assert ids(outcome) == ["tenshoku-saburo"]
    assert outcome.match is not None
    # the result describes the queried (old) qualification
    assert outcome.match.qualification.insurer.number.value == "06139992"
    assert outcome.match.qualification.disqualification_date == dt.date(2025, 5, 16)
    assert outcome.reason == "資格喪失 20250516; 同じ人に有効な資格があります (01139997)"


def test_new_card_of_the_insurer_changer_is_1(personas: Dataset) -> None:
    outcome = query(personas, "01139997", "55-66", "3301", "00", "19850101")
    assert outcome.validity is Validity.VALID
    assert outcome.match is not None
    assert outcome.match.qualification.qualification_date == dt.date(2025, 5, 16)


def test_old_card_before_the_change_is_1(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "7001", "33", "00", "19850101", on=dt.date(2025, 5, 15))
    assert outcome.validity is Validity.VALID


def test_new_card_before_it_starts_is_4(personas: Dataset) -> None:
    outcome = query(personas, "01139997", "55-66", "3301", "00", "19850101", on=dt.date(2025, 5, 15))
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.matches == ()


def test_unknown_number_is_4(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "7001", "99999", "00", "19900909")
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.matches == ()
    assert outcome.match is None
    assert outcome.reason == "被保険者証番号 '99999' の資格は登録されていません"


def test_twins_without_branch_are_5(personas: Dataset) -> None:
    outcome = query(personas, "31139991", "88", "777", "", "20180612")
    assert outcome.validity is Validity.MULTIPLE
    assert sorted(ids(outcome)) == ["futago-ichika", "futago-nika"]
    assert outcome.match is None  # several: no single match
    assert outcome.reason == "記号番号・生年月日が 2 人に一致しました: futago-ichika, futago-nika"


@pytest.mark.parametrize(("branch", "who"), [("02", "futago-ichika"), ("03", "futago-nika")])
def test_twins_with_branch_are_1(personas: Dataset, branch: str, who: str) -> None:
    outcome = query(personas, "31139991", "88", "777", branch, "20180612")
    assert outcome.validity is Validity.VALID
    assert ids(outcome) == [who]


# --- as-of-date edges -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "validity"),
    [
        (dt.date(2025, 6, 7), Validity.VALID),  # the day before loss
        (dt.date(2025, 6, 8), Validity.INVALID),  # the day of loss: already 無効
        (dt.date(2025, 6, 9), Validity.INVALID),  # the day after
    ],
)
def test_loss_date_edges(personas: Dataset, on: dt.date, validity: Validity) -> None:
    assert query(personas, "06139992", "7001", "88", "00", "19880808", on=on).validity is validity


def test_qualification_starting_tomorrow_is_4_with_the_reason(personas: Dataset) -> None:
    outcome = query(personas, "31139991", "88", "501", "00", "20000505")
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.matches == ()
    assert outcome.reason == "資格取得年月日 20250619 が資格確認日 20250618 より後です"


def test_qualification_on_its_first_day_is_1(personas: Dataset) -> None:
    outcome = query(personas, "31139991", "88", "501", "00", "20000505", on=dt.date(2025, 6, 19))
    assert outcome.validity is Validity.VALID
    assert ids(outcome) == ["mirai-goro"]


# --- near misses: which key differed ----------------------------------------------------------


def test_birthdate_mismatch_is_4_naming_birthdate(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "7001", "42", "00", "19900910")
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.reason == "生年月日が一致しません: 送信 19900910、記号番号が一致した人数 1"


def test_wrong_symbol_is_4_naming_symbol(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "7002", "42", "00", "19900909")
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.reason == "被保険者証記号が一致しません: 送信 '7002'、番号が一致した資格では '7001'"


def test_missing_symbol_is_4_naming_symbol(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "", "42", "00", "19900909")
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.reason.startswith("被保険者証記号が一致しません: 送信 ''")


def test_wrong_branch_is_4_naming_branch(personas: Dataset) -> None:
    outcome = query(personas, "06139992", "7001", "42", "01", "19900909")
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.reason == "被保険者証枝番が一致しません: 送信 '01'、番号が一致した資格では '00'"


def test_wrong_insurer_is_4_naming_insurer(personas: Dataset) -> None:
    outcome = query(personas, "01139997", "7001", "42", "00", "19900909")
    assert outcome.validity is Validity.NOT_FOUND
    assert outcome.reason == "保険者番号が一致しません: 送信 '01139997'、番号が一致した資格では '06139992'"


def test_near_miss_lists_every_value_seen(personas: Dataset) -> None:
    # number 777 exists for both twins, with branches 02 and 03
    outcome = query(personas, "31139991", "88", "777", "04", "20180612")
    assert outcome.reason == "被保険者証枝番が一致しません: 送信 '04'、番号が一致した資格では '02', '03'"


# --- hand-built cases ---------------------------------------------------------------------------

INSURER = Insurer(InsurerNumber("06139992"), "模擬商事健康保険組合")
OTHER = Insurer(InsurerNumber("01139997"), "全国健康保険協会東京支部")


def qual(
    start: dt.date, end: dt.date | None = None, *, insurer: Insurer = INSURER, number: str = "42"
) -> Qualification:
    return Qualification(
        insurer=insurer,
        key=CardKey(insurer.number.value, "7001", number, "00"),
        card_classification="01",
        personal_family=PersonalFamily.INSURED,
        insured_name=None,
        qualification_date=start,
        disqualification_date=end,
        reason_of_loss="03" if end else None,
    )


def person(pid: str, *quals: Qualification, born: dt.date = dt.date(1990, 1, 1)) -> Person:
    return Person(pid, "模擬　太郎", "ﾓｷﾞ ﾀﾛｳ", born, Sex.MALE, quals)


def key(number: str = "42", branch: str = "00", born: dt.date = dt.date(1990, 1, 1)) -> SearchKey:
    return SearchKey(CardKey("06139992", "7001", number, branch), born)


def test_reacquired_under_the_same_card_picks_the_one_in_force() -> None:
    first = qual(dt.date(2010, 4, 1), dt.date(2015, 4, 1))
    second = qual(dt.date(2020, 4, 1))
    p = person("p", first, second)
    outcome = confirm([Match(p, first), Match(p, second)], key(), dt.date(2025, 1, 1))
    assert outcome.validity is Validity.VALID
    assert outcome.match == Match(p, second)


def test_lost_twice_under_the_same_card_describes_the_latest() -> None:
    first = qual(dt.date(2010, 4, 1), dt.date(2015, 4, 1))
    second = qual(dt.date(2020, 4, 1), dt.date(2024, 4, 1))
    p = person("p", first, second)
    outcome = confirm([Match(p, first), Match(p, second)], key(), dt.date(2025, 1, 1))
    assert outcome.validity is Validity.INVALID
    assert outcome.match == Match(p, second)
    assert outcome.reason == "資格喪失 20240401"


def test_between_two_spells_is_2_not_3() -> None:
    # the same card key again later does not count as "a new qualification" for 3
    first = qual(dt.date(2010, 4, 1), dt.date(2015, 4, 1))
    second = qual(dt.date(2020, 4, 1))
    p = person("p", first, second)
    outcome = confirm([Match(p, first), Match(p, second)], key(), dt.date(2017, 1, 1))
    assert outcome.validity is Validity.INVALID


def test_3_needs_the_newer_qualification_in_force_on_the_date() -> None:
    old = qual(dt.date(2010, 4, 1), dt.date(2025, 6, 1))
    new = qual(dt.date(2025, 7, 1), insurer=OTHER, number="9")  # starts after the date
    p = person("p", old, new)
    outcome = confirm([Match(p, old)], key(), dt.date(2025, 6, 18))
    assert outcome.validity is Validity.INVALID
    outcome = confirm([Match(p, old)], key(), dt.date(2025, 7, 1))
    assert outcome.validity is Validity.INVALID_NEWER_EXISTS


def test_same_birthdate_different_people_is_5_even_when_lost() -> None:
    a = person("a", qual(dt.date(2010, 4, 1), dt.date(2011, 4, 1)))
    b = person("b", qual(dt.date(2010, 4, 1)))
    candidates = [Match(a, a.qualifications[0]), Match(b, b.qualifications[0])]
    outcome = confirm(candidates, key(branch=""), dt.date(2025, 1, 1))
    assert outcome.validity is Validity.MULTIPLE
    assert [m.person.id for m in outcome.matches] == ["a", "b"]


def test_birthdate_narrows_before_multiple() -> None:
    a = person("a", qual(dt.date(2010, 4, 1)), born=dt.date(1990, 1, 1))
    b = person("b", qual(dt.date(2010, 4, 1)), born=dt.date(1991, 1, 1))
    candidates = [Match(a, a.qualifications[0]), Match(b, b.qualifications[0])]
    outcome = confirm(candidates, key(branch="", born=dt.date(1991, 1, 1)), dt.date(2025, 1, 1))
    assert outcome.validity is Validity.VALID
    assert outcome.match == candidates[1]
    outcome = confirm(candidates, key(branch="", born=dt.date(1992, 1, 1)), dt.date(2025, 1, 1))
    assert outcome.reason == "生年月日が一致しません: 送信 19920101、記号番号が一致した人数 2"


def test_no_candidates_is_4() -> None:
    outcome = confirm([], key(), dt.date(2025, 1, 1))
    assert outcome == Outcome(Validity.NOT_FOUND, (), "被保険者証番号 '42' の資格は登録されていません")


# --- current_qualifications (card holders identified without a card key) -----------------------


def test_current_qualifications() -> None:
    old = qual(dt.date(2010, 4, 1), dt.date(2025, 5, 16))
    new = qual(dt.date(2025, 5, 16), insurer=OTHER, number="9")
    p = person("p", old, new)
    assert current_qualifications(p, dt.date(2025, 6, 1)) == Outcome(Validity.VALID, (Match(p, new),), "有効")
    assert current_qualifications(p, dt.date(2009, 1, 1)) == Outcome(
        Validity.NOT_FOUND, (), "資格確認日に有効な資格がありません"
    )
    lost = person("q", qual(dt.date(2010, 4, 1), dt.date(2020, 4, 1)))
    outcome = current_qualifications(lost, dt.date(2025, 1, 1))
    assert outcome.validity is Validity.INVALID
    assert outcome.reason == "資格喪失 20200401"
    both = person("r", qual(dt.date(2010, 4, 1)), qual(dt.date(2012, 4, 1), insurer=OTHER, number="9"))
    outcome = current_qualifications(both, dt.date(2025, 1, 1))
    assert outcome.validity is Validity.MULTIPLE
    assert len(outcome.matches) == 2
