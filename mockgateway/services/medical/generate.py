"""Plausible synthetic 薬剤・診療・特定健診 history for a persona, made from a seed (docs/medical.md).

Deterministic: the same seed, person (birth date, sex) and `until` date give the same records, on
any machine and any Python hash seed (`random.Random` seeded with a string). Nothing here is
real: drug codes are in a 6999xxxxx range and procedure codes in 1999xxxxx, product names carry
「模擬」 where a real generic would carry its maker, institutions are 模擬… with made-up codes, and
check-up item codes only follow the 17-character shape of the 特定健診 codes.

Shape of a generated history (as real data would look):
- a home clinic visited about monthly for one or two chronic conditions, 院外処方: the clinic's
  レセプト carries the procedures (診療情報), the pharmacy's 調剤レセプト carries the drugs;
- レセプト-derived records lag: nothing from the last `RECEIPT_LAG_DAYS` days;
- the last 100 days also as 電子処方箋 (prescriber) and 調剤結果 (pharmacy) records;
- now and then an acute episode at another clinic (院内処方, 初診料);
- a yearly 特定健診 while the person is 40 to 74.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from mockgateway.domain.codes import Sex
from mockgateway.domain.model import Person
from mockgateway.domain.numbers import with_check_digit
from mockgateway.services.medical.records import (
    Checkup,
    CheckupItem,
    DrugLine,
    DrugRecord,
    DrugSource,
    MedicalRecords,
    Procedure,
)

RECEIPT_LAG_DAYS = 40
EPRESCRIPTION_DAYS = 100


@dataclass(frozen=True, slots=True)
class Institution:
    code: str
    name: str


HOME_CLINICS = (
    Institution(with_check_digit("131011001"), "模擬内科クリニック"),
    Institution(with_check_digit("131021002"), "模擬ファミリークリニック"),
    Institution(with_check_digit("131032001"), "模擬中央病院"),
)
ACUTE_CLINICS = (
    Institution(with_check_digit("131041203"), "模擬耳鼻咽喉科医院"),
    Institution(with_check_digit("131051305"), "模擬整形外科クリニック"),
    Institution(with_check_digit("131061407"), "模擬皮膚科クリニック"),
)
PHARMACIES = (
    Institution(with_check_digit("134014001"), "模擬薬局　本町店"),
    Institution(with_check_digit("134024102"), "模擬薬局　駅前店"),
)
CHECKUP_CENTRES = ("模擬健診センター", "模擬中央病院　健診部")


@dataclass(frozen=True, slots=True)
class Drug:
    code: str
    name: str
    generic: str
    unit: str
    usage: str
    per_day: str
    classification: str = "21"  # 診療識別 21 内服, 22 屯服, 23 外用


# Synthetic examples (docs/medical.md lists them): real generic names, invented codes and makers.
_D = Drug
DRUGS: dict[str, Drug] = {
    d.code: d
    for d in (
        _D("699900011", "アムロジピン錠５ｍｇ「模擬」", "アムロジピンベシル酸塩", "錠", "1日1回朝食後", "1"),
        _D("699900029", "カンデサルタン錠８ｍｇ「模擬」", "カンデサルタン　シレキセチル", "錠", "1日1回朝食後", "1"),
        _D("699900037", "ロスバスタチン錠２．５ｍｇ「模擬」", "ロスバスタチンカルシウム", "錠", "1日1回夕食後", "1"),
        _D("699900045", "メトホルミン塩酸塩錠２５０ｍｇ「模擬」", "メトホルミン塩酸塩", "錠", "1日2回朝夕食後",
           "2"),
        _D("699900053", "シタグリプチン錠５０ｍｇ「模擬」", "シタグリプチンリン酸塩水和物", "錠", "1日1回朝食後",
           "1"),
        _D("699900061", "ファモチジン錠２０ｍｇ「模擬」", "ファモチジン", "錠", "1日2回朝夕食後", "2"),
        _D("699900079", "アレンドロン酸錠３５ｍｇ「模擬」", "アレンドロン酸ナトリウム水和物", "錠", "週1回起床時",
           "1"),
        _D("699900087", "アモキシシリンカプセル２５０ｍｇ「模擬」", "アモキシシリン水和物", "カプセル",
           "1日3回毎食後", "3"),
        _D("699900095", "アセトアミノフェン錠２００ｍｇ「模擬」", "アセトアミノフェン", "錠", "発熱時", "2", "22"),
        _D("699900109", "カルボシステイン錠５００ｍｇ「模擬」", "Ｌ－カルボシステイン", "錠", "1日3回毎食後", "3"),
        _D("699900117", "ヘパリン類似物質クリーム０．３％「模擬」", "ヘパリン類似物質", "ｇ", "1日2回患部に塗布",
           "25", "23"),
        _D("699900125", "ロキソプロフェンＮａテープ１００ｍｇ「模擬」", "ロキソプロフェンナトリウム水和物", "枚",
           "1日1回患部に貼付", "14", "23"),
    )
}  # fmt: skip

PROCEDURES: dict[str, tuple[str, str]] = {  # code → (name, 診療識別)
    "199900010": ("再診料", "12"),
    "199900028": ("外来管理加算", "12"),
    "199900036": ("特定疾患療養管理料（診療所）", "13"),
    "199900044": ("処方箋料（その他）", "80"),
    "199900052": ("初診料", "11"),
    "199900060": ("末梢血液一般検査", "60"),
    "199900079": ("ＨｂＡ１ｃ", "60"),
    "199900087": ("生化学的検査（１）（１０項目以上）", "60"),
    "199900095": ("検体検査判断料（生化学的検査（１）判断料）", "60"),
    "199900109": ("心電図検査（１２誘導）", "60"),
}

CONDITIONS: dict[str, tuple[str, ...]] = {  # condition → regular drugs
    "高血圧症": ("699900011", "699900029"),
    "脂質異常症": ("699900037",),
    "２型糖尿病": ("699900045", "699900053"),
    "慢性胃炎": ("699900061",),
    "骨粗鬆症": ("699900079",),
}
ACUTE: tuple[tuple[str, tuple[str, ...], str], ...] = (  # episode, drugs, days
    ("急性上気道炎", ("699900087", "699900095", "699900109"), "5"),
    ("腰痛症", ("699900125",), "14"),
    ("皮脂欠乏症", ("699900117",), "1"),
)


def _line(code: str, days: str) -> DrugLine:
    d = DRUGS[code]
    if d.classification == "23":  # 外用: the quantity is the whole supply, given once
        return DrugLine(d.code, d.name, d.generic, d.per_day, d.unit, d.usage, None, "1", d.classification)
    times = str(max(1, int(days) // 7)) if "週1回" in d.usage else days
    return DrugLine(d.code, d.name, d.generic, d.per_day, d.unit, d.usage, None, times, d.classification)


def _procedures(*codes: str) -> tuple[Procedure, ...]:
    return tuple(Procedure(c, PROCEDURES[c][0], PROCEDURES[c][1], "1", "1", "回") for c in codes)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def generate_history(seed: str, person: Person, *, until: dt.date, months: int = 48) -> MedicalRecords:
    """Synthetic records from `until` − `months` to `until` for `person` (see the module text)."""
    rng = random.Random(f"mockgateway-medical:{seed}")
    start = _add_days_months(until, -months)
    home = rng.choice(HOME_CLINICS)
    pharmacy = rng.choice(PHARMACIES)
    conditions = rng.sample(sorted(CONDITIONS), k=rng.choice((1, 2, 2, 3)))
    regular = [code for c in sorted(conditions) for code in CONDITIONS[c]]
    drugs: list[DrugRecord] = []
    day = start + dt.timedelta(days=rng.randrange(0, 28))
    visit = 0
    while day <= until:
        days = rng.choice(("28", "28", "30", "35"))
        lines = tuple(_line(code, days) for code in regular)
        tests = ("199900060", "199900087", "199900095") if visit % 3 == 0 else ()
        if "２型糖尿病" in conditions and visit % 3 == 0:
            tests = (*tests, "199900079")
        if day <= until - dt.timedelta(days=RECEIPT_LAG_DAYS):
            drugs.append(
                DrugRecord(
                    DrugSource.RECEIPT, day, home.code, home.name, day, home.code, home.name, "2", (),
                    _procedures("199900010", "199900028", "199900036", "199900044", *tests),
                )
            )  # fmt: skip
            drugs.append(
                DrugRecord(DrugSource.RECEIPT, day, pharmacy.code, pharmacy.name, day, home.code, home.name, "2", lines)
            )
        if day >= until - dt.timedelta(days=EPRESCRIPTION_DAYS):
            drugs.append(
                DrugRecord(DrugSource.EPRESCRIPTION, day, home.code, home.name, day, home.code, home.name, "2", lines)
            )
            drugs.append(
                DrugRecord(DrugSource.DISPENSING, day, pharmacy.code, pharmacy.name, day, home.code, home.name, "2",
                           lines)
            )  # fmt: skip
        if rng.random() < 0.12:
            drugs.extend(_acute(rng, day + dt.timedelta(days=rng.randrange(3, 20)), until))
        visit += 1
        day += dt.timedelta(days=int(days) + rng.randrange(-2, 4))
    checkups = _checkups(rng, person, conditions, start, until)
    return MedicalRecords().merged(MedicalRecords(tuple(drugs), tuple(checkups)))


def _acute(rng: random.Random, day: dt.date, until: dt.date) -> list[DrugRecord]:
    if day > until - dt.timedelta(days=RECEIPT_LAG_DAYS):
        return []
    clinic = rng.choice(ACUTE_CLINICS)
    _episode, codes, days = rng.choice(ACUTE)
    lines = tuple(_line(code, days) for code in codes)
    return [
        DrugRecord(
            DrugSource.RECEIPT, day, clinic.code, clinic.name, day, clinic.code, clinic.name, "1", lines,
            _procedures("199900052"),
        )
    ]  # fmt: skip


def _add_days_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, 28))


def _checkups(
    rng: random.Random, person: Person, conditions: list[str], start: dt.date, until: dt.date
) -> list[Checkup]:
    male = person.sex1 is Sex.MALE
    height = rng.gauss(171.0 if male else 158.0, 5.0)
    bmi = rng.gauss(24.5 if male else 22.5, 2.0)
    month, dom = rng.randrange(5, 11), rng.randrange(1, 28)
    out = []
    for year in range(start.year, until.year + 1):
        day = dt.date(year, month, dom)
        if not start <= day <= until or not 40 <= _age(person.birthdate, day) <= 74:
            continue
        bmi += rng.gauss(0.1, 0.3)
        weight = bmi * (height / 100) ** 2
        sbp = rng.gauss(146 if "高血圧症" in conditions else 122, 7)
        hba1c = rng.gauss(7.0 if "２型糖尿病" in conditions else 5.5, 0.3)
        ldl = rng.gauss(150 if "脂質異常症" in conditions else 115, 15)
        sugar = "3" if hba1c >= 7.5 else "1"
        items = [
            _pq("9N001000000000001", "身長", f"{height:.1f}", "cm"),
            _pq("9N006000000000001", "体重", f"{weight:.1f}", "kg"),
            _pq("9N011000000000001", "ＢＭＩ", f"{bmi:.1f}", "kg/m2"),
            _pq("9N016160100000001", "腹囲（実測）", f"{bmi * 3.4 + rng.gauss(0, 2):.1f}", "cm"),
            _pq("9A751000000000001", "収縮期血圧（その他）", f"{sbp:.0f}", "mmHg"),
            _pq("9A761000000000001", "拡張期血圧（その他）", f"{sbp * 0.62 + rng.gauss(0, 4):.0f}", "mmHg"),
            _pq("3F015000002327101", "中性脂肪（トリグリセリド）", f"{rng.gauss(130, 35):.0f}", "mg/dL"),
            _pq("3F070000002327101", "ＨＤＬコレステロール", f"{rng.gauss(55, 10):.0f}", "mg/dL"),
            _pq("3F077000002327101", "ＬＤＬコレステロール", f"{ldl:.0f}", "mg/dL"),
            _pq("3B035000002327201", "ＧＯＴ（ＡＳＴ）", f"{rng.gauss(24, 5):.0f}", "U/L"),
            _pq("3B045000002327201", "ＧＰＴ（ＡＬＴ）", f"{rng.gauss(24, 8):.0f}", "U/L"),
            _pq("3B090000002327101", "γ－ＧＴ（γ－ＧＴＰ）", f"{rng.gauss(35, 15):.0f}", "U/L"),
            _pq("3D046000001920402", "ＨｂＡ１ｃ（ＮＧＳＰ値）", f"{hba1c:.1f}", "%"),
            CheckupItem("1A020000000191111", "尿糖", sugar, None, "CD", "1.2.392.200119.6.2101",
                        {"1": "－", "3": "＋"}[sugar]),
            CheckupItem("1A010000000191111", "尿蛋白", "1", None, "CD", "1.2.392.200119.6.2101", "－"),
        ]  # fmt: skip
        out.append(Checkup(day, tuple(items), rng.choice(CHECKUP_CENTRES)))
    return out


def _pq(code: str, name: str, value: str, unit: str) -> CheckupItem:
    return CheckupItem(code, name, value, unit, "PQ")
