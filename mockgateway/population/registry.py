"""The insurer and 医療機関 registries a population refers to: synthetic numbers, valid check digits.

Insurer numbers (別添２ layout): 8 digits = 法別番号 (2) + 都道府県番号 (2) + 保険者別番号 (3) + 検証番号,
or 6 digits for 国民健康保険 = 都道府県番号 (2) + 保険者別番号 (3) + 検証番号, the 国保組合 in the 300s.
We take 保険者別番号 from 998 downwards (300s from 398 down for 国保組合), so no generated number
equals one of the shipped personas (which use 999 and 399) and none pretends to be a real insurer's.

医療機関コード: 都道府県番号 (2) + 点数表番号 (1: 1 医科, 3 歯科, 4 薬局) + 郡市区番号 (2) + 医療機関番号 (4)
+ 検証番号 over the first nine digits (mockgateway.domain.numbers).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from faker import Faker

from mockgateway.domain.numbers import InsurerNumber, with_check_digit
from mockgateway.population.plan import apportion
from mockgateway.population.tables import SCHEMES, Tables

KOKUHO_KUMIAI_TRADES = ("医師", "歯科医師", "薬剤師", "建設", "食品販売", "理容美容", "土木建築", "税理士")
KYOSAI_KINDS = (("31", "{pref}模擬省共済組合"), ("32", "{pref}市町村職員共済組合"), ("34", "{pref}私立学校教職員共済"))
FACILITY_SUFFIX = {"hospital": "病院", "clinic": "クリニック", "dental": "歯科医院", "pharmacy": "薬局"}


@dataclass(frozen=True, slots=True)
class InsurerEntry:
    number: str  # bare 6 or 8 digits
    name: str
    scheme: str
    prefecture: int  # 1–47


@dataclass(frozen=True, slots=True)
class Facility:
    code: str  # 医療機関コード, 10 digits
    type: str  # hospital / clinic / dental / pharmacy
    prefecture: int
    name: str


@dataclass
class Registry:
    insurers: list[InsurerEntry]
    by_scheme_pref: dict[tuple[int, int], list[int]]  # (scheme index, pref index 0–46) → insurer indexes

    def choices(self, scheme: int, pref: int) -> list[int]:
        return self.by_scheme_pref[(scheme, pref)]


class _Serials:
    """保険者別番号 per (法別番号 or "6"/"6k", prefecture), counting down."""

    def __init__(self) -> None:
        self.next: dict[tuple[str, int], int] = {}

    def take(self, kind: str, pref: int) -> int:
        top = 398 if kind == "6k" else 998
        floor = 300 if kind == "6k" else 400
        n = self.next.get((kind, pref), top)
        if n < floor:
            raise ValueError(f"out of synthetic 保険者別番号 for {kind} in prefecture {pref}")
        self.next[(kind, pref)] = n - 1
        return n


_DOUBLED = tuple((2 * d) // 10 + (2 * d) % 10 for d in range(10))


def fast_check_digit(body: str) -> str:
    """`numbers.check_digit` without the validation, for hundreds of thousands of generated codes."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        total += _DOUBLED[d] if i % 2 == 0 else d
    return str((10 - total % 10) % 10)


def _insurer_number(houbetsu: str, pref: int, serial: int) -> str:
    if houbetsu in ("6", "6k"):
        number = with_check_digit(f"{pref:02d}{serial:03d}")
    else:
        number = with_check_digit(f"{houbetsu}{pref:02d}{serial:03d}")
    return InsurerNumber.parse(number).value  # validates length, prefecture, check digit


def _company(fake: Faker) -> str:
    name = str(fake.company())
    for word in ("株式会社", "有限会社", "合同会社"):
        name = name.replace(word, "")
    return name


def build_registry(tables: Tables, seed: int) -> Registry:
    fake = Faker("ja_JP")
    fake.seed_instance(f"insurers:{seed}")
    prefs = tables.prefectures
    pop = [float(p.population) for p in prefs]
    wanted = tables.assumptions.get("insurers") or {}
    serials = _Serials()
    insurers: list[InsurerEntry] = []
    by: dict[tuple[int, int], list[int]] = {}

    def add(scheme: str, pref_index: int, houbetsu: str, name: str) -> None:
        pref = prefs[pref_index]
        number = _insurer_number(houbetsu, pref.code, serials.take(houbetsu, pref.code))
        by.setdefault((SCHEMES.index(scheme), pref_index), []).append(len(insurers))
        insurers.append(InsurerEntry(number, name, scheme, pref.code))

    for scheme in SCHEMES:
        setting = wanted.get(scheme, "per_prefecture")
        if setting == "per_prefecture":
            counts = [1] * len(prefs)
        else:
            total = max(int(setting), len(prefs))
            counts = [c + 1 for c in apportion(total - len(prefs), pop)]  # at least one per prefecture
        for i, count in enumerate(counts):
            pref = prefs[i]
            for j in range(count):
                if scheme == "kyokai":
                    add(scheme, i, "01", f"全国健康保険協会{pref.short}支部")
                elif scheme == "kumiai":
                    add(scheme, i, "06", f"{_company(fake)}健康保険組合")
                elif scheme == "kyosai":
                    houbetsu, pattern = KYOSAI_KINDS[1] if j == 0 else KYOSAI_KINDS[0 if j % 2 else 2]
                    add(scheme, i, houbetsu, pattern.format(pref=pref.short) + (f"第{j}" if j >= 3 else ""))
                elif scheme == "kokuho":
                    add(scheme, i, "6", f"{pref.name}{fake.city()}国民健康保険")
                elif scheme == "kokuho_kumiai":
                    trade = KOKUHO_KUMIAI_TRADES[j % len(KOKUHO_KUMIAI_TRADES)]
                    suffix = "" if j < len(KOKUHO_KUMIAI_TRADES) else f"第{j // len(KOKUHO_KUMIAI_TRADES) + 1}"
                    add(scheme, i, "6k", f"{pref.short}{trade}国民健康保険組合{suffix}")
                else:
                    add(scheme, i, "39", f"{pref.name}後期高齢者医療広域連合")
    return Registry(insurers, by)


def facility_counts(tables: Tables, scale: float = 1.0) -> dict[str, int]:
    """Operating facilities by type (April 2024, 002_…), scaled."""
    return {f.key: max(1, round(f.operating_2024_04 * scale)) for f in tables.facilities}


def build_facilities(tables: Tables, seed: int, scale: float = 1.0) -> Iterator[Facility]:
    """Facilities of each type spread over prefectures by population, unique codes, valid check digits."""
    rng = random.Random(f"facilities:{seed}")
    fake = Faker("ja_JP")
    fake.seed_instance(f"facilities:{seed}")
    cities = [str(fake.city()) for _ in range(200)]
    pop = [float(p.population) for p in tables.prefectures]
    counts = facility_counts(tables, scale)
    serials: dict[tuple[int, str], int] = {}  # 病院 and 医科診療所 share 点数表番号 1: one sequence
    # The check digit is a sum over digits: the last four (医療機関番号) are taken from a table.
    tail = [_digit_sum(f"{n:04d}", offset=0) for n in range(10_000)]
    for ftype in tables.facilities:
        per_pref = apportion(counts[ftype.key], pop)
        suffix = FACILITY_SUFFIX[ftype.key]
        for i, n in enumerate(per_pref):
            pref = tables.prefectures[i]
            first = serials.get((pref.code, ftype.score_table), 0)
            serials[(pref.code, ftype.score_table)] = first + n
            for district in range(first // 10_000, (first + n - 1) // 10_000 + 1 if n else 0):
                head = f"{pref.code:02d}{ftype.score_table}{district:02d}"
                head_sum = _digit_sum(head, offset=4)
                lo, hi = max(first, district * 10_000), min(first + n, (district + 1) * 10_000)
                for serial in range(lo, hi):
                    number = serial - district * 10_000
                    check = (10 - (head_sum + tail[number]) % 10) % 10
                    yield Facility(
                        f"{head}{number:04d}{check}", ftype.key, pref.code, f"模擬{rng.choice(cities)}{suffix}"
                    )


def _digit_sum(digits: str, offset: int) -> int:
    """Σ of the check-digit products for `digits` standing `offset` places left of the last body digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        product = int(ch) * (2 if (i + offset) % 2 == 0 else 1)
        total += product // 10 + product % 10
    return total
