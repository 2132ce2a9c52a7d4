"""The load's patients and request bodies against the gateway itself (in process, no load)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loadtests import bodies
from loadtests.people import PopulationMissing, card_pool, load_sample
from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.domain.clock import jst
from mockgateway.engine import Format, Gateway
from mockgateway.population.generate import PopulationConfig, generate
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire import jsoncodec, xmlcodec

AS_OF = "20250618"


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("load") / "population.sqlite3"
    store = SqliteRepository(db)
    try:
        generate(store, PopulationConfig(size=2_000, seed=11, as_of=jst(2025, 6, 18).date(), workers=1,
                                         facilities_scale=0.002))  # fmt: skip
    finally:
        store.close()
    return db


@pytest.fixture
def gateway(population: Path, tmp_path: Path) -> Gateway:
    gw = build_gateway(Config(root=tmp_path / "oqs", db=population, tls_port=None, folder=False, fixtures=[]),
                       real_time=time.time)  # fmt: skip
    gw.clock.set(jst(2025, 6, 18, 10, 0), running=False)
    return gw


def test_the_sample_knows_what_each_patient_must_get(population: Path) -> None:
    sample = load_sample(population, 500, seed=1, facilities=20)
    assert sample.as_of == AS_OF
    assert len(sample.patients) >= 450
    assert sample.lost
    assert sample.changed
    assert all(p.validity == "2" for p in sample.lost)
    assert set(sample.facilities) == {"hospital", "clinic", "dental", "pharmacy"}
    assert all(len(codes) == 20 or codes for codes in sample.facilities.values())
    assert {p.card for p in sample.patients} >= {"none", "valid", "unregistered"}


def test_a_missing_or_foreign_database_is_explained(tmp_path: Path) -> None:
    with pytest.raises(PopulationMissing, match="no such file"):
        load_sample(tmp_path / "nothing.sqlite3")
    SqliteRepository(tmp_path / "plain.sqlite3").close()
    with pytest.raises(PopulationMissing, match="population_meta"):
        load_sample(tmp_path / "plain.sqlite3")


def test_eligibility_bodies_get_the_answers_the_sample_expects(population: Path, gateway: Gateway) -> None:
    sample = load_sample(population, 300, seed=2, facilities=5)
    mic = sample.facilities["clinic"][0]
    cases = [(p.keys, p.birthdate, p.validity) for p in sample.patients[:150]]
    cases += [(p.old_keys, p.birthdate, "3") for p in sample.changed[:20] if p.old_keys]
    cases += [(bodies.typo(p.keys), p.birthdate, "4") for p in sample.patients[:20]]
    for keys, birthdate, expected in cases:
        xml = gateway.process("OQSsiquc01", bodies.eligibility_xml(mic, AS_OF, keys, birthdate),
                              fmt=Format.XML, transport="http").body  # fmt: skip
        assert bodies.validity(xml) == expected, (keys, bodies.error_code(xml))
        assert bodies.segment(xml) == "1"
        raw = bodies.eligibility_json(mic, AS_OF, keys, birthdate)
        assert jsoncodec.parse(raw)[0] == "XmlMsg"
        answer = gateway.process("OQSsiquc01", raw, fmt=Format.JSON, transport="webapi").body
        assert b'"QualificationValidity":"' + expected.encode() + b'"' in answer


def test_a_bulk_file_is_accepted_and_polled(population: Path, gateway: Gateway) -> None:
    if "OQSmuquc01" not in gateway.services:
        pytest.skip("一括照会 is not installed in this gateway")
    sample = load_sample(population, 100, seed=3, facilities=5)
    mic = sample.facilities["hospital"][0]
    upload = gateway.process("OQSmuquc01", bodies.bulk_upload(mic, AS_OF, sample.patients[:10], file_id="t1"),
                             fmt=Format.XML, transport="http").body  # fmt: skip
    number = bodies.reception_number(upload)
    assert number, upload[:400]
    poll = gateway.process("OQSmuquc02", bodies.bulk_download(mic, number), fmt=Format.XML, transport="http").body
    assert bodies.segment(poll) in {"1", "2"}


def test_a_medical_view_gets_an_answer_in_the_interface_s_terms(population: Path, gateway: Gateway) -> None:
    if "YZKsiquc01" not in gateway.services:
        pytest.skip("医療情報 is not installed in this gateway")
    sample = load_sample(population, 50, seed=4, facilities=5)
    p = sample.patients[0]
    for api in ("YZKsiquc01", "TKKsiquc01"):
        body = gateway.process(api, bodies.medical(sample.facilities["clinic"][0], p.keys), fmt=Format.XML,
                               transport="http").body  # fmt: skip
        assert xmlcodec.parse(body).root == "XmlMsg"


def test_the_card_pool_is_the_same_for_every_process_and_holds_registered_valid_cards(population: Path) -> None:
    first, again = card_pool(population, 30), card_pool(population, 30)
    assert [p.id for p in first] == [p.id for p in again]
    assert len(first) == 30
    assert all(p.card == "valid" for p in first)
