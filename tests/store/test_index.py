"""The in-memory people index, and its rebuild after `Gateway.load`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mockgateway.engine import Gateway
from mockgateway.fixtures import load_documents
from mockgateway.store.index import PeopleIndex, StoreIndex
from tests.conftest import GatewayFactory

INSURERS = {"06139992": "模擬商事健康保険組合", "01139997": "全国健康保険協会東京支部"}


def doc(pid: str, number: str, *, insurer: str = "06139992", branch: str = "00") -> dict[str, Any]:
    return {
        "id": pid,
        "Name": "模擬　太郎",
        "NameKana": "ﾓｷﾞ ﾀﾛｳ",
        "Sex1": "1",
        "Birthdate": "19900101",
        "qualifications": [
            {
                "InsurerNumber": insurer,
                "InsuredCardSymbol": "7001",
                "InsuredIdentificationNumber": number,
                "InsuredBranchNumber": branch,
                "QualificationDate": "20200401",
            }
        ],
    }


def test_build_indexes_by_number() -> None:
    index = PeopleIndex.build(INSURERS, [("a", doc("a", "1")), ("b", doc("b", "1", branch="01"))], dt.date(2025, 1, 1))
    assert len(index) == 2
    assert index.insurers["06139992"].name == "模擬商事健康保険組合"
    assert index.insurers["06139992"].number.padded == "06139992"
    assert [m.person.id for m in index.candidates("1")] == ["a", "b"]
    assert index.candidates("2") == []


def test_add_replaces_a_person_and_their_old_numbers() -> None:
    index = PeopleIndex.build(INSURERS, [("a", doc("a", "1"))], dt.date(2025, 1, 1))
    moved = PeopleIndex.build(INSURERS, [("a", doc("a", "2", insurer="01139997"))], dt.date(2025, 1, 1))
    index.add(moved.people["a"])
    assert index.candidates("1") == []
    assert [m.qualification.insurer.number.value for m in index.candidates("2")] == ["01139997"]
    assert len(index) == 1


def test_gateway_has_the_default_personas_indexed(gateway: Gateway) -> None:
    assert len(gateway.index) == 27
    assert "takasaki-sakiko" in gateway.index.people
    assert [m.person.id for m in gateway.index.candidates("777")] == ["futago-ichika", "futago-nika"]


def _dataset(*docs: dict[str, Any]) -> Any:
    top = {"insurers": [{"InsurerNumber": k, "InsurerName": v} for k, v in INSURERS.items()], "persons": list(docs)}
    return load_documents([("test.yaml", top)], dt.date(2025, 6, 18))


def test_load_replace_rebuilds_the_index(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    before = gateway.index
    gateway.load(_dataset(doc("only", "9001")))
    assert gateway.index is not before  # swapped in whole
    assert list(gateway.index.people) == ["only"]
    assert gateway.index.candidates("42") == []  # takasaki-sakiko is gone
    assert gateway.store.count_people() == 1


def test_load_upsert_keeps_the_rest(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    gateway.load(_dataset(doc("extra", "9001")), replace=False)
    assert len(gateway.index) == 28
    assert [m.person.id for m in gateway.index.candidates("9001")] == ["extra"]
    assert [m.person.id for m in gateway.index.candidates("42")] == ["takasaki-sakiko"]


def test_reload_runs_hooks_with_the_new_index(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(personas=False)
    seen: list[int] = []
    gateway.on_reload.append(lambda gw: seen.append(len(gw.index)))
    gateway.load(_dataset(doc("a", "1"), doc("b", "2")))
    gateway.reload()
    assert seen == [2, 2]


def test_a_new_gateway_on_the_same_file_rebuilds_from_the_store(make_gateway: GatewayFactory) -> None:
    first = make_gateway()
    first.load(_dataset(doc("a", "1")), replace=False)
    second = make_gateway(personas=False)  # same tmp_path database, nothing loaded
    assert len(second.index) == 28
    assert [m.person.id for m in second.index.candidates("1")] == ["a"]


def test_born_on_finds_exactly_the_people_born_that_day_in_memory() -> None:
    other = {**doc("c", "3"), "Birthdate": "19851231"}
    index = PeopleIndex.build(INSURERS, [("a", doc("a", "1")), ("c", other)], dt.date(2025, 1, 1))
    assert [p.id for p in index.born_on(dt.date(1990, 1, 1))] == ["a"]
    assert list(index.born_on(dt.date(1990, 1, 2))) == []


def test_born_on_in_the_store_backed_index_reads_only_matching_documents(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(personas=False)
    decoy = {**doc("decoy", "3"), "Birthdate": "19851231"}
    decoy["qualifications"][0]["QualificationDate"] = "19900101"  # the digits, in another field
    gateway.load(_dataset(doc("a", "1"), doc("b", "2"), decoy))
    index = gateway.index
    assert isinstance(index, StoreIndex)
    moved = PeopleIndex.build(INSURERS, [("b", {**doc("b", "5"), "Address": "東京都千代田区"})], dt.date(2025, 1, 1))
    index.add(moved.people["b"])  # in front of the store's version until the next reload
    found = sorted(index.born_on(dt.date(1990, 1, 1)), key=lambda p: p.id)
    assert [(p.id, p.address) for p in found] == [("a", None), ("b", "東京都千代田区")]
    assert list(index.born_on(dt.date(1985, 12, 30))) == []
    assert [p.id for p in index.born_on(dt.date(1985, 12, 31))] == ["decoy"]


def test_prefetch_reads_a_chunks_people_at_once_and_answers_as_one_by_one(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(personas=False)
    gateway.load(_dataset(doc("a", "1"), doc("b", "2"), doc("c", "2", branch="01"), doc("d", "4")))
    index = gateway.index
    assert isinstance(index, StoreIndex)
    moved = PeopleIndex.build(INSURERS, [("d", doc("d", "2", branch="02"))], dt.date(2025, 1, 1))
    index.add(moved.people["d"])  # the overlay still wins over the store's "d"
    statements: list[str] = []
    gateway.store.connection().set_trace_callback(statements.append)
    try:
        index.prefetch(["1", "2", "4", "no-such-number"])
        prefetched = statements[:]
        found = {n: sorted((m.person.id, m.qualification.key.branch) for m in index.candidates(n)) for n in "12"}
    finally:
        gateway.store.connection().set_trace_callback(None)
    assert len(prefetched) == 1  # one query for the four rows
    assert "IN (" in prefetched[0]
    assert statements == prefetched  # the candidates were then answered from memory
    assert found == {"1": [("a", "00")], "2": [("b", "00"), ("c", "01"), ("d", "02")]}
    assert index.candidates("4") == []  # the store's "d" was read but not kept: the overlay replaces it
    fresh = make_gateway(personas=False).index  # one by one, as before: the same answers
    assert {n: sorted((m.person.id, m.qualification.key.branch) for m in fresh.candidates(n)) for n in "12"} == {
        "1": [("a", "00")],
        "2": [("b", "00"), ("c", "01")],
    }


def test_prefetch_in_memory_is_a_no_op() -> None:
    index = PeopleIndex.build(INSURERS, [("a", doc("a", "1"))], dt.date(2025, 1, 1))
    index.prefetch(["1"])
    assert [m.person.id for m in index.candidates("1")] == ["a"]
