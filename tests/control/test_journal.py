"""The bounded request journal."""

from __future__ import annotations

import os

from mockgateway.control.journal import Journal, JournalEntry
from mockgateway.engine import Format, Gateway
from mockgateway.services.eligibility import API_ID
from tests.conftest import GatewayFactory, eligibility_request


def entry(
    api_id: str = "OQSsiquc01",
    transport: str = "folder",
    mic: str | None = "1311234569",
    request: bytes = b"<req/>",
    **kw: object,
) -> JournalEntry:
    return JournalEntry(
        id=0,
        at="20250618103000",
        real_time=0.0,
        transport=transport,
        api_id=api_id,
        name=None,
        medical_institution=mic,
        request=request,
        **kw,  # type: ignore[arg-type]
    )


def test_ids_increase_from_one() -> None:
    journal = Journal()
    recorded = [journal.record(entry()) for _ in range(3)]
    assert [e.id for e in recorded] == [1, 2, 3]
    assert [e.id for e in journal.entries()] == [1, 2, 3]
    assert len(journal) == 3


def test_bounded_oldest_dropped_ids_keep_increasing() -> None:
    journal = Journal(max_entries=3)
    for _ in range(5):
        journal.record(entry())
    assert journal.max_entries == 3
    assert len(journal) == 3
    assert [e.id for e in journal.entries()] == [3, 4, 5]
    assert journal.dropped == 2
    journal.record(entry())
    assert [e.id for e in journal.entries()] == [4, 5, 6]
    assert journal.dropped == 3


def test_since_returns_only_newer_entries() -> None:
    journal = Journal(max_entries=3)
    for _ in range(5):
        journal.record(entry())
    assert [e.id for e in journal.entries(since=4)] == [5]
    assert [e.id for e in journal.entries(since=1)] == [3, 4, 5]  # 2 was dropped
    assert journal.entries(since=5) == []


def test_filters_and_limit() -> None:
    journal = Journal()
    journal.record(entry(api_id="OQSsiquc01", transport="folder", mic="1311234569"))
    journal.record(entry(api_id="OQSmuquc01", transport="http", mic="1311234569"))
    journal.record(entry(api_id="OQSsiquc01", transport="http", mic="3410712362"))
    journal.record(entry(api_id="OQSsiquc01", transport="webapi", mic=None))
    assert [e.id for e in journal.entries(api_id="OQSsiquc01")] == [1, 3, 4]
    assert [e.id for e in journal.entries(transport="http")] == [2, 3]
    assert [e.id for e in journal.entries(medical_institution="3410712362")] == [3]
    assert [e.id for e in journal.entries(api_id="OQSsiquc01", transport="http")] == [3]
    assert [e.id for e in journal.entries(limit=2)] == [3, 4]  # the latest
    assert [e.id for e in journal.entries(limit=0)] == [1, 2, 3, 4]


def test_bodies_are_clipped() -> None:
    journal = Journal(max_body_bytes=10)
    recorded = journal.record(entry(response=b"r" * 25))
    assert recorded.response == b"r" * 10
    short = journal.record(entry(response=b"0123456789"))
    assert short.response == b"0123456789"
    big = entry()
    big.request = b"q" * 11
    assert journal.record(big).request == b"q" * 10
    assert journal.clip(b"abc") == b"abc"


def test_resize_keeps_the_newest() -> None:
    journal = Journal(max_entries=5)
    for _ in range(5):
        journal.record(entry())
    journal.resize(2)
    assert journal.max_entries == 2
    assert [e.id for e in journal.entries()] == [4, 5]
    journal.record(entry())
    assert [e.id for e in journal.entries()] == [5, 6]


def test_clear_keeps_the_id_sequence() -> None:
    journal = Journal()
    journal.record(entry())
    journal.clear()
    assert len(journal) == 0
    assert journal.record(entry()).id == 2


def test_as_dict_decodes_bodies_per_declaration() -> None:
    sjis = '<?xml version="1.0" encoding="Shift_JIS"?><R>髙﨑</R>'.encode("cp932")
    utf8 = '<?xml version="1.0" encoding="UTF-8"?><R>髙﨑</R>'.encode()
    doc = entry(request=sjis, response=utf8, reason="r", extra={"k": 1}).as_dict()
    assert doc["request"] == '<?xml version="1.0" encoding="Shift_JIS"?><R>髙﨑</R>'
    assert doc["response"] == '<?xml version="1.0" encoding="UTF-8"?><R>髙﨑</R>'
    assert doc["reason"] == "r"
    assert doc["extra"] == {"k": 1}
    assert doc["api_id"] == "OQSsiquc01"
    clipped = entry(request="<R>髙".encode()[:-1]).as_dict()  # a clipped multibyte character
    assert clipped["request"] == "<R>\ufffd"


def test_near_miss_reason_recorded_by_the_gateway(gateway: Gateway) -> None:
    gateway.process(API_ID, eligibility_request(symbol="7002"), fmt=Format.XML, transport="folder")
    (recorded,) = gateway.journal.entries()
    assert recorded.validity == "4"
    assert recorded.reason == "被保険者証記号が一致しません: 送信 '7002'、番号が一致した資格では '7001'"
    assert recorded.as_dict()["request"].count("<InsuredCardSymbol>7002</InsuredCardSymbol>") == 1


def test_gateway_journal_bound_and_clip(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(journal=Journal(max_entries=2, max_body_bytes=100))
    for _ in range(3):
        response = gateway.process(API_ID, eligibility_request(), fmt=Format.XML, transport="folder")
        assert len(response.body) > 100  # the client still gets everything
    assert [e.id for e in gateway.journal.entries()] == [2, 3]
    assert all(len(e.request) == 100 and len(e.response) == 100 for e in gateway.journal.entries())


def test_a_name_that_is_not_utf8_still_serialises() -> None:
    import orjson

    journal = Journal()
    name = os.fsdecode(b"OQSsiquc01req_\xff.xml")  # what os.listdir gives for such a name
    record = entry(reason=f"{name}: ?")
    record.name = name
    journal.record(record)
    out = orjson.loads(orjson.dumps([e.as_dict() for e in journal.entries()]))
    assert out[0]["name"] == "OQSsiquc01req_\\xff.xml"
    assert out[0]["reason"].startswith("OQSsiquc01req_\\xff.xml")


def test_bounded_by_total_bytes_as_well_as_entries() -> None:
    journal = Journal(max_entries=10_000, max_body_bytes=70 * 1024, max_total_bytes=1024 * 1024)
    for _ in range(100):
        journal.record(entry(request=b"x" * 70 * 1024))
    kept = journal.entries()
    assert sum(len(e.request) for e in kept) <= 1024 * 1024
    assert journal.total_bytes <= 1024 * 1024
    assert len(kept) == 14
    assert journal.dropped == 100 - 14
    assert [e.id for e in kept] == list(range(87, 101))
    journal.resize(10_000, 256 * 1024)
    assert len(journal.entries()) == 3
    journal.clear()
    assert journal.total_bytes == 0
