"""The store-backed people index (store/index.py, number_map.py, fast_person.py) and the gateway
answering from a population."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.clock import VirtualClock, jst
from mockgateway.domain.model import Insurer, Person
from mockgateway.domain.numbers import InsurerNumber
from mockgateway.engine import Format, Gateway
from mockgateway.fixtures import load_paths, person_from_doc
from mockgateway.population.generate import generate
from mockgateway.services.eligibility import API_ID, EligibilityService
from mockgateway.store import number_map
from mockgateway.store.fast_person import fast_person
from mockgateway.store.index import PeopleIndex, StoreIndex
from mockgateway.store.number_map import numbers_in
from mockgateway.store.sqlite import SqliteRepository
from tests.conftest import eligibility_request, reply_tree
from tests.population.conftest import AS_OF, Generated, small_config


def _same(a: Person, b: Person) -> None:
    assert a == b
    assert a.extensions == b.extensions  # not part of dataclass equality


def _insurers(numbers: dict[str, str]) -> dict[str, Insurer]:
    return {n: Insurer(InsurerNumber.parse(n), name) for n, name in numbers.items()}


def test_fast_person_builds_what_the_fixture_reader_builds(generated: Generated) -> None:
    insurers = _insurers(generated.insurers)
    for doc in generated.docs:
        fast = fast_person(doc, insurers, AS_OF)
        assert fast is not None, doc["id"]
        _same(fast, person_from_doc(doc, insurers, AS_OF))


def test_fast_person_matches_or_declines_every_persona() -> None:
    data = load_paths([DEFAULT_FIXTURES], AS_OF)
    taken = 0
    for doc in data.documents.values():
        fast = fast_person(doc, data.insurers, AS_OF)
        if fast is not None:
            taken += 1
            _same(fast, person_from_doc(doc, data.insurers, AS_OF))  # the stored (resolved) document
    assert taken >= len(data.documents) - 3  # 特定疾病 and padded numbers go the slow way


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("Birthdate", "today-30y"),  # relative: the fixture reader's business
        ("Sex1", "9"),
        ("NameKana", "ABC"),
        ("unknown", "x"),
        ("qualifications", []),
    ],
)
def test_fast_person_declines_what_it_does_not_handle(generated: Generated, change: str, value: Any) -> None:
    doc = dict(generated.docs[0])
    doc[change] = value
    assert fast_person(doc, _insurers(generated.insurers), AS_OF) is None


def test_numbers_in_reads_every_card_number_of_a_stored_document() -> None:
    doc = {
        "id": "x",
        "qualifications": [{"InsuredIdentificationNumber": " 12 "}, {"InsuredIdentificationNumber": '3"4'}],
    }
    assert numbers_in(orjson.dumps(doc)) == ["12", '3"4']
    assert numbers_in(orjson.dumps({"qualifications": {"InsuredIdentificationNumber": 55}})) == ["55"]


def _gateway(db: Path) -> Gateway:
    clock = VirtualClock(time.time)
    clock.set(jst(2025, 6, 18, 10, 30, 0), running=False)
    gateway = Gateway(SqliteRepository(db), clock)
    gateway.register(API_ID, EligibilityService())
    return gateway


def _ask(gateway: Gateway, doc: dict[str, Any], qual: int = -1, **changes: str) -> tuple[str, dict[str, Any]]:
    q = doc["qualifications"][qual]
    fields = {
        "insurer": q["InsurerNumber"].rjust(8),
        "symbol": q.get("InsuredCardSymbol"),
        "number": q["InsuredIdentificationNumber"],
        "branch": q.get("InsuredBranchNumber"),
        "birthdate": doc["Birthdate"],
    }
    fields.update(changes)
    tree = reply_tree(gateway.process(API_ID, eligibility_request(**fields), fmt=Format.XML, transport="test"))
    body = tree["MessageBody"]
    assert isinstance(body, dict)
    validity = body.get("QualificationValidity")
    assert isinstance(validity, str), tree
    return validity, body


def test_the_gateway_answers_every_kind_of_generated_person(generated: Generated) -> None:
    gateway = _gateway(generated.db)
    try:
        assert isinstance(gateway.index, StoreIndex)
        assert len(gateway.index) == len(generated.docs)
        store = gateway.store
        edges = dict(store.connection().execute("SELECT id, kind FROM population_edges WHERE kind IN "
                                                "('lost_this_month', 'changed_insurer')").fetchall())  # fmt: skip
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for doc in generated.docs:
            by_kind.setdefault(edges.get(doc["id"], "normal"), []).append(doc)
        for doc in by_kind["normal"][:200]:
            assert _ask(gateway, doc)[0] == "1", doc["id"]
        for doc in by_kind["lost_this_month"]:
            assert _ask(gateway, doc)[0] == "2", doc["id"]
        for doc in by_kind["changed_insurer"]:
            assert _ask(gateway, doc, qual=0)[0] == "3", doc["id"]
            assert _ask(gateway, doc, qual=-1)[0] == "1", doc["id"]
        doc = by_kind["normal"][0]
        assert _ask(gateway, doc, birthdate="19000101")[0] == "4"
    finally:
        gateway.store.close()


def test_the_number_map_is_saved_by_the_generator_and_matches_a_scan(generated: Generated) -> None:
    store = SqliteRepository(generated.db)
    try:
        db = store.connection()
        current = number_map.generation(db)
        saved = db.execute("SELECT generation, map FROM people_numbers").fetchall()
        assert [g for g, _ in saved] == [current]
        numbers, extensions = number_map.scan(db)
        assert orjson.loads(saved[0][1]) == numbers
        saved_ext = db.execute("SELECT generation, map FROM people_extensions").fetchall()
        assert [g for g, _ in saved_ext] == [current]
        assert orjson.loads(saved_ext[0][1]) == extensions
        assert len(extensions["card"]) == sum(1 for d in generated.docs if "card" in d)
    finally:
        store.close()


def test_a_write_to_persons_makes_the_next_reload_rebuild_the_map(tmp_path: Path) -> None:
    db = tmp_path / "g.sqlite3"
    store = SqliteRepository(db)
    generate(store, small_config(size=50))
    store.close()
    gateway = _gateway(db)
    try:
        before = number_map.generation(gateway.store.connection())
        doc = dict(orjson.loads(gateway.store.connection().execute("SELECT doc FROM persons LIMIT 1").fetchone()[0]))
        doc["id"] = "new-person"
        doc["qualifications"] = [dict(doc["qualifications"][-1], InsuredIdentificationNumber="987654321")]
        doc["qualifications"][0].pop("DisqualificationDate", None)
        doc["qualifications"][0].pop("ReasonOfLoss", None)
        gateway.store.upsert_people({}, {"new-person": doc})
        assert number_map.generation(gateway.store.connection()) > before
        assert gateway.index.candidates("987654321") == []  # not until the reload, as before
        gateway.reload()
        assert [m.person.id for m in gateway.index.candidates("987654321")] == ["new-person"]
        assert "new-person" in gateway.index.people
    finally:
        gateway.store.close()


def test_a_stale_rowid_never_answers_for_someone_else(tmp_path: Path) -> None:
    db = tmp_path / "stale.sqlite3"
    store = SqliteRepository(db)
    generate(store, small_config(size=40, seed=1))
    store.close()
    gateway = _gateway(db)
    try:
        old = gateway.index
        first = orjson.loads(
            gateway.store.connection().execute("SELECT doc FROM persons WHERE rowid = 1").fetchone()[0]
        )
        number = first["qualifications"][-1]["InsuredIdentificationNumber"]
        store = SqliteRepository(db)
        generate(store, small_config(size=40, seed=2))  # rowid 1 is now someone else
        store.close()
        old._cache.clear()
        old._matches.clear()
        for match in old.candidates(number):
            assert match.qualification.key.number == number
    finally:
        gateway.store.close()


def test_people_mapping_reads_by_id_and_with_extension_finds_card_holders(generated: Generated) -> None:
    gateway = _gateway(generated.db)
    try:
        index = gateway.index
        first = generated.docs[0]["id"]
        assert first in index.people
        assert "nobody" not in index.people
        assert index.people[first].id == first
        with pytest.raises(KeyError):
            index.people["nobody"]
        assert list(index.people)[:3] == [d["id"] for d in generated.docs[:3]]
        holders = {p.id for p in index.with_extension("card")}
        assert holders == {d["id"] for d in generated.docs if "card" in d}
        assert list(index.with_extension("medical")) == []
    finally:
        gateway.store.close()


def test_with_extension_also_works_without_a_saved_extension_map(tmp_path: Path) -> None:
    db = tmp_path / "noext.sqlite3"
    store = SqliteRepository(db)
    generate(store, small_config(size=60))
    with store.transaction() as tx:
        tx.execute("DELETE FROM people_extensions")  # as a store written before the map existed
    expected = {pid for (pid,) in store.connection().execute("SELECT id FROM persons WHERE instr(doc, '\"card\":')")}
    store.close()
    gateway = _gateway(db)
    try:
        assert isinstance(gateway.index, StoreIndex)
        assert gateway.index.extensions is None
        assert {p.id for p in gateway.index.with_extension("card")} == expected
    finally:
        gateway.store.close()


def test_the_in_memory_index_still_builds_from_documents() -> None:
    data = load_paths([DEFAULT_FIXTURES], AS_OF)
    insurers = {n: i.name for n, i in data.insurers.items()}
    index = PeopleIndex.build(insurers, list(data.documents.items()), AS_OF)
    assert len(index) == len(data.persons)
    assert {p.id for p in index.with_extension("card")} == {p for p, d in data.documents.items() if "card" in d}
