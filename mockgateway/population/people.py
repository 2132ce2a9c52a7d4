"""Person documents for one batch of the plan's labels (pure: seeded, no I/O).

A batch is generated from (seed, batch index) alone, so batches can run in any order and in any
number of processes and still give the same population. Names and addresses come from faker's
ja_JP tables (sampled with our own seeded RNG: calling faker per person is ~50× slower).
Documents use the fixture format (interface element names as keys, docs/fixtures.md) plus a
`card:` extension (docs/population.md).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from faker.providers.address.ja_JP import Provider as AddressProvider
from faker.providers.person.ja_JP import Provider as PersonProvider

from mockgateway.population.plan import KOUKI, Cell
from mockgateway.population.registry import Registry
from mockgateway.population.tables import SCHEMES, Tables
from mockgateway.store.number_map import add_numbers

EMPLOYEE = {"kyokai", "kumiai", "kyosai"}
PERSON_MODULUS = 9_999_999  # 被保険者証番号 up to 7 digits (後期: 8 digits, zero-padded)
KOUKI_MODULUS = 99_999_989
MULTIPLIER = 7_654_321  # coprime with both moduli: i → number is a bijection per scheme
CERT_STATES = ("cert_expired", "cert_grace", "cert_expiring", "cert_revoked")
PERSON_EDGES = ("lost_this_month", "changed_insurer")
KOUKI_START = dt.date(2008, 4, 1)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return add_months(day, 1) - dt.timedelta(days=1)


def grace_end(expiry: dt.date) -> dt.date:
    """The last day a certificate that expired on `expiry` is still accepted: the end of the third
    month after the month of expiry (card feature's rule, oqs-interface.md §5)."""
    return month_end(add_months(expiry, 3))


def _ymd(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def card_number(index: int, scheme: int, *, kouki: bool) -> str:
    if kouki:
        return f"{(index * MULTIPLIER + 1_000_003 * (scheme + 1)) % KOUKI_MODULUS + 1:08d}"
    return str((index * MULTIPLIER + 1_000_003 * (scheme + 1)) % PERSON_MODULUS + 1)


def _cumulative(dist: Mapping[str, Any]) -> tuple[list[str], list[float]]:
    keys = [str(k) for k in dist]
    total = sum(float(v) for v in dist.values())
    acc, out = 0.0, []
    for k in dist:
        acc += float(dist[k]) / total
        out.append(acc)
    return keys, out


def _pick(keys: list[str], cum: list[float], u: float) -> str:
    for k, c in zip(keys, cum, strict=True):
        if u < c:
            return k
    return keys[-1]


class Weyl:
    """Low-discrepancy uniforms (u₀ + jφ mod 1): shares of a categorical draw converge like 1/n
    rather than 1/√n, so small strata (限度額 区分, edge cases) meet their targets at any size."""

    __slots__ = ("u",)
    STEP = 0.6180339887498949

    def __init__(self, start: float) -> None:
        self.u = start

    def __call__(self) -> float:
        self.u = (self.u + self.STEP) % 1.0
        return self.u


@dataclass
class BatchResult:
    rows: list[tuple[int, str, bytes]] = field(default_factory=list)  # (rowid, person id, orjson document)
    numbers: dict[str, int | list[int]] = field(default_factory=dict)  # this batch's 被保険者証番号 → rowids
    card_holders: list[int] = field(default_factory=list)  # rowids of documents with a card: key
    edges: list[tuple[str, str]] = field(default_factory=list)  # (person id, edge-case kind)
    counts: Counter[tuple[Any, ...]] = field(default_factory=Counter)


@dataclass(slots=True)
class _Draft:
    index: int
    cell: Cell
    age: int
    birth: int  # date ordinal
    last: tuple[str, str]
    first: tuple[str, str]
    edge: str | None
    dependant: bool
    head: _Draft | None = None
    members: int = 0
    insurer: int = -1
    number: str = ""
    symbol: str = ""
    branch: str = ""
    address: str = ""
    post: str = ""
    qualified: int = 0  # date ordinal
    lost_on: int = 0  # date ordinal, 0 = not lost


class PeopleGenerator:
    def __init__(
        self, tables: Tables, registry: Registry, cells: Sequence[Cell], as_of: dt.date, seed: int, id_width: int
    ) -> None:
        self.tables, self.registry, self.cells = tables, registry, cells
        self.as_of, self.seed, self.id_width = as_of, seed, id_width
        a = tables.assumptions
        self.kouki_from = int(a.get("kouki_from_age", 75))
        self.last_names = [(k, kana) for k, kana, _ in PersonProvider.last_name_pairs]
        self.first_names = (
            [(k, kana) for k, kana, _ in PersonProvider.first_name_male_pairs],
            [(k, kana) for k, kana, _ in PersonProvider.first_name_female_pairs],
        )
        self.cities = list(AddressProvider.cities)
        self.towns = list(AddressProvider.towns)
        edges = a.get("edge_cases") or {}
        self.p_lost = float(edges.get("lost_this_month", 0))
        self.p_changed = float(edges.get("changed_insurer", 0))
        self.cert_cum: list[tuple[str, float]] = []
        acc = 0.0
        for state in CERT_STATES:
            acc += float(edges.get(state, 0))
            self.cert_cum.append((state, acc))
        dep = a["dependant_share"]
        starts = [int(x) for x in dep["band_starts"]]
        shares = ([float(x) for x in dep["male"]], [float(x) for x in dep["female"]])
        ages = range(tables.bands[-1].end + 2)
        self.dep_share = tuple(
            [shares[sex][max(i for i, st in enumerate(starts) if st <= age)] for age in ages] for sex in (0, 1)
        )
        self.max_household = int(a.get("max_household", 6))
        self.kouki_ratio = _cumulative(a["kouki_contribution"])
        self.elderly_ratio = _cumulative(a["elderly_contribution"])
        limit_share = a["limit_share"]
        self.limit_share = (float(limit_share["under_70"]), float(limit_share["from_70"]))
        self.limit_classes = (_cumulative(a["limit_classes"]["under_70"]), _cumulative(a["limit_classes"]["from_70"]))
        self.insurers = registry.insurers
        # dates every person shares, as ordinals; birthdates of age a lie in birth_range[a]
        self.today = as_of.toordinal()
        self.month_start = as_of.replace(day=1).toordinal()
        self.limit_end = dt.date(as_of.year if as_of.month <= 7 else as_of.year + 1, 7, 31).toordinal()
        self.earliest_grace = add_months(as_of.replace(day=1), -3).toordinal()
        self.twenty_years_ago = years_before(as_of, 20).toordinal()
        self.birth_range = [
            (years_before(as_of, age + 1).toordinal() + 1, years_before(as_of, age).toordinal()) for age in ages
        ]
        self._ymd: dict[int, str] = {}
        self._edge = self._cert = self._kouki = self._elderly = Weyl(0.0)  # reset per batch
        self._holder = self._class = (Weyl(0.0), Weyl(0.0))

    def ymd(self, ordinal: int) -> str:
        text = self._ymd.get(ordinal)
        if text is None:
            text = self._ymd[ordinal] = _ymd(dt.date.fromordinal(ordinal))
        return text

    # -- one batch -----------------------------------------------------------------------------

    def batch(self, index: int, labels: Sequence[int], start: int) -> BatchResult:
        rng = random.Random(f"people:{self.seed}:{index}")
        rnd = rng.random
        self._edge, self._cert, self._kouki, self._elderly = Weyl(rnd()), Weyl(rnd()), Weyl(rnd()), Weyl(rnd())
        self._holder = (Weyl(rnd()), Weyl(rnd()))
        self._class = (Weyl(rnd()), Weyl(rnd()))
        drafts = [self._draft(rnd, start + j, self.cells[label]) for j, label in enumerate(labels)]
        self._households(rnd, drafts)
        for d in drafts:  # 本人 and individuals first: their dependants copy their card numbers
            if d.head is None:
                self._identity(rnd, d)
        for d in drafts:
            if d.head is not None:
                self._join(d, d.head)
        out = BatchResult()
        dumps = orjson.dumps
        for d in drafts:
            doc = self._document(rnd, d, out)
            rowid = d.index + 1
            out.rows.append((rowid, doc["id"], dumps(doc)))
            add_numbers(out.numbers, rowid, [q["InsuredIdentificationNumber"] for q in doc["qualifications"]])
            if "card" in doc:
                out.card_holders.append(rowid)
        return out

    def _draft(self, rnd: Callable[[], float], index: int, cell: Cell) -> _Draft:
        band = self.tables.bands[cell.band]
        age = band.start + int(rnd() * (band.end - band.start + 1))
        lo, hi = self.birth_range[age]
        u = self._edge()
        edge = "lost_this_month" if u < self.p_lost else "changed_insurer" if u < self.p_lost + self.p_changed else None
        dependant = edge is None and cell.scheme != KOUKI and rnd() < self.dep_share[cell.sex][age]
        last = self.last_names[int(rnd() * len(self.last_names))]
        firsts = self.first_names[cell.sex]
        first = firsts[int(rnd() * len(firsts))]
        return _Draft(index, cell, age, lo + int(rnd() * (hi - lo + 1)), last, first, edge, dependant)

    def _households(self, rnd: Callable[[], float], drafts: list[_Draft]) -> None:
        """Attach each dependant to a 本人 (18 or over) of the same scheme and prefecture in the batch."""
        heads: dict[tuple[int, int], list[_Draft]] = {}
        for d in drafts:
            if not d.dependant and d.edge is None and d.age >= 18 and d.cell.scheme != KOUKI:
                heads.setdefault((d.cell.scheme, d.cell.pref), []).append(d)
        for d in drafts:
            if not d.dependant:
                continue
            group = heads.get((d.cell.scheme, d.cell.pref))
            head = None
            for _ in range(4):
                if not group:
                    break
                candidate = group[int(rnd() * len(group))]
                if candidate.members + 1 < self.max_household:
                    head = candidate
                    break
            if head is None:
                d.dependant = False
                continue
            head.members += 1
            d.head = head
            d.last = head.last
        for group in heads.values():
            for head in group:
                head.members = 0  # recounted by _join to hand out 枝番 01, 02, …

    def _identity(self, rnd: Callable[[], float], d: _Draft) -> None:
        """Card numbers, address and dates of a 本人 or an individual."""
        cell = d.cell
        kouki = cell.scheme == KOUKI
        pref = self.tables.prefectures[cell.pref]
        d.insurer = self._insurer_for(rnd, cell.scheme, cell.pref)
        d.number = card_number(d.index, cell.scheme, kouki=kouki)
        d.symbol = "" if kouki else self._symbol(rnd, SCHEMES[cell.scheme])
        d.branch = "" if kouki else "00"
        d.address = (
            f"{pref.name}{self.cities[int(rnd() * len(self.cities))]}{self.towns[int(rnd() * len(self.towns))]}"
            f"{1 + int(rnd() * 9)}丁目{1 + int(rnd() * 30)}番{1 + int(rnd() * 20)}号"
        )
        d.post = f"{int(rnd() * 1000):03d}-{int(rnd() * 10000):04d}"
        if d.edge == "lost_this_month":
            d.lost_on = self.month_start + int(rnd() * (self.today - self.month_start + 1))
        elif d.edge == "changed_insurer":
            d.lost_on = self.today - int(rnd() * 61)
        if d.lost_on and d.lost_on <= d.birth:
            d.edge, d.lost_on = None, 0  # born too recently to have lost anything
        d.qualified = self._qualified(rnd, d, d.lost_on or self.today)

    def _join(self, d: _Draft, head: _Draft) -> None:
        head.members += 1
        d.insurer, d.number, d.symbol = head.insurer, head.number, head.symbol
        d.branch = f"{head.members:02d}"
        d.address, d.post = head.address, head.post
        d.qualified = max(head.qualified, d.birth)

    def _insurer_for(self, rnd: Callable[[], float], scheme: int, pref: int) -> int:
        choices = self.registry.choices(scheme, pref)
        return choices[int(rnd() * len(choices))]

    def _qualified(self, rnd: Callable[[], float], d: _Draft, before: int) -> int:
        """資格取得年月日 (ordinal) before `before`: the 75th birthday for 後期, else within 20 years."""
        if d.cell.scheme == KOUKI:
            birth = dt.date.fromordinal(d.birth)
            start = max(KOUKI_START, years_before(birth, -self.kouki_from)).toordinal()
            return min(start, before - 1)
        lo = max(d.birth, self.twenty_years_ago if before == self.today else before - 7305)
        hi = max(lo, before - 1)
        return lo + int(rnd() * (hi - lo + 1))

    def _document(self, rnd: Callable[[], float], d: _Draft, out: BatchResult) -> dict[str, Any]:
        cell, counts, ymd = d.cell, out.counts, self.ymd
        scheme = SCHEMES[cell.scheme]
        kouki = cell.scheme == KOUKI
        pid = f"p{d.index + 1:0{self.id_width}d}"
        name = f"{d.last[0]}\u3000{d.first[0]}"
        head = d.head
        qual: dict[str, Any] = {"InsurerNumber": self.insurers[d.insurer].number}
        if d.symbol:
            qual["InsuredCardSymbol"] = d.symbol
        qual["InsuredIdentificationNumber"] = d.number
        if d.branch:
            qual["InsuredBranchNumber"] = d.branch
        qual["InsuredCardClassification"] = "01"
        if not kouki:
            qual["PersonalFamilyClassification"] = "2" if head and scheme in EMPLOYEE else "1"
        qual["InsuredName"] = name if head is None else f"{head.last[0]}\u3000{head.first[0]}"
        # Real results carry the card's issue and start dates; clients that register insurance from
        # a result refuse one without InsuredCardValidDate (docs/population.md).
        qual["QualificationDate"] = qual["InsuredCertificateIssuanceDate"] = ymd(d.qualified)
        qual["InsuredCardValidDate"] = qual["QualificationDate"]
        ratio = qual["InsuredPartialContributionRatio"] = self._ratio(rnd, d.age, kouki)
        if 70 <= d.age < self.kouki_from:
            turned = years_before(dt.date.fromordinal(d.birth), -70)
            start = max((turned if turned.day == 1 else add_months(turned, 1)).toordinal(), d.qualified)
            qual["ElderlyRecipientCertificateInfo"] = {
                "ElderlyRecipientCertificateDate": ymd(start),
                "ElderlyRecipientValidStartDate": ymd(start),
                "ElderlyRecipientValidEndDate": ymd(self.limit_end),
                "ElderlyRecipientContributionRatio": ratio,
            }
        group = 0 if d.age < 70 else 1
        counts[("limit_group", group)] += 1
        if self._holder[group]() < self.limit_share[group]:
            keys, cum = self.limit_classes[group]
            flag = _pick(keys, cum, self._class[group]())
            since = add_months(dt.date.fromordinal(self.month_start), -int(rnd() * 12)).toordinal()
            qual["LimitApplicationCertificateRelatedInfo"] = {
                "LimitApplicationCertificateClassification": "02" if flag in ("A05", "B05", "B06") else "01",
                "LimitApplicationCertificateClassificationFlag": flag,
                "LimitApplicationCertificateDate": ymd(since),
                "LimitApplicationCertificateValidStartDate": ymd(since),
                "LimitApplicationCertificateValidEndDate": ymd(self.limit_end),
            }
            counts[("limit_holders", group)] += 1
            counts[("limit_class", group, flag)] += 1
        qualifications = [qual]
        if d.edge == "lost_this_month":
            qual["DisqualificationDate"] = ymd(d.lost_on)
            qual["ReasonOfLoss"] = "99"
        elif d.edge == "changed_insurer":
            qualifications.insert(0, self._previous(rnd, d, scheme, name))
            qual["QualificationDate"] = qual["InsuredCertificateIssuanceDate"] = ymd(d.lost_on)
            qual["InsuredCardValidDate"] = qual["QualificationDate"]
        doc: dict[str, Any] = {
            "id": pid,
            "Name": name,
            "NameKana": f"{d.last[1]}\u3000{d.first[1]}",
            "Sex1": "1" if cell.sex == 0 else "2",
            "Birthdate": ymd(d.birth),
            "Address": d.address,
            "PostNumber": d.post,
            "qualifications": qualifications,
        }
        if cell.card:
            doc["card"] = self._card(rnd, d, out, pid)
        if d.edge is not None:
            out.edges.append((pid, d.edge))
            counts[("edge", d.edge)] += 1
        counts[("age_sex", cell.band, cell.sex)] += 1
        counts[("pref", cell.pref)] += 1
        counts[("scheme", cell.scheme)] += 1
        counts[("household", "dependant" if head else "head_or_single")] += 1
        if cell.card:
            counts[("card_age_sex", cell.band, cell.sex)] += 1
            counts[("card_pref", cell.pref)] += 1
        if cell.registered:
            counts[("reg_scheme", cell.scheme)] += 1
        return doc

    def _previous(self, rnd: Callable[[], float], d: _Draft, scheme: str, name: str) -> dict[str, Any]:
        """The qualification a person who changed insurer lost (事由 03) on the day the new one began."""
        old_scheme = "kyokai" if scheme in ("kokuho", "kokuho_kumiai") else "kokuho"
        old_index = SCHEMES.index(old_scheme)
        old = self.insurers[self._insurer_for(rnd, old_index, d.cell.pref)]
        lo = max(d.birth, d.lost_on - 7305)
        since = lo + int(rnd() * max(1, d.lost_on - lo))
        return {
            "InsurerNumber": old.number,
            "InsuredCardSymbol": self._symbol(rnd, old_scheme),
            "InsuredIdentificationNumber": card_number(d.index, old_index + len(SCHEMES), kouki=False),
            "InsuredBranchNumber": "00",
            "InsuredCardClassification": "01",
            "PersonalFamilyClassification": "1",
            "InsuredName": name,
            "QualificationDate": self.ymd(min(since, d.lost_on - 1)),
            "InsuredCertificateIssuanceDate": self.ymd(min(since, d.lost_on - 1)),
            "InsuredCardValidDate": self.ymd(min(since, d.lost_on - 1)),
            "DisqualificationDate": self.ymd(d.lost_on),
            "ReasonOfLoss": "03",
            "InsuredPartialContributionRatio": "030",
        }

    def _symbol(self, rnd: Callable[[], float], scheme: str) -> str:
        if scheme == "kyokai":
            return str(10_000_000 + int(rnd() * 90_000_000))
        if scheme in ("kumiai", "kyosai"):
            return str(1 + int(rnd() * 9999))
        return f"{1 + int(rnd() * 99):02d}"

    def _ratio(self, rnd: Callable[[], float], age: int, kouki: bool) -> str:
        if kouki:
            return _pick(*self.kouki_ratio, self._kouki())
        if age >= 70:
            return _pick(*self.elderly_ratio, self._elderly())
        return "020" if age < 6 else "030"

    def _card(self, rnd: Callable[[], float], d: _Draft, out: BatchResult, pid: str) -> dict[str, Any]:
        u = self._cert()
        state = "cert_valid"
        for name, bound in self.cert_cum:
            if u < bound:
                state = name
                break
        today = self.today
        if state == "cert_expired":
            expires = self.earliest_grace - 1 - int(rnd() * 3 * 365)
        elif state == "cert_grace":
            expires = self.earliest_grace + int(rnd() * (today - self.earliest_grace))
        elif state == "cert_expiring":
            expires = today + int(rnd() * 91)
        else:  # valid (or revoked): a birthday (the 5th after issue) more than 3 months and at most 5 years ahead
            birth = dt.date.fromordinal(d.birth)
            year = self.as_of.year + 1 + int(rnd() * 5)
            expires = years_before(birth, birth.year - year).toordinal()
            if expires <= today + 92:
                expires = years_before(birth, birth.year - year - 1).toordinal()
            if expires > today + 5 * 365 + 1:
                expires -= 365
        out.counts[("cert", state)] += 1
        if state != "cert_valid":
            out.edges.append((pid, state))
        return {"registered": d.cell.registered, "cert_expires": self.ymd(expires), "revoked": state == "cert_revoked"}
