"""The `processes` setting: chunks judged in worker processes give the same result file, byte for
byte, as the worker thread alone; a job whose answers depend on this process alone stays here."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from mockgateway.engine import Format, Gateway
from mockgateway.services.bulk import parallel
from mockgateway.services.bulk.layout import CONFIRM, upload_tree
from mockgateway.services.bulk.settings import BulkSettings, SettingsError
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node
from tests.conftest import MIC, GatewayFactory
from tests.services.bulk.test_service import download, install, mixed_records, reception_number, record

RECORDS = 300  # 15 chunks of 20


def _upload(gateway: Gateway, extra: list[Node] | None = None) -> str:
    records = [{**r, "ArbitraryIdentifier": f"P{i:04d}"} if isinstance(r, dict) else r
               for i, r in enumerate(mixed_records() * (RECORDS // 100))]  # fmt: skip
    records.extend(extra or [])
    raw = xmlcodec.render("XmlMsg", upload_tree(CONFIRM, MIC, [{}], file_identifier="p"), "Shift_JIS")
    tree = xmlcodec.parse(raw).tree
    body = tree["MessageBody"]
    assert isinstance(body, dict)
    body["QualificationConfirmSearchInfo"] = records
    raw = xmlcodec.render("XmlMsg", tree, "Shift_JIS")
    return reception_number(gateway.process("OQSmuquc01", raw, fmt=Format.XML, transport="test"))


def _result(make_gateway: GatewayFactory, db: Path, processes: int) -> tuple[bytes, list[int]]:
    gateway = make_gateway(db=db)
    feature = install(gateway, chunk=20, processes=processes)
    try:
        number = _upload(gateway)
        feature.worker.run_once()
        pids = feature.worker.worker_pids()
        status = feature.status(number)
        assert status is not None
        assert status["done"], status
        body = download(gateway, number, encoding="Shift_JIS").body
    finally:
        feature.worker.stop()  # ends the worker processes
    return body, pids


def test_one_and_two_processes_give_identical_result_files(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    alone, none = _result(make_gateway, tmp_path / "one.sqlite3", 1)
    spread, pids = _result(make_gateway, tmp_path / "two.sqlite3", 2)
    assert none == []
    assert len(pids) == 2  # the chunks were judged in two other processes
    assert os.getpid() not in pids
    assert spread == alone
    tree = xmlcodec.parse(spread).tree
    header = tree["MessageHeader"]
    assert isinstance(header, dict)
    assert header["NumberOfProcessingResult"] == str(RECORDS)
    assert header["NumberOfError"] == str(9 * RECORDS // 100)


def test_people_added_in_memory_keep_the_job_in_this_process(make_gateway: GatewayFactory) -> None:
    """Worker processes see only the store: with a person added in memory (`index.add`), the job
    is judged in the worker thread, so that person is answered as a single query would be."""
    gateway = make_gateway()
    feature = install(gateway, chunk=20, processes=2)
    gateway.settings.output_encoding = "UTF-8"
    (match,) = [m for m in gateway.index.candidates("42") if m.person.birthdate.year == 1990]
    q = dataclasses.replace(match.qualification, key=dataclasses.replace(match.qualification.key, number="424242"))
    gateway.index.add(dataclasses.replace(match.person, id="in-memory", name="髙﨑　咲", qualifications=(q,)))
    try:
        number = _upload(gateway, [record(number="424242")])
        feature.worker.run_once()
        assert feature.worker.worker_pids() == []
    finally:
        feature.worker.stop()
    body = download(gateway, number).body.decode("utf-8")
    assert "<Name>髙﨑　咲</Name>" in body  # known to this process only


def test_processes_setting() -> None:
    assert BulkSettings().processes == (os.cpu_count() or 1)
    assert BulkSettings().with_changes({"processes": "1"}).processes == 1
    with pytest.raises(SettingsError, match="processes 0"):
        BulkSettings().with_changes({"processes": 0})


def test_worker_cache_is_rebuilt_when_its_key_changes() -> None:
    built: list[int] = []

    def build(n: int) -> int:
        built.append(n)
        return n

    assert parallel.cached("test", ("db", 1), lambda: build(1)) == 1
    assert parallel.cached("test", ("db", 1), lambda: build(2)) == 1  # same people generation: kept
    assert parallel.cached("test", ("db", 2), lambda: build(3)) == 3  # another one: rebuilt
    assert built == [1, 3]
