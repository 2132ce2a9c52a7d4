"""The generated population: valid documents, consistent registries, reproducible, calibrated."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.model import Insurer
from mockgateway.domain.numbers import InsurerNumber, MedicalInstitutionCode, Scheme, check_digit
from mockgateway.fixtures import load_paths, person_from_doc
from mockgateway.population.generate import PopulationConfig, generate, stored_config, stored_report
from mockgateway.population.people import grace_end
from mockgateway.population.registry import fast_check_digit
from mockgateway.population.tables import SCHEME_NAMES, SCHEMES, load_tables
from mockgateway.store.sqlite import SqliteRepository
from tests.population.conftest import AS_OF, SIZE, Generated, read_docs, small_config

SCHEME_OF = {
    Scheme.KYOKAI: "kyokai",
    Scheme.KUMIAI: "kumiai",
    Scheme.KYOSAI: "kyosai",
    Scheme.KOKUHO: "kokuho",
    Scheme.KOKUHO_KUMIAI: "kokuho_kumiai",
    Scheme.KOUKI: "kouki",
}


def _digest(db: Path) -> str:
    docs, insurers = read_docs(db)
    return hashlib.sha256(orjson.dumps([docs, sorted(insurers.items())])).hexdigest()


def test_every_document_is_a_valid_fixture_person(generated: Generated) -> None:
    insurers = {n: Insurer(InsurerNumber.parse(n), name) for n, name in generated.insurers.items()}
    assert len(generated.docs) == SIZE
    for doc in generated.docs:
        person = person_from_doc(doc, insurers, AS_OF)  # raises FixtureError naming the field
        assert person.qualifications
        assert set(doc) <= {"id", "Name", "NameKana", "Sex1", "Birthdate", "Address", "PostNumber",
                            "qualifications", "card"}  # fmt: skip


def test_every_generated_qualification_carries_the_card_dates(generated: Generated) -> None:
    """As real results do: a client registering insurance from a result needs InsuredCardValidDate."""
    for doc in generated.docs:
        for q in doc["qualifications"]:
            assert q["InsuredCardValidDate"] == q["InsuredCertificateIssuanceDate"] == q["QualificationDate"], doc["id"]


def test_insurer_and_facility_numbers_carry_valid_check_digits(generated: Generated) -> None:
    for number in generated.insurers:
        assert InsurerNumber.parse(number).value == number
        assert number[-4:-1] != "999"  # 保険者別番号 999 is left to the shipped personas
    store = SqliteRepository(generated.db)
    try:
        rows = store.connection().execute("SELECT code, type, prefecture FROM population_facilities").fetchall()
    finally:
        store.close()
    assert len({code for code, _, _ in rows}) == len(rows) > 0
    for code, ftype, pref in rows:
        mic = MedicalInstitutionCode.parse(code)
        assert mic.prefecture == pref
        assert mic.is_pharmacy == (ftype == "pharmacy")
        assert (mic.score_table.value == "3") == (ftype == "dental")
    assert {t for _, t, _ in rows} == {"hospital", "clinic", "dental", "pharmacy"}


def test_fast_check_digit_is_the_interface_rule() -> None:
    for body in ("131123456", "011000001", "474000999", "000000000", "999999999"):
        assert fast_check_digit(body) == str(check_digit(body))


def test_every_qualification_names_a_registered_insurer_of_its_scheme(generated: Generated) -> None:
    for doc in generated.docs:
        for q in doc["qualifications"]:
            assert q["InsurerNumber"] in generated.insurers
    kouki = [
        d for d in generated.docs if InsurerNumber(d["qualifications"][-1]["InsurerNumber"]).scheme is Scheme.KOUKI
    ]
    for doc in kouki:
        q = doc["qualifications"][-1]
        assert "InsuredCardSymbol" not in q
        assert "InsuredBranchNumber" not in q
        assert len(q["InsuredIdentificationNumber"]) == 8
        assert _age(doc) >= 75


def test_households_share_a_card_number_with_distinct_branches(generated: Generated) -> None:
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for doc in generated.docs:
        q = doc["qualifications"][-1]
        key = (q["InsurerNumber"], q.get("InsuredCardSymbol", ""), q["InsuredIdentificationNumber"])
        by_key.setdefault(key, []).append(q.get("InsuredBranchNumber", ""))
    shared = [branches for branches in by_key.values() if len(branches) > 1]
    assert len(shared) > 50
    for branches in shared:
        assert len(set(branches)) == len(branches)
        assert "00" in branches
    families = [d for d in generated.docs if d["qualifications"][-1].get("PersonalFamilyClassification") == "2"]
    assert families
    assert all(d["qualifications"][-1]["InsuredBranchNumber"] != "00" for d in families)


def _age(doc: dict[str, Any], on: dt.date = AS_OF) -> int:
    birth = dt.date.fromisoformat(f"{doc['Birthdate'][:4]}-{doc['Birthdate'][4:6]}-{doc['Birthdate'][6:]}")
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _ymd(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def test_the_report_counts_what_the_documents_say(generated: Generated) -> None:
    """Recount the strata from the stored documents: the report is about what was written."""
    t = load_tables()
    schemes: Counter[str] = Counter()
    registered: Counter[str] = Counter()
    bands: Counter[tuple[int, str]] = Counter()
    cards: Counter[tuple[int, str]] = Counter()
    prefs: Counter[str] = Counter()
    for doc in generated.docs:
        scheme = SCHEME_OF[InsurerNumber(doc["qualifications"][-1]["InsurerNumber"]).scheme]
        schemes[scheme] += 1
        band = t.band_of(_age(doc))
        bands[(band, doc["Sex1"])] += 1
        card = doc.get("card")
        if card is not None:
            cards[(band, doc["Sex1"])] += 1
            registered[scheme] += card["registered"] is True
        prefs[next(p.name for p in t.prefectures if doc["Address"].startswith(p.name))] += 1
    strata = {(s.dimension, s.name): s for s in generated.report.strata}
    for key in SCHEMES:
        stratum = strata[("制度", SCHEME_NAMES[key])]
        assert round(stratum.generated * SIZE) == schemes[key]
        reg = strata[("保険証利用登録率 制度", SCHEME_NAMES[key])]
        assert round(reg.generated * reg.n) == registered[key]
    for (band, sex), n in bands.items():
        label = f"{t.bands[band].label} {'男' if sex == '1' else '女'}"
        assert round(strata[("年齢×性別", label)].generated * SIZE) == n
        rate = strata[("カード交付率 年齢×性別", label)]
        assert rate.n == n
        assert round(rate.generated * n) == cards[(band, sex)]
    for name, n in prefs.items():
        assert round(strata[("都道府県", name)].generated * SIZE) == n


def test_published_strata_are_within_a_point_or_a_person_at_2000(generated: Generated) -> None:
    report = generated.report
    published = [s for s in report.strata if s.source != "assumption"]
    assert len(published) > 150
    for s in published:
        assert s.passes(1.0) or abs(s.generated - s.target) * s.n <= 1.0 + 1e-9, s
    assumed = [s for s in report.strata if s.source == "assumption"]
    for s in assumed:  # sampled with low-discrepancy draws: a few people at most
        assert abs(s.generated - s.target) * s.n <= 3.0, s
    assert report.ok_or_granular or all(abs(f.generated - f.target) * f.n <= 3 for f in report.failures())


def test_the_report_and_config_are_kept_with_the_population(generated: Generated) -> None:
    store = SqliteRepository(generated.db)
    try:
        report, config = stored_report(store), stored_config(store)
    finally:
        store.close()
    assert report is not None
    assert config is not None
    assert report.strata == generated.report.strata
    assert config["size"] == SIZE
    assert config["seed"] == 7
    assert config["as_of"] == "20250618"


def test_the_same_seed_gives_the_same_population_whatever_the_processes(tmp_path: Path, generated: Generated) -> None:
    again = tmp_path / "again.sqlite3"
    store = SqliteRepository(again)
    try:
        generate(store, small_config(workers=2))
    finally:
        store.close()
    assert _digest(again) == _digest(generated.db)
    other = tmp_path / "other.sqlite3"
    store = SqliteRepository(other)
    try:
        generate(store, small_config(seed=8, size=300))
    finally:
        store.close()
    docs, _ = read_docs(other)
    assert len(docs) == 300
    assert [d["Name"] for d in docs] != [d["Name"] for d in generated.docs[:300]]


def test_edge_cases_are_what_they_say(generated: Generated) -> None:
    store = SqliteRepository(generated.db)
    try:
        edges = store.connection().execute("SELECT id, kind FROM population_edges").fetchall()
    finally:
        store.close()
    by_id = {d["id"]: d for d in generated.docs}
    kinds = Counter(kind for _, kind in edges)
    assert set(kinds) == {"lost_this_month", "changed_insurer", "cert_expired", "cert_grace", "cert_expiring",
                          "cert_revoked"}  # fmt: skip
    for pid, kind in edges:
        doc = by_id[pid]
        quals = doc["qualifications"]
        if kind == "lost_this_month":
            lost = _ymd(quals[-1]["DisqualificationDate"])
            assert lost.replace(day=1) == AS_OF.replace(day=1)
            assert lost <= AS_OF
            assert quals[-1]["ReasonOfLoss"] == "99"
            assert len(quals) == 1
        elif kind == "changed_insurer":
            old, new = quals
            assert old["ReasonOfLoss"] == "03"
            assert old["DisqualificationDate"] == new["QualificationDate"]
            assert old["InsurerNumber"] != new["InsurerNumber"]
            assert AS_OF - dt.timedelta(days=60) <= _ymd(new["QualificationDate"]) <= AS_OF
        else:
            card = doc["card"]
            expires = _ymd(card["cert_expires"])
            if kind == "cert_expired":
                assert grace_end(expires) < AS_OF
            elif kind == "cert_grace":
                assert expires < AS_OF <= grace_end(expires)
            elif kind == "cert_expiring":
                assert AS_OF <= expires <= AS_OF + dt.timedelta(days=92)
            else:
                assert card["revoked"] is True
                assert expires > AS_OF
    normal_cards = [d["card"] for d in generated.docs if "card" in d and d["id"] not in {p for p, _ in edges}]
    assert normal_cards
    assert all(_ymd(c["cert_expires"]) > AS_OF + dt.timedelta(days=92) for c in normal_cards)
    assert all(c["revoked"] is False for c in normal_cards)


def test_personas_can_be_kept_beside_the_population(tmp_path: Path) -> None:
    db = tmp_path / "with-personas.sqlite3"
    store = SqliteRepository(db)
    try:
        report = generate(store, small_config(size=200, with_personas=True))
        ids = {pid for (pid,) in store.connection().execute("SELECT id FROM persons")}
    finally:
        store.close()
    personas = load_paths([DEFAULT_FIXTURES], AS_OF).persons
    assert report.size == 200
    assert len(ids) == 200 + len(personas)
    assert "takasaki-sakiko" in ids


def test_a_second_run_replaces_the_first(tmp_path: Path) -> None:
    db = tmp_path / "twice.sqlite3"
    for size in (300, 120):
        store = SqliteRepository(db)
        try:
            generate(store, PopulationConfig(size=size, seed=1, as_of=AS_OF, workers=1, facilities_scale=0.002))
            count = store.count_people()
        finally:
            store.close()
        assert count == size


@pytest.mark.parametrize("size", [1, 7])
def test_tiny_populations_still_work(tmp_path: Path, size: int) -> None:
    store = SqliteRepository(tmp_path / "tiny.sqlite3")
    try:
        report = generate(store, small_config(size=size))
    finally:
        store.close()
    assert report.size == size
